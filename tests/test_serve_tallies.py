"""The public site's faster paths give the pages the slow ones give: facet counts and row counts
from memory (kb.serve.tallies) against the live SQL, plain finding texts against markdown-it,
the rows written in Python against the template's loop; and `cotour serve` on several worker
processes."""

import asyncio
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import jinja2
import numpy as np
import pytest
from click.testing import CliRunner
from datasette.utils import to_css_class
from markupsafe import Markup

from kb.cli import cli
from kb.serve import cells, tallies
from kb.serve.app import make_datasette
from kb.serve.facets import ArrayFacet
from kb.serve.pages import rows_html
from kb.store.public import PUBLIC_NAME
from kb.store.search import fts_match
from processes import children, still_running

LOOP = asyncio.new_event_loop()

COLUMN_FACET_SQL = """
    select {col} as value, count(*) as count from (
        {sql}
    )
    where {col} is not null
    group by {col} order by count desc, value limit {limit}
"""  # Datasette 0.65's own (datasette/facets.py)

# Hand-made findings: NULLs, a value twice in one array, a JSON null in an array, accented
# and upper-case values (SQLite orders text by its bytes), a row with no arrays at all.
ROWS = [
    ("problem", "e1", "BO", '["b", "a", "b"]', '["emergente"]', '["x"]', '["x", "y"]'),
    ("problem", "e1", "BO", '["a"]', '[]', '[]', '["y"]'),
    ("practice", "e2", "PR", '["É", "z", "a"]', '["tradizionale", "emergente"]', '["y"]',
     '["y", "x", "y"]'),
    ("threat", None, None, '[null, "a", null]', None, None, None),
    ("Zeta", "e2", "PR", '[]', '["emergente", "emergente"]', '["x"]', '["x"]'),
    ("practice", "e3", "BO", '["z"]', '[]', '[]', '[]'),
]
COLUMNS = ("kind", "event_id", "province", "themes", "source_profiles", "source_organisations",
           "organisations")


@pytest.fixture
def made():
    conn = sqlite3.connect(":memory:")
    conn.execute(f"create table findings (id text primary key, text text, "
                 f"{', '.join(COLUMNS)})")
    conn.executemany(f"insert into findings values (?, ?, {', '.join('?' * len(COLUMNS))})",
                     [(f"f{i}", f"text {i}", *row) for i, row in enumerate(ROWS)])
    return conn


def sql_facet(conn, column, where, params, limit, array):
    inner = f"select id, text, {', '.join(COLUMNS)} from findings {where}"
    sql = (ArrayFacet.FACET_SQL if array else COLUMN_FACET_SQL).format(
        sql=inner, col=column, limit=limit)
    return [{"value": v, "count": n} for v, n in conn.execute(sql, params)]


def memory_facet(index, conn, column, where, params, limit):
    rowids = np.array([r[0] for r in conn.execute(f"select rowid from findings {where}",
                                                  params)], dtype=np.int64)
    return index.counts(column, rowids, limit)


WHERES = [("", {}), ("where kind = :p0", {"p0": "problem"}),
          ("where kind = :p0 and province = :p1", {"p0": "practice", "p1": "PR"}),
          ("where province is null", {}), ("where kind = :p0", {"p0": "none such"})]


def test_counts_from_memory_are_the_facet_sql_rows_worked_out_by_hand(made):
    index = tallies.FacetIndex.load(made)
    everything = index.all_rows
    assert [1, 2, 3, 4, 5, 6] == everything.tolist()
    assert [{"value": "practice", "count": 2}, {"value": "problem", "count": 2},
            {"value": "Zeta", "count": 1}, {"value": "threat", "count": 1}] \
        == index.counts("kind", everything, 10)
    # each value once per row, but JSON nulls each time (in SQL no null equals another);
    # NULL before text, text by its bytes: "a" < "b" < "z" < "É"
    assert [{"value": "a", "count": 4}, {"value": None, "count": 2}, {"value": "z", "count": 2},
            {"value": "b", "count": 1}, {"value": "É", "count": 1}] \
        == index.counts("themes", everything, 10)
    assert [{"value": "emergente", "count": 3}, {"value": "tradizionale", "count": 1}] \
        == index.counts("source_profiles", everything, 10)
    assert [{"value": "e1", "count": 2}, {"value": "e2", "count": 2}] \
        == index.counts("event_id", everything, 2)  # NULL left out, cut at the limit
    assert index.counts("text", everything, 10) is None  # not a facet column: SQL answers


@pytest.mark.parametrize("where, params", WHERES)
@pytest.mark.parametrize("limit", [2, 11])
def test_counts_from_memory_equal_the_live_sql_whole_rows(made, where, params, limit):
    index = tallies.FacetIndex.load(made)
    for column in COLUMNS:
        array = column in ("themes", "source_profiles", "source_organisations", "organisations")
        assert sql_facet(made, column, where, params, limit, array) \
            == memory_facet(index, made, column, where, params, limit), column


