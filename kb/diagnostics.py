"""Compiler-style problems found in the input: ``path:line: error: message``."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Iterable

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, order=True)
class Diagnostic:
    path: str
    line: int
    severity: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.severity}: {self.message}"


# A value quoted in a message is cut to this many characters: a diagnostic names the problem,
# it does not echo the input (a small YAML alias bomb expands into a huge value).
EXCERPT = 60
MESSAGE = 400
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def excerpt(value: object, limit: int = EXCERPT) -> str:
    """``value`` as text on one line, at most ``limit`` characters (``…`` where it was cut)."""
    text = value if isinstance(value, str) else repr(value)
    text = " ".join(text[: limit * 4].split())
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)  # shown, not sent
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _bounded(message: str) -> str:
    return message if len(message) <= MESSAGE else message[: MESSAGE - 1] + "…"


@dataclass
class Diagnostics:
    """Collects every problem of a run, so one run reports them all."""

    items: list[Diagnostic] = field(default_factory=list)

    def error(self, path: str, line: int, message: str) -> None:
        self.items.append(Diagnostic(str(path), int(line or 1), ERROR, _bounded(message)))

    def warning(self, path: str, line: int, message: str) -> None:
        self.items.append(Diagnostic(str(path), int(line or 1), WARNING, _bounded(message)))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.sorted() if d.severity == ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.sorted() if d.severity == WARNING]

    def sorted(self) -> list[Diagnostic]:
        # Sorted by file then line, so the output reads like a compiler's; duplicates dropped.
        return sorted(set(self.items), key=lambda d: (d.path, d.line, d.severity, d.message))

    def __bool__(self) -> bool:
        return bool(self.items)


class CotourError(Exception):
    """Base of the errors the library raises; the CLI turns them into messages.

    With ``path`` (and ``line``) it reads as a diagnostic: ``path[:line]: error: message``.
    """

    def __init__(self, message: str, path: object = None, line: int | None = None):
        super().__init__(message)
        self.message, self.path, self.line = message, path, line

    def __str__(self) -> str:
        if self.path is None:
            return self.message
        where = f"{self.path}:{self.line}" if self.line else f"{self.path}"
        return f"{where}: error: {self.message}"


class InputError(CotourError):
    """The input has errors; ``diagnostics`` holds all of them (warnings included)."""

    def __init__(self, diagnostics: Diagnostics):
        self.diagnostics = diagnostics
        n = len(diagnostics.errors)
        super().__init__(f"{n} error{'s' if n != 1 else ''} in the input")


def did_you_mean(word: str, candidates: Iterable[str], cutoff: float = 0.6) -> str:
    """`` ; did you mean 'x'?`` for the closest candidate, or an empty string."""
    by_folded = {c.casefold(): c for c in candidates}
    matches = difflib.get_close_matches(word.casefold(), list(by_folded), n=1, cutoff=cutoff)
    return f"; did you mean '{by_folded[matches[0]]}'?" if matches else ""
