"""The rendered report read back, PDF text and HTML, against the public database: every quoted
or listed finding prints its own words, every key figure and indicator its SQL value, and no
template label, hex id or note syntax stands where the reader expects data and words.

The expected values come from SQL written here, not from the report's own code; the words of a
finding are compared after an independent reduction of its Markdown (mentions to the words
shown, tags dropped, punctuation and hyphens ignored)."""

import re
import sqlite3
import subprocess

import lxml.html
import pytest

# A finding's id as the database writes it (12 hex digits).
HEX_ID = re.compile(r"\b[0-9a-f]{12}\b")
# What the templates print as labels: never the words of a quote.
LABELS = {"il problema", "la minaccia", "la buona pratica", "la sinergia", "la proposta"}


def words(text: str, names: dict[str, str] | None = None) -> list[str]:
    """The words of a text as a reader compares them: a mention's shown words (an
    organisation's name where the mention is its id, from ``names``), no tags, no markup, no
    punctuation, hyphens (and line-end hyphenation) ignored, case folded."""
    text = re.sub(r"\[\[!?([^\]|]+)\|([^\]]+)\]\]", r"\2", text)
    text = re.sub(r"\[\[!?([^\]]+)\]\]", lambda m: (names or {}).get(m.group(1), m.group(1)), text)
    text = re.sub(r"(?<![\w/&])#[a-z][\w-]*", " ", text)
    text = re.sub(r"[\u00ad\u2010\u2011-]\s*\n\s*", "", text)  # a word broken at a line's end
    text = re.sub(r"[\u00ad\u2010\u2011-]", "", text)
    return re.findall(r"\w+", text.casefold().replace("’", "'"))


def contains(haystack: list[str], needle: list[str]) -> bool:
    if not needle:
        return False
    joined, part = " " + " ".join(haystack) + " ", " " + " ".join(needle) + " "
    return part in joined