def test_the_unfiltered_array_facet_query_gives_the_same_rows_too(made):
    index = tallies.FacetIndex.load(made)
    inner = f"select id, text, {', '.join(COLUMNS)} from findings"
    for column in ("themes", "organisations"):
        rows = [{"value": v, "count": n} for v, n in made.execute(
            ArrayFacet.FACET_SQL_ALL_ROWS.format(sql=inner, col=column, limit=11))]
        assert rows == index.counts(column, index.all_rows, 11)


def answers(public_path, paths, in_memory):
    """The count and facets of each page, from memory or (the index never loaded) from SQL."""
    ds = make_datasette(public_path)
    if not in_memory:
        ds.databases[PUBLIC_NAME]._cotour_tallied = True  # the startup hook then does nothing
    out = []
    for path in paths:
        response = LOOP.run_until_complete(ds.client.get(path))
        assert 200 == response.status_code, response.text
        data = response.json()
        out.append((data["filtered_table_rows_count"], data["facet_results"],
                    data.get("facets_timed_out")))
    return out


def test_pages_count_and_facet_from_memory_as_from_sql(sample_build):
    public = sample_build[1]
    conn = sqlite3.connect(public)
    word = conn.execute("select text from findings order by id limit 1").fetchone()[0].split()[2]
    theme = json.loads(conn.execute("select themes from findings where themes != '[]' "
                                    "order by id limit 1").fetchone()[0])[0]
    paths = ["/cotour/findings.json", "/cotour/findings.json?kind=practice",
             "/cotour/findings.json?kind=problem&province=BO&_facet=kind&_facet=province",
             f"/cotour/findings.json?_search={word}",
             f"/cotour/findings.json?_search={word}&kind=practice",
             "/cotour/findings.json?_search=cooperativa&_facet_size=max",
             f"/cotour/findings.json?themes__arraycontains={theme}",
             "/cotour/findings.json?_where=position+>+2&_facet=city",
             "/cotour/findings.json?kind=nessuno"]
    memory, sql = answers(public, paths, True), answers(public, paths, False)
    assert sql == memory
    assert all(facets for _, facets, _ in memory[:-1]) and memory[-1][0] == 0
    assert ("cooper" in fts_match("cooperativa")) and memory[5][0] > 0


def selections(public_path, monkeypatch, path):
    """The time limits the rows of ``path``'s counts were selected under, and its page."""
    limits, select = [], tallies._select_rowids

    def recorded(where, params, limit_ms):
        limits.append(limit_ms)
        return select(where, params, limit_ms)

    monkeypatch.setattr(tallies, "_select_rowids", recorded)
    ds = make_datasette(public_path)
    page = LOOP.run_until_complete(ds.client.get(path))
    return limits, page, ds


def test_rows_are_selected_once_a_page_under_its_count_s_time_limit(sample_build, monkeypatch):
    from kb.serve.search import SEARCH_TIME_LIMIT_MS

    limits, page, ds = selections(sample_build[1], monkeypatch, "/cotour/findings?kind=practice")
    assert 200 == page.status_code and [ds.setting("sql_time_limit_ms")] == limits
    limits, page, _ = selections(sample_build[1], monkeypatch, "/cotour/findings?_search=spazi")
    assert 200 == page.status_code and [SEARCH_TIME_LIMIT_MS] == limits


def test_a_search_stopped_by_its_time_limit_still_says_so(sample_build, monkeypatch):
    """Past the search's limit, the count and the facets are left out, as when each ran alone,
    and the page names the facets that could not be counted."""

    def interrupted(where, params, limit_ms):
        def select(conn):
            raise tallies.QueryInterrupted(sqlite3.OperationalError("interrupted"), "", {})
        return select

    monkeypatch.setattr(tallies, "_select_rowids", interrupted)
    ds = make_datasette(sample_build[1])
    data = LOOP.run_until_complete(ds.client.get(
        "/cotour/findings.json?_search=cooperativa")).json()
    assert data["filtered_table_rows_count"] is None and data["facet_results"] == {}
    page = LOOP.run_until_complete(ds.client.get("/cotour/findings?_search=cooperativa")).text
    assert ("Questi facet hanno richiesto troppo tempo: kind, event_id, province, themes, "
            "source_profiles, source_organisations, organisations") in page


# -- plain texts without markdown-it ---------------------------------------------------------

PLAIN = ["Una frase semplice.", "Due righe\ncontinuano la frase", 'Con "virgolette" e l\'apostrofo',
         "Tavolo 2 e più: è già così", "cotour1234t0x ha detto"]
