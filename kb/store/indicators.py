"""The results framework's measures, computed from the public database: each indicator of
project.yaml's ``objectives`` that names a ``measure`` gets its actual value here, and the
difference from its target (kb.pipeline writes them into both databases)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ..domain.vocabulary import (EMERGING, FINDING_KIND_IDS, FINDINGS_OF_KIND, HELD, STARTED,
                                 COMPLETED, TOUR_STOP, TRADITIONAL, sql_string)
from .database import connect_read_only

_HELD = f"select id from events where status = {sql_string(HELD)}"
# An organisation met at a held event: it took part in a session, is named in a finding of
# the event, or hosted it.
_MET = f"""
    select n.event_id, np.organisation_id from note_participants np
      join notes n on n.id = np.note_id where n.event_id in ({_HELD})
    union
    select f.event_id, fo.organisation_id from finding_organisations fo
      join findings f on f.id = fo.finding_id where f.event_id in ({_HELD})
    union
    select event_id, organisation_id from event_hosts where event_id in ({_HELD})"""


def _met(profile: str | None = None) -> str:
    where = f" where o.profile = {sql_string(profile)}" if profile else ""
    return (f"select count(distinct m.organisation_id) from ({_MET}) m "
            f"join organisations o on o.id = m.organisation_id{where}")


MEASURE_SQL = {
    "events_held": f"select count(*) from events where kind = {sql_string(TOUR_STOP)} "
                   f"and status = {sql_string(HELD)}",
    "events_planned": f"select count(*) from events where kind = {sql_string(TOUR_STOP)}",
    "provinces_reached": f"select count(distinct province) from events "
                         f"where status = {sql_string(HELD)}",
    "organisations_mapped": "select count(*) from organisations where mapped = 1",
    "organisations_met": _met(),
    "emerging_met": _met(EMERGING),
    "traditional_met": _met(TRADITIONAL),
    "attendance": f"select coalesce(sum(attendance_persons), 0) from events "
                  f"where status = {sql_string(HELD)}",
    "findings": f"select count(*) from findings where event_id in ({_HELD})",
    **{FINDINGS_OF_KIND + kind: f"select count(*) from findings where event_id in ({_HELD}) "
                                f"and kind = {sql_string(kind)}" for kind in FINDING_KIND_IDS},
    "initiatives_launched": "select count(*) from initiatives",
    "initiatives_started": f"select count(*) from initiatives where status in "
                           f"({sql_string(STARTED)}, {sql_string(COMPLETED)})",
    "pairs_met": f"""
        with met as ({_MET}),
        e as (select m.event_id, m.organisation_id from met m join organisations o
              on o.id = m.organisation_id where o.profile = {sql_string(EMERGING)}),
        t as (select m.event_id, m.organisation_id from met m join organisations o
              on o.id = m.organisation_id where o.profile = {sql_string(TRADITIONAL)})
        select count(*) from (select distinct e.organisation_id, t.organisation_id
                              from e join t on t.event_id = e.event_id)""",
}


def indicator_values(public_db: Path | str) -> list[tuple[float | None, float | None, str]]:
    """``(actual, difference, id)`` for every indicator: a measure's actual value computed,
    a given value kept; the difference is actual minus target."""
    conn = connect_read_only(public_db)
    try:
        rows = conn.execute("select id, measure, actual, target from indicators").fetchall()
        cache: dict[str, float] = {}
        out = []
        for ident, name, actual, target in rows:
            if name:
                if name not in cache:
                    cache[name] = conn.execute(MEASURE_SQL[name]).fetchone()[0]
                actual = cache[name]
            # rounded: 0.87 - 0.8 is 0.07, not 0.06999999999999995
            difference = (round(actual - target, 9) if actual is not None
                          and target is not None else None)
            out.append((actual, difference, ident))
        return out
    finally:
        conn.close()


def write_indicator_values(db_path: Path | str,
                           values: list[tuple[float | None, float | None, str]]) -> None:
    conn = sqlite3.connect(db_path)
    try:
        with conn:
            conn.executemany("update indicators set actual = ?, difference = ? where id = ?",
                             values)
    finally:
        conn.close()


def measure_values(public_db: Path | str) -> dict[str, float]:
    """Every measure's value on the public database (the report's key figures)."""
    conn = connect_read_only(public_db)
    try:
        return {name: conn.execute(sql).fetchone()[0] for name, sql in MEASURE_SQL.items()}
    finally:
        conn.close()
