"""No person's name reaches a public output: every public text is checked, however the name is
broken or spelt, and staff can name someone on purpose only by saying so."""

import shutil
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


def test_the_last_guard_judges_surnames_as_check_does(mini_build, tmp_path):
    """A distinctive surname alone in a public id is refused; one that is also a word is not
    (ids are lower case: 'costa' there is the word)."""
    kb = tmp_path / "kb.db"
    shutil.copy(mini_build[0], kb)
    conn = sqlite3.connect(kb)
    with conn:
        conn.execute("update notes set interviewees = '[\"Elena Costa\", \"Ermes Pelagatti\"]' "
                     "where id = 'bologna-2015-debriefing'")
        conn.execute("update notes set id = 'parma-2015-tavolo-costa', source_path = "
                     "'notes/parma-2015/tavolo-costa.md' where id = 'parma-2015-tavolo-1'")
    conn.close()
    derive_public(kb, tmp_path / "public.db")  # 'costa': the word
    conn = sqlite3.connect(kb)
    with conn:
        conn.execute("update notes set id = 'parma-2015-tavolo-pelagatti', source_path = "
                     "'notes/parma-2015/tavolo-pelagatti.md' where id = 'parma-2015-tavolo-costa'")
    conn.close()
    with pytest.raises(PrivacyError) as caught:
        derive_public(kb, tmp_path / "public2.db")
    assert (f"{kb}: error: the public database would carry personal names in its ids and paths "
            "('parma-2015-tavolo-pelagatti' names 'Ermes Pelagatti'; "
            "'notes/parma-2015/tavolo-pelagatti.md' names 'Ermes Pelagatti'); run 'cotour "
            "check' and rename those files") == str(caught.value)
    assert not (tmp_path / "public2.db").exists()


def test_name_matching():
    names = Names([("facilitator", "Maria Rossi"), ("interviewees", "Anna")])
    assert "maria rossi" == name_key("Ma\u00adria\u200b\u00a0\nRÓSSI")
    assert [("Anna", "anna"), ("Maria Rossi", "MARIA rossi")] == [
        (h.name, h.written) for h in names.find("anna e MARIA\u2009rossi")]
    assert [] == names.find("Annamaria Rossini")
    assert [(3, "Maria Rossi")] == [(h.line, h.name) for h in names.find(
        "uno\ndue\ngrazie Maria\nRossi\n", first_line=1)]


@pytest.mark.parametrize("field, text, expected", [
    # Particles belong to the surname; a field starting with one is written surname first.
    ("Anna Maria De Luca", "Ne parla A. M. De Luca.", [("initials", "A. M. De Luca")]),
    ("Anna Maria De Luca", "Ne parla De Luca Anna Maria.", [("full", "De Luca Anna Maria")]),
    ("Anna Maria De Luca", "Ne parla Maria De Luca.", [("full", "Maria De Luca")]),
    ("D'Angelo Ugo", "Ne parla Ugo D'Angelo, poi D'Angelo.",
     [("full", "Ugo D'Angelo")]),  # one hit a line: the strongest
    ("D'Angelo Ugo", "Poi D'Angelo.", [("surname", "D'Angelo")]),
    # A double surname holds the person's.
    ("Ermes Pelagatti", "Pelagatti-Bertoni", [("surname", "Pelagatti")]),
    # Accents and case as written; an initial with its accent.
    ("Nicolò Zanè", "Ne parla N. ZANE", [("initials", "N. ZANE")]),
    # Not the person: the given name alone, an initial in lower case (a word), a longer word.
    ("Ermes Pelagatti", "Ermes e. Pelagattini", []),
])
def test_shapes_of_a_name(field, text, expected):
    names = Names([("interviewees", field)])
    assert expected == [(h.form, h.written) for h in names.find(text)]


def test_a_surname_after_the_name_in_a_published_list(data):
    """Registers write the surname first: a keyword 'Rossi Maria' is the facilitator."""
    _edit(data, "project.yaml", "keywords: [mutualità, cooperazione]",
          "keywords: [mutualità, Rossi Maria]")
    assert ["project.yaml:4: error: the facilitator 'Maria Rossi' is named in a text that is "
            "published as 'Rossi Maria': personal names stay out of public outputs"] == [
        e for e in errors(data) if e.startswith("project.yaml")]


# ------------------------------------------------------------------ names as people write them

DEBRIEFING = "notes/bologna-2015/debriefing.md"  # internal: its people reach no output
CLIMA = "Clima disteso, molte domande."  # line 19 of NOTE
INTERNAL = "personal names stay out of public outputs (or mark the note visibility: internal)"
ERMES = "the interviewee 'Ermes Pelagatti'"


def _interviewee(data: Path, name: str) -> None:
    """``name`` as an interviewee of the internal debriefing: named in no public text yet."""
    _edit(data, DEBRIEFING, "visibility: internal", f"visibility: internal\ninterviewees: [{name}]")


