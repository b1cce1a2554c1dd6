"""Patient shapes: every file under tests/data/patients/valid passes, every file under invalid/
fails for the reason its name says, and nothing else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from her2kg.cli import main
from her2kg.resources import examples_dir, shapes_dir
from her2kg.turtle_format import parse_turtle
from her2kg.validation import validate_patient_files

PATIENTS = Path(__file__).parent / "data" / "patients"
VALID = sorted((PATIENTS / "valid").glob("*.ttl"))
INVALID = sorted((PATIENTS / "invalid").glob("*.ttl"))

# What the single finding of each invalid file says: (focus node suffix, path or "", message part).
REASONS = {
    "lvef-over-100": ("rules", "lvef-out-of-range", "LVEF 160 % is outside 0-100 %"),
    "missing-patient-id": ("shacl", "h:patientId", "exactly one identifier"),
    "contradictory-her2": ("rules", "her2-contradictory", "contradict each other"),
    "end-before-start": ("rules", "end-before-start", "ends before it starts"),
    "bad-date": ("rules", "invalid-date", "1969-02-30 is not a valid date"),
}


def test_every_invalid_file_has_a_stated_reason() -> None:
    assert sorted(p.stem for p in INVALID) == sorted(REASONS)


@pytest.mark.slow
@pytest.mark.parametrize(
    "path", VALID + sorted(examples_dir().glob("*.ttl")), ids=lambda p: f"{p.parent.name}/{p.stem}"
)
def test_valid_patients_pass(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(path)]) == 0, capsys.readouterr().out
    assert capsys.readouterr().out.startswith("ok: her2kg ")


@pytest.mark.slow
@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_patients_fail_for_their_reason(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--format", "json", str(path)]) == 1
    report = json.loads(capsys.readouterr().out)
    found = [f for c in report["checks"] for f in c["findings"]]
    check, start, message = REASONS[path.stem]
    mine = [f for f in found if f["check"] == check]
    assert len(mine) == 1, found
    [finding] = mine
    assert finding["severity"] == "error" and finding["file"] == str(path)
    assert finding["message"].startswith(start) and message in finding["message"]
    # the structural shapes add at most the datatype of an ill-formed date
    assert all(f["check"] == check or path.stem == "bad-date" for f in found), found


@pytest.mark.slow
def test_several_files_at_once_name_each_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", *map(str, VALID), *map(str, INVALID)]) == 1
    out = capsys.readouterr().out
    for path in INVALID:
        assert f"{path}:" in out
    for path in VALID:
        assert f"{path}:" not in out


@pytest.mark.slow
def test_patient_syntax_error_names_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.ttl"
    broken.write_text('@prefix h: <https://w3id.org/her2kg/> .\n\nh:x h:patientId "a ;\n', encoding="utf-8")
    assert main(["validate", str(broken)]) == 1
    assert f"{broken}:3: [syntax] Turtle syntax error" in capsys.readouterr().out


@pytest.mark.slow
def test_library_api_for_patients() -> None:
    report = validate_patient_files(VALID)
    assert report.ok and [c.check for c in report.checks] == ["syntax", "shacl", "rules"]
    assert report.knowledge_base is not None and report.knowledge_base.version


@pytest.mark.parametrize("path", sorted(shapes_dir().glob("*.ttl")), ids=lambda p: p.name)
def test_shapes_files_parse_and_have_a_header(path: Path) -> None:
    from rdflib import OWL, RDF, URIRef

    graph = parse_turtle(path.read_text(encoding="utf-8"), source=path.name).graph
    assert (URIRef(f"https://w3id.org/her2kg/shapes/{path.stem}"), RDF.type, OWL.Ontology) in graph
