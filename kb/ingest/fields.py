"""Typed access to a YAML mapping or a CSV row, each problem reported at its line."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from ..diagnostics import Diagnostics, did_you_mean, excerpt
from .yaml_lines import LineDict, LineList

SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")

# A release's version: it goes into file names (cotour-1.0.0.zip), so no '/' nor space.
VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,39}")

# The largest count a file may give (attendance): SQLite stores at most 2**63 - 1, and no
# meeting of this project had a million people.
MAX_COUNT = 1_000_000


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "yes/no value"
    return {dict: "mapping", list: "list", float: "number", int: "number"}.get(
        type(value).__mro__[-2] if isinstance(value, (dict, list)) else type(value),
        type(value).__name__)


def text_problem(key: str, value: Any) -> str | None:
    """Why ``value`` cannot stand for the text of ``key`` as written, or ``None``.

    YAML reads ``yes`` as true and ``1.10`` as the number 1.1: turned back into text they
    would change silently, so they are refused with the way to write them.
    """
    if isinstance(value, (dict, list)):
        return f"'{key}' must be a text, not a {_kind(value)}"
    if isinstance(value, bool):
        return (f"'{key}' is read as a yes/no value, not a text: put it in quotes "
                f"({key}: \"...\")")
    if isinstance(value, float):
        return (f"'{key}' is read as a number ({excerpt(value)}), which may change how it is "
                f"written: put it in quotes ({key}: \"...\")")
    return None


class Fields:
    """Typed access to one YAML mapping, reporting problems at the offending key's line."""

    def __init__(self, mapping: LineDict, path: str, diags: Diagnostics):
        self.m = mapping
        self.path = path
        self.diags = diags

    def line(self, key: str) -> int:
        return self.m.line_of(key)

    def error(self, key: str, message: str) -> None:
        self.diags.error(self.path, self.line(key), message)

    def unknown_keys(self, allowed, what: str) -> None:
        for key in self.m:
            if key not in allowed:
                shown = excerpt(str(key))
                self.error(key, f"unknown key '{shown}' in {what}{did_you_mean(shown, allowed)}")

    def text(self, key: str, required: bool = False) -> str | None:
        value = self.m.get(key)
        if value is None or value == "":
            if required:
                self.diags.error(self.path, self.m.line, f"missing required key '{key}'")
            return None
        problem = text_problem(key, value)
        if problem:
            self.error(key, problem)
            return None
        return str(value).strip()

    def slug(self, key: str, required: bool = False) -> str | None:
        value = self.text(key, required)
        if value is not None and not SLUG.match(value):
            self.error(key, f"'{excerpt(value)}' is not a valid id: use lower-case letters, "
                            "digits and hyphens")
            return None
        return value

    def choice(self, key: str, choices: list[str], required: bool = False) -> str | None:
        value = self.text(key, required)
        if value is not None and value not in choices:
            self.error(
                key,
                f"invalid {key} '{excerpt(value)}'{did_you_mean(value[:100], choices)} "
                f"(one of: {', '.join(choices)})",
            )
            return None
        return value

    def date(self, key: str, required: bool = False) -> str | None:
        value = self.text(key, required)
        return check_date(value, self.path, self.line(key), self.diags) if value else None

    def integer(self, key: str, minimum: int = 0, maximum: int = MAX_COUNT) -> int | None:
        value = self.m.get(key)
        if value is None:
            return None
        if (isinstance(value, bool) or not isinstance(value, int)
                or not minimum <= value <= maximum):
            self.error(key, f"'{key}' must be a whole number from {minimum:,} to {maximum:,}, "
                            f"not '{excerpt(value)}'")
            return None
        return value

    def bilingual(self, key: str, required: bool = False) -> tuple[str | None, str | None]:
        """A plain Italian string or ``{it: ..., en: ...}``."""
        value = self.m.get(key)
        if isinstance(value, dict):
            inner = Fields(value, self.path, self.diags)
            inner.unknown_keys(["it", "en"], f"'{key}'")
            return inner.text("it", required=True), inner.text("en")
        return self.text(key, required), None

    def text_list(self, key: str, one: bool = False) -> list[str]:
        """A list of texts; with ``one``, a single text is taken as a list of one."""
        value = self.m.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            if one and text_problem(key, value) is None:
                return [str(value).strip()]
            if isinstance(value, str):
                self.error(key, f"'{key}' must be a list: write it as a list: "
                                f"[{excerpt(value)}]")
            else:
                self.error(key, f"'{key}' must be a list of texts, not a {_kind(value)}")
            return []
        items = []
        for i, item in enumerate(value):
            problem = text_problem(key, item)
            if problem:
                self.diags.error(self.path, value.line_of(i) if isinstance(value, LineList)
                                 else self.line(key), problem.replace(
                                     f"'{key}' must be", f"each item of '{key}' must be"))
            elif str(item).strip():
                items.append(str(item).strip())
        return items

    def slug_list(self, key: str) -> list[tuple[str, int]]:
        """A list of ids, each with its own line."""
        value = self.m.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            value = LineList([value])
            value.lines = [self.line(key)]
        items = []
        for i, item in enumerate(value):
            line = value.line_of(i) if isinstance(value, LineList) else self.line(key)
            if not isinstance(item, (str, int)) or isinstance(item, bool):
                self.diags.error(self.path, line, f"'{key}' must list ids, not "
                                                  f"'{excerpt(item)}'")
                continue
            items.append((str(item).strip(), line))
        return items


def check_date(value: str, path: str, line: int, diags: Diagnostics) -> str | None:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        diags.error(path, line, f"invalid date '{value}': write it as YYYY-MM-DD")
        return None
    try:
        date.fromisoformat(value)
    except ValueError:
        diags.error(path, line, f"impossible date '{value}'")
        return None
    return value
