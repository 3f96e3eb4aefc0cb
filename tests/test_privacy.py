"""No person's name reaches a public output: every public text is checked, however the name is
broken or spelt, and staff can name someone on purpose only by saying so."""

import shutil
import sqlite3
from pathlib import Path

import pytest

from kb.normalise.privacy import Names
from kb.domain.syntax import name_key
from kb.pipeline import build, check
from kb.store.public import PrivacyError, derive_public

from conftest import MINI

NOTE = "notes/parma-2015/tavolo-1.md"  # facilitator: Maria Rossi
NO_TITLE = "the facilitator 'Maria Rossi' is named in a public note: personal names stay out " \
           "of public outputs (or mark the note visibility: internal)"
PUBLISHED = "the facilitator 'Maria Rossi' is named in a text that is published: personal " \
            "names stay out of public outputs"


@pytest.fixture
def data(tmp_path):
    shutil.copytree(MINI, tmp_path / "data")
    return tmp_path / "data"


def _edit(data: Path, name: str, old: str, new: str) -> None:
    path = data / name
    text = path.read_text()
    assert old in text, (name, old)
    path.write_text(text.replace(old, new, 1))


def errors(data: Path) -> list[str]:
    return [str(d).replace(f"{data}/", "") for d in check(data).diagnostics.sorted()]


@pytest.mark.parametrize("name, old, new, expected", [
    # How a name hides in a note's text: each is still the facilitator's name.
    (NOTE, "Clima disteso, molte domande.", "Clima disteso, grazie a Maria\nRossi.",
     [f"{NOTE}:19: error: {NO_TITLE}"]),
    (NOTE, "Clima disteso, molte domande.", "Clima disteso, grazie a Ma\u00adria Ros\u00adsi.",
     [f"{NOTE}:19: error: {NO_TITLE}"]),
    (NOTE, "Clima disteso, molte domande.", "Grazie a Maria\u200b\u00a0Rossi.",
     [f"{NOTE}:19: error: {NO_TITLE}"]),
    (NOTE, "Clima disteso, molte domande.", "Grazie a MARÌA ROSSÌ.",
     [f"{NOTE}:19: error: {NO_TITLE}"]),
    (NOTE, "Clima disteso, molte domande.", "Grazie a Maria\u2060Rossi e Maria-Rossi.",
     [f"{NOTE}:19: error: {NO_TITLE}"]),
    (NOTE, "  Il venerdì la sala", "  Il venerdì (con Maria\n  Rossi) la sala",
     [f"{NOTE}:12: error: {NO_TITLE}"]),
    # Not the name: a word that holds it, or a part of it.
    (NOTE, "Clima disteso, molte domande.", "Clima disteso: Mariarossi, Maria, Rossini.", []),
])
def test_a_name_in_a_public_note_however_written(data, name, old, new, expected):
    _edit(data, name, old, new)
    assert expected == [e for e in errors(data) if "error" in e]


@pytest.mark.parametrize("name, old, new, line", [
    ("project.yaml", "subtitle: Rapporto finale dei risultati",
     "subtitle: Rapporto di Maria Rossi", 2),
    ("project.yaml", "illustrative: true", "illustrative: true\ncontact: maria.rossi@example.org",
     13),
    ("project.yaml", "keywords: [mutualità, cooperazione]", "keywords: [mutualità, Rossi Maria,"
                                                             " maria rossi]", 4),
    ("organisations.csv", '"Spazi, servizi e progetti"', '"Fondata da Maria Rossi"', 2),
    ("organisations.csv", "Orti Ribelli APS,,", "Orti Ribelli APS,Orti di Maria Rossi,", 4),
    ("events.yaml", "  status: svolto\n  attendance", "  status: svolto\n  venue: Casa di "
                                                       "Maria\n    Rossi\n  attendance", 7),
    ("initiatives.yaml", "title: Rete degli spazi condivisi", "title: Rete di Maria Rossi", 2),
    ("themes.yaml", "  label: {it: Spazi condivisi, en: Shared spaces}",
     "  label: {it: Spazi condivisi, en: Shared spaces}\n  description: voluta da Maria Rossi",
     3),
])
def test_a_name_in_any_published_text(data, name, old, new, line):
    _edit(data, name, old, new)
    assert [f"{name}:{line}: error: {PUBLISHED}"] == [e for e in errors(data)
                                                      if e.startswith(name)]


def test_a_name_in_a_file_name_and_the_rename_to_make(data):
    (data / NOTE).rename(data / "notes/parma-2015/tavolo-maria-rossi.md")
    assert [
        "notes/parma-2015/tavolo-maria-rossi.md:1: error: the facilitator 'Maria Rossi' is "
        "named in the file name, which becomes the note's public id and path: rename the file, "
        "e.g. to 'tavolo.md'"] == errors(data)


