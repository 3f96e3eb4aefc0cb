"""The YAML lists of ``data/``: themes, events and initiatives."""

from __future__ import annotations

from pathlib import Path

from ..diagnostics import Diagnostics
from ..domain.vocabulary import (
    EVENT_KIND_IDS,
    EVENT_STATUS_IDS,
    INITIATIVE_STATUS_IDS,
    PROVINCE_IDS,
    SCHEDULED,
)
from .fields import Fields
from .files import _duplicates, _entries, _read_yaml
from .records import Event, Initiative, Theme
from .yaml_lines import LineDict


def read_themes(data_dir: Path, diags: Diagnostics) -> list[Theme]:
    rel = "themes.yaml"
    path = str(data_dir / rel)
    themes = []
    for entry in _entries(_read_yaml(data_dir, rel, diags), path, diags, "themes"):
        f = Fields(entry, path, diags)
        f.unknown_keys(["id", "label", "description", "parent"], "a theme")
        theme_id = f.slug("id", required=True)
        label, label_en = f.bilingual("label", required=True)
        description, description_en = f.bilingual("description")
        if theme_id is None or label is None:
            continue
        themes.append(Theme(theme_id, label, label_en, description, description_en,
                            f.slug("parent"), f.line("id"), f.line("parent")))
    _duplicates(themes, path, diags, "theme")
    return themes


def read_events(data_dir: Path, diags: Diagnostics) -> list[Event]:
    rel = "events.yaml"
    path = str(data_dir / rel)
    events = []
    keys = ["id", "city", "province", "date", "kind", "status", "venue", "attendance",
            "programme", "hosts"]
    for entry in _entries(_read_yaml(data_dir, rel, diags), path, diags, "events"):
        f = Fields(entry, path, diags)
        f.unknown_keys(keys, "an event")
        event_id = f.slug("id", required=True)
        status = f.choice("status", EVENT_STATUS_IDS, required=True)
        event_date = f.date("date")
        if event_date is None and "date" not in entry and status != SCHEDULED:
            diags.error(path, entry.line, f"missing required key 'date' (only a '{SCHEDULED}' event may lack one)")
        persons = organisations = None
        attendance = entry.get("attendance")
        if isinstance(attendance, LineDict):
            af = Fields(attendance, path, diags)
            af.unknown_keys(["persons", "organisations"], "'attendance'")
            persons, organisations = af.integer("persons"), af.integer("organisations")
        elif attendance is not None:
            f.error("attendance", "'attendance' must be a mapping {persons: N, organisations: N}")
        if event_id is None:
            continue
        events.append(Event(
            id=event_id,
            city=f.text("city", required=True),
            province=f.choice("province", PROVINCE_IDS, required=True),
            date=event_date,
            kind=f.choice("kind", EVENT_KIND_IDS, required=True),
            status=status,
            venue=f.text("venue"),
            attendance_persons=persons,
            attendance_organisations=organisations,
            programme=f.text("programme"),
            hosts=f.slug_list("hosts"),
            line=f.line("id"),
        ))
    _duplicates(events, path, diags, "event")
    return events


def read_initiatives(data_dir: Path, diags: Diagnostics) -> list[Initiative]:
    rel = "initiatives.yaml"
    path = str(data_dir / rel)
    initiatives = []
    data = _read_yaml(data_dir, rel, diags, required=False)
    keys = ["id", "title", "description", "status", "status_date", "lead", "organisations",
            "themes", "born_from", "next_step"]
    for entry in _entries(data, path, diags, "initiatives"):
        f = Fields(entry, path, diags)
        f.unknown_keys(keys, "an initiative")
        initiative_id = f.slug("id", required=True)
        if initiative_id is None:
            continue
        initiatives.append(Initiative(
            id=initiative_id,
            title=f.text("title", required=True),
            description=f.text("description"),
            status=f.choice("status", INITIATIVE_STATUS_IDS, required=True),
            organisations=f.slug_list("organisations"),
            themes=f.slug_list("themes"),
            born_from=f.slug_list("born_from"),
            status_date=f.date("status_date"),
            lead=(lead, f.line("lead")) if (lead := f.text("lead")) else None,
            next_step=f.text("next_step"),
            line=f.line("id"),
        ))
    _duplicates(initiatives, path, diags, "initiative")
    return initiatives
