"""benchmarks/load.py runs end to end (a smoke test: figures printed, none asserted)."""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import load  # noqa: E402


def test_load_benchmark_runs_both_servers_and_both_mixes_without_errors(mini_build, capsys):
    assert 0 == load.main(["--db", str(mini_build[0]), "--clients", "1,2", "--seconds", "0.5",
                           "--servers", "bare,ours"])
    out = capsys.readouterr().out
    rows = re.findall(r"^(bare|ours)\s+(repeated|unique)\s+(\d+)\s+([\d.]+)\s+([\d.na]+)\s+"
                      r"([\d.na]+)\s+(\d+)\s([^\n]*)", out, re.M)
    # the servers take turns: both at each mix and number of clients
    assert [(server, mix, clients) for mix in ("repeated", "unique") for clients in ("1", "2")
            for server in ("bare", "ours")] \
        == [(server, mix, clients) for server, mix, clients, *_ in rows]
    assert all(int(errors) == 0 for *_, errors, _ in rows)
    assert all(float(rps) > 0 for _, mix, clients, rps, *_ in rows
               if mix == "repeated" or clients == "1")
    # the fixture's six findings give a few dozen new addresses: used up, and said so
    assert all(float(rps) > 0 or "no new address left" in rest
               for _, mix, _, rps, *_, rest in rows if mix == "unique")
    assert re.search(r"^bare: 1 process\(es\)$", out, re.M)
    assert re.search(r"^ours: \d+ process\(es\)$", out, re.M)
    assert "unique mix,  1 clients, ours:" in out and "ours at 2 clients (repeated): p95" in out


def test_the_unique_mix_never_repeats_an_address_and_covers_every_kind(mini_build):
    public = Path(mini_build[1])
    mix = load.unique_mix(public, count=8)
    assert 8 == len({ours for _, ours, _ in mix}) == len({bare for _, _, bare in mix})
    assert list(load.UNIQUE_KINDS) * 2 == [kind for kind, _, _ in mix]
    searches = [(ours, bare) for kind, ours, bare in mix if kind == "search"]
    # bare Datasette is given the stemmed words our plugin would give it (the index holds stems)
    assert all(ours != bare and "_search=" in bare for ours, bare in searches)
