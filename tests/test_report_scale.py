"""The report of a large corpus: its body keeps a readable length (the calendar by province,
the initiatives furthest along, a few quotes per pair, the rest counted), and the volumes of the
stops, laid out by worker processes that read one stop at a time, say what the report's own
reading of the corpus says.

Expected values come from SQL written here, independently of the report's code.
"""

import sqlite3
import sys
from collections import Counter
from pathlib import Path

import pytest

from kb.pipeline import build
from kb.report.chapters import ibridazioni as hybrid_chapter
from kb.report.chapters import iniziative as initiatives_chapter
from kb.report.chapters import tour as tour_chapter
from kb.report.chapters.tappe import stop_chapter
from kb.report.corpus import Corpus
from kb.report.volumes import StopSource
from kb.report.words import join_some

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import generate  # noqa: E402

from conftest import SAMPLE  # noqa: E402

# More events than the calendar lists one by one, more initiatives than the chapter describes.
WIDE = {"events": 60, "organisations": 90, "notes": 150, "findings": 900, "initiatives": 30}


@pytest.fixture(scope="module")
def wide(tmp_path_factory):
    folder = tmp_path_factory.mktemp("wide")
    generate.SIZES["wide"] = WIDE
    try:
        generate.generate(folder / "data", "wide", seed=11)
    finally:
        del generate.SIZES["wide"]
    built = build(folder / "data", folder / "cotour.db")
    return built.public_path


@pytest.fixture(scope="module")
def sample_public(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sample")
    return build(SAMPLE, folder / "cotour.db").public_path


def query(db: Path, sql: str, *params) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def test_join_some_names_the_first_and_counts_the_rest():
    assert "a, b e c" == join_some(["a", "b", "c"], 3, "altro", "altri")
    assert "a, b, c e 1 altro" == join_some(["a", "b", "c", "d"], 3, "altro", "altri")
    assert "a, b, c e 3 altri" == join_some(list("abcdef"), 3, "altro", "altri")


@pytest.mark.parametrize("which", ["sample_public", "wide"])
def test_a_volume_reads_its_stop_as_the_report_does(request, which):
    # The worker's source reads one stop at a time from SQL; the chapter it gives is the one the
    # whole corpus gives, for every held event (whole dictionaries compared).
    public = request.getfixturevalue(which)
    corpus, source = Corpus(public, None), StopSource(public)
    held = [e for e in corpus.events if e["status"] == "svolto"]
    assert held
    for event in held:
        expected = stop_chapter(corpus, event, links=False)
        assert expected == stop_chapter(source, source.load(event["id"]), links=False)


def test_a_volume_prints_plain_words_and_no_link(sample_public):
    corpus = Corpus(sample_public, None)
    event = next(e for e in corpus.events if e["id"] == "parma-2015")
    linked, plain = stop_chapter(corpus, event), stop_chapter(corpus, event, links=False)
    html = lambda chapter: "".join(str(i["html"]) for g in chapter["kinds"] for i in g["items"])
    assert '<a class="org' in html(linked)
    assert "<a " not in html(plain)


def test_a_wide_calendar_is_told_by_province(wide):
    chapter = tour_chapter.chapter(Corpus(wide, None))
    assert [] == chapter["rows"]
    expected = query(wide, """
        select coalesce(p.name, e.province),
               sum(e.status = 'svolto'), sum(e.status != 'svolto'),
               sum(case when e.status = 'svolto' then coalesce(e.attendance_persons, 0) end),
               sum(case when e.status = 'svolto' then
                   (select count(*) from notes n where n.event_id = e.id) else 0 end),
               sum(case when e.status = 'svolto' then
                   (select count(*) from findings f where f.event_id = e.id) else 0 end)
        from events e left join provinces p on p.id = e.province
        group by e.province order by p.position""")
    got = [(r["province"], r["held"], r["not_held"], r["persons"], r["notes"], r["findings"])
           for r in chapter["by_province"]]
    assert expected == got
    assert len(got) > 1 and sum(r[1] + r[2] for r in got) == WIDE["events"]


def test_the_initiatives_furthest_along_are_described(wide):
    chapter = initiatives_chapter.chapter(Corpus(wide, None))
    assert WIDE["initiatives"] == chapter["total"]
    rows = query(wide, """
        select i.title, i.status,
               (select count(*) from initiative_organisations o where o.initiative_id = i.id
                  and o.organisation_id is not coalesce(i.lead_id, ''))
               + (i.lead_id is not null)
        from initiatives i""")
    rank = {"conclusa": 0, "avviata": 1, "proposta": 2}
    chosen = sorted(rows, key=lambda r: (rank[r[1]], -r[2], r[0].casefold()))
    chosen = sorted((r[0] for r in chosen[:initiatives_chapter.INITIATIVES_SHOWN]),
                    key=str.casefold)
    assert chosen == [i["title"] for i in chapter["items"]]


def test_a_pair_quotes_a_few_answers_and_counts_the_others(wide, monkeypatch):
    corpus = Corpus(wide, None)
    whole = {}
    real_answers = hybrid_chapter.answers

    def every_answer(c, pair, quoted_before=None):
        found = real_answers(c, pair, quoted_before)
        whole[pair["id"]] = len(found)
        return found

    monkeypatch.setattr(hybrid_chapter, "answers", every_answer)
    # this small corpus's pairs have two or three answers and meetings: caps of one show both
    monkeypatch.setattr(hybrid_chapter, "ANSWERS_SHOWN", 1)
    monkeypatch.setattr(hybrid_chapter, "MEETINGS_NAMED", 1)
    chapter = hybrid_chapter.chapter(corpus)
    pairs = chapter["answered"] + chapter["others"] + chapter["realised"]
    assert any(whole[p["id"]] > 1 for p in pairs)
    assert any(len(p["shared_events"]) > 1 for p in pairs)
    for p in pairs:
        shown = min(whole[p["id"]], hybrid_chapter.ANSWERS_SHOWN)
        assert (shown, whole[p["id"]] - shown) == (len(p["answers"]), p["more_answers"])
        met = len(p["shared_events"])
        if met > hybrid_chapter.MEETINGS_NAMED:
            more = met - hybrid_chapter.MEETINGS_NAMED
            assert f" e {more} altr{'o incontro' if more == 1 else 'i incontri'}." in p["meeting"]


def test_the_body_of_a_wide_corpus_names_no_stop_list(wide):
    # every sentence of the body that names stops names at most a handful
    from kb.report import report_data

    data, _ = report_data(wide, annex_budget=None)
    for item in data["raccomandazioni"]["items"]:
        assert item["where"].count(",") < 6 + 1
    counts = Counter(len(i["organisations"]) for i in data["iniziative"]["items"])
    assert max(counts) <= initiatives_chapter.PARTNERS_NAMED + 1
