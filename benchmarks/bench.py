"""How the pipeline holds at scale: build, browse, report and publish on a synthetic corpus.

    python benchmarks/bench.py --size S          # the sample's size (CI smoke test)
    python benchmarks/bench.py --size L          # 500,000 findings: the targets below
    python benchmarks/bench.py --size M --only build,publish

Prints a table and writes ``build/bench/results-<size>.json``. The corpus is generated once by
``benchmarks/generate.py`` under ``build/bench/<size>/`` (``--regenerate`` to redo it).

Targets at L (checked and printed, never asserted: benchmarks are not tests):
whole build <= 60 s and peak RSS <= 1 GiB; write stage <= 2x its floor (the same rows written with
raw ``sqlite3.executemany`` in one transaction, in the same run); every browse request p95 <= 1.5x
the floor of the SQL it runs and <= 150 ms where that floor is under 100 ms, and at L a row, an
organisation's page and a rare-word search <= 1 s, a common word's search bounded (<= 1.5 s,
answered or stopped with a message); report >= 85 % of its time inside WeasyPrint;
publish <= 30 s and <= 1 GiB (the spreadsheet and the REFI-QDA project included); the REFI-QDA
export alone <= 20 s.

Each build, publish and export runs in its own process, so its peak memory is its own: the
resident memory of the process and of the worker processes it starts, summed, sampled every
0.1 s. The machine's load average is printed beside each figure (the machine is shared).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "build" / "bench"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGETS = {"build_seconds": 60, "peak_rss_mib": 1024, "write_ratio": 2.0, "browse_ratio": 1.5,
           "browse_ms": 150, "report_weasyprint_share": 0.85, "publish_seconds": 30,
           "publish_mib": 1024, "qdpx_seconds": 20, "browse_l_ms": 1000,
           "browse_bounded_ms": 1500}


def _load() -> str:
    """The machine's load average (1, 5, 15 minutes): printed beside every figure."""
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