def test_a_name_from_another_note_even_an_internal_one(data):
    debriefing = (data / "notes/bologna-2015/debriefing.md").read_text()
    assert "visibility: internal" in debriefing
    _edit(data, "notes/bologna-2015/debriefing.md", "visibility: internal",
          "visibility: internal\ninterviewees: [Ugo Neri]")
    text = (data / "notes/bologna-2015/plenaria.md").read_text()
    (data / "notes/bologna-2015/plenaria.md").write_text(text + "\nHa parlato Ugo Neri.\n")
    n = text.count("\n") + 2
    assert [f"notes/bologna-2015/plenaria.md:{n}: error: the interviewee 'Ugo Neri' is named "
            "in a public note: personal names stay out of public outputs (or mark the note "
            "visibility: internal)"] == errors(data)


def test_staff_prose_and_allow_names(data, tmp_path):
    (data / "report").mkdir()
    thanks = data / "report" / "ringraziamenti.md"
    thanks.write_text("Grazie a Maria Rossi, che ha facilitato il tavolo di Parma.\n")
    assert ["report/ringraziamenti.md:1: error: the facilitator 'Maria Rossi' is named in a "
            "staff text, which is published: to name this person on purpose, list the name "
            "under 'allow_names:' in the text's front matter (see docs/staff/privacy.md)"] == errors(data)
    thanks.write_text("---\nallow_names: [maria rossi, Ugo Neri]\n---\n"
                      "Grazie a Maria Rossi, che ha facilitato il tavolo di Parma.\n")
    assert [
        "report/ringraziamenti.md:2: warning: allow_names: 'Ugo Neri' is not a name from a "
        "personal field named in this text; remove it",
        "report/ringraziamenti.md:2: warning: the facilitator 'Maria Rossi' is named on purpose "
        "(allow_names): this text publishes the name",
    ] == errors(data)
    # Allowed in that text only.
    (data / "report" / "introduzione.md").write_text("Con Maria Rossi.\n")
    assert "report/introduzione.md:1: error: the facilitator 'Maria Rossi'" in "\n".join(
        errors(data))
    (data / "report" / "introduzione.md").unlink()
    result = build(data, tmp_path / "out" / "cotour.db")
    conn = sqlite3.connect(result.public_path)
    # The front matter is not part of the text; the name is there, because staff said so.
    assert [("Grazie a Maria Rossi, che ha facilitato il tavolo di Parma.\n",)] == conn.execute(
        "select text from documents where id = 'ringraziamenti'").fetchall()
    conn.close()


def test_the_public_database_refuses_names_in_ids_and_paths(mini_build, tmp_path):
    """Whatever the checks let through: a knowledge base whose public note ids hold a name."""
    kb = tmp_path / "kb.db"
    shutil.copy(mini_build[0], kb)
    conn = sqlite3.connect(kb)
    with conn:
        conn.execute("update notes set rapporteur = 'Tavolo Uno' where id = 'parma-2015-tavolo-1'")
        conn.execute("update notes set id = 'parma-2015-tavolo-uno', "
                     "source_path = 'notes/parma-2015/tavolo-uno.md' "
                     "where id = 'parma-2015-tavolo-1'")
    conn.close()
    with pytest.raises(PrivacyError) as caught:
        derive_public(kb, tmp_path / "public.db")
    assert (f"{kb}: error: the public database would carry personal names in its ids and paths "
            "('parma-2015-tavolo-uno' names 'Tavolo Uno'; 'notes/parma-2015/tavolo-uno.md' "
            "names 'Tavolo Uno'); run 'cotour check' and rename those files") == str(caught.value)
    assert not (tmp_path / "public.db").exists()


def test_name_matching():
    names = Names([("facilitator", "Maria Rossi"), ("interviewees", "Anna")])
    assert "maria rossi" == name_key("Ma\u00adria\u200b\u00a0\nRÓSSI")
    assert ["anna", "maria rossi"] == names.keys_in("anna e MARIA\u2009rossi")
    assert [] == names.keys_in("Annamaria Rossini")
    assert [(3, "Maria Rossi")] == [(h.line, h.name) for h in names.find(
        "uno\ndue\ngrazie Maria\nRossi\n", first_line=1)]


@pytest.mark.parametrize("front", [
    "facilitator: Maria Rossi", "facilitator: D'Angelo Ugo", "interviewees: [Anna Neri, Ugo]",
    "interviewees: [Anna Neri]\nrapporteur: Luca", 'facilitator: "Maria, Rossi"',
    "facilitator: yes", "interviewees:\n  - Anna Neri\n  - Ugo Bassi", "facilitator: Zoë Müller",
    "facilitator: Maria Rossi # a comment", "rapporteur: [Anna, 12]", "facilitator:   Ugo   Bassi  ",
])
def test_personal_fields_read_fast_as_yaml_reads_them(tmp_path, front):
    """The names gathered before the notes are normalised (most front matters without YAML)
    are those YAML gives."""
    from kb.diagnostics import Diagnostics
    from kb.normalise.privacy import _people
    from kb.normalise.privacy import _people_of
    from kb.ingest.notes import NoteFile, read_note
    path = tmp_path / "n.md"
    path.write_text(f"---\nevent: parma-2015\n{front}\ntitle: T\n---\nTesto.\n")
    note = NoteFile(path, "notes/parma-2015/n.md", "parma-2015")
    raw = read_note(note, Diagnostics())
    expected = [(k, n) for k, ns in _people(raw.meta, "n.md", Diagnostics()).items() for n in ns]
    assert sorted(expected) == sorted(_people_of(note))
