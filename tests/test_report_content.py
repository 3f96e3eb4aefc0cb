"""The report's content pinned to answers worked out by hand: the synthesis tables and the
heat map's levels on the mini fixture, the counts of the prose against the database, the Italian
of the generated sentences, staff Markdown as staff write it."""

import re
import shutil
import sqlite3

import pytest

from kb.pipeline import build, check
from kb.report import report_data
from kb.report.corpus import level
from kb.report.words import long_date, name_with, names_with, on_date, period, sentence, the_share

from conftest import MINI

KINDS = ["Buone pratiche", "Problemi", "Opportunità", "Minacce", "Strategie", "Frustrazioni",
         "Soddisfazioni", "Proposte", "Sinergie"]


@pytest.fixture(scope="module")
def mini_data(mini_build):
    data, warnings = report_data(mini_build[0], MINI)
    return data


def cells(row):
    return [(c["n"], c["level"]) for c in row["cells"]]


# ---- the synthesis, by hand on tests/fixtures/mini
# Public findings: Parma (tavolo 1) 2 practices and 1 threat; Bologna (plenaria) 2 problems and
# 1 opportunity; the internal debriefing's frustration is left out. The darkest cell is 2.


def test_kinds_by_event(mini_data):
    ke = mini_data["sintesi"]["kinds_events"]
    assert [("parma-2015", "Parma", 3), ("bologna-2015", "Bologna", 3)] == \
        [(c["id"], c["city"], c["total"]) for c in ke["columns"]]
    # level = min(4, 1 + int(3 n / top)): 2 of 2 -> 4, 1 of 2 -> 2, nothing -> 0
    expected = [("Buone pratiche", 2, [(2, 4), (0, 0)]), ("Problemi", 2, [(0, 0), (2, 4)]),
                ("Opportunità", 1, [(0, 0), (1, 2)]), ("Minacce", 1, [(1, 2), (0, 0)])]
    expected += [(k, 0, [(0, 0), (0, 0)]) for k in KINDS[4:]]
    assert expected == [(r["label"], r["total"], cells(r)) for r in ke["rows"]]
    assert 6 == ke["total"]


def test_themes_by_province(mini_data):
    tp = mini_data["sintesi"]["themes_provinces"]
    assert ["Parma", "Bologna"] == [c["name"] for c in tp["columns"]]
    # the darkest cell is 1: every tagged cell is level 4; the themes of most provinces first,
    # then of most findings, then by name
    assert [("Finanza mutualistica", 2, 2, [(1, 4), (1, 4)]),
            ("Spazi condivisi", 2, 2, [(1, 4), (1, 4)]),
            ("Coworking", 1, 1, [(0, 0), (1, 4)]),
            ("Welfare di comunità", 1, 1, [(1, 4), (0, 0)])] == \
        [(r["label"], r["total"], r["spread"], cells(r)) for r in tp["rows"]]


def test_emerging_and_traditional_compared(mini_data):
    # Sources: Kilowatt (emerging) a problem on Finanza mutualistica, Orti Ribelli (emerging) a
    # threat on the same theme, the Mosaico (traditional) a practice on Spazi condivisi.
    pr = mini_data["sintesi"]["profiles"]
    assert {"emergente": 2, "tradizionale": 1} == pr["totals"]
    assert [("Buone pratiche", 0, 1), ("Problemi", 1, 0), ("Minacce", 1, 0)] == \
        [(r["label"], r["emergente"], r["tradizionale"]) for r in pr["kinds"]]
    assert ([], ["Finanza mutualistica"], ["Spazi condivisi"]) == \
        (pr["common"], pr["only_emerging"], pr["only_traditional"])


def test_heat_map_levels():
    top = 12
    assert [0, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4] == [level(n, top) for n in range(13)]
    assert [0, 0] == [level(0, 0), level(3, 0)]


