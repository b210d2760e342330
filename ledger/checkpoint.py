"""Signed checkpoints: an auditor's copy of (origin, size, root) signed with Ed25519.

The chain alone catches any change inside the log, but not a truncated tail or a wholesale rewrite with
recomputed digests. A checkpoint exported to the auditor covers that: the ledger must still hold ``size``
positions and its digest at ``size`` must still be ``root``. The private key never enters the database.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from ledger.errors import BadInput, IntegrityViolation

if TYPE_CHECKING:
    from ledger.application import Ledger


class Checkpoint(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What an auditor keeps: which ledger (origin), how long it was (size), its digest there (root)."""

    origin: str
    size: int
    root: str
    signed_at: datetime
    key_id: str
    signature: str


def _signed_bytes(origin: str, size: int, root: str) -> bytes:
    return msgspec.msgpack.encode(("evidence-ledger-checkpoint/1", origin, size, root))


def _key_id(public_raw: bytes) -> str:
    return hashlib.sha256(public_raw).hexdigest()[:16]


def generate_keys(directory: Path) -> tuple[Path, Path]:
    """Write a new Ed25519 key pair (private key readable by its owner only); returns (private, public)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    directory.mkdir(parents=True, exist_ok=True)
    private_path, public_path = directory / "checkpoint-key.pem", directory / "checkpoint-key.pub"
    if private_path.exists():
        raise BadInput(f"{private_path} exists already; keep it, or choose another folder.")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    private_path.touch(mode=0o600)
    private_path.write_bytes(pem)
    public_path.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return private_path, public_path


def _read_key(path: Path, *, private: bool):  # noqa: ANN202 - a cryptography key object
    from cryptography.hazmat.primitives import serialization

    try:
        data = path.read_bytes()
        if private:
            return serialization.load_pem_private_key(data, password=None)
        return serialization.load_pem_public_key(data)
    except (OSError, ValueError, TypeError) as error:
        kind = "private" if private else "public"
        raise BadInput(f"Cannot read the {kind} key {path} ({error}); give an Ed25519 PEM key file.") from None


def _raw_public(key) -> bytes:  # noqa: ANN001
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def origin_of(ledger: Ledger) -> str:
    rows = ledger.recorder.select_chain(0, 1)
    if not rows:
        raise BadInput("The ledger is empty; there is nothing to checkpoint yet.")
    return bytes(rows[0][4]).hex()


def sign(ledger: Ledger, private_key: Path) -> Checkpoint:
    """Verify the ledger, then sign its current head."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = _read_key(private_key, private=True)
    if not isinstance(key, Ed25519PrivateKey):
        raise BadInput(f"{private_key} is not an Ed25519 private key.")
    ledger.verify()
    size, digest = ledger.head()
    origin = origin_of(ledger)
    signature = key.sign(_signed_bytes(origin, size, digest.hex()))
    return Checkpoint(
        origin=origin, size=size, root=digest.hex(), signed_at=ledger.clock(),
        key_id=_key_id(_raw_public(key.public_key())), signature=signature.hex(),
    )


def read(path: Path) -> Checkpoint:
    try:
        return msgspec.json.decode(path.read_bytes(), type=Checkpoint)
    except OSError as error:
        raise BadInput(f"Cannot read the checkpoint {path} ({error.strerror}).") from None
    except (msgspec.ValidationError, msgspec.DecodeError) as error:
        raise BadInput(f"{path} is not a checkpoint ({error}).") from None


def check(ledger: Ledger, checkpoint: Checkpoint, public_key: Path) -> int:
    """Check the signature, then that the ledger still holds the signed head; returns the verified count."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    key = _read_key(public_key, private=False)
    if not isinstance(key, Ed25519PublicKey):
        raise BadInput(f"{public_key} is not an Ed25519 public key.")
    if _key_id(_raw_public(key)) != checkpoint.key_id:
        raise BadInput("The checkpoint was signed with another key than the one given; it cannot be trusted.")
    try:
        key.verify(bytes.fromhex(checkpoint.signature),
                   _signed_bytes(checkpoint.origin, checkpoint.size, checkpoint.root))
    except (InvalidSignature, ValueError):
        raise BadInput("The checkpoint's signature does not match its contents; it was altered.") from None
    count = ledger.verify()
    if count < checkpoint.size:
        raise IntegrityViolation(
            f"The ledger holds {count} positions but the checkpoint covers {checkpoint.size}: it was truncated.",
            count + 1,
        )
    if checkpoint.size == 0:
        return count
    if origin_of(ledger) != checkpoint.origin:
        raise IntegrityViolation("The ledger's first event is not the one the checkpoint names: it was rewritten.", 1)
    row = ledger.recorder.select_chain(checkpoint.size - 1, 1)[0]
    if bytes(row[4]).hex() != checkpoint.root:
        raise IntegrityViolation(
            f"The ledger's digest at position {checkpoint.size} differs from the signed checkpoint: "
            "history up to there was rewritten.",
            checkpoint.size,
        )
    return count