@pytest.mark.parametrize("new, expected", [
    # The full name in either order, with or without a comma, broken across lines.
    ("Secondo Pelagatti Ermes il clima era disteso.",
     [f"19: error: {ERMES} is named in a public note as 'Pelagatti Ermes': {INTERNAL}"]),
    ("Ne parla PELAGATTI, Ermes.",
     [f"19: error: {ERMES} is named in a public note as 'PELAGATTI, Ermes': {INTERNAL}"]),
    ("Ne parla\nPelagatti\nErmes.",
     [f"20: error: {ERMES} is named in a public note as 'Pelagatti Ermes': {INTERNAL}"]),
    # Initials, before or after, with or without a space.
    ("Ne parla E. Pelagatti.",
     [f"19: error: {ERMES} is named in a public note as 'E. Pelagatti': {INTERNAL}"]),
    ("Ne parla Pelagatti E. al tavolo.",
     [f"19: error: {ERMES} is named in a public note as 'Pelagatti E.': {INTERNAL}"]),
    ("Ne parla É.Pelagatti.",
     [f"19: error: {ERMES} is named in a public note as 'E.Pelagatti': {INTERNAL}"]),
    # The surname alone: distinctive, so an error whatever its case; 'e' is a word, no initial.
    ("Come racconta Pelagatti, il clima era disteso.",
     [f"19: error: {ERMES} is named in a public note by the surname alone ('Pelagatti'), which "
      f"is enough to tell who it is: {INTERNAL}"]),
    ("Da pelagatti e Bianchi.",
     [f"19: error: {ERMES} is named in a public note by the surname alone ('pelagatti'), which "
      f"is enough to tell who it is: {INTERNAL}"]),
    # Not the person: a longer word, or the given name alone (it names too many people).
    ("Ne parlano i Pelagattini, e Ermes.", []),
])
def test_a_distinctive_name_in_any_shape(data, new, expected):
    _interviewee(data, "Ermes Pelagatti")
    _edit(data, NOTE, CLIMA, new)
    assert [f"{NOTE}:{e}" for e in expected] == [e for e in errors(data) if "Pelagatti" in e]


ROSSI_MAY = ("'Rossi' in a public note may be the facilitator 'Maria Rossi' (the surname alone, "
             "also in the Italian dictionary): if it means the person, take it out or list the "
             "name under 'allow_names:'")


@pytest.mark.parametrize("new, expected", [
    # 'rossi' is a word (red): the surname alone is a warning, and only with its capital.
    ("Come dice Rossi, il clima era disteso.", [f"19: warning: {ROSSI_MAY}"]),
    ("Vini rossi e bianchi.", []),
    # With an initial it is the person.
    ("Come dice M. Rossi, il clima era disteso.",
     [f"19: error: the facilitator 'Maria Rossi' is named in a public note as 'M. Rossi': "
      f"{INTERNAL}"]),
    ("Come dice Rossi M., il clima era disteso.",
     [f"19: error: the facilitator 'Maria Rossi' is named in a public note as 'Rossi M.': "
      f"{INTERNAL}"]),
])
def test_a_surname_that_is_also_a_word(data, new, expected):
    _edit(data, NOTE, CLIMA, new)
    assert [f"{NOTE}:{e}" for e in expected] == errors(data)


def test_a_surname_inside_another_persons_name_is_that_person(data):
    """'Mario Rossi' names the interviewee Mario, not the facilitator Maria by her surname."""
    _interviewee(data, "Mario Rossi")
    _edit(data, NOTE, CLIMA, "Ne parla Mario\nRossi, poi Rossi.")
    assert [
        f"{NOTE}:19: error: the interviewee 'Mario Rossi' is named in a public note: {INTERNAL}",
        f"{NOTE}:20: warning: {ROSSI_MAY}",
        f"{NOTE}:20: warning: {ROSSI_MAY.replace('facilitator', 'interviewee').replace('Maria', 'Mario')}",
    ] == errors(data)


def test_a_surname_that_is_also_an_organisation_or_a_place(data):
    """Where the line is drawn: 'Mosaico' is part of an organisation's name, 'Fidenza' a
    municipality; 'Ferrari' is in neither, nor in the Italian dictionary: an error, until an
    organisation is called so."""
    _interviewee(data, "Paolo Mosaico, Giorgio Fidenza, Enzo Ferrari")
    _edit(data, NOTE, CLIMA, "Ne parlano Fidenza e Ferrari.")
    note = [e for e in errors(data) if e.startswith(NOTE)]
    assert [
        f"{NOTE}:11: warning: 'Mosaico' in a public note may be the interviewee 'Paolo Mosaico' "
        "(the surname alone, also in the organisation name 'Cooperativa Sociale Il Mosaico "
        "Onlus'): if it means the person, take it out or list the name under 'allow_names:'",
        f"{NOTE}:19: error: the interviewee 'Enzo Ferrari' is named in a public note by the "
        f"surname alone ('Ferrari'), which is enough to tell who it is: {INTERNAL}",
        f"{NOTE}:19: warning: 'Fidenza' in a public note may be the interviewee 'Giorgio "
        "Fidenza' (the surname alone, also in the place name 'Fidenza'): if it means the "
        "person, take it out or list the name under 'allow_names:'",
    ] == note
    _edit(data, "organisations.csv", "Orti Ribelli APS,,", "Orti Ribelli APS,Ferrari,")
    assert [f"{NOTE}:19: warning: 'Ferrari' in a public note may be the interviewee 'Enzo "
            "Ferrari' (the surname alone, also in the organisation name 'Ferrari'): if it "
            "means the person, take it out or list the name under 'allow_names:'"] == [
        e for e in errors(data) if "Ferrari" in e]


