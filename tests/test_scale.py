"""What lets publish and the REFI-QDA export hold at scale gives the same files as the plain way.

The workbook's rows and the project's notes are written in pieces (chunks of rows, runs of
notes), each deflated apart, by worker processes when the corpus is large; the release is then
written from those pieces. Here the pieces are made tiny, so the small fixture is cut into many,
and real worker processes write them: the files must hold exactly what one piece written here
holds, and the release must be the same bytes.
"""

import shutil
import sqlite3
import zipfile
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import openpyxl

import kb.export.qdpx as qdpx
import kb.release.publish as publishing
import kb.release.spreadsheet as spreadsheet
from kb.release.check import check_release
from kb.release.tables import WORKBOOK_NAME, project_row, published_tables


def members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None  # every member's CRC-32 holds: the pieces joined right
        return {name: zf.read(name) for name in zf.namelist()}


def files(folder) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_workbook_in_chunks_on_worker_processes_holds_the_same_sheets(mini_build, tmp_path,
                                                                          monkeypatch):
    _, public = mini_build
    project, tables = project_row(public), published_tables()
    spreadsheet.write_workbook(public, tmp_path / "whole.xlsx", project, tables)
    monkeypatch.setattr(spreadsheet, "CHUNK", 2)  # two rows a piece
    with ProcessPoolExecutor(2, mp_context=get_context("forkserver")) as pool:
        spreadsheet.write_workbook(public, tmp_path / "pieces.xlsx", project, tables,
                                   submit=pool.submit)
    whole, pieces = members(tmp_path / "whole.xlsx"), members(tmp_path / "pieces.xlsx")
    assert list(whole) == list(pieces)
    assert whole == pieces
    findings = sum(1 for _ in openpyxl.load_workbook(tmp_path / "pieces.xlsx", read_only=True)
                   ["Risultati"].iter_rows())
    with sqlite3.connect(public) as conn:
        assert conn.execute("select count(*) from findings").fetchone()[0] + 2 == findings
    assert [] == spreadsheet.workbook_differences(tmp_path / "pieces.xlsx", public, tables)


def test_a_text_longer_than_a_cell_is_cut_with_an_ellipsis_and_checks(mini_build, tmp_path):
    _, public = mini_build
    db = tmp_path / "cotour-public.db"
    shutil.copyfile(public, db)
    long = "parola " * 6000  # 42,000 characters
    with sqlite3.connect(db) as conn:
        first = conn.execute("select id from findings order by id limit 1").fetchone()[0]
        conn.execute("update findings set text = ? where id = ?", (long, first))
    findings = [t for t in published_tables() if t.name == "findings"]
    spreadsheet.write_workbook(db, tmp_path / "w.xlsx", project_row(db), findings)
    ws = openpyxl.load_workbook(tmp_path / "w.xlsx")["Risultati"]
    names = [c.value for c in ws[2]]
    cell = ws.cell(row=3, column=names.index("text") + 1).value
    assert (32767, long[:32766] + "…") == (len(cell), cell)
    assert [] == spreadsheet.workbook_differences(tmp_path / "w.xlsx", db, findings)


def test_a_project_in_runs_of_notes_on_worker_processes_is_the_same_project(mini_build,
                                                                             tmp_path,
                                                                             monkeypatch):
    kb_path, _ = mini_build
    one = qdpx.export_qdpx(kb_path, tmp_path / "one" / "cotour.qdpx")
    monkeypatch.setattr(qdpx, "RUN", 1)  # a note a run: more than one, so worker processes
    runs = qdpx.export_qdpx(kb_path, tmp_path / "runs" / "cotour.qdpx")
    assert one.counts == runs.counts
    a, b = members(one.qdpx_path), members(runs.qdpx_path)
    assert sorted(a) == list(a) == list(b)  # listed by name
    assert a == b
    assert one.qdc_path.read_bytes() == runs.qdc_path.read_bytes()


def test_a_release_written_by_worker_processes_is_the_same_bytes(mini_build, tmp_path,
                                                                 monkeypatch):
    kb_path, _ = mini_build
    here = publishing.publish(kb_path, tmp_path / "here").out_dir
    monkeypatch.setattr(publishing, "PARALLEL_FROM", 0)  # the fixture counts as large
    workers = publishing.publish(kb_path, tmp_path / "workers").out_dir
    a, b = files(here), files(workers)
    assert list(a) == list(b)
    assert [] == [name for name in a if a[name] != b[name]]
    assert [] == check_release(workers).problems


def test_a_facet_asked_for_that_the_metadata_also_gives_is_counted_once(mini_build):
    import asyncio

    from datasette.tracer import capture_traces

    from kb.serve.app import make_datasette

    ds = make_datasette(mini_build[1])
    ds.databases["cotour"]._cotour_tallied = True  # facets by SQL (from memory: test_serve_tallies)

    async def facet_queries(path):
        traces = []
        with capture_traces(traces):
            response = await ds.client.get(path)
        assert 200 == response.status_code
        return sorted(t["sql"].split()[1] for t in traces if " as value, count(*)" in t["sql"])

    plain = asyncio.run(facet_queries("/cotour/findings?kind=practice"))
    asked = asyncio.run(facet_queries("/cotour/findings?kind=practice&_facet=kind&_facet=province"))
    # the findings' seven facets (three columns, four arrays), each once
    assert ["event_id", "inner", "inner", "inner", "inner", "kind", "province"] == plain
    assert plain == asked
    page = asyncio.run(ds.client.get("/cotour/findings.json?_facet=kind")).json()
    assert page["facet_results"]["kind"]["hideable"]  # the one asked for: the page may remove it


