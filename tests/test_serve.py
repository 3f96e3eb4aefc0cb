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
from kb.serve.search import stem_search_args
from kb.domain.dictionary import TABLES, VIEWS
from kb.pipeline import build
from kb.store.public import NotPublicError
from kb.store.search import search
from kb.serve.app import ServeError, make_datasette, root_login_url
from kb.serve.metadata import PASSWORD_HASH_ENV, STAFF_NAME, metadata
from kb.store.public import PUBLIC_NAME

from conftest import FIXTURES, MINI

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
                  "themes": "array", "source_profiles": "array", "source_organisations": "array",
                  "organisations": "array"}),
    ("organisations", {"province": "column", "profile": "column", "legal_form": "column",
                       "is_cooperative": "column", "mapped": "column", "programme_role": "column",
                       "themes": "array"}),
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
    databases = get(mini, "/-/databases.json", cookies=staff_cookie(mini)).json()
    assert [PUBLIC_NAME, STAFF_NAME] == [d["name"] for d in databases]
    assert [False, False] == [d["is_mutable"] for d in databases]


# -- Italian search -------------------------------------------------------------------------

@pytest.mark.parametrize("query,expected", [
    ("_search=cooperativa", "_search=%22cooper%22&_cotour_search=cooperativa"),
    ("_search=%22plenar%22&_cotour_search=plenaria",
     "_search=%22plenar%22&_cotour_search=plenaria"),
    ("_search=bandi&_cotour_search=cooperativa", "_search=%22band%22&_cotour_search=bandi"),
    ("_search=&_cotour_search=cooperativa", "_cotour_search="),
    ("_search=%21%21%21", "_cotour_search=%21%21%21"),
    ("_sort=id&_search=Perch%C3%A9", "_sort=id&_search=%22perc%22&_cotour_search=Perch%C3%A9"),
    ("_search=bandi+OR+burocrazia",
     "_search=%22band%22+OR+%22burocraz%22&_cotour_search=bandi+OR+burocrazia"),
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
    assert 'name="_search" value="cooperativa" placeholder=' in html
    assert '<input type="hidden" name="_cotour_search" value="cooperativa">' in html
    assert ("<h3 class=\"cotour-count\">2 righe che contengono «cooperativa», le più pertinenti "
            "per prime</h3>") in html


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
    assert 'name="_search" value="!!!" placeholder=' in response.text
    assert "<h3 class=\"cotour-count\">6 righe</h3>" in response.text
    assert 6 == len(rows(mini, f"/{PUBLIC_NAME}/findings.json", _search="!!!"))


SAMPLE_WORDS = ["cooperativa", "spazi condivisi", "perche", "bandi", "welfare di comunità",
                "crowdfunding", "giovani", "Agricoltura sociale", "bandi OR burocrazia",
                '"spazi condivisi"', "coop*", "spazi NOT coworking", "welfare -comunità"]


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
    # (not an organiser such as kilowatt: they are in no pair)
    "ibridazioni_per_organizzazione": {"organizzazione": "mutua-romagnola"},
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
    assert "Un problema con &lt;img src=x onerror=alert(1)&gt; dentro." in table  # as text
    assert "<img" not in table


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
    assert 403 == refused.status_code
    assert "Nome utente o password non validi." in refused.text
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


# -- an Italian interface -------------------------------------------------------------------

ENGLISH = ["This data as", "Custom SQL query", "Run SQL", 'value="Apply"', "Next page",
           "Advanced export", "Links from other tables", "Powered by", "Query parameters",
           "Edit SQL", ">Search:", "0 records", "0 results", "Error 404", "rows in", " row<",
           "Data license", "Data source", "hide</a>", "show</a>", "Download SQLite DB",
           "Log out", "Sort by", "descending", "- remove filter -", "- column -", "Tables<",
           "Queries<", "Views<", "Invalid username"]


@pytest.fixture(scope="module")
def canned(tmp_path_factory):
    """tests/fixtures/canned (see tests/test_canned.py), with a staff database."""
    result = build(FIXTURES / "canned", tmp_path_factory.mktemp("canned-serve") / "cotour.db")
    return make_datasette(result.public_path, staff_path=result.db_path), result.public_path


def finding_of(public_path, start):
    conn = sqlite3.connect(public_path)
    (found,) = conn.execute("select id from findings where text like ? || '%'", [start])
    return found[0]


def visible_text(html):
    """What a reader sees: no tags, no scripts or styles, entities kept as written."""
    html = re.sub(r"(?s)<(script|style)\b.*?</\1>", "", html)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.mark.parametrize("path", [
    "/", f"/{PUBLIC_NAME}", f"/{PUBLIC_NAME}/findings", f"/{PUBLIC_NAME}/findings?_search=bandi",
    f"/{PUBLIC_NAME}/organisations", f"/{PUBLIC_NAME}/organisations/alfa",
    f"/{PUBLIC_NAME}/events/parma-2015", f"/{PUBLIC_NAME}/themes/spazi-condivisi",
    f"/{PUBLIC_NAME}/notes/parma-2015-tavolo", f"/{PUBLIC_NAME}/pratiche_ricorrenti?tipo=",
    f"/{PUBLIC_NAME}/pratiche_ricorrenti?tipo=&_show_sql=1", f"/{PUBLIC_NAME}?sql=select+1",
    f"/{PUBLIC_NAME}/nope", "/-/login", f"/{PUBLIC_NAME}/findings_detail",
])
def test_every_page_is_in_italian(canned, path):
    ds, _ = canned
    html = get(ds, path).text
    assert '<html lang="it">' in html
    assert [] == [s for s in ENGLISH if s in html]


def test_a_finding_page_is_in_italian_too(canned):
    ds, public_path = canned
    html = get(ds, f"/{PUBLIC_NAME}/findings/{finding_of(public_path, '[[!beta]] gestisce')}").text
    assert [] == [s for s in ENGLISH if s in html]


def test_canned_query_page_has_its_title_and_description(canned):
    html = get(canned[0], f"/{PUBLIC_NAME}/mappate_mai_presenti?provincia=").text
    assert "<title>Organizzazioni mappate che non hanno mai partecipato</title>" in html
    assert "<h1>Organizzazioni mappate che non hanno mai partecipato</h1>" in html
    assert "<p>Le organizzazioni trovate dalla mappatura della fase 1 che non compaiono" in html
    assert '<label for="qp1">Provincia</label>' in html
    assert '<h3 class="cotour-count">2 righe</h3>' in html


def test_column_headers_are_italian_labels_with_the_column_name(canned):
    html = get(canned[0], f"/{PUBLIC_NAME}/findings").text
    assert re.search(r'>Tipo di risultato</a>\s*<small class="cotour-name">kind</small>',
                     html)
    assert re.search(r'>Organizzazioni che hanno sollevato il punto</a>\s*'
                     r'<small class="cotour-name">source_organisations</small>', html)
    organisations = get(canned[0], f"/{PUBLIC_NAME}/organisations").text
    assert re.search(r'>Cooperativa</a>\s*<small class="cotour-name">is_cooperative</small>',
                     organisations)


def test_findings_are_in_reading_order(canned):
    ds, public_path = canned
    dates = [r["date"] for r in rows(ds, f"/{PUBLIC_NAME}/findings.json")]
    assert ["2015-12-09"] * 7 + ["2015-12-10"] * 5 + ["2016-03-18"] == dates
    # The page: by event date, then note, then position in the note.
    starts = ["[[!alfa]] apre", "[[!beta]] gestisce", "Un fondo", "Un gruppo", "[[!beta]] teme",
              "[[!alfa]] vede", "Mancano fondi", "Un coworking", "Le sale", "[[!zeta]] non trova",
              "[[!zeta]] teme", "[[gamma]] e", "[[!alfa]] propone"]
    expected = [finding_of(public_path, s) for s in starts]
    assert expected == shown_ids(get(ds, f"/{PUBLIC_NAME}/findings").text)
    assert expected[5:10] == shown_ids(
        get(ds, f"/{PUBLIC_NAME}/findings?_size=5&_cotour_offset=5").text)
    first_five = get(ds, f"/{PUBLIC_NAME}/findings?_size=5").text
    next_page = re.search(r'<p class="cotour-next"><a href="([^"]+)">', first_five)[1]
    assert expected[5:10] == shown_ids(get(ds, next_page.replace("&amp;", "&")).text)


# -- readable cells, rows that link ---------------------------------------------------------

def test_mentions_and_tags_are_links(canned):
    ds, public_path = canned
    html = get(ds, f"/{PUBLIC_NAME}/findings?kind=practice").text
    assert ('<a title="ha sollevato il punto" class="cotour-mention cotour-source" '
            'href="/cotour/organisations/beta">Beta Lab APS</a> gestisce un orto condiviso con '
            '<a title="citata" class="cotour-mention" href="/cotour/organisations/alfa">Alfa Coop'
            '</a>. '
            '<a class="cotour-tag" href="/cotour/themes/agricoltura-sociale">Agricoltura sociale</a>'
            ) in html
    text = visible_text(html)
    assert "[[" not in text and "#agricoltura" not in text and "#spazi" not in text


def test_mentions_by_other_names_show_the_words_written(mini):
    html = get(mini, f"/{PUBLIC_NAME}/findings?kind=practice").text
    assert ('<a title="ha sollevato il punto" class="cotour-mention cotour-source" '
            'href="/cotour/organisations/il-mosaico">Mosaico</a> apre la sua sede') in html
    assert ('<a title="citata" class="cotour-mention" href="/cotour/organisations/orti-ribelli">'
            'gli Orti</a>') in html


def test_json_lists_are_labelled_links(canned):
    html = get(canned[0], f"/{PUBLIC_NAME}/findings?kind=threat&event_id=bologna-2015").text
    assert ('<td class="col-organisations type-str"><ul class="cotour-list">'
            '<li><a href="/cotour/organisations/gamma">Gamma Consorzio</a></li>'
            '<li><a href="/cotour/organisations/beta">Beta Lab APS</a></li></ul></td>') in html
    assert ('<td class="col-themes type-str"><ul class="cotour-list">'
            '<li><a href="/cotour/themes/finanza-mutualistica">Finanza mutualistica</a></li>'
            '</ul></td>') in html


def test_booleans_are_si_and_no(canned):
    html = get(canned[0], f"/{PUBLIC_NAME}/organisations?id__in=alfa,theta").text
    assert re.findall(r'<td class="col-is_cooperative type-int">(.*?)</td>', html) == ["sì", "no"]
    assert re.findall(r'<td class="col-mapped type-int">(.*?)</td>', html) == ["sì", "no"]


def facet(html, name):
    block = re.search(rf'data-column="{name}">(.*?)</ul>', html, re.S)[1]
    return re.findall(r'<li><a href="[^"]*">([^<]*)</a> (\d+)</li>', block)


def test_facets_show_labels(canned):
    html = get(canned[0], f"/{PUBLIC_NAME}/findings").text
    assert [("Finanza mutualistica", "6"), ("Spazi condivisi", "3"), ("Welfare di comunità", "2"),
            ("Agricoltura sociale", "1"), ("Coworking", "1")] == facet(html, "themes")
    # who raised a finding, beside any mention
    assert [("Alfa Coop", "3"), ("Beta Lab APS", "2"), ("Zeta Startup", "2")] \
        == facet(html, "source_organisations")
    assert [("Alfa Coop", "4"), ("Beta Lab APS", "3"), ("Zeta Startup", "2"),
            ("Gamma Consorzio", "1")] == facet(html, "organisations")
    organisations = get(canned[0], f"/{PUBLIC_NAME}/organisations").text
    assert [("sì", "7"), ("no", "1")] == facet(organisations, "mapped")


FINDINGS_FACETS = ["Tipo di risultato", "Tappa", "Provincia della tappa", "Temi",
                   "Profili di chi ha sollevato il punto",
                   "Organizzazioni che hanno sollevato il punto", "Organizzazioni citate"]


@pytest.mark.parametrize("query", ["province=BO", "_facet=province&province=BO",
                                   "_facet=province&_facet=kind&kind=threat"])
def test_a_facet_asked_for_again_shows_once(canned, query):
    """A column's menu adds ?_facet=province to a page whose metadata already facets it."""
    html = get(canned[0], f"/{PUBLIC_NAME}/findings?{query}").text
    assert FINDINGS_FACETS == re.findall(
        r'<p class="facet-info-name"><strong>([^<]*?)\s*<span', html)


def filter_value(html, n=1):
    """The value box of the n-th chosen filter: ("select", [(code, word, selected)…]) or
    ("input", typed value)."""
    select = re.search(rf'<select name="_filter_value_{n}"[^>]*>(.*?)</select>', html, re.S)
    if select:
        return "select", re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>',
                                    select[1])
    return "input", re.search(rf'<input type="text" name="_filter_value_{n}" '
                              r'class="filter-value" value="([^"]*)"', html)[1]


KINDS = [("practice", "Buone pratiche"), ("problem", "Problemi"),
         ("opportunity", "Opportunità"), ("threat", "Minacce"), ("strategy", "Strategie"),
         ("frustration", "Frustrazioni"), ("satisfaction", "Soddisfazioni"),
         ("proposal", "Proposte"), ("synergy", "Sinergie")]
PROVINCES = [("PC", "Piacenza"), ("PR", "Parma"), ("RE", "Reggio Emilia"), ("MO", "Modena"),
             ("BO", "Bologna"), ("FE", "Ferrara"), ("RA", "Ravenna"), ("FC", "Forlì-Cesena"),
             ("RN", "Rimini")]


@pytest.mark.parametrize("query, expected", [
    ("kind=threat", ("select", [(c, " selected" if c == "threat" else "", w) for c, w in KINDS])),
    ("province=BO", ("select", [(c, " selected" if c == "BO" else "", w)
                                for c, w in PROVINCES])),
    ("kind__not=practice", ("select", [(c, " selected" if c == "practice" else "", w)
                                       for c, w in KINDS])),
    # a code the vocabulary does not have stays as typed; so do other columns and operators
    ("kind=nope", ("input", "nope")),
    ("city=Parma", ("input", "Parma")),
    ("kind__contains=thr", ("input", "thr")),
])
def test_the_filter_box_shows_the_word_the_page_shows(canned, query, expected):
    html = get(canned[0], f"/{PUBLIC_NAME}/findings?{query}").text
    assert expected == filter_value(html)


def test_the_filter_box_with_a_word_filters_by_its_code(canned):
    """The form as the browser sends it: the option's value, the code."""
    sent = get(canned[0], f"/{PUBLIC_NAME}/findings?_filter_column_1=kind&_filter_op_1=exact"
                          "&_filter_value_1=threat")
    assert (302, f"/{PUBLIC_NAME}/findings?kind__exact=threat") == (sent.status_code,
                                                            sent.headers["location"])
    html = get(canned[0], sent.headers["location"]).text
    assert '<h3 class="cotour-count">4 righe dove Tipo di risultato = «Minacce»' in html


def test_an_empty_list_shows_as_nothing(canned):
    """Six findings of the fixture were raised by no one: their lists are empty, not []."""
    html = get(canned[0], f"/{PUBLIC_NAME}/findings?source_profiles=[]").text
    assert 6 == len(re.findall(r'<tr>', html.split("<tbody>")[1]))
    for column in ("source_profiles", "source_organisations"):
        cells = re.findall(rf'<td class="col-{column} type-str">(.*?)</td>', html, re.S)
        assert ["&nbsp;"] * 6 == cells, column
    # one of them mentions two organisations
    cells = re.findall(r'<td class="col-organisations type-str">(.*?)</td>', html, re.S)
    assert 5 == cells.count("&nbsp;") and 1 == sum("Gamma Consorzio" in c for c in cells)
    for path in ("findings", "hybrid_pairs", "notes", "initiatives", "organisations"):
        assert not re.search(r"<td[^>]*>\[\]</td>", get(canned[0], f"/{PUBLIC_NAME}/{path}"
                                                          "?_size=max").text), path


def test_a_findings_page_links_everything(canned):
    ds, public_path = canned
    finding = finding_of(public_path, "[[!beta]] gestisce")
    html = get(ds, f"/{PUBLIC_NAME}/findings/{finding}").text
    assert ('<p class="cotour-kind"><a href="/cotour/finding_kinds/practice">Buone pratiche</a>\n'
            '    · <a href="/cotour/events/parma-2015">Parma</a>, 9 dicembre 2015</p>') in html
    assert ('<dt>Nota</dt><dd><a href="/cotour/notes/parma-2015-tavolo">Tavolo di Parma</a>, '
            'voce n. 2</dd>') in html
    assert ('<a href="/cotour/organisations/beta">Beta Lab APS</a> <span class="cotour-role">'
            'ha sollevato il punto, emergente</span><br><a href="/cotour/organisations/alfa">'
            'Alfa Coop</a> <span class="cotour-role">citata, tradizionale</span>') in html
    assert ('<a class="cotour-tag" href="/cotour/themes/agricoltura-sociale">Agricoltura sociale'
            '</a>') in html
    assert ('<dt>Fonte</dt><dd><a href="/cotour/notes/parma-2015-tavolo"><code>'
            'notes/parma-2015/tavolo.md:11</code></a></dd>') in html


def section(html, heading):
    return re.search(rf"<h2>{heading}.*?</h2>(.*?)(?=<h2>|</section>)", html, re.S)[1]


def test_an_organisations_dossier(canned):
    ds, public_path = canned
    html = get(ds, f"/{PUBLIC_NAME}/organisations/alfa").text
    assert "<h1>Alfa Coop</h1>" in html
    assert ('<dt>Provincia <small class="cotour-name">province</small></dt><dd>'
            '<a href="/cotour/provinces/PR">Parma</a></dd>') in html
    link = f'<a href="/cotour/findings/{{}}">scheda</a>'
    raised = section(html, "Che cosa ha sollevato")
    assert [finding_of(public_path, s) for s in ("[[!alfa]] apre", "[[!alfa]] vede",
                                                 "[[!alfa]] propone")] \
        == re.findall(r'/cotour/findings/(\w+)">scheda', raised)
    assert [finding_of(public_path, "[[!beta]] gestisce")] \
        == re.findall(r'/cotour/findings/(\w+)">scheda', section(html, "Dove è citata"))
    assert ['<a href="/cotour/events/parma-2015">Parma</a>, 9 dicembre 2015: ha ospitato, '
            'ha partecipato, è citata',
            '<a href="/cotour/events/finale-2016">Bologna (incontro finale)</a>, 18 marzo 2016: '
            'è citata'] == re.findall(r"<li>(.*?)</li>", section(html, "Tappe"))
    assert ['<a href="/cotour/initiatives/rete-spazi">Rete degli spazi</a> (avviata)'] \
        == re.findall(r"<li>(.*?)</li>", section(html, "Nuove iniziative"))
    pairs = section(html, "Ibridazioni possibili")
    assert '<a href="/cotour/organisations/beta">Beta Lab APS</a> — collaborano già' in pairs
    assert link  # the finding links are checked above


def test_an_events_and_a_themes_page(canned):
    ds, _ = canned
    event = get(ds, f"/{PUBLIC_NAME}/events/bologna-2015").text
    assert ['<a href="/cotour/notes/bologna-2015-plenaria">Plenaria di Bologna</a> (plenaria, '
            '5 risultati)'] == re.findall(r"<li>(.*?)</li>", section(event, "Note"))
    assert ["Buone pratiche</a>: 2", "Problemi</a>: 1", "Minacce</a>: 2"] \
        == re.findall(r"(\w[\w ]*</a>: \d+)", section(event, "Risultati per tipo"))
    assert '<a href="/cotour/organisations/delta">Delta Srl</a>' in section(event, "Ospitata da")
    theme = get(ds, f"/{PUBLIC_NAME}/themes/spazi-condivisi").text
    assert ["Buone pratiche</a>: 2", "Proposte</a>: 1"] \
        == re.findall(r"(\w[\w ]*</a>: \d+)", section(theme, "Risultati per tipo"))
    assert '<a href="/cotour/themes/coworking">Coworking</a>' in section(theme, "Temi più specifici")
    assert '<a href="/cotour/organisations/alfa">Alfa Coop</a>' in section(
        theme, "Organizzazioni che lo dichiarano")


# -- search and canned queries --------------------------------------------------------------

def shown_ids(html):
    return re.findall(r'<td class="col-id type-pk"><a href="/cotour/findings/(\w+)">', html)


def test_search_is_ordered_by_relevance_with_the_usual_sort_available(sample_build, sample):
    ranked = [h.id for h in search(sample_build[1], "cooperativa", limit=1000,
                                   tables=("findings",))]
    assert len(ranked) > 60
    first = get(sample, f"/{PUBLIC_NAME}/findings?_search=cooperativa").text
    assert ranked[:50] == shown_ids(first)
    next_page = re.search(r'<p class="cotour-next"><a href="([^"]+)">', first)[1]
    assert ranked[50:100] == shown_ids(get(sample, next_page.replace("&amp;", "&")).text)
    by_id = get(sample, f"/{PUBLIC_NAME}/findings?_search=cooperativa&_sort=id").text
    assert sorted(ranked)[:50] == shown_ids(by_id)


def test_canned_query_says_which_value_is_unknown(canned):
    html = get(canned[0], f"/{PUBLIC_NAME}/pratiche_ricorrenti?tipo=minaccia").text
    assert ('<p class="message-error cotour-unknown">Tipo di risultato sconosciuto: «minaccia». '
            'Valori possibili: Buone pratiche, Problemi, Opportunità, Minacce, Strategie, '
            'Frustrazioni, Soddisfazioni, Proposte, Sinergie.</p>') in html
    html = get(canned[0], f"/{PUBLIC_NAME}/mappate_mai_presenti?provincia=Bologn").text
    assert "Provincia sconosciuta: «Bologn». Forse: Bologna." in html
    html = get(canned[0], f"/{PUBLIC_NAME}/risultati_con_due_organizzazioni?"
                          "organizzazione_1=Alfa+Coop&organizzazione_2=Beta+Lab").text
    assert "Organizzazione sconosciuta: «Beta Lab». Forse: Beta Lab APS." in html
    assert "sconosciut" not in get(canned[0], f"/{PUBLIC_NAME}/pratiche_ricorrenti?tipo=Minacce"
                                              ).text


def test_canned_query_offers_the_values_it_takes(canned):
    html = get(canned[0], f"/{PUBLIC_NAME}/organizzazioni_piu_citate?profilo=").text
    assert ('<datalist id="qp1-valori"><option value="emergente"><option value="tradizionale">'
            '</datalist>') in html


def test_canned_query_ids_are_links(canned):
    html = get(canned[0], f"/{PUBLIC_NAME}/pratiche_ricorrenti?tipo=").text
    assert ('<td class="col-tema_id"><a href="/cotour/themes/spazi-condivisi">spazi-condivisi</a>'
            '</td>') in html


# -- safe under load and abuse ---------------------------------------------------------------

@pytest.mark.parametrize("path", ["/nope", f"/{PUBLIC_NAME}/nope", f"/{PUBLIC_NAME}/findings/nope",
                                  f"/{PUBLIC_NAME}/findings.xyz", f"/{PUBLIC_NAME}.xyz",
                                  "/-/nope", f"/{PUBLIC_NAME}/findings/nope.json",
                                  "/nope.xyz", f"/{PUBLIC_NAME}/nonexistent/x",
                                  f"/{PUBLIC_NAME}/nonexistent/x.json", f"/{PUBLIC_NAME}/cerca/x",
                                  f"/{STAFF_NAME}/nonexistent/x"])
def test_unknown_paths_answer_404(canned, capfd, path):
    response = get(canned[0], path)
    assert 404 == response.status_code
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err and "╭" not in out + err


def test_the_favicon_is_found(canned):
    assert 200 == get(canned[0], "/favicon.ico").status_code


@pytest.mark.parametrize("path", [f"/{PUBLIC_NAME}/cerca", f"/{PUBLIC_NAME}/findings",
                                  f"/{PUBLIC_NAME}", "/", f"/{PUBLIC_NAME}/findings/x",
                                  f"/{STAFF_NAME}/cerca"])
def test_writes_answer_405(canned, capfd, path):
    response = post(canned[0], path, data={"testo": "x"})
    assert 405 == response.status_code
    assert "GET, HEAD" == response.headers["allow"]
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err and "╭" not in out + err


def test_bad_arguments_answer_400_in_italian_without_traceback(canned, capfd):
    response = get(canned[0], f"/{PUBLIC_NAME}/findings?_sort=nope")
    assert 400 == response.status_code
    assert "<h1>Richiesta non valida</h1>" in response.text
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err and "╭" not in out + err


CSP = ("default-src 'self'; img-src 'self' data: https://*.tile.openstreetmap.org; "
       "script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; connect-src 'self'; "
       "frame-src 'none'; frame-ancestors 'none'; object-src 'none'; base-uri 'self'; "
       "form-action 'self'")


@pytest.mark.parametrize("path", ["/", f"/{PUBLIC_NAME}/findings", f"/{PUBLIC_NAME}/findings",
                                  f"/{PUBLIC_NAME}/findings.json", f"/{PUBLIC_NAME}/nope",
                                  "/-/login", f"/{PUBLIC_NAME}/cerca?testo=bandi",
                                  "/-/metadata.json", f"/{STAFF_NAME}/notes"])
def test_content_security_policy_on_every_response(canned, path):
    assert CSP == get(canned[0], path).headers["content-security-policy"]


def test_external_images_are_blocked_and_reported(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(MINI, data)
    (data / "notes" / "parma-2015" / "foto.md").write_text(
        "---\nevent: parma-2015\ntitle: Con immagini\nkind: tavolo\n---\n"
        "Una foto: ![logo](https://tracker.example.com/pixel.gif?u=1)\n\n"
        "Una locale ![ok](assets/logo.png) e <img src=\"//cdn.example.net/x.png\"> inline.\n",
        encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", "--data", str(data)])
    note = data / "notes" / "parma-2015" / "foto.md"
    advice = ("readers' browsers would fetch it from that site, which then sees who reads the "
              "note (Datasette blocks it); put the image in data/assets/ or remove it")
    assert [f"{note}:6: warning: image from an external address "
            f"(https://tracker.example.com/pixel.gif?u=1): {advice}",
            f"{note}:8: warning: image from an external address (//cdn.example.net/x.png): "
            f"{advice}"] == [line for line in result.output.splitlines() if "image from" in line]


def test_anonymous_visitors_see_nothing_of_the_staff_database(canned):
    ds, _ = canned
    staff_path = str(ds.databases[STAFF_NAME].path)
    for path in ("/-/databases.json", "/-/metadata.json", "/-/databases", "/-/metadata"):
        text = get(ds, path).text
        assert STAFF_NAME not in text and staff_path not in text, path
        assert "staff_password_hash" not in text, path
        signed_in = get(ds, path, cookies=staff_cookie(ds)).text
        assert STAFF_NAME in signed_in, path
    assert [PUBLIC_NAME] == [d["name"] for d in get(ds, "/-/databases.json").json()]


def test_password_is_checked_off_the_event_loop_and_failures_are_limited(mini_build,
                                                                        monkeypatch):
    import threading

    import datasette_auth_passwords.utils as utils

    monkeypatch.setenv(PASSWORD_HASH_ENV, utils.hash_password("mutualità", iterations=1000))
    checked_on = []
    verify = utils.verify_password

    def recording(password, password_hash):
        checked_on.append(threading.current_thread() is threading.main_thread())
        return verify(password, password_hash)

    monkeypatch.setattr(utils, "verify_password", recording)
    ds = make_datasette(mini_build[1], staff_path=mini_build[0])
    assert [403] * 5 == [login(ds, f"wrong {i}").status_code for i in range(5)]
    refused = login(ds, "mutualità")  # right, but too late
    assert 429 == refused.status_code
    assert "Troppi tentativi falliti da questo indirizzo: riprova fra 10 minuti." in refused.text
    assert [False] * 5 == checked_on  # five checks, none on the loop's thread, none after


def test_anonymous_responses_are_cacheable_and_signed_in_ones_are_not(canned):
    ds, _ = canned
    first = get(ds, f"/{PUBLIC_NAME}/findings?kind=threat")
    again = get(ds, f"/{PUBLIC_NAME}/findings?kind=threat")
    assert "public, max-age=3600" == first.headers["cache-control"] == again.headers["cache-control"]
    assert first.text == again.text
    staff = get(ds, f"/{PUBLIC_NAME}/findings?kind=threat", cookies=staff_cookie(ds))
    assert "public" not in staff.headers.get("cache-control", "")
    assert "Accesso come" in staff.text and "Accesso come" not in first.text


def test_array_facet_sql_replaces_only_datasettes_array_facet():
    from kb.serve.facets import ArrayFacet, array_facet_sql

    # Datasette 0.65's array-facet query (datasette/facets.py, ArrayFacet.facet_results).
    datasette_sql = """
                with inner as ({sql}),
                deduped_array_items as (
                    select
                        distinct j.value,
                        inner.*
                    from
                        json_each([inner].{col}) j
                        join inner
                )
                select
                    value as value,
                    count(*) as count
                from
                    deduped_array_items
                group by
                    value
                order by
                    count(*) desc, value limit {limit}
            """
    whole = "select * from findings"
    filtered = "select * from findings where kind = :p0"
    assert ArrayFacet.FACET_SQL_ALL_ROWS.format(sql=whole, col="[themes]", limit=31) \
        == array_facet_sql(datasette_sql.format(sql=whole, col="[themes]", limit=31))
    assert ArrayFacet.FACET_SQL.format(sql=filtered, col="[themes]", limit=31) \
        == array_facet_sql(datasette_sql.format(sql=filtered, col="[themes]", limit=31))
    assert "select count(*) from findings" == array_facet_sql("select count(*) from findings")
