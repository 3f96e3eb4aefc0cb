"""Datasette on the knowledge base: the real app in process, on real built databases."""

import asyncio
import json
import re
import shutil
import sqlite3

import pytest
from click.testing import CliRunner
from datasette_auth_passwords.utils import hash_password

from kb.cli import cli
from kb.datasette_plugin import stem_search_args
from kb.dictionary import TABLES, VIEWS
from kb.pipeline import build
from kb.public import NotPublicError
from kb.search import search
from kb.serve import (PASSWORD_HASH_ENV, PUBLIC_NAME, STAFF_NAME, ServeError, make_datasette,
                      metadata, root_login_url)

from conftest import MINI

LOOP = asyncio.new_event_loop()


def get(ds, path, **kwargs):
    return LOOP.run_until_complete(ds.client.get(path, **kwargs))


def post(ds, path, **kwargs):
    return LOOP.run_until_complete(ds.client.post(path, **kwargs))


def rows(ds, path, **params):
    response = get(ds, path, params={"_shape": "objects", "_size": "max", **params})
    assert 200 == response.status_code, response.text
    return response.json()["rows"]


@pytest.fixture(scope="module")
def mini(mini_build):
    kb_path, public_path = mini_build
    return make_datasette(public_path, staff_path=kb_path)


@pytest.fixture(scope="module")
def sample(sample_build):
    return make_datasette(sample_build[1])


def staff_cookie(ds, actor="staff"):
    return {"ds_actor": ds.sign({"a": {"id": actor}}, "actor")}


# -- metadata from the dictionary and the project table ------------------------------------

def test_instance_metadata_comes_from_the_project_table(mini):
    meta = get(mini, "/-/metadata.json").json()
    assert "Co?Tour – Viaggio nella nuova mutualità" == meta["title"]
    assert "Dati di prova per i test.\n\nTest data." == meta["description"]
    assert "CC-BY-4.0" == meta["license"]
    assert "https://creativecommons.org/licenses/by/4.0/" == meta["license_url"]
    assert "https://dati.example.org/cotour" == meta["about_url"]
    home = get(mini, "/").text
    assert '<a href="https://creativecommons.org/licenses/by/4.0/">CC-BY-4.0</a>' in home


def test_home_page_leads_to_every_table_and_canned_query(sample):
    import re
    home = get(sample, "/").text
    links = re.findall(r'<li><a href="([^"/][^"]*)">', home)  # ours are relative
    queries = get(sample, "/-/metadata.json").json()["databases"][PUBLIC_NAME]["queries"]
    expected = ["cotour/findings", "cotour/organisations", "cotour/events", "cotour/initiatives",
                "-/dashboards/panoramica", *[f"cotour/{name}" for name in queries]]
    assert expected == links
    for link in links:
        assert 200 == get(sample, "/" + link).status_code, link


def test_sample_source_is_the_programme_page(sample):
    meta = get(sample, "/-/metadata.json").json()
    assert "https://emiliaromagna.confcooperative.it/" == meta["source_url"]


def public_tables(ds):
    database = get(ds, f"/{PUBLIC_NAME}.json").json()
    return {t["name"]: t["columns"] for t in database["tables"] if not t["hidden"]}


def test_every_table_and_column_is_described(sample):
    tables = public_tables(sample)
    assert {t.name for t in TABLES} == set(tables)
    for name, columns in tables.items():
        meta = sample.table_metadata(PUBLIC_NAME, name)
        assert meta["title"] and meta["description"], name
        assert set(columns) == set(meta["columns"]), name
        assert all(meta["columns"].values()), name


@pytest.mark.parametrize("table,column,description", [
    ("findings", "kind", "Tipo di risultato — Kind of finding"),
    ("organisations", "profile",
     "Profilo: attore emergente o settore tradizionale — "
     "Profile: new emerging actor or established sector"),
    ("findings_detail", "citta", "Città — City"),
    ("findings_detail", "text", "Testo del risultato, come scritto (Markdown) — "
                                "The finding's text, as written (Markdown)"),
    ("organisation_activity", "legal_form", "Forma giuridica — Legal form"),
])
def test_column_descriptions(mini, table, column, description):
    assert description == mini.table_metadata(PUBLIC_NAME, table)["columns"][column]


def test_views_have_titles(mini):
    assert ["Risultati con tappa, nota e tipo in chiaro", "Quanti risultati per tappa e tipo",
            "Attività di ogni organizzazione: risultati in cui è citata o fonte, tappe, note"] \
        == [mini.table_metadata(PUBLIC_NAME, v)["title"] for v in VIEWS]