RECURRING_NOTE = """---
event: bologna-2015
title: Tavolo B — Spazi
kind: tavolo
participants: [kilowatt, il-mosaico]
---
## Buone pratiche
- [[!kilowatt]] apre il suo coworking la sera. #spazi-condivisi
- [[!il-mosaico]] presta la sala il sabato. #spazi-condivisi

## Minacce
- [[!il-mosaico]] teme la fine dei fondi. #finanza-mutualistica
"""


def test_recurring_practices_and_threats(tmp_path):
    # Added to the mini fixture in Bologna: two practices on Spazi condivisi (Parma had one)
    # and a threat on Finanza mutualistica (Parma had one): each recurs in 2 provinces.
    data_dir = tmp_path / "data"
    shutil.copytree(MINI, data_dir)
    (data_dir / "notes" / "bologna-2015" / "tavolo-b.md").write_text(RECURRING_NOTE, encoding="utf-8")
    built = build(data_dir, tmp_path / "cotour.db")
    data, _ = report_data(built.db_path, data_dir)
    recurring = {g["kind"]: [(i["theme"], i["provinces"], i["count"], [f["city"] for f in i["findings"]])
                             for i in g["items"]] for g in data["sintesi"]["recurring"]}
    assert {"practice": [("Spazi condivisi", ["Parma", "Bologna"], 3, ["Bologna", "Bologna", "Parma"])],
            "threat": [("Finanza mutualistica", ["Parma", "Bologna"], 2, ["Bologna", "Parma"])]} == \
        {k: [(t, p, n, sorted(c)) for t, p, n, c in v] for k, v in recurring.items()}
    # What the recurrence concludes: of the 4 themes, one recurs per kind, in both provinces;
    # Welfare di comunità's practice stays in Parma (Coworking has neither kind).
    assert ("Un solo tema su 4 raccoglie buone pratiche in più di una provincia; «Spazi "
            "condivisi» in entrambe le province toccate dal tour; resta in una sola provincia "
            "«Welfare di comunità» (Parma). Un solo tema su 4 raccoglie minacce in più di una "
            "provincia; «Finanza mutualistica» in entrambe le province toccate dal tour.") \
        == data["sintesi"]["recurring_reading"]["text"]
    pr = data["sintesi"]["profiles"]
    # now both profiles raised points on both themes
    assert (["Finanza mutualistica", "Spazi condivisi"], [], []) == \
        (pr["common"], pr["only_emerging"], pr["only_traditional"])


# ---- every count of the prose from the database


