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


def test_benchmark_runs_at_size_s(tmp_path):
    # The smoke run CI makes: every part measured at S, in its own processes. Nothing about
    # time is asserted, only that each part measured what it says it measures.
    import json
    import subprocess

    out = tmp_path / "results-S.json"
    bench = Path(__file__).resolve().parent.parent / "benchmarks" / "bench.py"
    run = subprocess.run([sys.executable, str(bench), "--size", "S", "--json", str(out)],
                         capture_output=True, text=True, timeout=600)
    assert 0 == run.returncode, run.stderr
    results = json.loads(out.read_text())
    build = results["build"]
    assert 300 == build["counts"]["findings"]
    assert {"read", "normalise (parse, stem)", "write", "public database",
            "hybrid (incl. writing into both)"} <= set(build["stages"])
    assert build["write_floor_rows"] > build["counts"]["findings"]
    assert [] == [name for name, v in results["browse"].items()
                  if "error" in v or v["cut_short"] or not v["statements"]]
    assert 22 == len(results["browse"])
    report = results["report"]
    assert report["pages"] > 50 and 0 < report["weasyprint_share"] < 1
    assert [0.25, 0.5, 1.0] == [point["fraction"] for point in report["series"]]
    for part in ("publish", "qdpx"):  # each in its own process, its workers' memory counted
        assert results[part]["bytes"] > 0 and results[part]["peak_mib"] > 20, part
        assert 0 < results[part]["cpu_seconds"], part
    assert build["public_counts"]["findings"] == results["qdpx"]["selections"]
    assert "benchmark, size S" in run.stdout
