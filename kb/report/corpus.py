"""What the chapters read: the public database loaded once, with the lookups and helpers every
chapter shares (staff texts, readings, figure numbers, links, names)."""

from __future__ import annotations

import json
from collections import defaultdict
from functools import cached_property
from pathlib import Path

from ..domain.vocabulary import (
    CANCELLED,
    FINAL,
    FINDING_KINDS,
    HELD,
    LICENCES,
    SCHEDULED,
    TOUR_STOP,
)
from ..outputs import Progress, _noop
from ..store.database import read_tables
from ..store.indicators import measure_values
from .markdown import Markdown
from .words import joined, on_date, typo


def rows_of(tables: dict, name: str) -> list[dict]:
    return tables.get(name, [])


def json_list(value: str | None) -> list:
    return json.loads(value) if value else []


def level(n: int, top: int) -> int:
    """0-4: how dark a cell of a cross table is (the CSS decides the colours)."""
    if not n or not top:
        return 0
    return min(4, 1 + int(3 * n / top))


# The annex's page estimate (Corpus.annex_pages), measured on the sample: 10 pt text in the
# findings' column.
LINE_CHARS, PAGE_LINES, FINDING_LINES, NOTE_LINES = 95, 46, 2.5, 4


class Corpus:
    """The public database's tables as lists of dicts, and what the chapters share."""

    def __init__(self, public_db: Path, data_dir: Path | None, progress: Progress = _noop,
                 annex_budget: float | None = None, report_stem: str = "cotour-report"):
        self.tables = read_tables(public_db)
        self.public_db = Path(public_db)
        self.progress = progress
        self.assets = (Path(data_dir) / "assets") if data_dir else None
        if self.assets and not self.assets.is_dir():
            self.assets = None
        self.warnings: list[str] = []
        t = self.tables
        self.project = (rows_of(t, "project") or [{}])[0]
        self.base_url = (self.project.get("base_url") or "").rstrip("/")
        self.orgs = {o["id"]: o for o in rows_of(t, "organisations")}
        self.themes = {th["id"]: th for th in rows_of(t, "themes")}
        self.provinces = {p["id"]: p for p in rows_of(t, "provinces")}
        self.province_order = sorted(self.provinces, key=lambda p: self.provinces[p]["position"])
        self.kinds = sorted(rows_of(t, "finding_kinds"), key=lambda k: k["position"] or 0)
        self.kind_label = {k["id"]: k["label"] for k in self.kinds}
        for kind in FINDING_KINDS:
            self.kind_label.setdefault(kind.id, kind.label)
        self.events = sorted(rows_of(t, "events"), key=lambda e: (e["date"] or "9999", e["id"]))
        self.notes = rows_of(t, "notes")
        self.findings = sorted(rows_of(t, "findings"),
                               key=lambda f: (f["note_id"], f["position"] or 0, f["id"]))
        self.documents = {d["id"]: d for d in rows_of(t, "documents")}
        self.used_documents: set[str] = set()
        self.markdown = Markdown(self.orgs, self.themes, self.assets, self.warnings, self.base_url)
        self.figure = 0
        # The annex of the stops past this many pages becomes one volume per stop beside the
        # report, named after it (kb.report.chapters.tappe decides, kb.report.write renders).
        self.annex_budget = annex_budget
        self.report_stem = report_stem

    # ---- helpers
    def doc(self, doc_id: str, heading_level: int = 3):
        """A staff text rendered, or ``None``."""
        doc = self.documents.get(doc_id)
        if not doc:
            return None
        self.used_documents.add(doc_id)
        return self.markdown.render(doc["text"], heading_level, doc["source_path"])

    def reading(self, doc_id: str, generated: str) -> dict:
        staff = self.doc(doc_id, heading_level=3)
        return {"html": staff, "text": generated, "staff": staff is not None,
                "source": self.documents[doc_id]["source_path"] if staff else None}

    def chart(self, title: str, uri: str | tuple[str, str], reading: dict, alt: str) -> dict:
        """A numbered figure; ``uri``: its image, or the print one and the phone's."""
        self.figure += 1
        src, narrow = (uri, None) if isinstance(uri, str) else uri
        return {"number": self.figure, "title": title, "src": src, "narrow": narrow, "alt": alt,
                "reading": reading}

    def finding_url(self, finding_id: str) -> str:
        return f"{self.base_url}/cotour/findings/{finding_id}"

    def org_name(self, org_id: str) -> str:
        org = self.orgs.get(org_id)
        return typo(org["name"]) if org else org_id

    def that_of(self, event: dict) -> str:
        """An event named after another was mentioned: ``quello di Ferrara``,
        ``l’incontro finale di Bologna``, ``quello di Bologna del 10 dicembre 2015``."""
        if event["kind"] == FINAL:
            return f"l’incontro finale di {event['city']}"
        place = self.event_place(event, "di")
        return "quello " + place

    def province_name(self, sigla: str | None) -> str:
        return self.provinces[sigla]["name"] if sigla in self.provinces else (sigla or "")

    def licence(self) -> dict:
        spdx = self.project.get("licence") or ""
        licence = LICENCES.get(spdx)
        if licence is None:  # cotour check refuses such a licence; show it as it is
            return {"id": spdx, "name": spdx, "url": f"https://spdx.org/licenses/{spdx}.html"}
        return {"id": spdx, "name": licence.title_it, "url": licence.url}

    @property
    def held(self) -> list[dict]:
        return [e for e in self.events if e["status"] == HELD]

    @cached_property
    def counts(self) -> dict[str, int]:
        """Every count the report's prose states about the whole, computed here once (the
        chapters and templates read them from here; a test compares them with SQL)."""
        held = self.held
        stops = [e for e in held if e["kind"] == TOUR_STOP]
        status = {s: sum(1 for e in self.events if e["status"] == s)
                  for s in (HELD, SCHEDULED, CANCELLED)}
        mapped = sum(1 for o in self.orgs.values() if o["mapped"])
        return {
            "organisations": len(self.orgs), "mapped": mapped,
            "met_on_tour": len(self.orgs) - mapped,
            "events": len(self.events), "held": len(held), "held_stops": len(stops),
            "held_finals": len(held) - len(stops),
            "programmed": status[SCHEDULED], "cancelled": status[CANCELLED],
            "stop_cities": len({e["city"] for e in stops}),
            "notes": len(self.notes), "findings": len(self.findings),
            "persons": sum(e["attendance_persons"] or 0 for e in held),
        }

    def event_place(self, event: dict, preposition: str = "a") -> str:
        """Where an event was, told apart from the city's other events: ``a Parma``,
        ``all’incontro finale di Bologna``, ``alla tappa di Bologna del 10 dicembre 2015``
        (when Bologna also hosted the final meeting)."""
        if event["kind"] == FINAL:
            return joined(preposition, "l’") + f"incontro finale di {event['city']}"
        twins = [e for e in self.held if e["city"] == event["city"] and e is not event]
        if twins and event["date"]:
            return (joined(preposition, "la") + f"tappa di {event['city']} "
                    f"{on_date('di', event['date'])}")
        return f"{preposition} {event['city']}" if preposition != "da" else f"da {event['city']}"

    @cached_property
    def events_by_id(self) -> dict[str, dict]:
        return {e["id"]: e for e in self.events}

    @cached_property
    def findings_by_id(self) -> dict[str, dict]:
        return {f["id"]: f for f in self.findings}

    @cached_property
    def shown_findings(self) -> set[str]:
        """The findings the report prints (those of held events), which have an anchor."""
        held = {e["id"] for e in self.held}
        return {f["id"] for f in self.findings if f["event_id"] in held}

    @cached_property
    def roles_by_finding(self) -> dict[str, list[dict]]:
        """finding id -> its finding_organisations rows (one pass: scanning all the rows for
        every finding was quadratic, 104 of the 116 s of the report's data at M)."""
        roles = defaultdict(list)
        for r in rows_of(self.tables, "finding_organisations"):
            roles[r["finding_id"]].append(r)
        return roles

    # ---- the annex of the stops, and its volumes

    @cached_property
    def annex_pages(self) -> float:
        """The printed length of the notes of the stops, estimated from their text: an A4 page
        holds about PAGE_LINES lines of LINE_CHARS characters; a finding adds its meta line
        and spacing, a session its heading; each stop starts a page."""
        held = {e["id"] for e in self.held}
        lines = sum(len(f["text"]) / LINE_CHARS + FINDING_LINES
                    for f in self.findings if f["event_id"] in held)
        lines += sum(len(n["text"] or "") / LINE_CHARS + NOTE_LINES
                     for n in self.notes if n["event_id"] in held)
        return lines / PAGE_LINES + len(held)

    @cached_property
    def volumes(self) -> bool:
        """Whether the notes of the stops leave the report for one volume per stop."""
        return self.annex_budget is not None and self.annex_pages > self.annex_budget

    def stop_link(self, event_id: str) -> str:
        """Where a held event's notes are: its chapter here, or its volume's file."""
        return self.volume_name(event_id) if self.volumes else f"#tappa-{event_id}"

    def volume_name(self, event_id: str) -> str:
        """The file of a stop's volume, beside the report's PDF (``<report>-<event>.pdf``)."""
        return f"{self.report_stem}-{event_id}.pdf"

    def finding_anchor(self, finding_id: str) -> str:
        """``#f-<id>`` where this document prints the finding, else empty (its volume or the
        database holds it)."""
        return f"#f-{finding_id}" if not self.volumes and finding_id in self.shown_findings else ""

    @cached_property
    def measures(self) -> dict[str, float]:
        """Every measure of the results framework, computed by the build's own SQL."""
        return measure_values(self.public_db)

    @cached_property
    def notes_by_id(self) -> dict[str, dict]:
        return {n["id"]: n for n in self.notes}

    @cached_property
    def notes_of(self) -> dict[str, list[dict]]:
        out = defaultdict(list)
        for n in self.notes:
            out[n["event_id"]].append(n)
        return out

    @cached_property
    def findings_of(self) -> dict[str, list[dict]]:
        out = defaultdict(list)
        for f in self.findings:
            out[f["event_id"]].append(f)
        return out

    @cached_property
    def hosts_of(self) -> dict[str, list[str]]:
        out = defaultdict(list)
        for h in rows_of(self.tables, "event_hosts"):
            out[h["event_id"]].append(h["organisation_id"])
        return out

    @property
    def funder(self) -> dict | None:
        """Who funded the programme (project.yaml's optional ``funder``), or ``None``."""
        p = self.project
        if not p.get("funder_name"):
            return None
        return {"name": typo(p["funder_name"]), "id": p.get("funder_id") or "",
                "programme": typo(p.get("funder_programme") or "")}