@pytest.mark.parametrize("table,facets", [
    ("findings", {"kind": "column", "event_id": "column", "province": "column",
                  "themes": "array", "source_profiles": "array", "organisations": "array"}),
    ("organisations", {"province": "column", "profile": "column", "legal_form": "column",
                       "is_cooperative": "column", "mapped": "column", "themes": "array"}),
    ("events", {"kind": "column", "status": "column", "province": "column"}),
    ("notes", {"event_id": "column", "kind": "column", "participants": "array"}),
])
def test_default_facets(mini, table, facets):
    response = get(mini, f"/{PUBLIC_NAME}/{table}.json")
    assert facets == {k: v["type"] for k, v in response.json()["facet_results"].items()}
    assert [] == response.json()["suggested_facets"]  # suggest_facets is off


def test_array_facet_counts_themes_of_public_findings(mini):
    facet = get(mini, f"/{PUBLIC_NAME}/findings.json").json()["facet_results"]["themes"]
    assert {"spazi-condivisi": 2, "finanza-mutualistica": 2, "welfare-di-comunita": 1,
            "coworking": 1} == {r["value"]: r["count"] for r in facet["results"]}


def test_facet_array_filter_narrows_rows(mini):
    found = rows(mini, f"/{PUBLIC_NAME}/findings.json", themes__arraycontains="coworking")
    assert ["Mancano spazi a costi accessibili per chi comincia. #spazi-condivisi #coworking"] \
        == [r["text"] for r in found]


@pytest.mark.parametrize("table,column,expected", [
    ("organisations", "name", ["Cooperativa Sociale Il Mosaico Onlus", "Kilowatt Soc. Coop",
                               "Orti Ribelli APS"]),
    ("events", "date", [None, "2015-12-09", "2015-12-10"]),
    ("finding_kinds", "id", ["practice", "problem", "opportunity", "threat", "strategy",
                             "frustration", "satisfaction", "proposal", "synergy"]),
])
def test_sort_orders(mini, table, column, expected):
    assert expected == [r[column] for r in rows(mini, f"/{PUBLIC_NAME}/{table}.json")]


def test_label_columns_show_names_for_foreign_keys(mini):
    found = rows(mini, f"/{PUBLIC_NAME}/findings.json", _labels="on", kind="threat")
    assert [{"value": "parma-2015", "label": "Parma"}] == [r["event_id"] for r in found]
    assert [{"value": "threat", "label": "Minacce"}] == [r["kind"] for r in found]
    assert [{"value": "parma-2015-tavolo-1", "label": "Tavolo 1 — Welfare e spazi"}] \
        == [r["note_id"] for r in found]


def test_settings_for_anonymous_traffic(mini):
    settings = get(mini, "/-/settings.json").json()
    assert (False, 3000) == (settings["suggest_facets"], settings["sql_time_limit_ms"])


def test_public_database_is_immutable_and_named_cotour(mini):
    assert [PUBLIC_NAME, STAFF_NAME] == [d["name"] for d in get(mini, "/-/databases.json").json()]
    assert [False, False] == [d["is_mutable"] for d in get(mini, "/-/databases.json").json()]


# -- Italian search -------------------------------------------------------------------------

@pytest.mark.parametrize("query,expected", [
    ("_search=cooperativa", "_search=cooper&_cotour_search=cooperativa"),
    ("_search=plenar&_cotour_search=plenaria", "_search=plenar&_cotour_search=plenaria"),
    ("_search=bandi&_cotour_search=cooperativa", "_search=band&_cotour_search=bandi"),
    ("_search=&_cotour_search=cooperativa", "_cotour_search="),
    ("_search=%21%21%21", "_cotour_search=%21%21%21"),
    ("_sort=id&_search=Perch%C3%A9", "_sort=id&_search=perc&_cotour_search=Perch%C3%A9"),
    ("_facet=kind&_cotour_search=x", "_facet=kind&_cotour_search=x"),
])
def test_stem_search_args(query, expected):
    assert expected == stem_search_args(query)[0]


