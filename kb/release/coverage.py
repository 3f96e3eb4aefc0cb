"""The release's period and place: as project.yaml gives them, or as the events say.

DCAT-AP_IT wants a dataset's temporal and spatial coverage, and a ``project.yaml`` may leave
both out (the design makes them optional). The data already know them: the period runs from the
first to the last held event, the place is the province of the held events, or the region when
they were held in several. A place is written with its GeoNames feature (the vocabulary has each
province's and the region's) and its name in Italian and English, which is what the harvesters
read; a place given by name alone gets its GeoNames feature when the vocabulary knows the name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..domain.text import fold
from ..domain.vocabulary import HELD, PROVINCE, PROVINCES, REGION, REGION_GEONAMES
from ..store.database import connect_read_only


@dataclass(frozen=True)
class Place:
    name_it: str
    name_en: str
    geonames: str


REGION_PLACE = Place(REGION[0], REGION[1], REGION_GEONAMES)


def province_place(sigla: str) -> Place:
    province = PROVINCE[sigla]
    return Place(*province.place, province.geonames)


def known_place(name: str | None = None, geonames: str | None = None) -> Place | None:
    """The vocabulary's place of that GeoNames number, or of that name ("Emilia-Romagna",
    "Parma", "Provincia di Parma", ignoring case and accents)."""
    places = [REGION_PLACE] + [province_place(p.id) for p in PROVINCES]
    if geonames:
        return next((p for p in places if p.geonames == geonames), None)
    if name:
        for place, province in zip(places, [None, *PROVINCES]):
            if _key(name) in {_key(place.name_it), _key(place.name_en)} | (
                    {_key(province.name)} if province else set()):
                return place
    return None


def _key(name: str) -> str:
    """A place's name for matching: case, accents and punctuation aside."""
    return re.sub(r"[\W_]+", " ", fold(name)).strip()


def held_events(public_db: Path) -> list[tuple[str, str]]:
    """(date, province) of every held event with a date, in date order."""
    conn = connect_read_only(public_db)
    try:
        return conn.execute("select date, province from events where status = ? and date is "
                            "not null order by date", (HELD,)).fetchall()
    finally:
        conn.close()


def complete(project: dict, events: list[tuple[str, str]]) -> dict:
    """``project`` with its period and place: as given, or derived from ``events`` ((date,
    province) of the held events). ``derived`` lists what was derived ("temporal", "spatial");
    ``spatial_en`` is the place's English name where it is known."""
    out = dict(project, derived=[], spatial_en=None)
    if not project.get("temporal_start") and not project.get("temporal_end") and events:
        out["temporal_start"], out["temporal_end"] = events[0][0], events[-1][0]
        out["derived"].append("temporal")
    if project.get("spatial"):
        place = known_place(project["spatial"], project.get("spatial_geonames"))
        if place and not project.get("spatial_geonames"):
            out["spatial_geonames"] = place.geonames
        if place and _key(place.name_it) == _key(project["spatial"]):
            out["spatial_en"] = place.name_en
    elif events:
        provinces = {province for _, province in events if province in PROVINCE}
        if provinces:
            place = province_place(provinces.pop()) if len(provinces) == 1 else REGION_PLACE
            out["spatial"], out["spatial_en"] = place.name_it, place.name_en
            out["spatial_geonames"] = place.geonames
            out["derived"].append("spatial")
    return out


def release_project(public_db: Path, project: dict) -> dict:
    """The project row of ``public_db`` completed with the period and place its events say."""
    return complete(project, held_events(public_db))
