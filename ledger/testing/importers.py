"""The contract every importer must honour, as a pytest test class to subclass.

Usage, for a built-in or a third-party importer::

    class TestMyImporter(ImporterContract):
        @pytest.fixture
        def importer(self):
            return MyImporter()

        @pytest.fixture
        def samples(self):
            return [("notes.foo", Path("tests/data/notes.foo").read_bytes())]

The suite checks the importer fits the ``Importer`` protocol, reads each sample into valid
``ImportedSource`` values the same way twice, and that empty, random, truncated and mutated bytes give
either valid sources or ``ImportRejected`` (with a code and a message) and never any other exception.
"""

from __future__ import annotations

import random
import re
from typing import TYPE_CHECKING

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.contracts import ImportedSource, Importer
from ledger.errors import ImportRejected

if TYPE_CHECKING:
    from collections.abc import Sequence

Samples = list[tuple[str, bytes]]

_CODE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_EXTENSION = re.compile(r"^\.[a-z0-9]+(?:\.[a-z0-9]+)*$")
FUZZ_EXAMPLES = 50


def check_sources(sources: object) -> list[ImportedSource]:
    """Assert ``sources`` is a non-empty list of well-typed ``ImportedSource`` values and return it."""
    assert isinstance(sources, list), f"read() returned {type(sources).__name__}, not a list"
    assert sources, "read() returned no sources; refuse the file with ImportRejected instead"
    for source in sources:
        assert isinstance(source, ImportedSource)
        # A round trip through msgspec validates every field's type, including metadata values.
        again = msgspec.json.decode(msgspec.json.encode(source), type=ImportedSource)
        assert again == source, f"{source!r} does not survive encoding, so a field has the wrong type"
        assert isinstance(source.text, str) and source.text.strip(), "a source must hold some text"
        assert source.title.strip(), "a source must have a title"
        assert source.format.strip(), "a source must name its format"
        if source.collected_at is not None:
            assert source.collected_at.utcoffset() is not None, "collected_at must be timezone-aware"
        if source.annex_a is not None:
            assert 1 <= source.annex_a <= 11, "annex_a must be an Annex A list number, 1 to 11"
        assert list(source.pages) == sorted(source.pages), "page starts must be in order"
        assert all(0 <= start <= len(source.text) for start in source.pages), "a page starts outside the text"
        assert not source.pages or source.pages[0] == 0, "the first page must start at offset 0"
    return sources


def check_rejection(error: ImportRejected) -> None:
    """Assert a rejection carries a short kebab-case code and a message a person can act on."""
    assert isinstance(error.code, str) and _CODE.match(error.code), f"bad rejection code {error.code!r}"
    message = str(error)
    assert message.strip() and "\n" not in message, f"the message must be one sentence: {message!r}"


def read_or_reject(importer: Importer, data: bytes, filename: str) -> list[ImportedSource] | None:
    """Read ``data``: valid sources, or None after a well-formed ``ImportRejected``; anything else fails."""
    try:
        sources = importer.read(data, filename)
    except ImportRejected as error:
        check_rejection(error)
        return None
    return check_sources(sources)


def truncations(data: bytes) -> list[bytes]:
    """Prefixes of ``data`` of a few telling lengths (a byte, a header, half, all but the last byte)."""
    lengths = {1, 4, 16, 64, len(data) // 2, len(data) - 1, len(data) - 16}
    return [data[:n] for n in sorted(lengths) if 0 < n < len(data)]


@st.composite
def mutations(draw: st.DrawFn, samples: Sequence[tuple[str, bytes]]) -> tuple[str, bytes]:
    """A sample with a few bytes flipped, inserted, deleted or duplicated."""
    filename, data = draw(st.sampled_from(list(samples)))
    buffer = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, max(len(buffer) - 1, 0)))
        action = draw(st.sampled_from(("flip", "insert", "delete", "duplicate", "truncate")))
        if action == "flip" and buffer:
            buffer[at] ^= draw(st.integers(1, 255))
        elif action == "insert":
            buffer[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif action == "delete":
            del buffer[at : at + draw(st.integers(1, 64))]
        elif action == "duplicate":
            buffer[at:at] = buffer[at : at + draw(st.integers(1, 64))]
        else:
            del buffer[at:]
    return filename, bytes(buffer)


class ImporterContract:
    """Subclass and provide the fixtures ``importer`` (an ``Importer``) and ``samples`` (``Samples``)."""

    def test_satisfies_protocol(self, importer: Importer) -> None:
        assert isinstance(importer, Importer)
        assert isinstance(importer.name, str) and _CODE.match(importer.name)
        assert isinstance(importer.description, str) and importer.description.strip()

    def test_extensions_are_lowercase_with_a_dot(self, importer: Importer) -> None:
        assert isinstance(importer.extensions, tuple) and importer.extensions
        for extension in importer.extensions:
            assert _EXTENSION.match(extension), f"{extension!r} should look like '.txt'"

    def test_samples_are_given(self, importer: Importer, samples: Samples) -> None:
        assert samples, "give at least one sample file"
        for filename, data in samples:
            assert isinstance(data, bytes) and data
            assert any(filename.lower().endswith(ext) for ext in importer.extensions), filename

    def test_reads_each_sample(self, importer: Importer, samples: Samples) -> None:
        for filename, data in samples:
            check_sources(importer.read(data, filename))

    def test_reading_is_deterministic(self, importer: Importer, samples: Samples) -> None:
        for filename, data in samples:
            assert importer.read(data, filename) == importer.read(data, filename)

    def test_empty_file_is_rejected(self, importer: Importer, samples: Samples) -> None:
        for filename, _ in samples:
            with pytest.raises(ImportRejected) as caught:
                importer.read(b"", filename)
            check_rejection(caught.value)

    def test_random_bytes_read_or_reject(self, importer: Importer, samples: Samples) -> None:
        rng = random.Random(1)
        for filename, data in samples:
            for size in (1, 7, 512, 4096):
                read_or_reject(importer, rng.randbytes(size), filename)
                # keep the sample's first bytes so format checks pass and the parser itself is exercised
                read_or_reject(importer, data[:8] + rng.randbytes(size), filename)

    def test_truncated_samples_read_or_reject(self, importer: Importer, samples: Samples) -> None:
        for filename, data in samples:
            for prefix in truncations(data):
                read_or_reject(importer, prefix, filename)

    def test_mutated_samples_read_or_reject(self, importer: Importer, samples: Samples) -> None:
        @settings(
            max_examples=FUZZ_EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(mutations(samples))
        def read_mutant(mutant: tuple[str, bytes]) -> None:
            read_or_reject(importer, mutant[1], mutant[0])

        read_mutant()