@pytest.mark.parametrize("table,words,expected", [
    ("findings", "cooperativa", [
        "Il [[!kilowatt]] segnala che il credito cooperativo non conosce le startup. "
        "#finanza-mutualistica",
        "Le cooperative sociali fanno rete sul welfare di comunità. #welfare-di-comunita"]),
    ("findings", "bando", [
        "[[!Orti Ribelli APS]] teme che i bandi premino solo chi ha già un bilancio. "
        "#finanza-mutualistica"]),
    ("findings", "SPAZIO", [  # the tag #spazi-condivisi is text too
        "Mancano spazi a costi accessibili per chi comincia. #spazi-condivisi #coworking",
        "[[!Mosaico]] apre la sua sede alle associazioni del quartiere. #spazi-condivisi"]),
    ("notes", "cooperative", ["In plenaria si è parlato di cooperazione e di spazi."]),
    ("notes", "presentazione", ["Il tavolo si è aperto con un giro di presentazioni."]),
])
def test_search_parameter_is_italian(mini, table, words, expected):
    found = rows(mini, f"/{PUBLIC_NAME}/{table}.json", _search=words)
    assert expected == sorted(r["text"].split("\n")[0] for r in found)


def test_search_box_shows_what_the_user_typed(mini):
    html = get(mini, f"/{PUBLIC_NAME}/findings?_search=cooperativa").text
    assert '<input id="_search" type="search" name="_search" value="cooperativa">' in html
    assert '<input type="hidden" name="_cotour_search" value="cooperativa">' in html
    assert "2 rows\n        where search matches &#34;cooper&#34;" in html


def test_links_keep_the_search_across_pages(sample):
    # volontari -> volontar, but volontar -> volont: links must not stem the stems again.
    everything = rows(sample, f"/{PUBLIC_NAME}/findings.json", _search="volontari")
    pages, url = [], f"/{PUBLIC_NAME}/findings.json?_search=volontari&_size=2&_shape=objects"
    while url:
        page = get(sample, url).json()
        pages += page["rows"]
        url = page["next_url"] and page["next_url"].replace("http://localhost", "")
    assert [r["id"] for r in everything] == [r["id"] for r in pages]
    assert len(everything) > 2


def test_words_without_letters_search_nothing_and_show_every_row(mini):
    response = get(mini, f"/{PUBLIC_NAME}/findings?_search=%21%21%21")
    assert 200 == response.status_code
    assert '<input id="_search" type="search" name="_search" value="!!!">' in response.text
    assert 6 == len(rows(mini, f"/{PUBLIC_NAME}/findings.json", _search="!!!"))


SAMPLE_WORDS = ["cooperativa", "spazi condivisi", "perche", "bandi", "welfare di comunità",
                "crowdfunding", "giovani", "Agricoltura sociale"]


@pytest.mark.parametrize("words", SAMPLE_WORDS)
def test_cli_search_and_datasette_find_the_same_findings(sample_build, sample, words):
    public_path = sample_build[1]
    expected = sorted(h.id for h in search(public_path, words, limit=10_000, tables=("findings",)))
    assert expected, words
    by_search = rows(sample, f"/{PUBLIC_NAME}/findings.json", _search=words)
    assert expected == sorted(r["id"] for r in by_search)
    canned = rows(sample, f"/{PUBLIC_NAME}/cerca.json", testo=words)
    assert expected == sorted(r["id"] for r in canned if r["dove"] == "risultato")[:100]
    result = CliRunner().invoke(cli, ["search", words, "--public", "--json", "--limit", "10000",
                                      "--db", str(sample_build[0])])
    hits = json.loads(result.output)
    assert expected == sorted(h["id"] for h in hits if h["table"] == "findings")


def test_canned_search_is_ranked_like_the_library(sample_build, sample):
    expected = [h.id for h in search(sample_build[1], "cooperativa", limit=100)]
    assert expected == [r["id"] for r in rows(sample, f"/{PUBLIC_NAME}/cerca.json",
                                               testo="cooperativa")]


def test_canned_search_keeps_the_typed_words_in_its_form(mini):
    html = get(mini, f"/{PUBLIC_NAME}/cerca?testo=cooperativa").text
    assert '<input type="text" id="qp1" name="testo" value="cooperativa">' in html


@pytest.mark.parametrize("testo", ["", "!!!"])
def test_canned_search_without_words_finds_nothing(mini, testo):
    assert [] == rows(mini, f"/{PUBLIC_NAME}/cerca.json", testo=testo)


def test_researchers_can_use_the_match_function(mini):
    found = rows(mini, f"/{PUBLIC_NAME}.json",
                 sql="select rowid from findings_fts where findings_fts match cotour_match(:q)",
                 q="cooperative")
    assert 2 == len(found)


# -- canned queries -------------------------------------------------------------------------