NOT_PLAIN = ["# titolo", "- una lista", "1. numerata", "2015 fu l'anno", "> citazione",
             "testo *enfatico*", "un_trattino_basso", "[link](http://x.it)", "a < b", "a & b",
             "riga con a capo forzato  \nseguito", "riga\n\nnuovo paragrafo", "riga\n---",
             "riga\n===", "  rientrato", "riga\n    rientrata", "codice `x`", "fine\\", "!img",
             "", "tab\tqui", "nbsp\u00a0qui", "riga\n- lista", "riga\n# titolo", "~barrato~"]


def markdown_it(text):
    html = cells._MARKDOWN.render(text).strip()
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return html


@pytest.mark.parametrize("text", PLAIN)
def test_plain_texts_are_what_markdown_it_makes_of_them(text):
    assert markdown_it(text) == cells.plain_paragraph(text)


@pytest.mark.parametrize("text", NOT_PLAIN)
def test_texts_with_markup_go_to_markdown_it(text):
    assert cells.plain_paragraph(text) is None


def test_every_plain_text_of_the_sample_is_what_markdown_it_makes_of_it(sample_build):
    conn = sqlite3.connect(sample_build[1])
    texts = [t for (t,) in conn.execute("select text from findings union all "
                                        "select text from notes")]
    plain = [t for t in texts if cells.plain_paragraph(t) is not None]
    assert plain and [markdown_it(t) for t in plain] == [cells.plain_paragraph(t) for t in plain]


# -- a table's rows --------------------------------------------------------------------------

LOOP_TEMPLATE = """{% for row in display_rows %}
<tr>{% for cell in row %}<td class="col-{{ cell.column|to_css_class }} type-{{ cell.value_type }}">{{ cell.value }}</td>{% endfor %}</tr>
{% endfor %}"""  # the loop _table.html had


def test_rows_html_writes_what_the_template_loop_wrote():
    env = jinja2.Environment(autoescape=True)
    env.filters["to_css_class"] = to_css_class
    rows = [[{"column": "id", "value": Markup('<a href="/x">x</a>'), "value_type": "pk"},
             {"column": "text", "value": "a < b & \"c\"", "value_type": "str"},
             {"column": "position", "value": 3, "value_type": "int"},
             {"column": "city", "value": Markup("&nbsp;"), "value_type": "none"},
             {"column": "strana colonna!", "value": None, "value_type": "none"}],
            [{"column": "id", "value": Markup("<b>y</b>"), "value_type": "pk"}]]
    assert env.from_string(LOOP_TEMPLATE).render(display_rows=rows) == str(rows_html(rows))
    assert "" == str(rows_html([]))


# -- worker processes ------------------------------------------------------------------------

