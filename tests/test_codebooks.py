"""The built-in codebooks: strict loading, a sound two-level tree, and every DOMAIN.md area and theme."""

from __future__ import annotations

import json
from collections import Counter
from importlib import resources

import pytest

from ledger.contracts import Codebook
from ledger.errors import BadInput, NotFound
from ledger.pluginmanager import collect, new_plugin_manager
from plugins.codebooks import CODE_ID, decode_codebook, load_codebook
from plugins.frameworks import load_framework

NAMES = ("sif-2013", "ilacs-2018")

#: DOMAIN.md "Codebook themes": area -> number of themes, and some labels as written there.
SIF_THEMES = {
    "help-protection": (20, ["early help", "contacts and referrals (front door, MASH)", "pre-proceedings (PLO)"]),
    "looked-after": (17, ["placement stability", "virtual school and education plans", "out-of-area placements"]),
    "adoption": (4, ["timeliness", "fostering for adoption and concurrent planning"]),
    "care-leavers": (3, ["personal advisers and pathway plans", "education, employment or training"]),
    "leadership": (13, ["management oversight and supervision (reflective supervision)", "self-evaluation"]),
    "lscb": (12, ["independent chair", "section 11 audits", "early help oversight"]),
}
ILACS_AREAS = {"leaders": "leadership", "help-protection": "help-protection", "care-leavers": "care-leavers"}


@pytest.fixture(scope="module", params=NAMES)
def codebook(request: pytest.FixtureRequest) -> Codebook:
    return load_codebook(request.param)


def themes_by_area(codebook: Codebook) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for code in codebook.codes:
        if code.parent is not None:
            out.setdefault(code.parent, []).append(code.label)
    return out


def test_codebooks_load_as_the_contract_type(codebook: Codebook) -> None:
    assert type(codebook) is Codebook
    assert codebook.framework == codebook.name


def test_ids_are_unique_kebab_paths(codebook: Codebook) -> None:
    ids = [code.id for code in codebook.codes]
    assert [i for i, n in Counter(ids).items() if n > 1] == []
    assert all(CODE_ID.fullmatch(i) for i in ids)


def test_every_parent_is_defined_before_its_child(codebook: Codebook) -> None:
    seen: set[str] = set()
    for code in codebook.codes:
        if code.parent is not None:
            assert code.parent in seen, code.id
            assert code.id == f"{code.parent}/{code.id.rpartition('/')[2]}"
            assert "/" not in code.parent  # two levels only
        seen.add(code.id)


def test_every_code_has_a_one_line_description(codebook: Codebook) -> None:
    for code in codebook.codes:
        assert code.label.strip() and code.description.strip(), code.id
        assert "\n" not in code.description


def test_top_level_codes_are_the_framework_areas_below_overall(codebook: Codebook) -> None:
    framework = load_framework(codebook.framework)
    top = [code.id for code in codebook.codes if code.parent is None]
    assert top and all(code.facet is None for code in codebook.codes if code.parent is None)
    assert set(top) == {area.id for area in framework.areas if area.kind != "overall"}


def test_sif_codebook_has_every_domain_area_and_theme() -> None:
    themes = themes_by_area(load_codebook("sif-2013"))
    assert set(themes) == set(SIF_THEMES)
    for area, (count, labels) in SIF_THEMES.items():
        assert len(themes[area]) == count, area
        assert set(labels) <= set(themes[area]), area


def test_ilacs_codebook_maps_the_sif_themes_onto_ilacs_areas() -> None:
    sif = load_codebook("sif-2013")
    sif_themes, ilacs_themes = themes_by_area(sif), themes_by_area(load_codebook("ilacs-2018"))
    assert set(ilacs_themes) == {"leaders", "help-protection", "in-care", "care-leavers"}
    for ilacs_area, sif_area in ILACS_AREAS.items():
        assert ilacs_themes[ilacs_area] == sif_themes[sif_area]
    assert len(ilacs_themes["in-care"]) == len(sif_themes["looked-after"]) + len(sif_themes["adoption"])
    assert set(sif_themes["looked-after"]) <= set(ilacs_themes["in-care"])
    facets = {code.id.rpartition("/")[2]: code.facet for code in sif.codes if code.parent == "help-protection"}
    ilacs = load_codebook("ilacs-2018")
    assert {c.id.rpartition("/")[2]: c.facet for c in ilacs.codes if c.parent == "help-protection"} == facets


def test_facets_are_used_and_balanced_enough_to_be_informative() -> None:
    facets = Counter(code.facet for code in load_codebook("sif-2013").codes if code.parent)
    assert {"process", "practice", "impact"} <= set(facets)
    assert facets[None] > 0


def test_plugin_manager_registers_both_codebooks() -> None:
    codebooks = collect(new_plugin_manager(load_entry_points=False), "register_codebooks")
    assert set(NAMES) <= set(codebooks.items)
    assert codebooks["sif-2013"] == load_codebook("sif-2013")
    assert codebooks.suppliers["ilacs-2018"] == "plugins.codebooks"


def test_unknown_codebook_name_is_not_found() -> None:
    with pytest.raises(NotFound, match="ilacs-2018, sif-2013"):
        load_codebook("../sif-2013")


# --- strict decoding ---------------------------------------------------------------------------


def sif_file() -> dict:
    return json.loads((resources.files("plugins.data") / "sif-2013.codebook.json").read_text(encoding="utf-8"))


def test_a_copy_of_a_file_decodes_to_the_builtin() -> None:
    assert decode_codebook(json.dumps(sif_file()).encode(), "copy") == load_codebook("sif-2013")


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda f: f["codes"][1].update(facett="process"), r"unknown field `facett` - at `\$.codes\[1\]`"),
        (lambda f: f.update(version=2), "unknown field `version`"),
        (lambda f: f["codes"][1].update(facet="outcome"), "facet"),
        (lambda f: f["codes"].insert(0, f["codes"].pop(1)), "parent 'help-protection', which is not defined before"),
        (lambda f: f["codes"][1].update(parent="nowhere"), "parent 'nowhere'"),
        (lambda f: f["codes"].append(dict(f["codes"][1])), "defined twice"),
        (lambda f: f["codes"][1].update(id="help-protection/Early_Help"), "lower-case kebab"),
        (lambda f: f["codes"][1].update(id="looked-after/early-help"), "its parent's id"),
        (lambda f: f["codes"][1].pop("parent"), "single segment"),
        (lambda f: f["codes"][1].update(label=" "), "empty label"),
        (lambda f: f.update(name="SIF 2013"), "lower-case kebab"),
        (lambda f: f.pop("framework"), "missing required field `framework`"),
    ],
)
def test_broken_codebook_files_are_refused(change, match: str) -> None:  # noqa: ANN001 - a lambda
    broken = sif_file()
    change(broken)
    with pytest.raises(BadInput, match=match) as raised:
        decode_codebook(json.dumps(broken).encode(), "broken.codebook.json")
    assert "broken.codebook.json" in str(raised.value)


def test_malformed_json_is_refused() -> None:
    with pytest.raises(BadInput, match="not valid"):
        decode_codebook(b"{", "truncated.codebook.json")