CANNED = {  # every canned query, with parameters that give rows on the sample
    "cerca": {"testo": "cooperativa"},
    "contaminazioni": {"tipo": ""},
    "ibridazioni_per_organizzazione": {"organizzazione": "kilowatt"},
    "iniziative_e_origini": {"stato": ""},
    "mappate_mai_presenti": {"provincia": ""},
    "minacce_emergenti_e_tradizionali": {"tipo": ""},
    "organizzazioni_per_provincia": {},
    "organizzazioni_piu_citate": {"profilo": ""},
    "pratiche_ricorrenti": {"tipo": ""},
    "risultati_con_due_organizzazioni": {"organizzazione_1": "Confcooperative Emilia Romagna",
                                         "organizzazione_2": "mutua-freelance"},
    "risultati_per_tappa": {},
    "risultati_per_tema": {"tema": "Spazi condivisi"},
    "temi_per_provincia": {"tipo": ""},
}


def test_canned_queries_are_described_in_italian(mini):
    queries = metadata(mini.databases[PUBLIC_NAME].path)["databases"][PUBLIC_NAME]["queries"]
    assert list(CANNED) == list(queries)
    for name, query in queries.items():
        assert query["title"] and len(query["description"]) > 60, name
        assert sorted(CANNED[name]) == sorted(query.get("params", [])), name


@pytest.mark.parametrize("name", CANNED)
def test_canned_query_answers_on_the_sample(sample, name):
    assert rows(sample, f"/{PUBLIC_NAME}/{name}.json", **CANNED[name]), name


# -- plugins --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """The mini fixture plus a note with Markdown and a script in it."""
    data = tmp_path_factory.mktemp("hostile") / "data"
    shutil.copytree(MINI, data)
    (data / "notes" / "parma-2015" / "script.md").write_text(
        "---\nevent: parma-2015\ntitle: Nota con codice\nkind: tavolo\n---\n"
        "Testo **in grassetto**.\n\n<script>alert('xss')</script>\n\n"
        "## Problemi\n- Un problema con <img src=x onerror=alert(1)> dentro.\n",
        encoding="utf-8")
    result = build(data, data.parent / "build" / "cotour.db")
    return make_datasette(result.public_path)


def test_markdown_is_rendered_and_sanitised(hostile):
    html = get(hostile, f"/{PUBLIC_NAME}/notes/parma-2015-script").text
    assert "<strong>in grassetto</strong>" in html
    assert "&lt;script&gt;alert('xss')&lt;/script&gt;" in html
    assert "<script>alert" not in html
    table = get(hostile, f"/{PUBLIC_NAME}/findings?kind=problem").text
    assert '<img src="x" style="max-width: 100%">' in table
    assert "onerror" not in table


def test_cluster_map_on_organisations(mini):
    html = get(mini, f"/{PUBLIC_NAME}/organisations").text
    assert "/-/static-plugins/datasette-cluster-map/datasette-cluster-map.js" in html
    assert 'window.DATASETTE_CLUSTER_MAP_LATITUDE_COLUMN = "lat"' in html


def test_dashboard_page_and_its_charts(sample):
    dashboard = sample.plugin_config("datasette-dashboards")["panoramica"]
    assert 200 == get(sample, "/-/dashboards/panoramica").status_code
    for name, chart in dashboard["charts"].items():
        assert rows(sample, f"/{PUBLIC_NAME}.json", sql=chart["query"]), name


# -- privacy --------------------------------------------------------------------------------

def private_strings(kb_path):
    """Every personal name and every internal note's and finding's text in the full KB."""
    conn = sqlite3.connect(kb_path)
    out = set()
    for facilitator, rapporteur, interviewees in conn.execute(
            "select facilitator, rapporteur, interviewees from notes"):
        out |= {facilitator, rapporteur, *json.loads(interviewees or "[]")}
    for (text,) in conn.execute(
            "select title from notes where visibility = 'internal' union all "
            "select text from notes where visibility = 'internal' union all "
            "select f.text from findings f join notes n on n.id = f.note_id "
            "where n.visibility = 'internal'"):
        out |= {line.strip() for line in (text or "").splitlines() if len(line.strip()) > 20}
    out.discard(None)
    return sorted(out)


def internal_ids(kb_path):
    conn = sqlite3.connect(kb_path)
    return conn.execute(
        "select 'notes', id from notes where visibility = 'internal' union all "
        "select 'findings', f.id from findings f join notes n on n.id = f.note_id "
        "where n.visibility = 'internal'").fetchall()


