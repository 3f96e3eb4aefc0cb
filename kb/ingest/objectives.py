"""project.yaml's results framework: the funder (``funder``) and the objectives with their
indicators (``objectives``), checked at each key's line."""

from __future__ import annotations

from typing import Any

from ..diagnostics import Diagnostics, did_you_mean, excerpt
from ..domain.vocabulary import (FINDING_KIND_IDS, FINDINGS_OF_KIND, MEASURE, SHARE, measure,
                                 measure_names)
from .fields import Fields, _kind
from .yaml_lines import LineDict, LineList

FUNDER_KEYS = ("name", "id", "programme")
OBJECTIVE_KEYS = ("id", "text", "indicators")
INDICATOR_KEYS = ("id", "label", "measure", "value", "source", "target", "unit", "note")


def read_funder(f: Fields, data: LineDict) -> dict[str, str | None]:
    """``funder: {name, id, programme}`` as the project row's columns (all ``None`` without)."""
    out = {"funder_name": None, "funder_id": None, "funder_programme": None}
    funder = data.get("funder")
    if funder is None:
        return out
    if not isinstance(funder, LineDict):
        f.error("funder", "'funder' must be a mapping: {name: ..., id: ..., programme: ...}")
        return out
    ff = Fields(funder, f.path, f.diags)
    ff.unknown_keys(FUNDER_KEYS, "'funder'")
    out["funder_name"] = ff.text("name", required=True)
    out["funder_id"] = ff.text("id")
    out["funder_programme"] = ff.text("programme")
    return out


def read_objectives(f: Fields, data: LineDict) -> list[dict[str, Any]]:
    """The indicators of ``objectives``, one dict each, in order, with the objective they
    measure; ``actual`` is the given value (a measure's is computed by the build)."""
    objectives = data.get("objectives")
    if objectives is None:
        return []
    if not isinstance(objectives, LineList):
        f.error("objectives", "'objectives' must be a list of {id, text, indicators}")
        return []
    path, diags = f.path, f.diags
    rows: list[dict[str, Any]] = []
    seen_objectives: dict[str, int] = {}
    seen: dict[str, int] = {}
    for i, objective in enumerate(objectives):
        line = objectives.line_of(i)
        if not isinstance(objective, LineDict):
            diags.error(path, line, f"each objective is a mapping {{id, text, indicators}}, not "
                                    f"a {_kind(objective)}")
            continue
        of = Fields(objective, path, diags)
        of.unknown_keys(OBJECTIVE_KEYS, "an objective")
        objective_id, text = of.slug("id", required=True), of.text("text", required=True)
        if objective_id in seen_objectives:
            of.error("id", f"duplicate objective id '{objective_id}' (first at line "
                           f"{seen_objectives[objective_id]})")
        elif objective_id:
            seen_objectives[objective_id] = of.line("id")
        indicators = objective.get("indicators")
        if not isinstance(indicators, LineList) or not indicators:
            diags.error(path, of.line("indicators") if "indicators" in objective else line,
                        "an objective needs 'indicators': a list of {id, label, target, and "
                        "measure or value with its source}")
            continue
        for j, indicator in enumerate(indicators):
            row = _indicator(indicator, indicators.line_of(j), path, diags, seen)
            if row and objective_id and text:
                rows.append({**row, "objective_id": objective_id, "objective": text,
                             "objective_position": i + 1, "position": j + 1})
    return rows


def _indicator(indicator: Any, line: int, path: str, diags: Diagnostics,
               seen: dict[str, int]) -> dict[str, Any] | None:
    if not isinstance(indicator, LineDict):
        diags.error(path, line, f"each indicator is a mapping {{id, label, target, ...}}, not "
                                f"a {_kind(indicator)}")
        return None
    f = Fields(indicator, path, diags)
    f.unknown_keys(INDICATOR_KEYS, "an indicator")
    errors = len(diags.errors)
    ident, label = f.slug("id", required=True), f.text("label", required=True)
    if ident in seen:
        f.error("id", f"duplicate indicator id '{ident}' (first at line {seen[ident]})")
    elif ident:
        seen[ident] = f.line("id")
    unit = f.text("unit")
    target = _number(f, "target", unit, required=True)
    name, source = f.text("measure"), f.text("source")
    value = _number(f, "value", unit) if "value" in indicator else None
    if name is not None and "value" in indicator:
        f.error("value", "an indicator has a 'measure' the knowledge base computes or a given "
                         "'value' with its 'source', not both")
    elif name is not None:
        if measure(name) is None:
            f.error("measure", f"unknown measure '{excerpt(name)}'"
                               f"{did_you_mean(name[:100], measure_names())} (one of: "
                               f"{', '.join(MEASURE)}, or {FINDINGS_OF_KIND}<kind>, the kind "
                               f"one of: {', '.join(FINDING_KIND_IDS)})")
        if source is not None:
            f.error("source", "'source' says where a given 'value' comes from: a 'measure' "
                              "is computed from the knowledge base")
    elif "value" in indicator:
        if source is None:
            f.error("value", "a given 'value' needs its 'source' (e.g. source: questionario "
                             "finale)")
    else:
        diags.error(path, line, "an indicator needs a 'measure' the knowledge base computes "
                                "or a given 'value' with its 'source'")
    if len(diags.errors) > errors:
        return None
    return {"id": ident, "label": label, "measure": name, "source": source, "target": target,
            "actual": value, "unit": unit, "note": f.text("note"), "source_line": line}


def _number(f: Fields, key: str, unit: str | None, required: bool = False) -> float | None:
    value = f.m.get(key)
    if value is None:
        if required:
            f.diags.error(f.path, f.m.line, f"missing required key '{key}' (a number)")
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        f.error(key, f"'{key}' must be a number, not '{excerpt(value)}'"
                + (" (a share is written 0.8, not 80%)" if isinstance(value, str)
                   and value.strip().endswith("%") else ""))
        return None
    if unit == SHARE and not 0 <= value <= 1:
        f.error(key, f"'{key}' {value} is a share: write it from 0 to 1 (0.8 for 80%)")
        return None
    return value
