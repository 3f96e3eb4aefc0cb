"""An organisation's findings and the events that cite it, from memory: the served file never
changes.

An organisation's dossier lists its first 200 findings of each role in the notes' order and
every event where it is cited. In SQL each of those reads every finding linked to it (the busiest
organisation of 500,000 findings has 42,000: a few hundred milliseconds a read, looking each one
up by its id). Loaded when the server starts: every finding's place in the dossiers' order
(``events.date, events.id, note_id, position``, then rowid), and each organisation's findings by
role and the events they belong to. A dossier then reads its 200 rows by rowid. The rows are
those of the SQL in :func:`kb.serve.pages.organisation_dossier`, in its order
(``tests/test_serve_tallies.py`` compares both on every organisation of the sample).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from datasette import hookimpl

from ..store.public import PUBLIC_NAME
from ..domain.vocabulary import MENTIONED, SOURCE


class OrganisationIndex:
    """``findings[organisation, role]``: rowids in the dossiers' order; ``events[organisation]``:
    the events of its findings."""

    def __init__(self, findings: dict, events: dict):
        self.findings, self.events = findings, events

    @classmethod
    def load(cls, conn) -> "OrganisationIndex":
        order = np.fromiter((r for (r,) in conn.execute(
            "select f.rowid from findings f join events e on e.id = f.event_id "
            "order by e.date, e.id, f.note_id, f.position, f.rowid")), dtype=np.int64)
        place = np.zeros(int(order.max()) + 1 if len(order) else 1, dtype=np.int64)
        place[order] = np.arange(len(order))
        rowids: dict = defaultdict(list)
        events: dict = defaultdict(set)
        for organisation, role, rowid, event in conn.execute(
                "select fo.organisation_id, fo.role, f.rowid, f.event_id "
                "from finding_organisations fo join findings f on f.id = fo.finding_id"):
            rowids[organisation, role].append(rowid)
            events[organisation].add(event)
        findings = {}
        for key, found in rowids.items():
            found = np.array(found, dtype=np.int64)
            findings[key] = found[np.argsort(place[found], kind="stable")]
        return cls(findings, dict(events))

    def links(self, organisation: str) -> int:
        """How many findings name ``organisation``."""
        return sum(len(self.findings.get((organisation, role), ()))
                   for role in (SOURCE, MENTIONED))

    def first(self, organisation: str, role: str, limit: int) -> list[int]:
        found = self.findings.get((organisation, role))
        return [] if found is None else found[:limit].tolist()


def index_of(datasette, database: str) -> OrganisationIndex | None:
    return datasette.__dict__.get("_cotour_organisations", {}).get(database)


@hookimpl(specname="startup")
def load_organisations(datasette):
    async def inner():
        db = datasette.databases.get(PUBLIC_NAME)
        kept = datasette.__dict__.setdefault("_cotour_organisations", {})
        if db is None or PUBLIC_NAME in kept:
            return
        names = set(await db.table_names())
        if {"findings", "events", "finding_organisations"} <= names:
            kept[PUBLIC_NAME] = await db.execute_fn(OrganisationIndex.load)

    return inner
