"""The benchmark's corpus generator: deterministic, and its corpus is valid input.

Speed is measured by ``benchmarks/bench.py``, never asserted here.
"""

import hashlib
import sys
from pathlib import Path

from kb.pipeline import check

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from generate import generate  # noqa: E402


def digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def test_tiny_corpus_passes_check_with_no_problem(tmp_path):
    counts = generate(tmp_path / "data", "T", seed=7)
    result = check(tmp_path / "data")
    assert [] == [str(d) for d in result.diagnostics.sorted()]
    assert counts["findings"] == result.counts["findings"]
    assert counts["notes"] == result.counts["notes"]
    kinds = {f["kind"] for f in result.model["findings"]}
    assert len(kinds) >= 5
    assert {"source", "mentioned"} == {r["role"] for r in result.model["finding_organisations"]}
    assert result.model["finding_themes"]


def test_same_seed_same_bytes(tmp_path):
    generate(tmp_path / "a", "T", seed=7)
    generate(tmp_path / "b", "T", seed=7)
    generate(tmp_path / "c", "T", seed=8)
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert digest(tmp_path / "a") != digest(tmp_path / "c")


def test_small_corpus_has_every_kind_and_internal_notes(tmp_path):
    generate(tmp_path / "data", "S")
    result = check(tmp_path / "data")
    assert not result.diagnostics.errors
    assert 300 == result.counts["findings"]
    assert 9 == len({f["kind"] for f in result.model["findings"]})
    assert "internal" in {n["visibility"] for n in result.model["notes"]}
    assert any(n["interviewees"] for n in result.model["notes"])