def _serve_on_two_workers(mini_build):
    """``cotour serve --workers 2`` answering on a free port: the process, its address, its
    workers (the process is stopped if it never answers)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "COTOUR_STAFF_PASSWORD_HASH"}
    process = subprocess.Popen(
        [sys.executable, "-c", "from kb.cli import cli; cli()", "serve", "--db",
         str(mini_build[0]), "--port", str(port), "--workers", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            assert process.poll() is None, process.stdout.read().decode()
            try:
                urllib.request.urlopen(url + "/-/versions.json", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        return process, url, children(process.pid)
    except BaseException:
        process.kill()
        process.wait()
        raise


def test_serve_runs_on_two_worker_processes_that_answer_and_stop_together(mini_build):
    process, url, workers = _serve_on_two_workers(mini_build)
    try:
        assert 2 == len(workers)
        for _ in range(6):  # whichever worker answers, the same page
            with urllib.request.urlopen(url + "/cotour/findings.json?kind=practice&_shape=array",
                                        timeout=10) as response:
                assert ["7be3f479b483", "eb75e9d25fc3"] == sorted(
                    r["id"] for r in json.load(response))
    finally:
        process.terminate()
        out = process.communicate(timeout=20)[0].decode()
    assert f"Co?Tour: {url}/cotour ({mini_build[1]}), 2 worker processes" in out
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)


def test_a_killed_server_takes_its_workers_with_it(mini_build):
    # SIGKILL leaves the server no time to stop them: they must not go on serving its port
    process, _, workers = _serve_on_two_workers(mini_build)
    process.kill()
    process.communicate()
    assert 2 == len(workers)
    assert [] == still_running(workers, seconds=10)


def test_staff_serving_keeps_one_process(mini_build):
    result = CliRunner().invoke(cli, ["serve", "--db", str(mini_build[0]), "--staff",
                                      "--workers", "2"])
    assert 2 == result.exit_code
    assert "--staff runs one worker process" in result.output


# -- an organisation's dossier from memory ---------------------------------------------------

def test_every_organisation_s_dossier_from_memory_is_the_sql_one(sample_build):
    from kb.serve import dossiers, pages

    ds = make_datasette(sample_build[1])
    LOOP.run_until_complete(ds.invoke_startup())
    db = ds.databases[PUBLIC_NAME]
    index = dossiers.index_of(ds, PUBLIC_NAME)
    organisations = [r[0] for r in sqlite3.connect(sample_build[1]).execute(
        "select id from organisations order by id")]
    memory = [LOOP.run_until_complete(pages.organisation_dossier_from_memory(db, o, index))
              for o in organisations]
    ds._cotour_organisations = {}  # no index: the SQL
    sql = [LOOP.run_until_complete(pages.organisation_dossier(db, o, ds, PUBLIC_NAME))
           for o in organisations]
    assert sql == memory
    assert any(d["raised"] for d in memory) and any(d["mentioned"] for d in memory)
    assert any("," in e["how"] for d in memory for e in d["events"])  # several ways at one event


def test_a_dossier_from_memory_worked_out_by_hand(mini_build):
    from kb.serve import dossiers, pages

    ds = make_datasette(mini_build[1])
    LOOP.run_until_complete(ds.invoke_startup())
    db = ds.databases[PUBLIC_NAME]
    dossier = LOOP.run_until_complete(pages.organisation_dossier_from_memory(
        db, "orti-ribelli", dossiers.index_of(ds, PUBLIC_NAME)))
    assert ["9b3e15974335"] == [f["id"] for f in dossier["raised"]]
    assert ["eb75e9d25fc3"] == [f["id"] for f in dossier["mentioned"]]
    # a participant of Parma's table, and cited there
    assert [("parma-2015", "ha partecipato,è citata")] \
        == [(e["id"], e["how"]) for e in dossier["events"]]


# -- whole pages -----------------------------------------------------------------------------

def slow_datasette(public_path):
    """The app with none of the paths from memory: counts, facets, dossiers, names and schema
    all asked of SQLite (each flag makes its startup hook do nothing)."""
    ds = make_datasette(public_path)
    db = ds.databases[PUBLIC_NAME]
    db._cotour_tallied = db._cotour_names_kept = db._cotour_schema_kept = True
    ds._cotour_organisations = {PUBLIC_NAME: None}
    return ds


def test_whole_pages_from_memory_are_the_pages_sqlite_gives(sample_build, monkeypatch):
    from kb.serve import pages

    monkeypatch.setattr(pages, "FROM_MEMORY_FROM", 0)  # every dossier from memory
    public = sample_build[1]
    conn = sqlite3.connect(public)
    finding = conn.execute("select id from findings order by id limit 1").fetchone()[0]
    busiest = conn.execute("select organisation_id from finding_organisations group by 1 "
                           "order by count(*) desc, 1 limit 1").fetchone()[0]
    event = conn.execute("select id from events order by id limit 1").fetchone()[0]
    paths = ["/cotour/findings", "/cotour/findings?kind=practice&province=BO&_facet=kind",
             "/cotour/findings?_search=spazi", f"/cotour/findings/{finding}",
             f"/cotour/organisations/{busiest}", f"/cotour/events/{event}",
             "/cotour/organisations?_facet=province", "/cotour/notes?_search=welfare",
             "/cotour/pratiche_ricorrenti", "/cotour"]
    fast, slow = make_datasette(public), slow_datasette(public)
    for path in paths:
        a = LOOP.run_until_complete(fast.client.get(path))
        b = LOOP.run_until_complete(slow.client.get(path))
        assert (200, 200) == (a.status_code, b.status_code), path
        assert b.text == a.text, path
    assert pages.index_of(fast, PUBLIC_NAME) is not None
    assert fast.databases[PUBLIC_NAME].execute.__name__ != "execute"  # the paths were on


def test_names_from_memory_are_the_rows_sqlite_gives(sample_build):
    from kb.serve.cells import Labels, names_from_memory

    ds = make_datasette(sample_build[1])
    db = ds.databases[PUBLIC_NAME]
    raw = db.execute
    labels = LOOP.run_until_complete(Labels.load(db))
    names_from_memory(db, labels)
    conn = sqlite3.connect(sample_build[1])
    for table in Labels.TABLES:
        from kb.domain.dictionary import TABLES_BY_NAME

        label = TABLES_BY_NAME[table].label_column
        ids = [r[0] for r in conn.execute(f"select id from [{table}] order by id limit 3")]
        ids += ["nessuno"]
        sql = f"""
            select id, {label}
            from {table}
            where id in ({", ".join("?" * len(ids))})
        """
        memory = LOOP.run_until_complete(db.execute(sql, ids))
        live = LOOP.run_until_complete(raw(sql, ids))
        assert sorted(tuple(r) for r in live) == sorted(tuple(r) for r in memory), table
        assert len(memory.rows) == 3
