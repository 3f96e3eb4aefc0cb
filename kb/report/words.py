"""Italian words for the report: numbers, shares, dates, lists, plurals, typography and the
labels of the data's vocabularies. The templates use the same functions as Jinja filters
(:data:`FILTERS`), so a number is written the same way in prose and in tables."""

from __future__ import annotations

import re
from datetime import date
from typing import Iterable

from ..domain import vocabulary
from ..domain.italian import joined, name_with, with_space
from ..domain.vocabulary import FINDING_KIND, title

LOCALE = "it"

LEGAL_FORMS = {f.id: (f.label, f.it_article) for f in vocabulary.LEGAL_FORMS}
PROFILES = {p.id: (p.label, p.id) for p in vocabulary.PROFILES}
EVENT_STATUS = {s.id: s.it for s in vocabulary.EVENT_STATUSES}
NOTE_KINDS = {k.id: title(k.it) for k in vocabulary.NOTE_KINDS}
NOTE_PLURALS = {k.id: k.it_plural for k in vocabulary.NOTE_KINDS}
NOTE_ORDER = vocabulary.NOTE_KIND_IDS
# Finding kinds whose Italian noun is feminine (una buona pratica sollevata, un problema sollevato).
FEMININE_KINDS = frozenset(vocabulary.FINDING_KIND_IDS) - {vocabulary.PROBLEM}
TYPE_NAMES = {"text": "testo", "integer": "intero", "real": "decimale", "boolean": "sì/no",
              "date": "data", "json": "lista JSON"}


def num(n: int | float) -> str:
    from babel.numbers import format_decimal
    return format_decimal(n, locale=LOCALE)


def share(part: int, whole: int) -> str:
    from babel.numbers import format_percent
    return format_percent(part / whole if whole else 0, locale=LOCALE)


# Below this base a share is told as a count: a percentage of seven things says more than it knows.
SMALL_BASE = 10


def part_of(part: int, whole: int) -> str:
    """A share with its base: ``21 su 70 (30%)``; below :data:`SMALL_BASE`, ``2 su 7``."""
    text = f"{num(part)} su {num(whole)}"
    return text if whole < SMALL_BASE else f"{text} ({share(part, whole)})"


def long_date(value: str | None) -> str:
    """``2015-12-09`` -> ``9 dicembre 2015``, ``2015-11-01`` -> ``1º novembre 2015`` (Italian
    writes the first of the month as an ordinal); empty for no date."""
    from babel.dates import format_date
    if not value:
        return ""
    day = date.fromisoformat(value)
    text = format_date(day, format="long", locale=LOCALE)
    return text.replace("1 ", "1º ", 1) if day.day == 1 else text


def date_article(value: str | None) -> str:
    """The article of a date: ``l’`` before 8 and 11 (``l’8 dicembre``), else ``il``."""
    day = date.fromisoformat(value).day if value else 0
    return "l’" if day in (8, 11) else "il"


def on_date(preposition: str, value: str | None) -> str:
    """A date with its preposition and article: ``dal 1º novembre 2015``, ``dall’8 dicembre
    2015``, ``il 9 dicembre 2015`` (``preposition`` empty)."""
    article = date_article(value)
    if not preposition:
        return with_space(article) + long_date(value)
    return joined(preposition, article) + long_date(value)


def period(start: str | None, end: str | None) -> str:
    """``dal 1º novembre 2015 al 31 marzo 2016`` (empty unless both dates are known)."""
    return f"{on_date('da', start)} {on_date('a', end)}" if start and end else ""


def names_with(preposition: str, names: Iterable[str]) -> str:
    """``dalla Cooperativa X e da Kilowatt``: each name joined to the preposition."""
    return join(name_with(preposition, n) for n in names)


def sentence(text: str) -> str:
    """``text`` closed by a full stop, unless it already ends with one (``Soc. Coop.``)."""
    text = text.rstrip()
    return text if not text or text[-1] in ".!?…" else text + "."


def join(items: Iterable[str], last: str = "e") -> str:
    """``a, b e c``."""
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def plural(n: int, one: str, many: str) -> str:
    return f"{num(n)} {one if n == 1 else many}"


def join_some(items: list[str], most: int, one: str, many: str) -> str:
    """``a, b e c``; past ``most`` items the first ``most`` and how many more (``a, b, c e
    altri 4 incontri``), so that a sentence keeps its length whatever the corpus."""
    if len(items) <= most:
        return join(items)
    return join(items[:most] + [plural(len(items) - most, one, many)])


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


# English words Italian writes as they are: marked lang="en" so that they are neither split by
# Italian hyphenation rules ("Cowor-king") nor read aloud as Italian.
ENGLISH_WORDS = (
    "coworking", "coworker", "coliving", "co-housing", "cohousing", "crowdfunding",
    "stakeholder", "stakeholders", "multistakeholder", "sharing economy", "makerspace",
    "freelance", "freelancer", "freelancers", "start-up", "startup", "social street",
    "repair café", "fablab", "know-how", "smart working", "community", "network", "welfare",
    "governance", "slow travel", "open data", "platform cooperativism",
)
_ENGLISH = re.compile(r"(?<![\w-])(" + "|".join(sorted((re.escape(w) for w in ENGLISH_WORDS),
                                                       key=len, reverse=True)) + r")(?![\w-])", re.I)
# URLs and e-mail addresses in running text: never hyphenated, broken anywhere if they must be.
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"«»]+[^\s<>\"«».,;:!?)]|"
                  r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_SKIP = ("code", "style", "script", "title", "svg", "pre")


def mark_text(html: str) -> str:
    """The report's HTML with English words in ``<span lang="en">``, URLs and e-mail addresses
    in ``<span class="url">`` (their own hyphenation rules) and the last two words of a
    paragraph joined by a no-break space when the last is short (no one-word last line)."""
    parts = re.split(r"(<[^>]+>)", html)
    skip = 0
    out = []
    for i, part in enumerate(parts):
        if part.startswith("<"):
            name = re.match(r"</?([a-zA-Z0-9]+)", part)
            if name and name.group(1).lower() in _SKIP and not part.endswith("/>"):
                skip += -1 if part.startswith("</") else 1
            out.append(part)
            continue
        if skip or not part.strip():
            out.append(part)
            continue
        pieces = []
        last = 0
        for m in _URL.finditer(part):
            pieces.append(_ENGLISH.sub(r'<span lang="en">\1</span>', part[last:m.start()]))
            pieces.append(f'<span class="url">{m.group(0)}</span>')
            last = m.end()
        tail = part[last:]
        following = parts[i + 1] if i + 1 < len(parts) else ""
        if following in ("</p>", "</li>", "</dd>"):
            words = tail.rsplit(" ", 1)
            if len(words) == 2 and 0 < len(words[1].strip()) <= 8 and words[0].strip():
                tail = f"{words[0]}\u00a0{words[1]}"
        pieces.append(_ENGLISH.sub(r'<span lang="en">\1</span>', tail))
        out.append("".join(pieces))
    return "".join(out)


FILTERS = {"num": num, "share": share, "long_date": long_date, "and_join": join, "typo": typo,
           "quoted": quoted, "sentence": sentence}
