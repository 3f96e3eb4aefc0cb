"""Closed-loop load on 127.0.0.1: our Datasette (``cotour serve``) against bare Datasette 0.65
on the same file and the same mix of pages.

    python benchmarks/load.py --db build/cotour.db                  # the sample, built
    python benchmarks/load.py --size M                               # benchmarks/generate.py's M
    python benchmarks/load.py --db build/cotour.db --clients 1,8,16 --seconds 10

Each client sends a request, waits for the whole answer, sends the next (closed loop), going
round the mix from its own starting point, for ``--seconds`` per run; a pass over the mix warms
each server first. Printed per server and number of clients: requests per second, p50 and p95
latency, errors. Three servers, one at a time, each its own process:

* ``bare``: ``datasette serve -i cotour.db --setting suggest_facets off``, no plugins (entry
  points not loaded), no metadata. It has no canned queries, so it gets their SQL on its SQL
  page (the same query, the same parameters), and the search gets the stemmed word that our
  plugin would give it (the index holds stems).
* ``ours``: ``cotour serve`` as researchers run it (metadata, plugins, Italian pages), on its
  default worker processes (one per core; bare Datasette has one process).
* ``ours-nocache``: the same with ``COTOUR_RESPONSE_CACHE_MIB=0``, to show what the
  pages themselves cost.

Targets (printed, not asserted): ours >= 1x bare's throughput; p95 <= 250 ms at 16 clients on
the sample and <= 1 s at M. Bounded: at most 32 clients, at most 120 s per run, loopback only.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Iterable
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kb.serve.canned import read_queries, render_sql
from kb.store.public import public_path_for, require_public
from kb.store.search import fts_match

HOST = "127.0.0.1"
MAX_CLIENTS, MAX_SECONDS = 32, 120
CANNED = {"pratiche_ricorrenti": {"tipo": ""}, "organizzazioni_piu_citate": {"profilo": ""}}
TARGET_P95_MS = {"sample": 250, "M": 1000}
UNIQUE_TARGET_RATIO = 1.5  # ours / bare's throughput on first visits, at M with 8 clients


def mix(public: Path) -> list[tuple[str, str, str]]:
    """(name, our path, bare Datasette's path): the findings table, a faceted page, a search, a
    row page, two canned queries."""
    conn = sqlite3.connect(f"file:{public}?mode=ro", uri=True)
    try:
        finding = conn.execute("select id from findings order by id limit 1").fetchone()[0]
        provinces = [dict(zip(("id", "name"), r)) for r in conn.execute(
            "select id, name from provinces order by position")]
        kinds = [dict(zip(("id", "label"), r)) for r in conn.execute(
            "select id, label from finding_kinds order by position")]
    finally:
        conn.close()
    search = "/cotour/findings?_search=" + quote("cooperativa")
    pages = [
        ("findings table", "/cotour/findings", "/cotour/findings"),
        ("faceted page", "/cotour/findings?_facet=kind&_facet=province&kind=practice",
         "/cotour/findings?_facet=kind&_facet=province&kind=practice"),
        ("search", search, "/cotour/findings?_search=" + quote(fts_match("cooperativa"))),
        ("row page", f"/cotour/findings/{finding}", f"/cotour/findings/{finding}"),
    ]
    queries = {q.name: q for q in read_queries()}
    for name, params in CANNED.items():
        sql = render_sql(queries[name], provinces, kinds)
        pages.append((f"canned {name}", f"/cotour/{name}?{urlencode(params)}",
                      "/cotour?" + urlencode({"sql": sql, **params})))
    return pages


UNIQUE_KINDS = ("finding", "search", "kind x province", "organisation")


def unique_mix(public: Path, count: int = 60_000, seed: int = 2015) -> list[tuple[str, str, str]]:
    """(kind, our path, bare Datasette's path), at most ``count`` of them, every address
    different: what first visits send, so no response cache can help. In turn: a finding's
    page, a search for a word of the findings' text (common and rare words alike, as drawn
    from the text), a kind × province filter with its facets, an organisation's page. A
    corpus has a few hundred distinct words and nine kinds × nine provinces, so searches and
    filters vary their page size (10–100 rows) to stay new; the mix ends when one kind has no
    new address left (``run`` says when a run used them all)."""
    import random

    rng = random.Random(seed)
    conn = sqlite3.connect(f"file:{public}?mode=ro", uri=True)
    try:
        findings = [r[0] for r in conn.execute("select id from findings order by id")]
        organisations = [r[0] for r in conn.execute("select id from organisations order by id")]
        kinds = [r[0] for r in conn.execute("select id from finding_kinds order by position")]
        provinces = [r[0] for r in conn.execute("select id from provinces order by position")]
        stride = max(1, len(findings) // 2000)  # some 2,000 findings' words, across the table
        texts = [r[0] for r in conn.execute(
            "select text from findings where rowid % ? = 0 limit 2000", (stride,))]
    finally:
        conn.close()
    words = sorted({w for t in texts for w in re.findall(r"[a-zàèéìòù]{5,}", t.lower())})
    words = list({fts_match(w): w for w in reversed(words)}.values())  # one word a stem
    sizes = range(10, 101)
    searches = [(w, size) for size in sizes for w in words]
    filters = [(k, p, size) for size in sizes for k in kinds for p in provinces]
    for items in (findings, organisations, searches, filters):
        rng.shuffle(items)
    per_kind = {
        "finding": [(f"/cotour/findings/{quote(f)}",) * 2 for f in findings],
        "search": [("/cotour/findings?" + urlencode({"_search": w, "_size": size}),
                    "/cotour/findings?" + urlencode({"_search": fts_match(w), "_size": size}))
                   for w, size in searches],
        "kind x province": [("/cotour/findings?" + urlencode({"kind": k, "province": p,
                                                              "_size": size})
                             + "&_facet=kind&_facet=province",) * 2
                            for k, p, size in filters],
        "organisation": [(f"/cotour/organisations/{quote(o)}",) * 2 for o in organisations],
    }
    rounds = min(count // len(UNIQUE_KINDS), *(len(v) for v in per_kind.values()))
    return [(kind, *per_kind[kind][n]) for n in range(rounds) for kind in UNIQUE_KINDS]


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_until_up(process: subprocess.Popen, port: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server stopped (exit {process.returncode}); see its log")
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"no answer on port {port} after {timeout} s")


def start(server: str, kb_path: Path, public: Path, port: int, tmp: Path,
          workers: int | None = None) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "COTOUR_STAFF_PASSWORD_HASH"}
    if server == "bare":
        link = tmp / "cotour.db"  # the file's name is the database's: the same URLs
        if not link.exists():
            link.symlink_to(public.resolve())
        command = [sys.executable, "-c",
                   "import sys; sys._called_from_test = True\n"  # Datasette then loads no plugin
                   "from datasette.cli import cli; cli()",
                   "serve", "-i", str(link), "--host", HOST, "--port", str(port),
                   "--setting", "suggest_facets", "off"]
    else:
        if server == "ours-nocache":
            env["COTOUR_RESPONSE_CACHE_MIB"] = "0"
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        command = [sys.executable, "-c", "from kb.cli import cli; cli()", "serve",
                   "--db", str(kb_path), "--host", HOST, "--port", str(port)]
        if workers:
            command += ["--workers", str(workers)]
    # The log to a file: a pipe nobody reads fills up and stalls the server.
    log = open(tmp / f"{server}-{port}.log", "wb")
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)


def run(port: int, items: Iterable[tuple[str, str]], clients: int, seconds: float,
        unique: bool = False) -> dict:
    """``clients`` in a closed loop for ``seconds`` over ``items`` (kind, path): each client
    going round them from its own starting point, or, ``unique``, every request taking the
    next address not yet sent (the list is not reused). Requests per second, p50 and p95 over
    all and per kind of page."""
    stop = time.monotonic() + seconds
    latencies: list[tuple[str, float]] = []
    errors, exhausted = [0], [False]
    lock = threading.Lock()
    shared = iter(items)  # a list is gone round; an iterator's addresses are used once
    items = items if unique else list(items)

    def client(index: int) -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        mine, failed, i = [], 0, index
        while time.monotonic() < stop:
            if unique:
                with lock:
                    item = next(shared, None)
                if item is None:
                    exhausted[0] = True
                    break
            else:
                item = items[i % len(items)]
                i += 1
            kind, path = item
            began = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    failed += 1
            except (OSError, http.client.HTTPException):
                failed += 1
                conn.close()
                conn = http.client.HTTPConnection(HOST, port, timeout=30)
                continue
            mine.append((kind, time.perf_counter() - began))
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    return {"latencies": latencies, "elapsed": elapsed, "errors": errors[0],
            "exhausted": exhausted[0]}


def summary(runs: list[dict], cpu_seconds: float) -> dict:
    """The runs of one server, mix and number of clients (one a round) as one: requests per
    second, p50 and p95 over all and per kind of page, errors, and the server's CPU time a
    request (its worker processes included)."""
    latencies = [x for r in runs for x in r["latencies"]]
    elapsed = sum(r["elapsed"] for r in runs)
    result = _stats([t for _, t in latencies], elapsed)
    result["errors"] = sum(r["errors"] for r in runs)
    result["exhausted"] = any(r["exhausted"] for r in runs)
    result["cpu_ms"] = 1000 * cpu_seconds / len(latencies) if latencies else float("nan")
    result["kinds"] = {kind: _stats([t for k, t in latencies if k == kind], elapsed)
                       for kind in dict.fromkeys(k for k, _ in latencies)}
    return result


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry))
    return children


def processes_in_tree(pid: int) -> int:
    children, todo, count = _children(), [pid], 0
    while todo:
        count += 1
        todo += children.get(todo.pop(), [])
    return count


def tree_cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process and its descendants (a server's workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    children = _children()
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except OSError:
            pass
        todo += children.get(current, [])
    return total


def _stats(seconds: list[float], elapsed: float) -> dict:
    ordered = sorted(seconds)
    return {"requests": len(ordered), "rps": len(ordered) / elapsed,
            "p50": statistics.median(ordered) * 1000 if ordered else float("nan"),
            "p95": ordered[max(0, round(0.95 * len(ordered)) - 1)] * 1000 if ordered
            else float("nan")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--db", type=Path, default=ROOT / "build" / "cotour.db",
                       help="a built knowledge base (its public sibling is served)")
    where.add_argument("--size", choices=["S", "M", "L"],
                       help="benchmarks/generate.py's corpus, generated and built if missing")
    parser.add_argument("--clients", default="1,8,16")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--servers", default="bare,ours,ours-nocache")
    parser.add_argument("--workers", type=int,
                        help="our server's worker processes (default: cotour serve's)")
    parser.add_argument("--rounds", type=int, default=5,
                        help="slots each server's run is cut into, the servers taking turns")
    parser.add_argument("--mix", default="repeated,unique",
                        help="repeated: six addresses in turn; unique: every address different")
    args = parser.parse_args(argv)
    levels = [int(c) for c in args.clients.split(",")]
    if max(levels) > MAX_CLIENTS or args.seconds > MAX_SECONDS:
        parser.error(f"at most {MAX_CLIENTS} clients and {MAX_SECONDS} s per run")
    kb_path, label = args.db, "sample"
    if args.size:
        kb_path, label = prepare(args.size), args.size
    public = require_public(public_path_for(kb_path))
    pages = mix(public)
    mixes = [m.strip() for m in args.mix.split(",") if m.strip()]
    unique = unique_mix(public) if "unique" in mixes else []
    servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    print(f"{label}: {public} ({public.stat().st_size / 2**20:.1f} MiB); "
          f"{args.seconds:g} s per run; load average {_load()}")
    if "repeated" in mixes:
        print("repeated mix: " + ", ".join(name for name, _, _ in pages))
    if unique:
        print(f"unique mix: {', '.join(UNIQUE_KINDS)} in turn, {len(unique):,} addresses")
    print(f"{'server':14} {'mix':9} {'clients':>7} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'errors':>7} {'CPU ms':>7}  p95 by kind (ms)   [CPU ms: the server's, a request]")
    results = {}
    # The servers take turns (``--rounds`` slots each, interleaved), so that a change in the
    # shared machine's load falls on all of them alike; CPU time a request is printed beside.
    with tempfile.TemporaryDirectory() as tmp:
        processes, ports, fresh = {}, {}, {}
        try:
            for server in servers:
                ports[server] = port = free_port()
                processes[server] = process = start(server, kb_path, public, port, Path(tmp),
                                                    args.workers)
                wait_until_up(process, port)
                time.sleep(0.5)  # every worker up
                print(f"{server}: {processes_in_tree(process.pid)} process(es)")
                paths = [(name, bare if server == "bare" else ours) for name, ours, bare in pages]
                run(port, paths, 1, 0.001)  # connect once
                for path in paths:  # warm: every page once
                    run(port, [path], 1, 0.001)
                fresh[server] = iter([(kind, bare if server == "bare" else ours)
                                      for kind, ours, bare in unique])
            for name in mixes:
                for clients in levels:
                    runs = {server: [] for server in servers}
                    cpu = dict.fromkeys(servers, 0.0)
                    for _ in range(args.rounds):
                        for server in servers:
                            before = tree_cpu_seconds(processes[server].pid)
                            if name == "unique":  # addresses never sent before, in any run
                                r = run(ports[server], fresh[server], clients,
                                        args.seconds / args.rounds, unique=True)
                            else:
                                paths = [(n, bare if server == "bare" else ours)
                                         for n, ours, bare in pages]
                                r = run(ports[server], paths, clients, args.seconds / args.rounds)
                            cpu[server] += tree_cpu_seconds(processes[server].pid) - before
                            runs[server].append(r)
                    for server in servers:
                        r = results[server, name, clients] = summary(runs[server], cpu[server])
                        r["load"] = _load()
                        kinds = ", ".join(f"{k} {v['p95']:.0f}" for k, v in r["kinds"].items()
                                          if name == "unique")
                        print(f"{server:14} {name:9} {clients:7} {r['rps']:8.1f} {r['p50']:8.1f} "
                              f"{r['p95']:8.1f} {r['errors']:7} {r['cpu_ms']:7.1f}  {kinds}  "
                              f"(load {r['load']})"
                              + ("  [no new address left: the run ended early]"
                                 if r["exhausted"] else ""), flush=True)
        finally:
            for process in processes.values():
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
    target = TARGET_P95_MS["M" if label in ("M", "L") else "sample"]
    for name in mixes:
        for clients in levels:
            bare = results.get(("bare", name, clients))
            for server in servers:
                ours = results.get((server, name, clients))
                if server == "bare" or not bare or not ours:
                    continue
                ratio = ours["rps"] / bare["rps"] if bare["rps"] else float("nan")
                line = f"{name} mix, {clients:2} clients, {server}: {ratio:.2f}x bare's throughput"
                if name == "unique":
                    slower = [k for k in ours["kinds"]
                              if not ours["kinds"][k]["p95"] <= bare["kinds"][k]["p95"]]
                    kinds = "met" if not slower else "NOT met: " + ", ".join(slower)
                    line += (f" (target >= {UNIQUE_TARGET_RATIO}x: "
                             f"{'met' if ratio >= UNIQUE_TARGET_RATIO else 'NOT met'}); p95 <= "
                             f"bare's on every kind: {kinds}")
                print(line)
    top = max(levels)
    for server in servers:
        if server != "bare" and (server, "repeated", top) in results:
            p95 = results[server, "repeated", top]["p95"]
            print(f"{server} at {top} clients (repeated): p95 {p95:.0f} ms (target <= {target} "
                  f"ms: {'met' if p95 <= target else 'NOT met'})")
    return 0


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def prepare(size: str) -> Path:
    """The generated corpus of ``size`` built once under build/bench/ (reused after)."""
    data = ROOT / "build" / "bench" / size
    db = ROOT / "build" / "bench" / f"load-{size}" / "cotour.db"
    if not data.exists():
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--size", size,
                        "--out", str(data)], check=True)
    if not public_path_for(db).exists():
        from kb.pipeline import build

        build(data, db)
    return db


if __name__ == "__main__":
    sys.exit(main())