def cls(name: str) -> str:
    """An XPath test for an element of class ``name``."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


def find(element, tag: str, name: str) -> list:
    """The descendants ``tag.name`` of ``element`` (lxml without cssselect)."""
    return element.xpath(f".//{tag}[{cls(name)}]")


def rows(public, sql, *args):
    conn = sqlite3.connect(public)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def one(public, sql, *args):
    return rows(public, sql, *args)[0][0]


@pytest.fixture(scope="module")
def read_back(sample_report):
    result, public = sample_report
    html = lxml.html.fromstring(result.html_path.read_bytes())
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(result.pdf_path), "-"],
                          capture_output=True, text=True, check=True).stdout
    pages = [re.sub(r"(?m)^.*(Co\?Tour · Rapporto finale|pagina \d+ di \d+).*$", "", p)
             for p in text.split("\f")]
    return result, public, html, pages


def body_pages(pages: list[str]) -> list[str]:
    """The pages before the annexes (the notes of the stops begin them)."""
    start = next(i for i, p in enumerate(pages[2:], 2)
                 if re.search(r"^A\s*\n+\s*Le note delle tappe", p, re.M))
    return pages[:start]


def finding_words(public, finding_id):
    names = dict(rows(public, "select id, name from organisations"))
    return words(one(public, "select text from findings where id = ?", finding_id), names)


def finding_of(href: str) -> str:
    return href.rstrip("/").rsplit("/", 1)[-1]


def test_every_finding_of_the_annex_prints_its_own_words(read_back):
    result, public, html, pages = read_back
    expected = dict(rows(public, "select f.id, f.text from findings f join events e "
                                 "on e.id = f.event_id where e.status = 'svolto'"))
    names = dict(rows(public, "select id, name from organisations"))
    printed = {li.get("id")[2:]: li for li in find(html, "li", "finding")}
    assert set(expected) == set(printed)
    pdf = words("\n".join(pages))
    for finding_id, text in expected.items():
        shown = find(printed[finding_id], "div", "finding-text")[0].text_content()
        assert words(text, names) == words(shown), finding_id
        assert contains(pdf, words(text, names)), finding_id
        # the reference the reader types links to the finding's own row
        link = find(printed[finding_id], "a", "finding-id")[0]
        assert (finding_id, finding_id) == (link.text, finding_of(link.get("href")))


@pytest.mark.parametrize("xpath", [f".//blockquote[{cls('pair-quote')}]",
                                   f".//ul[{cls('proposal-examples')}]/li"])
def test_every_quoted_finding_prints_its_own_words(read_back, xpath):
    result, public, html, pages = read_back
    quotes = html.xpath(xpath)
    assert quotes, xpath
    pdf = words("\n".join(body_pages(pages)))
    for quote in quotes:
        links = [a for a in quote.iter("a") if "/cotour/findings/" in (a.get("href") or "")]
        if not links:  # a practice already quoted for another pair, pointed to, not repeated
            assert "«" not in quote.text_content() and "la stessa" in quote.text_content()
            continue
        link = links[0]
        said = re.search(r"«(.+)»", quote.text_content(), re.S).group(1)
        assert said.strip().casefold() not in LABELS, said
        quoted = words(said.rstrip("…"))
        assert len(quoted) >= 3, said
        source = finding_words(public, finding_of(link.get("href")))
        # a quote is the finding's beginning, cut at a word when long
        assert quoted == source[:len(quoted)] or (said.endswith("…") and
                                                  quoted[:-1] == source[:len(quoted) - 1]), said
        assert contains(pdf, quoted[:-1] if said.endswith("…") else quoted), said


def test_key_figures_are_their_sql_values(read_back):
    result, public, html, pages = read_back
    held = "status = 'svolto'"
    met = f"""select n.event_id, np.organisation_id from note_participants np join notes n
              on n.id = np.note_id join events e on e.id = n.event_id where e.{held}
              union select f.event_id, fo.organisation_id from finding_organisations fo
              join findings f on f.id = fo.finding_id join events e on e.id = f.event_id
              where e.{held}
              union select h.event_id, h.organisation_id from event_hosts h
              join events e on e.id = h.event_id where e.{held}"""
    expected = {
        "tappe del tour svolte": one(public, f"select count(*) from events where {held} and kind = 'tappa'"),
        "province raggiunte": one(public, f"select count(distinct province) from events where {held}"),
        "organizzazioni mappate": one(public, "select count(*) from organisations where mapped"),
        "organizzazioni presenti agli incontri": one(public, f"select count(distinct organisation_id) from ({met})"),
        "presenze": one(public, f"select sum(attendance_persons) from events where {held}"),
        "risultati raccolti": one(public, "select count(*) from findings"),
        "nuove iniziative": one(public, "select count(*) from initiatives"),
        "coppie emergente–tradizionale": one(public, f"""
            select count(*) from (select distinct a.organisation_id, b.organisation_id
            from ({met}) a join ({met}) b on a.event_id = b.event_id
            join organisations oa on oa.id = a.organisation_id
            join organisations ob on ob.id = b.organisation_id
            where oa.profile = 'emergente' and ob.profile = 'tradizionale')"""),
    }
    shown = {find(box, "p", "figure-label")[0].text_content().replace("\u00a0", " "):
             find(box, "p", "figure-value")[0].text_content()
             for box in find(html, "div", "key-figure")}
    assert {label: str(n).replace(".", "") for label, n in expected.items()} == \
        {label: shown[label].replace(".", "") for label in expected}
    # the PDF's page of the key figures (pdftotext reads the two columns of cards apart)
    page = next(p for p in pages if "In sintesi" in p and "I messaggi chiave" in p)
    lines = {line.strip() for line in page.splitlines()}
    for label, n in expected.items():
        assert {label, f"{n:,}".replace(",", ".")} <= lines, label


def test_indicators_print_target_actual_and_difference(read_back):
    result, public, html, pages = read_back
    indicators = rows(public, "select label, target, actual, difference, unit, measure "
                              "from indicators order by objective_position, position")
    assert indicators
    table = [[" ".join(td.text_content().split()) for td in tr.xpath("th|td")]
             for tr in html.xpath(f".//table[{cls('indicators')}]/tbody/tr")]
    assert len(indicators) == len(table)
    for (label, target, actual, difference, unit, measure), cells in zip(indicators, table):
        assert cells[0].replace("’", "'").startswith(label.replace("’", "'"))
        if unit == "share":
            assert [f"{round(target * 100)}%", f"{round(actual * 100)}%"] == \
                [c.replace("\u00a0", "") for c in cells[1:3]]
        else:
            assert [str(int(target)), str(int(actual))] == [c.replace(".", "") for c in cells[1:3]]
        assert ("raggiunto" if actual >= target else "non raggiunto") == cells[4]


def test_no_machine_in_the_body(read_back):
    result, public, html, pages = read_back
    body = "\n".join(body_pages(pages))
    assert [] == HEX_ID.findall(body)
    assert "[[" not in body and not re.search(r"(?<![\w&/])#[a-z][\w-]+", body)
    for label in ("Plenaria Plenaria", "Intervista Intervista", "None", "{{", "«»"):
        assert label not in " ".join(" ".join(pages).split()), label