def test_a_search_has_time_limits_of_its_own(mini_build, monkeypatch):
    import asyncio

    from datasette.database import Database

    import kb.serve.search as search
    from kb.serve.app import make_datasette

    limits = []
    execute = Database.execute

    async def recorded(self, sql, params=None, *args, **kwargs):
        if params and "search" in params:
            facet = " as value, count(*)" in sql or "json_each" in sql
            limits.append(("facet" if facet else "page", kwargs.get("custom_time_limit")))
        return await execute(self, sql, params, *args, **kwargs)

    monkeypatch.setattr(Database, "execute", recorded)
    ds = make_datasette(mini_build[1])
    ds.databases["cotour"]._cotour_tallied = True  # facets by SQL (from memory: test_serve_tallies)
    assert 200 == asyncio.run(ds.client.get("/cotour/findings?_search=spazi")).status_code
    assert {("page", search.SEARCH_TIME_LIMIT_MS),
            ("facet", search.SEARCH_FACET_TIME_LIMIT_MS)} == set(limits)
    assert 7 == sum(1 for kind, _ in limits if kind == "facet")
    assert search.SEARCH_TIME_LIMIT_MS < ds.setting("sql_time_limit_ms")


def test_a_query_stopped_at_its_time_limit_says_so_in_italian(mini_build):
    import asyncio

    from kb.serve.app import make_datasette
    from kb.serve.errors import TOO_LONG, TOO_LONG_SEARCH

    ds = make_datasette(mini_build[1])
    from urllib.parse import quote

    endless = quote("with recursive c(x) as (select 1 union all select x + 1 from c) "
                    "select count(*) from c")
    for extra, message in (("", TOO_LONG), ("&_search=spazi", TOO_LONG_SEARCH)):
        response = asyncio.run(ds.client.get(f"/cotour?sql={endless}&_timelimit=50{extra}"))
        assert 400 == response.status_code
        assert message.replace("'", "&#39;") in response.text
        assert "SQL query took too long" not in response.text


def test_the_csv_files_written_with_the_workbook_are_the_plain_writer_s_bytes(mini_build,
                                                                              tmp_path,
                                                                              monkeypatch):
    """Publish writes each CSV file from the workbook's rows (chunks, on worker processes):
    the same bytes as :func:`write_table_csv` reading the table on its own, quoting and line
    breaks included."""
    from kb.release.tables import write_table_csv

    _, public = mini_build
    db = tmp_path / "cotour-public.db"
    shutil.copyfile(public, db)
    with sqlite3.connect(db) as conn:
        first = conn.execute("select id from findings order by id limit 1").fetchone()[0]
        conn.execute("update findings set text = ? where id = ?",
                     ('un "a capo",\r\nqui & <lì>', first))
    tables = published_tables()
    monkeypatch.setattr(spreadsheet, "CHUNK", 2)
    written = []
    with ProcessPoolExecutor(2, mp_context=get_context("forkserver")) as pool:
        counts = spreadsheet.write_workbook(db, tmp_path / "w.xlsx", project_row(db), tables,
                                            submit=pool.submit, csv_dir=tmp_path,
                                            written=lambda path, rows: written.append(
                                                (path.name, rows)))
    (tmp_path / "plain").mkdir()
    for table in tables:
        rows = write_table_csv(db, table, tmp_path / "plain" / f"{table.name}.csv")
        assert (table.name, rows) == (table.name, counts[table.name])
        assert ((tmp_path / "plain" / f"{table.name}.csv").read_bytes()
                == (tmp_path / f"{table.name}.csv").read_bytes()), table.name
    assert [(f"{t.name}.csv", counts[t.name]) for t in tables] == written
    line = '"un ""a capo"",\r\nqui & <lì>"'.encode()
    assert line in (tmp_path / "findings.csv").read_bytes()


def test_where_the_sheets_and_chunks_start_is_every_key_counted_out(mini_build, monkeypatch):
    """The chunks' first keys, found by SQLite stepping over the rows between them, are those
    of counting every key in order (multi-column keys included)."""
    from kb.store.database import connect_read_only

    _, public = mini_build
    monkeypatch.setattr(spreadsheet, "CHUNK", 3)
    per_sheet = 7
    conn = connect_read_only(public)
    try:
        for table in published_tables():
            order = ", ".join(f"[{c}]" for c in table.pk)
            keys = conn.execute(f"select {order} from [{table.name}] order by {order}").fetchall()
            counted = [(at, key) for at, key in enumerate(keys) if at % per_sheet % 3 == 0]
            assert (counted, len(keys)) == spreadsheet._starts(conn, table, per_sheet), table.name
    finally:
        conn.close()


def test_a_character_a_cell_cannot_hold_stops_the_workbook_and_names_its_row(mini_build,
                                                                            tmp_path):
    import pytest

    _, public = mini_build
    db = tmp_path / "cotour-public.db"
    shutil.copyfile(public, db)
    with sqlite3.connect(db) as conn:
        first = conn.execute("select id from findings order by id limit 1").fetchone()[0]
        conn.execute("update findings set text = ? where id = ?", ("un\x01controllo", first))
    findings = [t for t in published_tables() if t.name == "findings"]
    with pytest.raises(spreadsheet.SpreadsheetError) as error:
        spreadsheet.write_workbook(db, tmp_path / "w.xlsx", project_row(db), findings)
    assert (f"findings: row {first}: character U+0001 cannot be written in a spreadsheet cell"
            == error.value.message)
