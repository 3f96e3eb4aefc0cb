"""Turn the records of :mod:`kb.ingest` into the rows of the knowledge base.

Headings become finding kinds, list items become findings, ``[[mentions]]``, participants and
``#tags`` are resolved against the organisations and themes, and every reference between files
is checked. The result, :class:`~kb.normalise.model.Model`, holds one list of plain rows per
table. The notes' syntax is :mod:`kb.normalise.notes`, the people's names :mod:`kb.normalise.privacy`.
"""

from __future__ import annotations

from ..diagnostics import Diagnostics, did_you_mean
from ..domain.dictionary import TABLES_BY_NAME
from ..domain.syntax import slugify
from ..domain.vocabulary import (COOPERATIVE_FORMS, EVENT_KINDS, FINAL, FINDING_KINDS, ORGANISER,
                                 PROVINCE, PROVINCES, STAFF)
from ..ingest.records import Source
from .documents import check_document
from .model import Model, NoteSink, OrganisationIndex, _json
from .notes import NOTE_TABLES, _normalised_notes, _NoteContext
from .privacy import check_public_texts, personal_names

__all__ = ["normalise", "Model", "NoteSink"]


def normalise(source: Source, diags: Diagnostics, sink: NoteSink | None = None,
              stem_columns: dict[str, tuple[str, ...]] | None = None) -> Model:
    """Every table's rows, and every problem in ``diags``.

    With ``sink``, the rows of the notes' tables (``NOTE_TABLES``) go to ``sink`` note by note
    instead of the model, which only counts them: a build writes them to the file while the
    other notes are still being parsed, and never holds them all. ``stem_columns`` (table ->
    columns) asks for those columns' stemmed text too, computed beside the parsing.

    Long on purpose: the checks between files, in the order a reader of the diagnostics
    expects (themes, organisations, events, notes, initiatives, documents), each a few
    lines on the same lookups.
    """
    model = Model()
    theme_ids = [t.id for t in source.themes]
    event_ids = [e.id for e in source.events]
    events = {e.id: e for e in source.events}
    orgs = OrganisationIndex(source, diags)

    def check_ref(ref: str, known, path: str, line: int, what: str) -> bool:
        if ref in known:
            return True
        diags.error(path, line, f"unknown {what} '{ref}'{did_you_mean(ref, known)}")
        return False

    # ---- project, provinces, kinds
    project = dict(source.project)
    if project:
        project["id"] = project.get("dataset_id") or slugify(project.get("title") or "cotour")
        for key in ("keywords", "sources", "organisers", "organiser_ids", "eu_theme", "subjects"):
            project[key] = _json(project.get(key) or [])
        project["illustrative"] = int(bool(project.get("illustrative")))
        indicators = project.get("objectives") or []
        project = {k: project.get(k) for k in TABLES_BY_NAME["project"].column_names}
        model.add("project", project)
        # the results framework: a measure's actual value is computed by the build
        # (kb.store.indicators), a given value is kept as it is
        for row in indicators:
            model.add("indicators", {**row, "difference": None})
    for position, p in enumerate(PROVINCES, 1):
        model.add("provinces", {"id": p.id, "name": p.name, "istat_code": p.istat,
                                   "position": position})
    for position, k in enumerate(FINDING_KINDS, 1):
        model.add("finding_kinds", {"id": k.id, "label": k.label, "label_en": k.label_en,
                                       "position": position})

    # ---- themes
    parents = {t.id: t.parent_id for t in source.themes}
    for theme in source.themes:
        if theme.parent_id and check_ref(theme.parent_id, theme_ids, source.themes_path,
                                         theme.parent_line, "parent theme"):
            seen, cursor = {theme.id}, theme.parent_id
            while cursor:
                if cursor in seen:
                    diags.error(source.themes_path, theme.parent_line,
                                f"theme '{theme.id}' is its own ancestor (a cycle of parents)")
                    break
                seen.add(cursor)
                cursor = parents.get(cursor)
        model.add("themes", {
            "id": theme.id, "label": theme.label, "label_en": theme.label_en,
            "description": theme.description, "description_en": theme.description_en,
            "parent_id": theme.parent_id if theme.parent_id in parents else None,
        })

    # ---- who ran the programme: the organisers found in the mapping by name (as a mention
    # would be: an organiser need not be mapped), and the staff list (each must be)
    programme_role = {}
    for name in source.project.get("organisers") or []:
        if org_id := orgs.resolve(name):
            programme_role.setdefault(org_id, ORGANISER)
    for ref, line in source.project.get("staff") or []:
        org_id = orgs.resolve(ref)
        if org_id is None:
            diags.error(source.project_path, line,
                        f"unknown organisation '{ref}' in 'staff'{orgs.suggestion(ref)}")
        else:
            programme_role.setdefault(org_id, STAFF)

    # ---- organisations
    for org in source.organisations:
        themes = [t for t in org.themes
                  if check_ref(t, theme_ids, source.organisations_path, org.line, "theme")]
        model.add("organisations", {
            "id": org.id, "name": org.name, "aliases": _json(org.aliases),
            "legal_form": org.legal_form,
            "is_cooperative": None if org.legal_form is None else int(org.legal_form in COOPERATIVE_FORMS),
            "profile": org.profile, "sector": org.sector, "province": org.province,
            "province_istat": PROVINCE[org.province].istat if org.province else None,
            "municipality": org.municipality, "website": org.website, "founded": org.founded,
            "lat": org.lat, "lon": org.lon, "themes": _json(themes),
            "description": org.description, "mapped": int(org.mapped),
            "programme_role": programme_role.get(org.id),
            "source_line": org.line,
        })
        for theme in themes:
            model.add("organisation_themes", {"organisation_id": org.id, "theme_id": theme})

    # ---- events
    finales = [e for e in source.events if e.kind == FINAL]
    for extra in finales[1:]:
        diags.error(source.events_path, extra.line,
                    f"a second finale '{extra.id}': only one event closes the tour "
                    f"(first: '{finales[0].id}')")
    # A unique, readable name: Datasette shows it wherever a row points to an event.
    final = next(k.it for k in EVENT_KINDS if k.id == FINAL)
    names = [f"{e.city} ({final})" if e.kind == FINAL else e.city for e in source.events]
    for event, name in zip(source.events, list(names)):
        if names.count(name) > 1:
            name = f"{name} {event.date or event.id}"
        for host, line in event.hosts:
            if orgs.resolve(host) is None:
                diags.error(source.events_path, line,
                            f"unknown organisation '{host}'{orgs.suggestion(host)}")
        model.add("events", {
            "id": event.id, "name": name, "city": event.city, "province": event.province,
            "province_istat": PROVINCE[event.province].istat if event.province else None,
            "date": event.date, "kind": event.kind, "status": event.status, "venue": event.venue,
            "attendance_persons": event.attendance_persons,
            "attendance_organisations": event.attendance_organisations,
            "programme": event.programme, "source_line": event.line,
        })
        for host, _ in event.hosts:
            host_id = orgs.resolve(host)
            if host_id:
                model.add("event_hosts", {"event_id": event.id, "organisation_id": host_id})

    # ---- notes and findings
    note_ids: dict[str, str] = {}
    stem_at = {table: tuple(NOTE_TABLES[table].index(c) for c in columns)
               for table, columns in (stem_columns or {}).items()}
    names = personal_names(source)
    context = _NoteContext(events, event_ids, theme_ids, set(theme_ids), orgs,
                           {o.id: o.profile for o in source.organisations}, stem_at, names)
    for table, columns in NOTE_TABLES.items():  # the tables in the same order either way
        model.extend(table, columns, [])
    for note in _normalised_notes(source, context):
        diags.items.extend(note.early)
        if note.note_id is None:
            continue
        if note.note_id in note_ids:
            diags.error(note.path, 1, f"note id '{note.note_id}' is also the id of "
                                      f"{note_ids[note.note_id]}: rename one file")
            continue
        note_ids[note.note_id] = note.path
        diags.items.extend(note.late)
        if sink is not None:
            sink(note.rows, note.stems)
            for table, rows in note.rows.items():
                model.streamed[table] = model.streamed.get(table, 0) + len(rows)
            continue
        for table, rows in note.rows.items():
            model.extend(table, NOTE_TABLES[table], rows)

    # ---- initiatives
    for initiative in source.initiatives:
        path = source.initiatives_path
        lead = None
        if initiative.lead:
            ref, line = initiative.lead
            lead = orgs.resolve(ref)
            if lead is None:
                diags.error(path, line, f"unknown organisation '{ref}'{orgs.suggestion(ref)}")
        model.add("initiatives", {
            "id": initiative.id, "title": initiative.title, "description": initiative.description,
            "status": initiative.status, "status_date": initiative.status_date,
            "lead_id": lead, "next_step": initiative.next_step, "source_line": initiative.line,
        })
        # the lead is one of the initiative's organisations, listed or not
        if lead and not any(orgs.resolve(r) == lead for r, _ in initiative.organisations):
            model.add("initiative_organisations", {"initiative_id": initiative.id,
                                                      "organisation_id": lead})
        for ref, line in initiative.organisations:
            org_id = orgs.resolve(ref)
            if org_id is None:
                diags.error(path, line, f"unknown organisation '{ref}'{orgs.suggestion(ref)}")
            else:
                model.add("initiative_organisations", {"initiative_id": initiative.id,
                                                          "organisation_id": org_id})
        for ref, line in initiative.themes:
            if check_ref(ref, theme_ids, path, line, "theme"):
                model.add("initiative_themes", {"initiative_id": initiative.id, "theme_id": ref})
        for ref, line in initiative.born_from:
            if check_ref(ref, event_ids, path, line, "event"):
                model.add("initiative_events", {"initiative_id": initiative.id, "event_id": ref})

    # A release (dated, not an example) opens with its key messages.
    p = source.project
    if p.get("release_date") and not p.get("illustrative") and not any(
            doc.name == "sintesi" for doc in source.documents):
        diags.warning(source.display("report/sintesi.md"), 1,
                      "missing: the key messages the report opens with (In sintesi); write "
                      "them in this file")
    for doc in source.documents:
        check_document(doc, source.display(doc.rel_path), source.data_dir, diags)
        model.add("documents", {"id": doc.name, "text": doc.text, "source_path": doc.rel_path})

    check_public_texts(source, names, diags)

    for rows in model.rows.values():
        _dedupe_links(rows)
    return model


def _dedupe_links(rows: list[tuple]) -> None:
    """Identical rows kept once, the first time they appear."""
    kept = list(dict.fromkeys(rows))
    if len(kept) != len(rows):
        rows[:] = kept