@pytest.fixture(scope="module", params=["mini", "sample"])
def real(request, mini_build, sample_build):
    kb_path, public_path = {"mini": mini_build, "sample": sample_build}[request.param]
    secrets = private_strings(kb_path)
    assert secrets and internal_ids(kb_path)
    return make_datasette(public_path), kb_path, secrets


def leaks(text, secrets):
    return [s for s in secrets if s in text]


def test_mini_private_strings_are_the_expected_ones(mini_build):
    assert ["Anna Verdi", "Debriefing dello staff", "Luca Bianchi", "Maria Rossi",
            "Nota interna: Anna Verdi ha guidato il debriefing. Segreto interno.",
            "Troppi interventi lunghi in plenaria. #spazi-condivisi"] \
        == private_strings(mini_build[0])


def test_no_private_string_in_any_public_table_or_row(real):
    ds, kb_path, secrets = real
    for table in public_tables(ds):
        found = get(ds, f"/{PUBLIC_NAME}/{table}.json", params={"_size": "max", "_shape": "array"})
        assert [] == leaks(json.dumps(found.json(), ensure_ascii=False), secrets), table
        assert [] == leaks(get(ds, f"/{PUBLIC_NAME}/{table}", params={"_size": "max"}).text,
                           secrets), table
    for table, id in internal_ids(kb_path):
        assert 404 == get(ds, f"/{PUBLIC_NAME}/{table}/{id}").status_code


def test_no_personal_column_in_the_public_notes(real):
    ds = real[0]
    assert ["id", "event_id", "title", "kind", "date", "visibility", "participants", "text",
            "source_path", "source_line"] == public_tables(ds)["notes"]


def test_no_private_string_through_sql(real):
    ds, _, secrets = real
    everything = []
    for table in public_tables(ds):
        everything += rows(ds, f"/{PUBLIC_NAME}.json", sql=f"select * from [{table}]")
    dump = json.dumps(everything, ensure_ascii=False)
    assert [] == leaks(dump, secrets)
    assert [] == rows(ds, f"/{PUBLIC_NAME}.json",
                      sql="select * from notes where visibility != 'public'")
    database = get(ds, f"/{PUBLIC_NAME}.db").content.decode("utf-8", errors="replace")
    assert [] == leaks(database, secrets)


def test_no_private_string_through_search_or_canned_queries(real):
    ds, _, secrets = real
    for secret in secrets:
        for table in ("findings", "notes"):
            assert [] == rows(ds, f"/{PUBLIC_NAME}/{table}.json", _search=f'"{secret}"'), secret
        assert [] == rows(ds, f"/{PUBLIC_NAME}/cerca.json", testo=f'"{secret}"'), secret
    for name, params in CANNED.items():
        found = json.dumps(rows(ds, f"/{PUBLIC_NAME}/{name}.json", **params), ensure_ascii=False)
        assert [] == leaks(found, secrets), name


# -- staff ----------------------------------------------------------------------------------

STAFF_PATHS = [
    f"/{STAFF_NAME}",
    f"/{STAFF_NAME}.json",
    f"/{STAFF_NAME}/notes",
    f"/{STAFF_NAME}/notes.json?_shape=array",
    f"/{STAFF_NAME}/notes/bologna-2015-debriefing",
    f"/{STAFF_NAME}/notes.csv",
    f"/{STAFF_NAME}/findings?_search=plenaria",
    f"/{STAFF_NAME}.json?sql=select+facilitator,rapporteur+from+notes",
    f"/{STAFF_NAME}?sql=select+*+from+notes",
    f"/{STAFF_NAME}/cerca?testo=debriefing",
    f"/{STAFF_NAME}.db",
]


@pytest.mark.parametrize("path", STAFF_PATHS)
def test_staff_database_is_refused_without_signing_in(mini, path):
    response = get(mini, path)
    assert 403 == response.status_code
    assert [] == leaks(response.text, ["Maria Rossi", "Anna Verdi", "Luca Bianchi", "Segreto"])


@pytest.mark.parametrize("path", STAFF_PATHS)
def test_staff_database_is_readable_after_signing_in(mini, path):
    assert 200 == get(mini, path, cookies=staff_cookie(mini)).status_code


def test_staff_sees_names_and_internal_notes(mini):
    found = get(mini, f"/{STAFF_NAME}.json", cookies=staff_cookie(mini), params={
        "sql": "select facilitator from notes where visibility = 'internal'", "_shape": "array"})
    assert [{"facilitator": "Anna Verdi"}] == found.json()


