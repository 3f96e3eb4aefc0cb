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
* ``ours``: ``cotour serve`` as researchers run it (metadata, plugins, Italian pages).
* ``ours-nocache``: the same with ``COTOUR_RESPONSE_CACHE_MIB=0``, to show what the
  pages themselves cost.

Targets (printed, not asserted): ours >= 1x bare's throughput; p95 <= 250 ms at 16 clients on
the sample and <= 1 s at M. Bounded: at most 32 clients, at most 120 s per run, loopback only.
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
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


def start(server: str, kb_path: Path, public: Path, port: int, tmp: Path) -> subprocess.Popen:
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
    # The log to a file: a pipe nobody reads fills up and stalls the server.
    log = open(tmp / f"{server}-{port}.log", "wb")
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)


def run(port: int, paths: list[str], clients: int, seconds: float) -> dict:
    stop = time.monotonic() + seconds
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def client(index: int) -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        mine, failed, i = [], 0, index
        while time.monotonic() < stop:
            path = paths[i % len(paths)]
            i += 1
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
            mine.append(time.perf_counter() - began)
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
    ordered = sorted(latencies)
    return {"requests": len(ordered), "rps": len(ordered) / elapsed,
            "p50": statistics.median(ordered) * 1000 if ordered else float("nan"),
            "p95": ordered[max(0, round(0.95 * len(ordered)) - 1)] * 1000 if ordered
            else float("nan"), "errors": errors[0]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--db", type=Path, default=ROOT / "build" / "cotour.db",
                       help="a built knowledge base (its public sibling is served)")
    where.add_argument("--size", choices=["S", "M"],
                       help="benchmarks/generate.py's corpus, generated and built if missing")
    parser.add_argument("--clients", default="1,8,16")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--servers", default="bare,ours,ours-nocache")
    args = parser.parse_args(argv)
    levels = [int(c) for c in args.clients.split(",")]
    if max(levels) > MAX_CLIENTS or args.seconds > MAX_SECONDS:
        parser.error(f"at most {MAX_CLIENTS} clients and {MAX_SECONDS} s per run")
    kb_path, label = args.db, "sample"
    if args.size:
        kb_path, label = prepare(args.size), args.size
    public = require_public(public_path_for(kb_path))
    pages = mix(public)
    servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    print(f"{label}: {public} ({public.stat().st_size / 2**20:.1f} MiB); "
          f"{args.seconds:g} s per run; mix: " + ", ".join(name for name, _, _ in pages))
    print(f"{'server':14} {'clients':>7} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'errors':>7}")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for server in servers:
            port = free_port()
            process = start(server, kb_path, public, port, Path(tmp))
            try:
                wait_until_up(process, port)
                paths = [bare if server == "bare" else ours for _, ours, bare in pages]
                run(port, paths, 1, 0.001)  # connect once
                for path in paths:  # warm: every page once
                    run(port, [path], 1, 0.001)
                for clients in levels:
                    r = run(port, paths, clients, args.seconds)
                    results[server, clients] = r
                    print(f"{server:14} {clients:7} {r['rps']:8.1f} {r['p50']:8.1f} "
                          f"{r['p95']:8.1f} {r['errors']:7}", flush=True)
            finally:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
    target = TARGET_P95_MS["M" if label == "M" else "sample"]
    for clients in levels:
        if ("bare", clients) in results:
            for server in servers:
                if server != "bare" and (server, clients) in results:
                    ratio = results[server, clients]["rps"] / results["bare", clients]["rps"]
                    print(f"{clients:2} clients, {server}: {ratio:.2f}x bare's throughput")
    top = max(levels)
    for server in servers:
        if server != "bare" and (server, top) in results:
            p95 = results[server, top]["p95"]
            print(f"{server} at {top} clients: p95 {p95:.0f} ms (target <= {target} ms: "
                  f"{'met' if p95 <= target else 'NOT met'})")
    return 0


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
