"""Every vocabulary has one home, kb/vocabulary.py, and everything else agrees with it."""

import ast
import re
from pathlib import Path

import pytest

from kb.domain import vocabulary as v
from kb.domain.dictionary import HYBRID_SCORE, TABLES_BY_NAME
from kb.domain.syntax import heading_kind, near_heading
from kb.domain.vocabulary import PERSONAL_FIELDS

ROOT = Path(__file__).resolve().parent.parent
MODULES = sorted(p for p in (ROOT / "kb").rglob("*.py") if p.name != "vocabulary.py")

# Each vocabulary's codes, and the columns of the dictionary that hold them.
VOCABULARIES = {
    "finding kinds": (v.FINDING_KINDS, [("finding_kinds", "id"), ("findings", "kind")]),
    "legal forms": (v.LEGAL_FORMS, [("organisations", "legal_form")]),
    "profiles": (v.PROFILES, [("organisations", "profile"), ("organisation_network", "profile")]),
    "event kinds": (v.EVENT_KINDS, [("events", "kind")]),
    "event statuses": (v.EVENT_STATUSES, [("events", "status")]),
    "note kinds": (v.NOTE_KINDS, [("notes", "kind")]),
    "visibilities": (v.VISIBILITIES, [("notes", "visibility")]),
    "initiative statuses": (v.INITIATIVE_STATUSES, [("initiatives", "status")]),
    "organisation roles": (v.ORGANISATION_ROLES, [("finding_organisations", "role"),
                                                  ("hybrid_evidence", "organisation_role")]),
    "programme roles": (v.PROGRAMME_ROLES, [("organisations", "programme_role")]),
    "evidence roles": (v.EVIDENCE_ROLES, [("hybrid_evidence", "role")]),
    "provinces": (v.PROVINCES, []),
}


@pytest.mark.parametrize("name", VOCABULARIES)
def test_the_dictionary_allows_exactly_the_vocabulary(name):
    terms, columns = VOCABULARIES[name]
    for table, column in columns:
        assert v.ids(terms) == TABLES_BY_NAME[table].column(column).values, (table, column)


def test_every_enumerated_column_takes_a_vocabulary():
    enumerated = {(t.name, c.name) for t in TABLES_BY_NAME.values() for c in t.columns if c.values}
    assert enumerated == {col for _, columns in VOCABULARIES.values() for col in columns}


@pytest.mark.parametrize("name", VOCABULARIES)
def test_every_term_has_its_words(name):
    terms, _ = VOCABULARIES[name]
    assert len(set(v.ids(terms))) == len(terms)
    for t in terms:
        words = [t.name, t.istat] if isinstance(t, v.Province) else [t.it, t.it_plural, t.en, t.en_plural]
        assert all(w and w == w.strip() for w in words), t


def test_personal_fields_are_the_dictionarys_personal_columns():
    assert PERSONAL_FIELDS == [c.name for c in TABLES_BY_NAME["notes"].columns if c.personal]


def test_cooperative_forms_are_legal_forms():
    assert {"cooperativa", "cooperativa sociale", "consorzio"} == v.COOPERATIVE_FORMS
    assert v.COOPERATIVE_FORMS < set(v.LEGAL_FORM_IDS)


def test_headings_come_from_the_vocabulary():
    for kind in v.FINDING_KINDS:
        for heading in kind.headings:
            assert kind.id == heading_kind(heading) == heading_kind(heading.upper() + ":")
        assert kind.id == heading_kind(v.title(kind.it_plural))  # the label is a heading too
    assert "Minacce" == near_heading("Minaccie")


def test_the_score_description_says_every_weight():
    table = TABLES_BY_NAME["hybrid_pairs"]
    assert ("Punteggio = 0,5 × temi in comune (max 4) + per ciascuna delle 3 risposte migliori "
            "(1 + 10 × somiglianza, × 0,5 se la buona pratica cita soltanto l'organizzazione) + "
            "0,5 × tappe in comune (max 3).") in table.it
    assert ("Score = 0.5 × shared themes (max 4) + for each of the 3 best answers (1 + 10 × "
            "similarity, × 0.5 when the practice only mentions the organisation) + 0.5 × events "
            "together (max 3).") in table.en
    changed = type(HYBRID_SCORE)(mentioned_factor=0.25, similarity=8.0)
    assert "× 0,25 se" in changed.formula_it() and "8 × somiglianza" in changed.formula_it()