def test_anonymous_home_page_does_not_list_the_staff_database(mini):
    assert STAFF_NAME not in get(mini, "/").text
    assert STAFF_NAME in get(mini, "/", cookies=staff_cookie(mini)).text


def test_another_actor_is_refused(mini):
    response = get(mini, f"/{STAFF_NAME}/notes", cookies=staff_cookie(mini, "someone"))
    assert 403 == response.status_code


def login(ds, password):
    form = get(ds, "/-/login")
    token = re.search(r'name="csrftoken" value="([^"]+)"', form.text)[1]
    cookies = {"ds_csrftoken": form.cookies["ds_csrftoken"]}
    return post(ds, "/-/login", data={"username": "staff", "password": password,
                                      "csrftoken": token}, cookies=cookies)


def test_password_sign_in(mini_build, monkeypatch):
    monkeypatch.setenv(PASSWORD_HASH_ENV, hash_password("mutualità"))
    ds = make_datasette(mini_build[1], staff_path=mini_build[0])
    refused = login(ds, "wrong")
    assert "ds_actor" not in refused.cookies
    assert "Invalid username or password" in refused.text
    signed_in = login(ds, "mutualità")
    assert 302 == signed_in.status_code
    cookies = {"ds_actor": signed_in.cookies["ds_actor"]}
    assert 200 == get(ds, f"/{STAFF_NAME}/notes", cookies=cookies).status_code


def test_without_a_password_hash_no_one_signs_in_with_a_password(mini_build, monkeypatch):
    monkeypatch.delenv(PASSWORD_HASH_ENV, raising=False)
    ds = make_datasette(mini_build[1], staff_path=mini_build[0])
    assert "ds_actor" not in login(ds, "").cookies


def test_root_token_signs_in_once(mini_build):
    ds = make_datasette(mini_build[1], staff_path=mini_build[0])
    token = ds._root_token
    first = get(ds, f"/-/auth-token?token={token}")
    assert 302 == first.status_code
    cookies = {"ds_actor": first.cookies["ds_actor"]}
    assert 200 == get(ds, f"/{STAFF_NAME}/notes", cookies=cookies).status_code
    assert 403 == get(ds, f"/-/auth-token?token={token}").status_code


@pytest.mark.parametrize("host,start", [
    ("127.0.0.1", "http://127.0.0.1:8001/-/auth-token?token="),
    ("0.0.0.0", "http://127.0.0.1:8001/-/auth-token?token="),
    ("kb.example.org", "http://kb.example.org:8001/-/auth-token?token="),
])
def test_root_login_url(mini, host, start):
    assert start + mini._root_token == root_login_url(mini, host, 8001)


def test_public_instance_has_no_staff_database(mini_build):
    ds = make_datasette(mini_build[1])
    assert 404 == get(ds, f"/{STAFF_NAME}/notes", cookies=staff_cookie(ds)).status_code
    assert [PUBLIC_NAME] == [d["name"] for d in get(ds, "/-/databases.json").json()]


def test_refuses_the_full_knowledge_base_as_public(mini_build):
    with pytest.raises(NotPublicError):
        make_datasette(mini_build[0])


def test_refuses_the_public_database_as_staff(mini_build):
    with pytest.raises(ServeError, match="--staff needs the full one"):
        make_datasette(mini_build[1], staff_path=mini_build[1])


# -- command line ---------------------------------------------------------------------------

def test_serve_help_lists_its_options():
    result = CliRunner().invoke(cli, ["serve", "--help"])
    for option in ("--db", "--host", "--port", "--staff", "--metadata-out"):
        assert option in result.output
    assert "[default: 127.0.0.1]" in result.output and "[default: 8001]" in result.output


def test_serve_writes_the_metadata_for_publishing(mini_build, tmp_path):
    out = tmp_path / "metadata.json"
    result = CliRunner().invoke(cli, ["serve", "--db", str(mini_build[0]), "--metadata-out",
                                      str(out)])
    assert 0 == result.exit_code, result.output
    assert f"{out}: Datasette metadata for {mini_build[1]}\n" == result.output
    assert metadata(mini_build[1]) == json.loads(out.read_text())


def test_serve_without_a_build(tmp_path):
    result = CliRunner().invoke(cli, ["serve", "--db", str(tmp_path / "cotour.db")])
    assert 1 == result.exit_code
    assert (f"{tmp_path}/cotour-public.db: error: public database not found; "
            "run 'cotour build' first\n") == result.stderr