def html_text(result_html: str) -> str:
    body = re.sub(r"<(style|title)\b.*?</\1>", " ", result_html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", body).replace("\u00a0", " ").split())


def test_prose_counts_agree_with_the_database(sample_report):
    result, public_path = sample_report
    text = html_text(result.html_path.read_text(encoding="utf-8"))
    conn = sqlite3.connect(public_path)
    one = lambda sql: conn.execute(sql).fetchone()[0]
    held_stops = one("select count(*) from events where status = 'svolto' and kind = 'tappa'")
    stop_cities = one("select count(distinct city) from events where status = 'svolto' and kind = 'tappa'")
    finals = one("select count(*) from events where status = 'svolto' and kind = 'finale'")
    mapped = one("select count(*) from organisations where mapped")
    others = one("select count(*) from organisations where not mapped")
    assert (8, 8, 1) == (held_stops, stop_cities, finals)  # the sample's calendar, for the reader
    assert f"il tour ha fatto tappa in {stop_cities} capoluoghi" in text
    assert f"durante le {held_stops} tappe e l’incontro finale" in text
    assert f"La prima fase ha mappato {mapped} organizzazioni" in text
    assert (f"la mappatura delle organizzazioni ({mapped} organizzazioni, a cui si aggiungono "
            f"{others} incontrate per la prima volta durante il tour)") in text
    held = one("select count(*) from events where status = 'svolto'")
    assert f"Il calendario conta {one('select count(*) from events')} incontri: {held} incontri svolti" in text
    assert f"Le note pubbliche sono {one('select count(*) from notes')}" in text
    assert f"ogni punto è un risultato, in tutto {one('select count(*) from findings')}" in text
    persons = one("select sum(attendance_persons) from events where status = 'svolto'")
    assert f"Gli incontri svolti hanno contato in tutto {persons} presenze" in text
    assert "persone (" not in text  # presences are not persons
    # every number before "tappe svolte", "capoluoghi" or "incontri svolti" is one of these
    for number, what in re.findall(r"(\d+) (tappe svolte|capoluoghi|incontri svolti)", text):
        assert int(number) == {"tappe svolte": held_stops, "capoluoghi": stop_cities,
                               "incontri svolti": held_stops + finals}[what], (number, what)


def test_a_city_with_two_events_is_told_apart(sample_report):
    # Bologna hosted the stop of 10 December and the final meeting: the tour's reading says
    # which one had the most findings.
    result, public_path = sample_report
    text = html_text(result.html_path.read_text(encoding="utf-8"))
    conn = sqlite3.connect(public_path)
    top = conn.execute("""select e.kind, e.city, e.date, count(*) n from findings f join events e
                          on e.id = f.event_id group by e.id order by n desc, e.date limit 1""").fetchone()
    where = ("all’incontro finale di Bologna" if top[0] == "finale" else
             f"alla tappa di {top[1]} {on_date('di', top[2])}" if top[1] == "Bologna" else f"a {top[1]}")
    assert re.search(rf"dei quali {re.escape(where)}\.", text), where
    assert "dei quali a Bologna." not in text


# ---- Italian


@pytest.mark.parametrize("name, expected", [
    ("Cooperativa Sociale Il Mosaico", "dalla Cooperativa Sociale Il Mosaico"),
    ("Consorzio Terre del Po", "dal Consorzio Terre del Po"),
    ("Associazione Mura Vive", "dall’Associazione Mura Vive"),
    ("Spazio Ventitré", "dallo Spazio Ventitré"),
    ("Orti Ribelli APS", "dagli Orti Ribelli APS"),
    ("I ragazzi di Bobbio", "dai ragazzi di Bobbio"),
    ("Kilowatt Soc. Coop", "da Kilowatt Soc. Coop"),
    ("Irecoop Emilia Romagna", "da Irecoop Emilia Romagna"),
    ("Il Mosaico", "dal Mosaico"),
    ("L’Orto di Via Roma", "dall’Orto di Via Roma"),
])
def test_prepositions_join_the_article_of_a_name(name, expected):
    assert expected == name_with("da", name)


def test_italian_dates_and_sentences():
    assert "1º novembre 2015" == long_date("2015-11-01")
    assert "dal 1º novembre 2015 al 31 marzo 2016" == period("2015-11-01", "2016-03-31")
    assert "dall’8 dicembre 2015" == on_date("da", "2015-12-08")
    assert "l’11 dicembre 2015" == on_date("", "2015-12-11")
    assert "dalla Cooperativa X e da Kilowatt" == names_with("da", ["Cooperativa X", "Kilowatt"])
    assert "Mutua Freelance Soc. Coop." == sentence("Mutua Freelance Soc. Coop.")
    assert "Fine." == sentence("Fine")
    assert ["l’8%", "l’11%", "il 13%", "l’80%"] == \
        [the_share(n, 100) for n in (8, 11, 13, 80)]


def test_no_plural_after_one_and_agreement(sample_report):
    result, _ = sample_report
    text = html_text(result.html_path.read_text(encoding="utf-8"))
    assert not re.search(r"(?<![\d,.])1 (emergenti|tradizionali|risultati|organizzazioni|temi|punti|province|tappe|note)\b", text)
    assert not re.search(r"\bSollevat[oa] da (Cooperativa|Consorzio|Fondazione|Associazione|Coworking)\b", text)
    assert not re.search(r"\b(dal|al|il) 1 (gennaio|febbraio|marzo|aprile|maggio|giugno|luglio|"
                         r"agosto|settembre|ottobre|novembre|dicembre)\b", text)
    assert "incontro finale svolta" not in text and not re.search(r"\.\.(?!\.)", text)


# ---- staff Markdown

STAFF = """Un testo con una tabella:

| Tappa | Persone |
|---|--:|
| Parma | 30 |

e una nota[^1] e <b>HTML</b>.

![logo](logo.svg "Il logo del progetto")

| questa | non è una tabella |
| manca la riga | dei trattini |

![mancante](foto-che-non-c-e.jpg)

[^1]: La nota a piè di pagina.
"""


def test_staff_markdown_as_staff_write_it(tmp_path):
    data_dir = tmp_path / "data"
    shutil.copytree(MINI, data_dir)
    (data_dir / "assets").mkdir()
    (data_dir / "assets" / "logo.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', encoding="utf-8")
    (data_dir / "report").mkdir()
    (data_dir / "report" / "conclusioni.md").write_text(STAFF, encoding="utf-8")
    (data_dir / "report" / "conclusione.md").write_text("Refuso nel nome.\n", encoding="utf-8")
    result = check(data_dir)
    path = data_dir / "report" / "conclusioni.md"
    assert [
        f"{data_dir / 'report' / 'conclusione.md'}:1: warning: 'conclusione' is not a text the "
        "report uses: it is left out (known names: sintesi, introduzione, metodo, conclusioni, "
        "raccomandazioni, ringraziamenti, mappatura-province, mappatura-forme-giuridiche, mappatura-profili, mappatura-temi, tour, "
        "sintesi-tipi, sintesi-temi-province, sintesi-ricorrenze, sintesi-profili, iniziative, "
        "ibridazioni-rete)",
        f"{path}:7: warning: HTML '</b>' is shown as text, not as HTML; write it in Markdown",
        f"{path}:7: warning: HTML '<b>' is shown as text, not as HTML; write it in Markdown",
        f"{path}:11: warning: these lines look like a table but are not one: a table needs a "
        "header row, then a line like |---|---|",
        f"{path}:14: warning: image 'foto-che-non-c-e.jpg' is not in data/assets/: the report "
        "shows its description instead",
    ] == [str(d) for d in result.diagnostics.sorted() if d in result.diagnostics.warnings]
    built = build(data_dir, tmp_path / "cotour.db")
    data, _ = report_data(built.db_path, data_dir)
    html = str(data["sintesi"]["conclusions"])
    assert '<div class="table-scroll"><table class="staff-table">' in html
    assert '<th scope="col">Tappa</th>' in html and '<td style="text-align:right">30</td>' in html
    assert 'class="footnote-ref"' in html and "La nota a piè di pagina." in html
    assert re.search(r'<figure class="staff-figure"><img src="data:image/svg\+xml;base64,[^"]+" '
                     r'alt="logo"><figcaption>Il logo del progetto</figcaption></figure>', html)
    assert "&lt;b&gt;HTML&lt;/b&gt;" in html


def test_the_printed_tables_keep_their_columns(mini_data):
    # The same answers, as the template prints them: a swapped column must fail here too.
    from kb.report.render import render_editions

    printed, _ = render_editions(mini_data)
    compare = re.search(r'<table class="themes-compare">(.*?)</table>', printed, re.S).group(1)
    headers = re.findall(r"<th[^>]*>([^<]+)</th>", compare)
    cells = [" ".join(c.split()) for c in re.findall(r"<td>(.*?)</td>", compare, re.S)]
    assert [("Temi sollevati da entrambi", "nessuno"),
            ("Solo dagli emergenti", "Finanza mutualistica"),
            ("Solo dai tradizionali", "Spazi condivisi")] == list(zip(headers, cells))
    rows = re.search(r'<caption>Risultati per tipo e tappa</caption>(.*?)</table>', printed, re.S).group(1)
    assert ('<tr><th scope="row">Buone pratiche</th><td class="num level-4">2</td>'
            '<td class="num level-0">·</td><td class="num total">2</td></tr>') in rows
    assert ('<tr class="total"><th scope="row">Totale</th><td class="num">3</td>'
            '<td class="num">3</td><td class="num total">6</td></tr>') in rows