# ---- nothing restates a vocabulary

def _codes():
    """code or word -> the vocabularies it belongs to (words of two or more letters)."""
    found = {}
    for name, (terms, _) in VOCABULARIES.items():
        for t in terms:
            words = {t.id, t.name} if isinstance(t, v.Province) else {t.id, t.it, t.it_plural, v.title(t.it_plural)}
            for w in words:
                found.setdefault(w, set()).add(name)
    return found


CODES = _codes()


def restated_lists(source: str) -> list[tuple[int, str]]:
    """Collection literals holding two or more words of one vocabulary (and mostly those: a
    row's field names that happen to include two kinds are not a list of kinds)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            elements = node.elts
        elif isinstance(node, ast.Dict):
            elements = [k for k in node.keys if k is not None]
        else:
            continue
        strings = [e.value for e in elements if isinstance(e, ast.Constant) and isinstance(e.value, str)]
        for name in VOCABULARIES:
            n = sum(name in CODES.get(s, ()) for s in strings)
            if n >= 2 and 2 * n >= len(strings):
                found.append((node.lineno, name))
    return found


def test_the_check_finds_a_restated_list():
    assert [(1, "profiles")] == restated_lists('PROFILES = ["emergente", "tradizionale"]')
    assert [(1, "finding kinds")] == restated_lists('X = {"practice": 1, "threat": 2}')
    assert [] == restated_lists('X = ("practice", "nota")')
    assert [] == restated_lists('row = {"problem": 1, "practice": 2, "raiser": 3, "answerer": 4, "x": 5}')


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_restates_a_vocabulary(path):
    assert [] == restated_lists(path.read_text())


# Literals compared with a vocabulary's column in SQL (kept where SQL is written for people to
# read, e.g. a canned query): each must be a code of that vocabulary, so renaming a code in
# kb/vocabulary.py fails here until the SQL follows.
SQL_COLUMNS = {
    "profile": v.PROFILE_IDS, "profilo": v.PROFILE_IDS, "legal_form": v.LEGAL_FORM_IDS,
    "status": v.EVENT_STATUS_IDS + v.INITIATIVE_STATUS_IDS,
    "role": v.ids(v.ORGANISATION_ROLES) + v.ids(v.EVIDENCE_ROLES),
    "visibility": v.VISIBILITY_IDS,
    "kind": v.FINDING_KIND_IDS + v.NOTE_KIND_IDS + v.EVENT_KIND_IDS,
    "tipo": v.FINDING_KIND_IDS,
}
SQL_LITERAL = re.compile(r"(?<![:\w])(\w+)\s*(?:=|<>|!=)\s*'([^']*)'|nullif\(:(\w+), ''\),\s*'([^']*)'")


def sql_literals(text: str) -> list[tuple[str, str]]:
    return [(m[0] or m[2], m[1] or m[3]) for m in SQL_LITERAL.findall(text)
            if (m[0] or m[2]) in SQL_COLUMNS]


def test_the_check_reads_sql_literals():
    assert [("profile", "emergente"), ("tipo", "practice")] == sql_literals(
        "where o.profile = 'emergente' and f.kind = coalesce(nullif(:tipo, ''), 'practice') "
        "and (:profilo = '' or o.profile = :profilo)")


SQL_FILES = MODULES + sorted((ROOT / "kb").rglob("*.sql"))


@pytest.mark.parametrize("path", SQL_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_sql_literals_are_codes_of_their_vocabulary(path):
    wrong = [(column, value) for column, value in sql_literals(path.read_text())
             if value not in SQL_COLUMNS[column]]
    assert [] == wrong
