"""The knowledge base and the public database, built from real fixtures."""

import shutil
import sqlite3
from pathlib import Path

import pytest
import sqlite_utils

from kb.diagnostics import InputError
from kb.domain.dictionary import TABLES
import kb.normalise.notes
from kb.domain.dictionary import TABLES_BY_NAME, VIEWS
from kb.normalise.notes import NOTE_TABLES
from kb.pipeline import build, check
from kb.store.public import is_public, is_stale, public_path_for, require_public, NotPublicError

from conftest import MINI


def dump(path: Path) -> dict[str, list[dict]]:
    db = sqlite_utils.Database(path)
    return {name: list(db[name].rows) for name in sorted(db.table_names())
            if not name.endswith(("_fts", "_fts_data", "_fts_idx", "_fts_docsize", "_fts_config"))}


@pytest.fixture
def mini_copy(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(MINI, data)
    return data


def test_finding_row_whole(mini_build):
    kb, _ = mini_build
    db = sqlite_utils.Database(kb)
    rows = list(db["findings"].rows_where("source_line = 11 and note_id = 'parma-2015-tavolo-1'"))
    assert [{
        "id": "eb75e9d25fc3",
        "note_id": "parma-2015-tavolo-1",
        "event_id": "parma-2015",
        "kind": "practice",
        "position": 1,
        "text": "[[!Mosaico]] apre la sua sede alle associazioni del quartiere. #spazi-condivisi\n"
                "Il venerdì la sala è gestita da [[orti-ribelli|gli Orti]].",
        "date": "2015-12-09",
        "province": "PR",
        "city": "Parma",
        "themes": '["spazi-condivisi"]',
        "organisations": '["il-mosaico", "orti-ribelli"]',
        "source_organisations": '["il-mosaico"]',
        "source_profiles": '["tradizionale"]',
        "source_path": "notes/parma-2015/tavolo-1.md",
        "source_line": 11,
    }] == rows


def test_links_and_roles(mini_build):
    kb, _ = mini_build
    db = sqlite_utils.Database(kb)
    assert [
        {"finding_id": "1d22223ee0e1", "organisation_id": "kilowatt", "role": "source"},
        {"finding_id": "9b3e15974335", "organisation_id": "orti-ribelli", "role": "source"},
        {"finding_id": "eb75e9d25fc3", "organisation_id": "il-mosaico", "role": "source"},
        {"finding_id": "eb75e9d25fc3", "organisation_id": "orti-ribelli", "role": "mentioned"},
    ] == list(db["finding_organisations"].rows_where(order_by="finding_id, organisation_id"))
    assert [
        {"note_id": "bologna-2015-plenaria", "organisation_id": "kilowatt"},
        {"note_id": "parma-2015-tavolo-1", "organisation_id": "il-mosaico"},
        {"note_id": "parma-2015-tavolo-1", "organisation_id": "orti-ribelli"},
    ] == list(db["note_participants"].rows_where(order_by="note_id, organisation_id"))


def test_organisation_row(mini_build):
    kb, _ = mini_build
    row = sqlite_utils.Database(kb)["organisations"].get("il-mosaico")
    assert {
        "id": "il-mosaico", "name": "Cooperativa Sociale Il Mosaico Onlus",
        "aliases": '["Mosaico"]', "legal_form": "cooperativa sociale", "is_cooperative": 1,
        "profile": "tradizionale", "sector": "welfare", "province": "PR", "province_istat": "034",
        "municipality": "Parma", "website": None, "founded": 1985, "lat": 44.8, "lon": 10.33,
        "themes": '["welfare-di-comunita"]', "description": None, "mapped": 1, "programme_role": None,
        "source_line": 3,
    } == row


def test_note_keeps_narrative(mini_build):
    kb, _ = mini_build
    note = sqlite_utils.Database(kb)["notes"].get("parma-2015-tavolo-1")
    assert ("Il tavolo si è aperto con un giro di presentazioni.\n\n"
            "## Clima dell'incontro\nClima disteso, molte domande.") == note["text"]
    assert ("Maria Rossi", "notes/parma-2015/tavolo-1.md", 1) == (
        note["facilitator"], note["source_path"], note["source_line"])


def test_every_foreign_key_declared_and_indexed(mini_build):
    kb, _ = mini_build
    db = sqlite_utils.Database(kb)
    for table in TABLES:
        declared = {(fk.column, fk.other_table, fk.other_column) for fk in db[table.name].foreign_keys}
        assert set(table.foreign_keys) == declared, table.name
        indexed = {tuple(i.columns)[0] for i in db[table.name].indexes}
        pk_first = table.pk[0]
        for column, _, _ in table.foreign_keys:
            assert column in indexed or column == pk_first, (table.name, column)
    assert [] == db.execute("pragma foreign_key_check").fetchall()


def test_two_builds_identical(mini_copy, tmp_path):
    first = build(mini_copy, tmp_path / "a" / "cotour.db")
    second = build(mini_copy, tmp_path / "b" / "cotour.db")
    assert dump(first.db_path) == dump(second.db_path)
    assert dump(first.public_path) == dump(second.public_path)


@pytest.mark.parametrize("parallel_notes", [10**9, 1], ids=["one process", "worker pool"])
def test_streamed_rows_equal_the_checked_model(mini_copy, tmp_path, monkeypatch, parallel_notes):
    # A build writes each note's rows as it comes; check() keeps them: the same rows either way.
    monkeypatch.setattr(kb.normalise.notes, "PARALLEL_NOTES", parallel_notes)
    model = check(mini_copy).model
    db = sqlite_utils.Database(build(mini_copy, tmp_path / "cotour.db").db_path)
    for table in NOTE_TABLES:
        pk = TABLES_BY_NAME[table].pk
        expected = sorted(model[table], key=lambda r: [r[k] for k in pk])
        assert expected == list(db[table].rows_where(order_by=", ".join(pk))), table
    # and the full-text index holds every finding, under its own rowid
    assert ([r["id"] for r in db.query("select id from findings order by rowid")] == [
        r["id"] for r in db.query("select f.id from findings_fts s join findings f "
                                  "on f.rowid = s.rowid order by s.rowid")])


def finding_ids(path: Path) -> dict[str, str]:
    return {r["text"]: r["id"] for r in sqlite_utils.Database(path)["findings"].rows}


def test_ids_survive_edits_of_other_items(mini_copy, tmp_path):
    before = finding_ids(build(mini_copy, tmp_path / "a.db").db_path)
    note = mini_copy / "notes" / "parma-2015" / "tavolo-1.md"
    text = note.read_text()
    # Insert a new item first, delete one, and swap the order of sections.
    text = text.replace("## Buone pratiche\n", "## Buone pratiche\n- Una voce nuova in cima.\n")
    text = text.replace("- Le cooperative sociali fanno rete sul welfare di comunità. #welfare-di-comunita\n", "")
    head, threats = text.split("## Minacce\n")
    threats, rest = threats.split("\n## Clima")
    text = head.replace("## Buone pratiche", "## Minacce\n" + threats + "\n\n## Buone pratiche") + "\n## Clima" + rest
    note.write_text(text)
    after = finding_ids(build(mini_copy, tmp_path / "b.db").db_path)
    kept = set(before) - {"Le cooperative sociali fanno rete sul welfare di comunità. #welfare-di-comunita"}
    assert {t: before[t] for t in kept} == {t: after[t] for t in kept}
    assert "Una voce nuova in cima." in after


def test_failed_build_leaves_previous_files(mini_copy, tmp_path):
    out = tmp_path / "cotour.db"
    result = build(mini_copy, out)
    kb_bytes, public_bytes = out.read_bytes(), result.public_path.read_bytes()
    (mini_copy / "events.yaml").write_text((mini_copy / "events.yaml").read_text().replace(
        "province: PR", "province: XX"))
    with pytest.raises(InputError) as exc:
        build(mini_copy, out)
    assert ["invalid province 'XX' (one of: PC, PR, RE, MO, BO, FE, RA, FC, RN)"] == [
        d.message for d in exc.value.diagnostics.errors]
    assert kb_bytes == out.read_bytes()
    assert public_bytes == result.public_path.read_bytes()
    assert ["cotour-public.db", "cotour.db"] == sorted(p.name for p in tmp_path.glob("*.db"))
    assert [] == list(tmp_path.glob(".*tmp"))


def test_public_database_is_marked_and_checked(mini_build):
    kb, public = mini_build
    assert (False, True) == (is_public(kb), is_public(public))
    assert public == public_path_for(kb) == public_path_for(public)
    assert not is_stale(public, kb)
    with pytest.raises(NotPublicError):
        require_public(kb)


def test_stale_public_database_detected(mini_copy, tmp_path):
    result = build(mini_copy, tmp_path / "cotour.db")
    with sqlite3.connect(result.db_path) as conn:
        conn.execute("update notes set title = 'cambiato'")
    assert is_stale(result.public_path, result.db_path)


def test_public_database_leaves_out_internal_and_personal(mini_build):
    kb, public = mini_build
    full, pub = dump(kb), dump(public)
    assert ["bologna-2015-debriefing", "bologna-2015-plenaria", "parma-2015-tavolo-1"] == [
        n["id"] for n in full["notes"]]
    assert ["bologna-2015-plenaria", "parma-2015-tavolo-1"] == [n["id"] for n in pub["notes"]]
    assert {"facilitator", "rapporteur", "interviewees"} == set(full["notes"][0]) - set(pub["notes"][0])
    assert len(full["findings"]) - 1 == len(pub["findings"])
    build_info = {r["key"]: r["value"] for r in pub["cotour_build"]}
    assert "1" == build_info["public"]


CANARY_FIELDS = ["facilitator", "rapporteur", "interviewees"]


def test_canaries_never_reach_the_public_file(mini_copy, tmp_path):
    """A unique canary in every personal field and every internal note; grep the public bytes."""
    canaries = {}
    notes = sorted((mini_copy / "notes").rglob("*.md"))
    for i, note in enumerate(notes):
        text = note.read_text()
        head, body = text.split("---\n", 2)[1:]
        head = "\n".join(l for l in head.splitlines() if not l.startswith(tuple(CANARY_FIELDS)))
        for field in CANARY_FIELDS:
            canaries[f"{field}-{i}"] = f"Canarino{field.capitalize()}{i} Zqx"
        head += (f"\nfacilitator: {canaries[f'facilitator-{i}']}"
                 f"\nrapporteur: {canaries[f'rapporteur-{i}']}"
                 f"\ninterviewees: [{canaries[f'interviewees-{i}']}]\n")
        if "visibility: internal" in head:
            canaries[f"internal-title-{i}"] = "TitoloSegretoQwz"
            canaries[f"internal-text-{i}"] = "TestoSegretoQwz"
            canaries[f"internal-finding-{i}"] = "RisultatoSegretoQwz"
            head = head.replace("title: ", "title: TitoloSegretoQwz ")
            body = "TestoSegretoQwz\n" + body.replace("## Frustrazioni\n", "## Frustrazioni\n- RisultatoSegretoQwz\n")
        note.write_text(f"---\n{head}---\n{body}")
    result = build(mini_copy, tmp_path / "cotour.db")
    kb_bytes, public_bytes = result.db_path.read_bytes(), result.public_path.read_bytes()
    assert 3 * len(notes) + 3 == len(canaries)
    for name, canary in canaries.items():
        assert canary.encode() in kb_bytes, name  # planted for real
        assert canary.encode() not in public_bytes, name


@pytest.mark.parametrize("name", list(VIEWS))
def test_views_declare_their_columns(mini_build, name):
    # (Datasette's descriptions and labels of a view's columns come from the declaration.)
    conn = sqlite3.connect(mini_build[1])
    assert list(VIEWS[name].columns) == [r[1] for r in conn.execute(f"pragma table_info([{name}])")]
    conn.close()
