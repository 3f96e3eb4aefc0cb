"""Italian words for the report: numbers, shares, dates, lists, plurals, typography and the
labels of the data's vocabularies. The templates use the same functions as Jinja filters
(:data:`FILTERS`), so a number is written the same way in prose and in tables."""

from __future__ import annotations

import re
from datetime import date
from typing import Iterable

from .. import vocabulary
from ..vocabulary import FINDING_KIND, title

LOCALE = "it"

LEGAL_FORMS = {f.id: (f.label, f.it_article) for f in vocabulary.LEGAL_FORMS}
PROFILES = {p.id: (p.label, p.id) for p in vocabulary.PROFILES}
EVENT_STATUS = {s.id: s.it for s in vocabulary.EVENT_STATUSES}
NOTE_KINDS = {k.id: title(k.it) for k in vocabulary.NOTE_KINDS}
NOTE_PLURALS = {k.id: k.it_plural for k in vocabulary.NOTE_KINDS}
NOTE_ORDER = vocabulary.NOTE_KIND_IDS
TYPE_NAMES = {"text": "testo", "integer": "intero", "real": "decimale", "boolean": "sì/no",
              "date": "data", "json": "lista JSON"}


def num(n: int | float) -> str:
    from babel.numbers import format_decimal
    return format_decimal(n, locale=LOCALE)


def share(part: int, whole: int) -> str:
    from babel.numbers import format_percent
    return format_percent(part / whole if whole else 0, locale=LOCALE)


def long_date(value: str | None) -> str:
    """``2015-12-09`` -> ``9 dicembre 2015`` (empty for no date)."""
    from babel.dates import format_date
    if not value:
        return ""
    return format_date(date.fromisoformat(value), format="long", locale=LOCALE)


def join(items: Iterable[str], last: str = "e") -> str:
    """``a, b e c``."""
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def plural(n: int, one: str, many: str) -> str:
    return f"{num(n)} {one if n == 1 else many}"


def typo(text: str | None) -> str:
    """Typographic apostrophes and Italian quotes in a plain string."""
    if not text:
        return ""
    text = re.sub(r'"([^"\n]*)"', r"«\1»", text)
    text = re.sub(r"(?<=\w)'", "’", text)
    text = re.sub(r"'([^'\n]*)’?", r"‘\1’", text) if "'" in text else text
    return text.replace(" -- ", " – ").replace(" - ", " – ")


def da(phrase: str) -> str:
    """``da`` joined to the phrase's article: ``la cooperativa`` -> ``dalla cooperativa``."""
    for article, joined in (("l’", "dall’"), ("la ", "dalla "), ("il ", "dal "), ("lo ", "dallo "),
                            ("le ", "dalle "), ("i ", "dai "), ("gli ", "dagli ")):
        if phrase.startswith(article):
            return joined + phrase[len(article):]
    return "da " + phrase


def the_share(part: int, whole: int) -> str:
    """A share with its article: ``il 13%``, ``l’8%``, ``l’11%``."""
    text = share(part, whole)
    digits = text.rstrip("%\u00a0 ")
    vowel = digits in ("1", "11") or digits.startswith("8")
    return f"{'l’' if vowel else 'il '}{text}"


def quoted(label: str) -> str:
    return f"«{label}»"


def singular(kind: str) -> str:
    return FINDING_KIND[kind].it



FILTERS = {"num": num, "share": share, "long_date": long_date, "and_join": join, "typo": typo,
           "quoted": quoted}
