"""benchmarks/load.py runs end to end (a smoke test: figures printed, none asserted)."""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import load  # noqa: E402


def test_load_benchmark_runs_both_servers_without_errors(mini_build, capsys):
    assert 0 == load.main(["--db", str(mini_build[0]), "--clients", "1,2", "--seconds", "0.5",
                           "--servers", "bare,ours"])
    out = capsys.readouterr().out
    rows = re.findall(r"^(bare|ours)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+(\d+)$", out, re.M)
    assert [("bare", "1"), ("bare", "2"), ("ours", "1"), ("ours", "2")] \
        == [(server, clients) for server, clients, *_ in rows]
    assert all(int(errors) == 0 and float(rps) > 0 for *_, rps, _, _, errors in rows)
    assert "1 clients, ours:" in out and "ours at 2 clients: p95" in out
