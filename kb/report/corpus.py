"""What the chapters read: the public database loaded once, with the lookups and helpers every
chapter shares (staff texts, readings, figure numbers, links, names)."""

from __future__ import annotations

import json
from collections import defaultdict
from functools import cached_property
from pathlib import Path

from ..read import LICENCES
from ..store import Progress, _noop, read_tables
from ..vocabulary import FINAL, FINDING_KINDS, HELD
from .markdown import Markdown
from .words import typo

# Staff texts the report knows (data/report/<id>.md): whole sections, or the reading of a chart.
STAFF_SECTIONS = ("introduzione", "conclusioni", "ringraziamenti")
READINGS = {
    "mappatura-province": "Organizzazioni per provincia",
    "mappatura-forme-giuridiche": "Organizzazioni per forma giuridica",
    "mappatura-profili": "Cooperative e non, emergenti e tradizionali",
    "mappatura-temi": "Organizzazioni per tema",
    "tour": "Le tappe del tour",
    "sintesi-tipi": "Risultati per tipo e tappa",
    "sintesi-temi-province": "Temi per provincia",
    "sintesi-ricorrenze": "Pratiche e minacce ricorrenti",
    "sintesi-profili": "Emergenti e tradizionali a confronto",
    "iniziative": "Nuove iniziative",
}


def rows_of(tables: dict, name: str) -> list[dict]:
    return tables.get(name, [])


def json_list(value: str | None) -> list:
    return json.loads(value) if value else []


def level(n: int, top: int) -> int:
    """0-4: how dark a cell of a cross table is (the CSS decides the colours)."""
    if not n or not top:
        return 0
    return min(4, 1 + int(3 * n / top))


class Corpus:
    """The public database's tables as lists of dicts, and what the chapters share."""

    def __init__(self, public_db: Path, data_dir: Path | None, progress: Progress = _noop):
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
        self.markdown = Markdown(self.orgs, self.themes, self.assets, self.warnings)
        self.figure = 0

    # ---- helpers
    def doc(self, doc_id: str, heading_level: int = 3):
        """A staff text rendered, or ``None``."""
        doc = self.documents.get(doc_id)
        if not doc:
            return None
        self.used_documents.add(doc_id)
        return self.markdown.render(doc["text"], heading_level, doc["source_path"])

    def reading(self, doc_id: str, generated: str) -> dict:
        staff = self.doc(doc_id, heading_level=4)
        return {"html": staff, "text": generated, "staff": staff is not None,
                "source": self.documents[doc_id]["source_path"] if staff else None}

    def chart(self, title: str, uri: str, reading: dict, alt: str) -> dict:
        self.figure += 1
        return {"number": self.figure, "title": title, "src": uri, "alt": alt,
                "reading": reading}

    def finding_url(self, finding_id: str) -> str:
        return f"{self.base_url}/cotour/findings/{finding_id}"

    def org_name(self, org_id: str) -> str:
        org = self.orgs.get(org_id)
        return typo(org["name"]) if org else org_id

    @staticmethod
    def event_label(event: dict) -> str:
        """How a reading names an event: the city, or ``l’incontro finale di <city>``."""
        return f"l’incontro finale di {event['city']}" if event["kind"] == FINAL else event["city"]

    @staticmethod
    def that_of(row: dict) -> str:
        return (f"l’incontro finale di {row['city']}" if row["kind_id"] == FINAL
                else f"quello di {row['city']}")

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
    def roles_by_finding(self) -> dict[str, list[dict]]:
        """finding id -> its finding_organisations rows (one pass: scanning all the rows for
        every finding was quadratic, 104 of the 116 s of the report's data at M)."""
        roles = defaultdict(list)
        for r in rows_of(self.tables, "finding_organisations"):
            roles[r["finding_id"]].append(r)
        return roles