def test_allow_names_in_a_note(data):
    _interviewee(data, "Ermes Pelagatti")
    _edit(data, NOTE, "kind: tavolo", "kind: tavolo\nallow_names: [Pelagatti Ermes, Ugo Neri]")
    _edit(data, NOTE, CLIMA, "Grazie a E. Pelagatti e a Pelagatti.")
    assert [
        f"{NOTE}:5: warning: allow_names: 'Ugo Neri' is not a name from a personal field named "
        "in this note; remove it",
        f"{NOTE}:5: warning: the interviewee 'Ermes Pelagatti' is named on purpose "
        "(allow_names): this note publishes the name",
    ] == errors(data)
    # Not in its file name, which is every public link's.
    (data / NOTE).rename(data / "notes/parma-2015/tavolo-pelagatti.md")
    assert ["notes/parma-2015/tavolo-pelagatti.md:1: error: the interviewee 'Ermes Pelagatti' "
            "is named in the file name, which becomes the note's public id and path by the "
            "surname alone ('pelagatti'), which is enough to tell who it is: rename the file, "
            "e.g. to 'tavolo.md'"] == [e for e in errors(data) if "error" in e]


def test_without_the_italian_dictionary_every_surname_is_distinctive(data, monkeypatch):
    import kb.normalise.privacy as privacy
    monkeypatch.setattr(privacy.shutil, "which", lambda tool: None)
    _edit(data, NOTE, CLIMA, "Come dice Rossi, il clima era disteso.")
    assert [
        "notes:1: warning: every surname found alone counts as distinctive, since the Italian "
        "dictionary cannot be read (hunspell is not installed): install the Debian packages "
        "hunspell and hunspell-it (make system-deps)",
        f"{NOTE}:19: error: the facilitator 'Maria Rossi' is named in a public note by the "
        f"surname alone ('Rossi'), which is enough to tell who it is: {INTERNAL}",
    ] == errors(data)


def test_the_sample_names_no_one_and_its_surnames_are_judged():
    """No false alarm on the sample's organisations and places; which of its 21 surnames are
    also in the Italian dictionary (so a warning, alone)."""
    from kb.diagnostics import Diagnostics
    from kb.ingest.source import read_source
    from kb.normalise.privacy import personal_names
    from conftest import SAMPLE

    people = [str(d) for d in check(SAMPLE).diagnostics.sorted()
              if d.severity == "error" or "named" in d.message or "may be the" in d.message]
    assert [] == people
    names = personal_names(read_source(SAMPLE, Diagnostics()))
    assert 21 == len({p.surname for p in names.people.values()})
    assert {"nanni": "also in the Italian dictionary", "spallanzani": "also in the Italian "
            "dictionary", "tassinari": "also in the Italian dictionary",
            "tebaldi": "also in the Italian dictionary"} == names.ambiguous


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


# Letters with and without accents (also as combining marks), white space of every kind,
# invisible format characters, compatibility forms that decompose into a space and a mark.
_TEXT = st.text(alphabet=st.sampled_from(list(
    "Rossi rossì ROSSI aèéò ß\u0301\u0308\u00a0\u2003\n\t\u00ad\u200b\u00a8\u00b4ﬁ²·,.-'[]#"
    "\u1680\u0085\x1c\u180e\u0345\u05b0")), max_size=40)


@settings(max_examples=2000, deadline=None, derandomize=True)
@given(text=_TEXT)
def test_a_text_folds_as_its_pieces_between_white_space(text):
    # What Names._holds_surname relies on to fold each piece once.
    assert name_key(text).split() == [w for piece in text.split() for w in name_key(piece).split()]


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(texts=st.lists(_TEXT, max_size=5))
def test_a_text_holds_a_surname_as_its_folded_words_say(texts):
    names = Names([("facilitator", "Maria Rossi"), ("rapporteur", "Luca Bianchi")])
    for text in texts:  # the pieces already seen are remembered from text to text
        expected = not names.by_word.keys().isdisjoint(name_key(text).split())
        assert expected == names._holds_surname(text)