class TreeMemory:
    """The peak of the resident memory of this process and its descendants (worker
    processes included), summed, sampled every 0.1 s on a thread; and the CPU time they used
    (on a machine shared with other work, what the wall time alone cannot tell)."""

    def __init__(self) -> None:
        import threading

        self.peak, self._stop = 0, threading.Event()
        self._cpu: dict[int, float] = {}
        self._start_cpu = self._cpu_seconds(os.getpid())
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> "TreeMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample_once()  # a step shorter than the sampling interval is still measured
        # this process's own peak, which a sample between two peaks can miss, bounds the sum
        self.peak = max(self.peak, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        self._cpu[os.getpid()] = self._cpu_seconds(os.getpid())

    @property
    def cpu_seconds(self) -> float:
        return sum(self._cpu.values()) - self._start_cpu

    @staticmethod
    def _cpu_seconds(pid: int) -> float:
        try:
            with open(f"/proc/{pid}/stat") as fp:
                fields = fp.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return 0.0

    @staticmethod
    def _tree(pid: int) -> list[int]:
        pids, todo = [], [pid]
        while todo:
            p = todo.pop()
            pids.append(p)
            try:
                for task in os.listdir(f"/proc/{p}/task"):
                    with open(f"/proc/{p}/task/{task}/children") as fp:
                        todo += [int(c) for c in fp.read().split()]
            except OSError:
                pass
        return pids

    @staticmethod
    def _rss_kib(pid: int) -> int:
        try:
            with open(f"/proc/{pid}/status") as fp:
                for line in fp:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return 0

    def _sample(self) -> None:
        while not self._stop.wait(0.1):
            self._sample_once()

    def _sample_once(self) -> None:
        tree = self._tree(os.getpid())
        self.peak = max(self.peak, sum(self._rss_kib(p) for p in tree))
        for p in tree:  # a worker's last reading stands once it has gone
            self._cpu[p] = max(self._cpu.get(p, 0.0), self._cpu_seconds(p))


def _mib(kib: int) -> float:
    return round(kib / 1024, 1)


def _dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# --------------------------------------------------------------------------- build (worker)


def build_worker(data_dir: Path, db_path: Path, out_json: Path, hybrid: bool = True) -> None:
    """Run ``kb.pipeline.build`` once, timing its stages from the outside."""
    import kb.pipeline as pipeline
    import kb.store.writer as store

    if not hybrid and hasattr(pipeline, "add_hybrid"):
        # To measure the core pipeline alone; the public file still gets its source's digest.
        from kb.store.public import restamp
        def no_hybrid(kb_path, public_path, before_writing=lambda: None, **kwargs):
            before_writing()
            restamp(public_path, kb_path)

        pipeline.add_hybrid = no_hybrid

    spans: list[tuple[str, float, float]] = []
    cpu_spans: list[tuple[str, float]] = []  # the same, in CPU seconds of the calling thread

    def timed(owner, name: str, label: str, only=None):
        original = getattr(owner, name, None)
        if original is None:
            return

        def wrapper(*args, **kwargs):
            start, cpu = time.perf_counter(), time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                if only is None or only(*args):
                    spans.append((label, start, time.perf_counter()))
                    cpu_spans.append((label, time.thread_time() - cpu))

        setattr(owner, name, wrapper)

    def knowledge_base(writer, *args):  # the knowledge base's writer, not the public one's
        return writer.source is None

    timed(pipeline, "read_source", "read")
    timed(pipeline, "normalise", "normalise")
    timed(pipeline, "input_digest", "input digest")
    # The notes' rows are written while the others are still being parsed: the write stage
    # is the time spent inserting them (and the other tables), wherever it falls.
    timed(store.Writer, "_flush", "write", knowledge_base)
    timed(store.Writer, "_flush_stems", "write stems", knowledge_base)
    timed(store.Writer, "write_tables", "write tables", knowledge_base)
    timed(store.Writer, "build_indexes", "index/FTS", knowledge_base)
    timed(store.Writer, "index", "kb index", knowledge_base)
    timed(pipeline, "derive_public", "public database")
    timed(store.Writer, "index_search", "public search")
    timed(pipeline, "add_hybrid", "hybrid")

    start = time.perf_counter()
    result = pipeline.build(data_dir, db_path)
    total = time.perf_counter() - start

    def span(label):
        return sum(e - s for lab, s, e in spans if lab == label)

    def within(label, outer):
        """Time of ``label`` spans inside the ``outer`` spans."""
        boxes = [(s, e) for lab, s, e in spans if lab == outer]
        return sum(e - s for lab, s, e in spans if lab == label
                   and any(bs <= s and e <= be for bs, be in boxes))

    def cpu(label):
        return sum(c for lab, c in cpu_spans if lab == label)

    # Spans nest: the stems' inserts within the rows' ones, those within normalise or finish.
    write = span("write") - span("write stems") + span("write tables")
    stages = {
        "read": span("read"),
        "normalise (parse, stem)": span("normalise") - within("write", "normalise"),
        "write": write,
        "index/FTS (incl. writing stems)": span("index/FTS") + span("write stems"),
        "finish (analyze)": span("kb index") - span("index/FTS"),
        "public database": span("public database"),
        "public full-text index": span("public search"),
        "hybrid (incl. writing into both)": span("hybrid"),
        "input digest": span("input digest"),
    }
    # The knowledge base's indexes and the public full-text index are built alongside the
    # hybridisation (kb.pipeline): the time they share counts once.
    shared = sum(max(0.0, min(e1, e2) - max(s1, s2))
                 for l1, s1, e1 in spans if l1 in ("kb index", "public search")
                 for l2, s2, e2 in spans if l2 == "hybrid")
    stages["other"] = total - sum(stages.values()) + shared
    stages["(indexing alongside the hybridisation)"] = -shared
    # The rows are inserted while worker processes parse other notes, so on a loaded machine
    # the wall time of the write stage says little: it is compared with its floor in CPU time.
    write_cpu = cpu("write") - cpu("write stems") + cpu("write tables")
    out_json.write_text(json.dumps({
        "seconds": total,
        "stages": stages,
        "write_cpu_seconds": write_cpu,
        "peak_rss_mib": _mib(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss),
        # The largest worker process that parsed notes (one per core, alongside the build).
        "worker_peak_rss_mib": _mib(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss),
        "counts": {k: v for k, v in result.counts.items()},
        "public_counts": result.public_counts,
        "kb_bytes": Path(result.db_path).stat().st_size,
        "public_bytes": Path(result.public_path).stat().st_size,
    }, indent=2))


def floor_worker(kb_path: Path, out_json: Path) -> None:
    """The floor of the write stage: the knowledge base's rows, already in memory as tuples,
    written with raw ``executemany`` in one transaction into the same empty tables."""
    from kb.domain.dictionary import TABLES

    from kb.hybrid.tables import HybridTables

    src = sqlite3.connect(kb_path)
    # The hybridisation's tables are written later, by their own stage: not part of this one.
    later = {f.name for f in dataclasses.fields(HybridTables)}
    names = [t.name for t in TABLES if t.name not in later]
    schema = {name: sql for name, sql in src.execute(
        "select name, sql from sqlite_master where type = 'table'") if name in names}
    rows = {name: src.execute(f"select * from [{name}]").fetchall() for name in schema}
    src.close()
    target = out_json.with_suffix(".floor.db")
    target.unlink(missing_ok=True)
    db = sqlite3.connect(target, isolation_level=None)
    db.execute("pragma journal_mode = off")
    db.execute("pragma synchronous = off")
    for sql in schema.values():
        db.execute(sql)
    start, cpu = time.perf_counter(), time.thread_time()
    db.execute("begin")
    for name, table_rows in rows.items():
        if table_rows:
            marks = ", ".join("?" * len(table_rows[0]))
            db.executemany(f"insert into [{name}] values ({marks})", table_rows)
    db.execute("commit")
    seconds, cpu = time.perf_counter() - start, time.thread_time() - cpu
    db.close()
    target.unlink()
    out_json.write_text(json.dumps({"seconds": seconds, "cpu_seconds": cpu,
                                    "rows": sum(len(r) for r in rows.values())}))


def run_build(data_dir: Path, out_dir: Path, hybrid: bool = True) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in ("cotour.db", "cotour-public.db"):
        (out_dir / name).unlink(missing_ok=True)
    build_json, floor_json = out_dir / "build.json", out_dir / "floor.json"
    load_before = _load()
    subprocess.run([sys.executable, __file__, "_build", str(data_dir), str(out_dir / "cotour.db"),
                    str(build_json), *([] if hybrid else ["no-hybrid"])], check=True)
    subprocess.run([sys.executable, __file__, "_floor", str(out_dir / "cotour.db"),
                    str(floor_json)], check=True)
    build = json.loads(build_json.read_text())
    floor = json.loads(floor_json.read_text())
    build["load_before"], build["load_after"] = load_before, _load()
    build["write_floor_seconds"] = floor["seconds"]
    build["write_floor_rows"] = floor["rows"]
    build["write_floor_cpu_seconds"] = floor["cpu_seconds"]
    build["write_ratio"] = (build["write_cpu_seconds"] / floor["cpu_seconds"]
                            if floor["cpu_seconds"] else None)
    return build


# --------------------------------------------------------------------------- publish, report


def run_publish(public_db: Path, out_dir: Path) -> dict:
    """``cotour publish`` in a process of its own: seconds, peak memory (with its workers)."""
    return _in_process("_publish", public_db, out_dir)


def run_qdpx(public_db: Path, out_dir: Path) -> dict:
    """``cotour export qdpx`` in a process of its own: seconds, peak memory (with its workers)."""
    return _in_process("_qdpx", public_db, out_dir / "cotour.qdpx")


def _in_process(part: str, source: Path, target: Path) -> dict:
    out_json = Path(f"{target}.json")
    before = _load()
    subprocess.run([sys.executable, __file__, part, str(source), str(target), str(out_json)],
                   check=True)
    result = json.loads(out_json.read_text())
    out_json.unlink()
    return {**result, "load_before": before, "load_after": _load()}


def read_floor(public_db: Path) -> float:
    """The floor of publish and of the export: every published table's rows read once, in
    primary-key order, with sqlite3 (what either must do at the least), in seconds."""
    from kb.release.tables import published_tables

    conn = sqlite3.connect(f"file:{public_db}?mode=ro", uri=True)
    try:
        start = time.perf_counter()
        for table in published_tables():
            columns = ", ".join(f"[{c.name}]" for c in table.public_columns)
            order = ", ".join(f"[{k}]" for k in table.pk)
            rows = conn.execute(f"select {columns} from [{table.name}] order by {order}")
            while rows.fetchmany(4096):
                pass
        return time.perf_counter() - start
    finally:
        conn.close()


def publish_worker(public_db: Path, out_dir: Path, out_json: Path) -> None:
    from kb.release.publish import publish

    with TreeMemory() as memory:
        start = time.perf_counter()
        publish(public_db, out_dir)
        seconds = time.perf_counter() - start
    out_json.write_text(json.dumps({"seconds": seconds, "bytes": _dir_size(out_dir),
                                    "peak_mib": _mib(memory.peak),
                                    "cpu_seconds": memory.cpu_seconds}))


def qdpx_worker(public_db: Path, out: Path, out_json: Path) -> None:
    from kb.export.qdpx import export_qdpx

    with TreeMemory() as memory:
        start = time.perf_counter()
        result = export_qdpx(public_db, out)
        seconds = time.perf_counter() - start
    out_json.write_text(json.dumps({"seconds": seconds, "bytes": out.stat().st_size,
                                    "peak_mib": _mib(memory.peak),
                                    "cpu_seconds": memory.cpu_seconds,
                                    "selections": result.counts["selections"]}))


def volume_floor(public_db: Path, event_id: str) -> dict:
    """The floor of a stop's volume: WeasyPrint laying out the same words (the stop's notes and
    findings) as bare paragraphs in the report's fonts, no other markup, in CPU seconds (this
    process's; WeasyPrint runs on one thread)."""
    from html import escape

    from weasyprint import HTML

    conn = sqlite3.connect(f"file:{public_db}?mode=ro", uri=True)
    try:
        texts = [r[0] or "" for r in conn.execute(
            "select text from notes where event_id = ? union all "
            "select text from findings where event_id = ?", (event_id, event_id))]
    finally:
        conn.close()
    html = ("<html lang='it'><style>@page { size: A4; margin: 20mm } body { font: 10pt/1.4 "
            "'Noto Serif' }</style><body>"
            + "".join(f"<p>{escape(t)}</p>" for t in texts) + "</body></html>")
    start = time.process_time()
    document = HTML(string=html).render()
    document.write_pdf(os.devnull)
    return {"event": event_id, "cpu_seconds": time.process_time() - start,
            "pages": len(document.pages)}


def run_report(public_db: Path, out_dir: Path, fractions: tuple[float, ...] = (0.25, 0.5),
               whole: bool = True) -> dict:
    """Seconds, pages and the share of the time spent inside WeasyPrint (layout and PDF), for
    the whole corpus and, to show how the time grows with the pages, for the corpus cut to its
    first ``fractions`` of events (the top-level figures are the whole corpus's).

    Each point runs in a fresh interpreter, as ``cotour report`` would (imports, fonts and
    caches cold; peak RSS its own), on its own copy of the public database, so that a build
    running at the same time cannot change it under the report.
    """
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    series = []
    for fraction in sorted(set(fractions) - {1.0}) + [1.0] if whole else sorted(set(fractions)):
        with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
            series.append(pool.submit(report_point, public_db, out_dir, fraction).result())
    for prev, point in zip(series, series[1:]):  # what each page costs from the previous point on
        if point["pages"] != prev["pages"]:
            point["marginal_seconds_per_page"] = ((point["seconds"] - prev["seconds"])
                                                  / (point["pages"] - prev["pages"]))
    return {**series[-1], "series": series}


def report_point(public_db: Path, out_dir: Path, fraction: float) -> dict:
    """One report on the corpus cut to ``fraction`` of its events, timed from the outside.

    ``weasyprint_share`` counts ``HTML.render`` and ``Document.write_pdf``; HTML parsing
    (``HTML.__init__``) is reported apart as ``parse_seconds`` and counted outside, with our
    own work (data, charts, templates).
    """
    import shutil

    work = out_dir / f"corpus-{fraction:g}"
    work.mkdir(parents=True, exist_ok=True)
    db_copy = work / "cotour-public.db"
    shutil.copyfile(public_db, db_copy)
    events, findings = _cut_corpus(db_copy, fraction)

    import weasyprint  # imported before the clock starts, as always (not ours to speed up)

    import kb.report as report

    spans = {"inside": 0.0, "parse": 0.0}

    def timed(cls, name, key):
        original = getattr(cls, name)

        def wrapper(self, *args, **kwargs):
            begin = time.perf_counter()
            try:
                return original(self, *args, **kwargs)
            finally:
                spans[key] += time.perf_counter() - begin

        setattr(cls, name, wrapper)

    timed(weasyprint.HTML, "render", "inside")
    timed(weasyprint.Document, "write_pdf", "inside")
    timed(weasyprint.HTML, "__init__", "parse")
    # The annex's volumes are laid out by worker processes while this one lays out the body:
    # the memory and CPU time are the process tree's; each volume reports its own seconds,
    # pages and its worker's memory once laid out.
    with TreeMemory() as tree:
        start = time.perf_counter()
        result = report.write_report(db_copy, work / "cotour-report.pdf")
        seconds = time.perf_counter() - start
    volumes = [{"file": v.path.name, "pages": v.pages, "seconds": v.seconds,
                "cpu_seconds": getattr(v, "cpu_seconds", None), "peak_mib": v.rss_mib}
               for v in getattr(result, "volume_results", [])]
    floor = None
    if volumes:  # the largest volume's floor: its words as bare paragraphs
        largest = max(zip(volumes, result.volumes), key=lambda vp: vp[0]["pages"])
        event = largest[1].stem.removeprefix("cotour-report-")
        floor = {**volume_floor(db_copy, event), "volume": largest[0]}
    return {"fraction": fraction, "events": events, "findings": findings,
            "seconds": seconds, "pages": result.pages, "volumes": volumes,
            "tree_peak_mib": _mib(tree.peak), "cpu_seconds": tree.cpu_seconds,
            "volume_floor": floor,
            "weasyprint_seconds": spans["inside"], "parse_seconds": spans["parse"],
            "weasyprint_share": spans["inside"] / seconds if seconds else None,
            "html_bytes": result.html_path.stat().st_size,
            "peak_rss_mib": _mib(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)}


def _cut_corpus(public_db: Path, fraction: float) -> tuple[int, int]:
    """Keep the first ``fraction`` of the events (in the report's order) and what hangs from
    them: notes, findings and their links. Organisations, themes and the rest stay whole."""
    conn = sqlite3.connect(public_db)
    try:
        ids = [r[0] for r in conn.execute(
            "select id from events order by coalesce(date, '9999'), id")]
        keep = ids[:max(1, round(len(ids) * fraction))]
        if len(keep) < len(ids):
            conn.execute("create temp table keep(id text primary key)")
            conn.executemany("insert into keep values (?)", [(i,) for i in keep])
            tables = [r[0] for r in conn.execute(
                "select name from sqlite_master where type = 'table' and name not like '%_fts%'")]
            columns = {t: {r[1] for r in conn.execute(f"pragma table_info([{t}])")} for t in tables}
            conn.execute("delete from events where id not in (select id from keep)")
            for parent, column in (("events", "event_id"), ("notes", "note_id"),
                                   ("findings", "finding_id")):
                for table in tables:
                    if column in columns[table] and table != parent:
                        conn.execute(f"delete from [{table}] where [{column}] is not null "
                                     f"and [{column}] not in (select id from [{parent}])")
            conn.commit()
        return (conn.execute("select count(*) from events").fetchone()[0],
                conn.execute("select count(*) from findings").fetchone()[0])
    finally:
        conn.close()


# --------------------------------------------------------------------------- browse


def browse_requests(public_db: Path) -> list[tuple[str, str]]:
    """``(name, path)`` of the fixed list of requests: pages researchers open."""
    from kb.store.search import stem_query

    conn = sqlite3.connect(public_db)
    event = conn.execute("select event_id from findings group by event_id "
                         "order by count(*) desc limit 1").fetchone()[0]
    conn.close()
    requests = [
        ("findings table", "/cotour/findings"),
        ("findings facet kind+province", "/cotour/findings?_facet=kind&_facet=province"),
        ("findings of one event", f"/cotour/findings?event_id={event}"),
        ("organisations table", "/cotour/organisations"),
        ("search common: cooperativa", f"/cotour/findings?_search={stem_query('cooperativa')}"),
        ("search rare: fideiussione", f"/cotour/findings?_search={stem_query('fideiussione')}"),
        ("search notes: welfare", f"/cotour/notes?_search={stem_query('welfare')}"),
        ("finding row", None),
        ("organisation row", None),
    ]
    return requests


# At L these pages answer within a second whatever their floor (what a visitor waits for).
WITHIN_A_SECOND = ("finding row", "organisation row", "search rare: fideiussione")


def run_browse(public_db: Path, repeat: int = 20) -> dict:
    """p50/p95 of each request through Datasette's in-process client, against the floor: the
    SQL statements the page ran (traced), executed directly on sqlite3 in the same run."""
    import asyncio

    from kb.serve.app import make_datasette

    from datasette.utils import escape_fts

    from kb.serve.search import prepare_connection

    ds = make_datasette(public_db, settings={"trace_debug": True})
    conn = sqlite3.connect(f"file:{public_db}?mode=ro", uri=True)
    # The functions the page's SQL calls (Datasette's and ours), or the floor would skip it.
    conn.create_function("escape_fts", 1, escape_fts)
    prepare_connection(conn)
    results = {}

    async def timed_get(path: str) -> float:
        start = time.perf_counter()
        response = await ds.client.get(path)
        # A search stopped at its time limit answers with a page that says so (bounded).
        stopped = response.status_code == 400 and "troppo tempo" in response.text
        if response.status_code != 200 and not stopped:
            raise RuntimeError(f"{path}: HTTP {response.status_code}")
        return (time.perf_counter() - start) * 1000, response.text

    def json_path(path: str, extra: str) -> str:
        return (f"{path}.json?{extra}" if "?" not in path
                else path.replace("?", ".json?", 1) + f"&{extra}")

    async def trace(path: str) -> tuple[list[dict], list[str]]:
        """The page's SQL statements, and what a time limit cut short: a facet in
        ``facets_timed_out``, or a table page whose count is missing (interrupted)."""
        from datasette.tracer import capture_traces

        traces: list[dict] = []
        # Captured in process: ``?_trace=1`` breaks responses over 256 KB in Datasette 0.65.
        with capture_traces(traces):
            data = (await ds.client.get(json_path(path, "_nosuggest=1"))).json()
        statements = [t for t in traces if t.get("sql") and t.get("database") == "cotour"]
        cut = [f"facet {f}" for f in data.get("facets_timed_out") or []]
        if "filtered_table_rows_count" in data and data["filtered_table_rows_count"] is None:
            cut.append("count")
        return statements, cut

    async def main():
        finding = conn.execute("select id from findings order by id limit 1").fetchone()[0]
        organisation = conn.execute("select o.id from organisations o join finding_organisations "
                                    "f on f.organisation_id = o.id group by o.id "
                                    "order by count(*) desc limit 1").fetchone()[0]
        rows = {"finding row": f"/cotour/findings/{finding}",
                "organisation row": f"/cotour/organisations/{organisation}"}
        pages = [(n, p or rows[n]) for n, p in browse_requests(public_db)]
        pages += [(f"canned: {name}", f"/cotour/{name}")
                  for name in ds.metadata("queries", database="cotour") or {}]
        for name, path in pages:
            try:
                await timed_get(path)  # warm
            except RuntimeError as exc:  # an error page (e.g. the SQL time limit) is a failure
                results[name] = {"path": path, "error": str(exc), "cut_short": True}
                continue
            try:
                times = [(await timed_get(path))[0] for _ in range(repeat)]
            except RuntimeError as exc:  # cut short by the time limit in a later repetition
                results[name] = {"path": path, "error": str(exc), "cut_short": True}
                continue
            statements, cut = await trace(path)
            floors = []
            for _ in range(max(3, repeat // 4)):
                start = time.perf_counter()
                for t in statements:
                    params = t.get("params") or {}
                    if isinstance(params, list):
                        params = tuple(params)
                    try:
                        conn.execute(t["sql"], params).fetchall()
                    except sqlite3.Error:
                        pass
                floors.append((time.perf_counter() - start) * 1000)
            try:
                _, text = await timed_get(path)
            except RuntimeError as exc:
                text, cut = "", cut + [str(exc)]
            p95 = sorted(times)[int(0.95 * (len(times) - 1))]
            floor = statistics.median(floors)
            if "took too long" in text or "troppo tempo" in text:
                cut.append("page")
            results[name] = {"path": path, "p50_ms": statistics.median(times), "p95_ms": p95,
                             "floor_ms": floor, "statements": len(statements),
                             "ratio": p95 / floor if floor else None, "cut_short": bool(cut),
                             "cut": cut}

    asyncio.run(main())
    conn.close()
    return results


# --------------------------------------------------------------------------- the run


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_build":
        build_worker(Path(argv[1]), Path(argv[2]), Path(argv[3]), hybrid=argv[4:] != ["no-hybrid"])
        return 0
    if argv and argv[0] == "_floor":
        floor_worker(Path(argv[1]), Path(argv[2]))
        return 0
    if argv and argv[0] in ("_publish", "_qdpx"):
        worker = publish_worker if argv[0] == "_publish" else qdpx_worker
        worker(Path(argv[1]), Path(argv[2]), Path(argv[3]))
        return 0
    sys.path.insert(0, str(Path(__file__).parent))
    from generate import SEED, SIZES, generate

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=list(SIZES), default="S")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--report-fractions", default=None,
                        help="the report on the corpus cut to these fractions of its events, "
                             "comma-separated (default: ¼, ½ and all at T and S, all above)")
    parser.add_argument("--only", default="build,browse,report,publish,qdpx",
                        help="comma-separated parts to run")
    parser.add_argument("--regenerate", action="store_true", help="generate the corpus anew")
    parser.add_argument("--no-hybrid", action="store_true",
                        help="leave out the hybridisation stage (to measure the core pipeline)")
    parser.add_argument("--json", type=Path, help="default: build/bench/results-<size>.json")
    args = parser.parse_args(argv)
    parts = set(args.only.split(","))

    data_dir = BENCH / args.size
    stamp = data_dir / ".corpus"
    wanted = f"{args.size} {args.seed}"
    if args.regenerate or not stamp.exists() or stamp.read_text() != wanted:
        start = time.perf_counter()
        counts = generate(data_dir, args.size, args.seed)
        stamp.write_text(wanted)
        print(f"corpus {data_dir}: {counts} in {time.perf_counter() - start:.1f} s")
    out_dir = BENCH / f"out-{args.size}"
    results: dict = {"size": args.size, "seed": args.seed, "machine": {
        "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
        "cpus": os.cpu_count(), "platform": platform.platform()}}

    if "build" in parts:
        results["build"] = run_build(data_dir, out_dir, hybrid=not args.no_hybrid)
        results["build"]["hybrid"] = not args.no_hybrid
    public_db = out_dir / "cotour-public.db"
    if "browse" in parts:
        results["browse_load"] = [_load()]
        results["browse"] = _guard(run_browse, public_db)
        results["browse_load"].append(_load())
    if "report" in parts and (args.size != "L" or _report_has_volumes()):
        # At M and L only the whole corpus (no cut points: its annex is in volumes, each laid
        # out on its own), and at L only with the annex in volumes: a single PDF of 50,000
        # pages does not fit in this machine's memory.
        results["report_load"] = [_load()]
        fractions = ((0.25, 0.5) if args.size in ("T", "S") else ()) \
            if args.report_fractions is None else \
            tuple(float(f) for f in args.report_fractions.split(","))
        results["report"] = _guard(run_report, public_db, out_dir / "report", fractions,
                                   args.report_fractions is None)
        results["report_load"].append(_load())
    if "publish" in parts or "qdpx" in parts:
        results["read_floor_seconds"] = read_floor(public_db)
    if "publish" in parts:
        results["publish"] = _guard(run_publish, public_db, out_dir / "opendata")
    if "qdpx" in parts:
        results["qdpx"] = _guard(run_qdpx, public_db, out_dir / "export")

    out = args.json or BENCH / f"results-{args.size}.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print_table(results)
    print(f"\n{out}")
    return 0


def _report_has_volumes() -> bool:
    import kb.report.write as writing

    return hasattr(writing, "VolumeWriter")


def _guard(fn, *args):
    try:
        return fn(*args)
    except Exception as exc:  # a part not ready yet must not hide the others' figures
        return {"error": f"{type(exc).__name__}: {exc}"}


def _ok(value, limit, below=True) -> str:
    if value is None:
        return "?"
    return "ok" if (value <= limit if below else value >= limit) else "MISSED"


def browse_ok(v: dict, name: str = "", size: str = "") -> bool:
    """Nothing cut short by a time limit; p95 <= 150 ms where the floor is under 100 ms (a
    page's fixed cost dwarfs a floor of a few ms), else p95 <= 1.5x the floor; at L a row, an
    organisation's page and a rare word's search within a second."""
    if "error" in v or (v.get("cut_short") and not name.startswith("search common")):
        return False
    if size == "L" and name in WITHIN_A_SECOND:
        return v["p95_ms"] <= TARGETS["browse_l_ms"]
    if name.startswith("search common"):  # bounded: answered, or stopped with a message, soon
        return "error" not in v and v["p95_ms"] <= TARGETS["browse_bounded_ms"]
    if v["floor_ms"] < 100:
        return v["p95_ms"] <= TARGETS["browse_ms"]
    return v["ratio"] is not None and v["ratio"] <= TARGETS["browse_ratio"]


def print_table(r: dict) -> None:
    size = r["size"]
    print(f"\nbenchmark, size {size}  (targets apply at L)")
    b = r.get("build")
    if b:
        c = b["counts"]
        print(f"\nbuild: {c.get('events', 0):,} events, {c.get('organisations', 0):,} organisations, "
              f"{c.get('notes', 0):,} notes, {c.get('findings', 0):,} findings")
        print(f"  {'total':<30}{b['seconds']:>9.1f} s   target <= 60 s: {_ok(b['seconds'], 60)}"
              f"   (load {b.get('load_before', '?')} before, {b.get('load_after', '?')} after)")
        print(f"  {'floor: its rows, executemany':<30}{b['write_floor_seconds']:>9.1f} s   "
              f"(raw sqlite3, one transaction, same run)")
        print(f"  {'peak RSS':<30}{b['peak_rss_mib']:>9.0f} MiB target <= 1024: "
              f"{_ok(b['peak_rss_mib'], 1024)}")
        if "worker_peak_rss_mib" in b:
            print(f"  {'peak RSS of a parsing worker':<30}{b['worker_peak_rss_mib']:>9.0f} MiB")
        for stage, seconds in b["stages"].items():
            print(f"    {stage:<28}{seconds:>9.2f} s")
        print(f"  {'write / floor':<30}{b['write_ratio']:>9.2f} x   "
              f"(CPU {b['write_cpu_seconds']:.2f} s vs {b['write_floor_cpu_seconds']:.2f} s for "
              f"{b['write_floor_rows']:,} rows)  target <= 2x: {_ok(b['write_ratio'], 2)}")
        print(f"  {'sizes':<30}kb {b['kb_bytes'] / 2**20:.0f} MiB, public "
              f"{b['public_bytes'] / 2**20:.0f} MiB")
    br = r.get("browse")
    if br:
        print("\nbrowse (Datasette in process; floor = the page's SQL on sqlite3; load "
              + " before, ".join(r.get("browse_load", ["?", "?"])) + " after)")
        if "error" in br:
            print(f"  not measured: {br['error']}")
        else:
            print(f"  {'request':<44}{'p50 ms':>8}{'p95 ms':>8}{'floor':>8}{'ratio':>7}  target")
            for name, v in br.items():
                if "error" in v:
                    print(f"  {name[:44]:<44}  FAILED: {v['error']}")
                    continue
                ok = browse_ok(v, name, size)
                print(f"  {name[:44]:<44}{v['p50_ms']:>8.1f}{v['p95_ms']:>8.1f}{v['floor_ms']:>8.1f}"
                      f"{min(v['ratio'] or 0, 999):>7.1f}  {'ok' if ok else 'MISSED'}"
                      + (f" (cut short: {', '.join(v['cut'])})" if v.get("cut") else ""))
    rep = r.get("report")
    if rep:
        if "error" in rep:
            print(f"\nreport: not measured: {rep['error']}")
        else:
            print(f"\nreport: {rep['seconds']:.1f} s, {rep['pages']} pages, "
                  f"{rep['weasyprint_share']:.0%} inside WeasyPrint (target >= 85 %: "
                  f"{_ok(rep['weasyprint_share'], 0.85, below=False)}); HTML parsing "
                  f"{rep.get('parse_seconds', 0):.1f} s, peak RSS {rep.get('peak_rss_mib', 0):,.0f} MiB")
            if len(rep.get("series", [])) > 1:
                print(f"  {'events':>8}{'findings':>10}{'pages':>8}{'seconds':>10}{'s/page':>9}"
                      f"{'marginal':>10}{'inside':>8}")
                for p in rep["series"]:
                    marginal = p.get("marginal_seconds_per_page")
                    print(f"  {p['events']:>8,}{p['findings']:>10,}{p['pages']:>8,}{p['seconds']:>10.1f}"
                          f"{p['seconds'] / p['pages']:>9.3f}"
                          f"{(f'{marginal:.3f}' if marginal is not None else '—'):>10}"
                          f"{p['weasyprint_share']:>8.0%}")
                print("  (linear in pages when the marginal seconds per page stay level)")
            print(f"  load {' before, '.join(r.get('report_load', ['?', '?']))} after")
            if rep.get("volumes"):
                vols = rep["volumes"]
                pages = sum(v["pages"] for v in vols)
                print(f"  the report {rep['pages']:,} pages; annex in {len(vols):,} volumes, "
                      f"{pages:,} pages, laid out by worker processes beside the report's body "
                      f"({rep['cpu_seconds']:,.0f} CPU seconds in all, "
                      f"{rep['cpu_seconds'] / max(1, len(vols)):.2f} per volume)")
                print(f"  volumes: seconds each {statistics.mean(v['seconds'] for v in vols):.2f} "
                      f"mean, {max(v['seconds'] for v in vols):.2f} max; pages "
                      f"{statistics.mean(v['pages'] for v in vols):.1f} mean; the largest five:")
                print(f"  {'volume':<40}{'pages':>8}{'seconds':>10}{'worker MiB':>12}")
                for v in sorted(vols, key=lambda v: (-v["pages"], v["file"]))[:5]:
                    print(f"  {v['file'][:40]:<40}{v['pages']:>8,}{v['seconds']:>10.1f}"
                          f"{v['peak_mib']:>12,.0f}")
                floor = rep.get("volume_floor")
                if floor and floor["volume"].get("cpu_seconds"):
                    print(f"  floor: the largest volume's words as bare paragraphs, "
                          f"{floor['cpu_seconds']:.2f} CPU s for {floor['pages']} pages, against "
                          f"{floor['volume']['cpu_seconds']:.2f} CPU s for its "
                          f"{floor['volume']['pages']} pages in the volume "
                          f"({floor['volume']['cpu_seconds'] / floor['cpu_seconds']:.1f}x)")
                print(f"  whole report {rep['seconds']:.1f} s (target at L <= 900 s: "
                      f"{_ok(rep['seconds'], 900)}), peak of the process tree "
                      f"{rep['tree_peak_mib']:,.0f} MiB (target <= 4,096: "
                      f"{_ok(rep['tree_peak_mib'], 4096)}); every volume in the JSON")
            else:
                print("  annex volumes: none (this report has no volumes)")
    for key, label, target in (("publish", "publish (cotour publish)", "publish_seconds"),
                               ("qdpx", "REFI-QDA export (cotour export qdpx)", "qdpx_seconds")):
        pub = r.get(key)
        if not pub:
            continue
        if "error" in pub:
            print(f"\n{label}: not measured: {pub['error']}")
            continue
        limit = TARGETS[target]
        print(f"\n{label}: {pub['seconds']:.1f} s (target <= {limit} s: "
              f"{_ok(pub['seconds'], limit)}; floor {r.get('read_floor_seconds', 0):.1f} s: "
              "every published row read once on sqlite3), peak memory with its workers "
              f"{pub['peak_mib']:,.0f} MiB (target <= {TARGETS['publish_mib']:,}: "
              f"{_ok(pub['peak_mib'], TARGETS['publish_mib'])}), {pub['cpu_seconds']:.1f} CPU "
              f"seconds in all, {pub['bytes'] / 2**20:,.0f} MiB written; load "
              f"{pub['load_before']} before, {pub['load_after']} after")


if __name__ == "__main__":
    sys.exit(main())
