"""Generated readings of a chart: the largest, second and smallest categories, with shares."""

from __future__ import annotations

from .words import da, join, num, plural, share


def extremes(counts: list[tuple[str, int]]) -> tuple[list[str], int, list[str], int]:
    """The labels with the largest and the smallest non-zero count, and those counts."""
    present = [(label, n) for label, n in counts if n]
    if not present:
        return [], 0, [], 0
    top = max(n for _, n in present)
    bottom = min(n for _, n in present)
    return ([label for label, n in present if n == top], top,
            [label for label, n in present if n == bottom], bottom)


def reading_distribution(counts: list[tuple[str, int]], whole: int, unit: tuple[str, str],
                         most: tuple[str, str], least: tuple[str, str], name=lambda s: s,
                         missing: str | None = None, of: str = "", feminine: bool = True,
                         unit_feminine: bool = True) -> str:
    """A reading of one distribution: its largest, second and smallest categories, with shares.

    ``most``/``least``: the phrase for one and for several categories (``"la provincia più
    rappresentata è"``, ``"le province più rappresentate sono"``); ``name`` turns a label into
    words; ``missing`` introduces the categories with nothing; ``feminine`` is the gender of the
    categories' noun, ``unit_feminine`` that of the counted things (``ciascuna``/``ciascuno``).
    """
    top, n_top, bottom, n_bottom = extremes(counts)
    if not top:
        return ""
    each = " ciascuna" if unit_feminine else " ciascuno"

    def amount(labels: list[str], n: int, extra: str = "") -> str:
        return f"{plural(n, *unit)}{each if len(labels) > 1 else ''} ({share(n, whole)}{extra})"

    first = f"{most[len(top) > 1]} {join(name(t) for t in top)}, con {amount(top, n_top, of)}"
    lower = sorted({n for _, n in counts if 0 < n < n_top}, reverse=True)
    if lower and lower[0] > n_bottom:  # a second rank that is not also the last
        second = [label for label, n in counts if n == lower[0]]
        ending = ("a" if feminine else "o") if len(top) == 1 else ("e" if feminine else "i")
        first += (f", seguit{ending} {da(join(name(s) for s in second))} ({num(lower[0])}"
                  f"{each if len(second) > 1 else ''}, {share(lower[0], whole)})")
    sentences = [first]
    if n_bottom < n_top:
        sentences.append(f"{least[len(bottom) > 1]} {join(name(b) for b in bottom)}, con "
                         f"{amount(bottom, n_bottom)}")
    zero = [label for label, n in counts if not n]
    if zero and missing:
        sentences.append(f"{missing} {join(name(z) for z in zero)}")
    return ". ".join(s[0].upper() + s[1:] for s in sentences) + "."
