"""The final results report: public database -> template data -> HTML -> PDF (WeasyPrint).

Python reads the public database (and nothing else but the images in ``data/assets/``) and
hands the templates plain data: strings, numbers, lists and dicts. The layout lives only in
``reports/templates/`` (Jinja2 and print CSS). Charts are SVGs written here (the network figure
comes from :mod:`kb.hybrid`) and embedded as ``data:`` URIs, so the HTML edition written beside
the PDF stands on its own.

Every chart has a reading generated from its figures (largest and smallest categories, shares);
a staff text ``data/report/<section>.md`` (the ``documents`` table) replaces it.
"""

from __future__ import annotations

import base64
import json
import logging
import mimetypes
import re
import shutil
import tempfile
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Iterable

from .diagnostics import CotourError
from .dictionary import TABLES
from .normalise import FINDING_KINDS, MENTION, TAG, organisation_key, slugify
from .public import public_path_for, require_public
from .read import LICENCES
from .store import Progress, _noop, read_tables


TEMPLATES = Path(__file__).resolve().parent.parent / "reports" / "templates"
REPORT_NAME = "cotour-report.pdf"
LOCALE = "it"

# Staff texts the report knows (data/report/<id>.md): whole sections, or the reading of a chart.
STAFF_SECTIONS = ("introduzione", "conclusioni", "ringraziamenti")
READINGS = {
    "mappatura-province": "Organizzazioni per provincia",
    "mappatura-forme-giuridiche": "Organizzazioni per forma giuridica",
    "mappatura-profili": "Cooperative e non, emergenti e tradizionali",
    "mappatura-temi": "Organizzazioni per tema",
    "tour": "Le tappe del tour",
    "sintesi-tipi": "Risultati per tipo e tappa",
    "sintesi-temi-province": "Temi per provincia",
    "sintesi-ricorrenze": "Pratiche e minacce ricorrenti",
    "sintesi-profili": "Emergenti e tradizionali a confronto",
    "iniziative": "Nuove iniziative",
}

LEGAL_FORMS = {  # form -> (label for charts and tables, the form with its article)
    "cooperativa": ("Cooperative", "la cooperativa"),
    "cooperativa sociale": ("Cooperative sociali", "la cooperativa sociale"),
    "consorzio": ("Consorzi", "il consorzio"),
    "associazione": ("Associazioni", "l’associazione"),
    "fondazione": ("Fondazioni", "la fondazione"),
    "impresa": ("Imprese", "l’impresa"),
    "startup": ("Startup", "la startup"),
    "ente pubblico": ("Enti pubblici", "l’ente pubblico"),
    "gruppo informale": ("Gruppi informali", "il gruppo informale"),
    "altro": ("Altre forme", "un’altra forma"),
}
PROFILES = {"emergente": ("Attori emergenti", "emergente"),
            "tradizionale": ("Settori tradizionali", "tradizionale")}
EVENT_STATUS = {"svolto": "svolta", "programmato": "programmata", "annullato": "annullata"}
NOTE_KINDS = {"plenaria": "Plenaria", "tavolo": "Tavolo di lavoro", "intervista": "Intervista",
              "sintesi": "Sintesi"}
NOTE_ORDER = ("plenaria", "tavolo", "intervista", "sintesi")
INITIATIVE_STATUS = {"proposta": "proposta", "avviata": "avviata", "conclusa": "conclusa"}
TYPE_NAMES = {"text": "testo", "integer": "intero", "real": "decimale", "boolean": "sì/no",
              "date": "data", "json": "lista JSON"}
# Colours of the charts (the CSS has the same ones as custom properties).
INK, ACCENT, ACCENT_2, MUTED, GRID = "#1f2a30", "#1f6f78", "#d9822b", "#8a9aa3", "#dde3e6"


class ReportError(CotourError):
    pass


@dataclass
class ReportResult:
    pdf_path: Path
    html_path: Path
    pages: int
    seconds: float
    attachments: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- Italian words


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


# --------------------------------------------------------------------------- Markdown


class Markdown:
    """Staff and notes' Markdown rendered safely: no raw HTML (``<script>`` shows as text),
    ``[[mentions]]`` as the organisation's name, ``#theme`` tags as chips, headings shifted
    below the report's own, images only from ``data/assets/`` (embedded)."""

    def __init__(self, organisations: dict[str, dict], themes: dict[str, dict],
                 assets: Path | None, warnings: list[str]):
        from markdown_it import MarkdownIt
        from markdown_it.common.utils import escapeHtml

        self.escape = escapeHtml
        self.organisations = organisations
        self.by_key = {}
        for org in organisations.values():
            for name in [org["id"].replace("-", " "), org["name"], *json.loads(org["aliases"] or "[]")]:
                self.by_key.setdefault(organisation_key(name), org["id"])
        self.themes = themes
        self.assets = assets
        self.warnings = warnings
        md = MarkdownIt("commonmark", {"html": False, "typographer": True, "quotes": "«»“”"})
        md.enable(["replacements", "smartquotes"])
        md.inline.ruler.before("link", "mention", self._mention_rule)
        md.inline.ruler.before("link", "tag", self._tag_rule)
        for token_type, method in (("mention", self._render_mention), ("tag", self._render_tag),
                                   ("heading_open", self._render_heading_open),
                                   ("heading_close", self._render_heading_close),
                                   ("image", self._render_image)):
            # markdown-it binds a rule to its renderer: hand it a plain function
            md.add_render_rule(token_type, lambda _renderer, *args, _m=method: _m(*args))
        self.md = md

    def render(self, text: str | None, heading_level: int = 3, source: str = "") -> str:
        from markupsafe import Markup
        if not text:
            return Markup("")
        env = {"heading_level": heading_level, "source": source}
        return Markup(self.md.render(text, env))

    # [[name]], [[name|shown]], [[!name]]
    def _mention_rule(self, state, silent: bool) -> bool:
        if not state.src.startswith("[[", state.pos):
            return False
        match = MENTION.match(state.src, state.pos)
        if not match:
            return False
        if not silent:
            token = state.push("mention", "", 0)
            token.meta = {"name": match.group(2).strip(), "raised": match.group(1) == "!",
                          "shown": match.group(3)}
        state.pos = match.end()
        return True

    def _render_mention(self, tokens, idx, options, env) -> str:
        meta = tokens[idx].meta
        org_id = meta["name"] if meta["name"] in self.organisations else \
            self.by_key.get(organisation_key(meta["name"]))
        shown = meta["shown"] or (self.organisations[org_id]["name"] if org_id else meta["name"])
        cls = "org source" if meta["raised"] else "org"
        return f'<span class="{cls}">{self.escape(typo(shown.strip()))}</span>'

    # #theme-id: a '#' and a letter, not glued to a word, a path or another '#'
    def _tag_rule(self, state, silent: bool) -> bool:
        if state.src[state.pos] != "#":
            return False
        before = state.src[state.pos - 1] if state.pos else " "
        if before.isalnum() or before in "_#&/":
            return False
        match = TAG.match(state.src, state.pos)
        if not match or match.group(1) not in self.themes:
            return False
        if not silent:
            token = state.push("tag", "", 0)
            token.meta = {"theme": match.group(1)}
        state.pos = match.end()
        return True

    def _render_tag(self, tokens, idx, options, env) -> str:
        theme = self.themes[tokens[idx].meta["theme"]]
        return f'<span class="tag">{self.escape(typo(theme["label"]))}</span>'

    def _render_heading_open(self, tokens, idx, options, env) -> str:
        level = min(6, int(tokens[idx].tag[1]) + env.get("heading_level", 3) - 1)
        return f"<h{level} class=\"md\">"

    def _render_heading_close(self, tokens, idx, options, env) -> str:
        level = min(6, int(tokens[idx].tag[1]) + env.get("heading_level", 3) - 1)
        return f"</h{level}>\n"

    def _render_image(self, tokens, idx, options, env) -> str:
        token = tokens[idx]
        alt = self.escape(self.md.renderer.renderInlineAsText(token.children or [], options, env))
        src = token.attrGet("src") or ""
        uri = asset_uri(self.assets, Path(src).name) if "://" not in src else None
        if uri is None:
            self.warnings.append(f"{env.get('source') or 'report'}: image '{src}' is not in "
                                 "data/assets/: shown as its description")
            return f'<span class="missing-image">[{alt}]</span>'
        return f'<img src="{uri}" alt="{alt}">'


def asset_uri(assets: Path | None, name: str) -> str | None:
    """A file of ``data/assets/`` as a ``data:`` URI, or ``None`` when it is not there."""
    if not assets or not name:
        return None
    path = assets / name
    if not path.is_file():
        return None
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


def organiser_logo(assets: Path | None, organiser: str) -> str | None:
    """``data/assets/logo-<slug>.{svg,png,jpg}`` (or ``logos/<slug>.*``) for an organiser."""
    slug = slugify(organiser)
    for name in (f"logo-{slug}", f"logos/{slug}"):
        for ext in (".svg", ".png", ".jpg", ".jpeg"):
            uri = asset_uri(assets, name + ext)
            if uri:
                return uri
    return None


# --------------------------------------------------------------------------- charts
# Horizontal bar charts written here as SVG, in matplotlib's look (its sizes, grid, ticks and
# spines, our colours): importing matplotlib and drawing the six charts with it took about 1 s
# of the sample report's 8.5, most of the time spent outside WeasyPrint; writing them takes
# milliseconds, and WeasyPrint draws their text faster than matplotlib's glyph outlines. Text
# is real text in the report's sans-serif. Lengths are in points; the CSS scales a figure to
# the column.

CHART_WIDTH = 420.0  # matplotlib's 6.2 in figure as its tight crop left it
CHART_FONT = "Noto Sans, DejaVu Sans, sans-serif"
TICK_SIZE = 8.5      # tick labels and axis label
TICK_LENGTH = 3.5    # tick marks, and the gap between a tick and its label
EDGE = 3.0           # blank margin around the figure

# Advance widths of Noto Sans Regular in thousandths of an em (its hmtx table), to place labels
# without loading a font; other characters count as 0.6 em.
_NOTO_SANS = {
    175: "‘’", 225: "'¸", 258: "ijlìíîï", 260: " \xa0", 268: ",.:;·", 269: "!¡", 273: "J",
    281: "`´", 300: "()", 322: "-\xad", 329: "[]", 339: "IÌÍÎÏ", 344: "f", 350: "²³¹", 357: "ª",
    359: "“”", 361: "t", 372: "/\\", 376: "º•", 380: "{}", 408: '"', 413: "r", 428: "°", 434: "?¿",
    444: "_", 470: "z", 479: "s", 480: "cç", 500: "¯–", 508: "v", 509: "«»", 510: "yýÿ", 513: "§",
    519: "F", 524: "L", 529: "x", 534: "k", 549: "S", 551: "*|¦", 556: "ETÈÉÊË", 561: "aàáâãäå",
    564: "eèéêë", 566: "YÝ", 572: "$+0123456789<=>Z^~¢£¤¥¬±×÷€", 580: "¨", 586: "X", 600: "V",
    605: "PoÞðòóôõöø", 615: "bdgpqþ", 618: "hnuñùúûü", 619: "K", 622: "R", 623: "µ", 631: "ß",
    632: "CÇ", 639: "AÀÁÂÃÄÅ", 646: "#", 650: "B", 655: "¶", 728: "G", 730: "DÐ", 731: "UÙÚÛÜ",
    732: "&", 741: "H", 745: "¼", 760: "NÑ", 771: "½", 781: "OQ¾ÒÓÔÕÖØ", 786: "w", 791: "…",
    831: "%", 832: "©®", 864: "æ", 881: "Æ", 899: "@", 907: "M", 930: "W", 935: "m", 1000: "—",
}
_ADVANCE = {char: width for width, chars in _NOTO_SANS.items() for char in chars}


def text_width(text: str, size: float) -> float:
    """The width of ``text`` in points at ``size`` points (Noto Sans, no kerning)."""
    return size * sum(_ADVANCE.get(c, 600) for c in text) / 1000


def _wrap(label: str, width: int = 26) -> list[str]:
    import textwrap
    return textwrap.wrap(label, width) or [label]


def _ticks(top: float, length: float) -> list[int]:
    """Integer ticks from 0 up to ``top`` at a round step: as many intervals as three label
    heights fit in ``length`` points, at most 9 (matplotlib's ``MaxNLocator(integer=True)``)."""
    most = min(9, max(1, int(length // (TICK_SIZE * 3))))
    step = next(int(s * 10 ** k) for k in range(16) for s in (1, 2, 2.5, 5)
                if s * 10 ** k == int(s * 10 ** k) and top // (s * 10 ** k) <= most)
    return list(range(0, int(top) + 1, step))


def _f(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _text(x: float, y: float, text: str, anchor: str = "start") -> str:
    from html import escape
    anchor = "" if anchor == "start" else f' text-anchor="{anchor}"'
    return f'<text x="{_f(x)}" y="{_f(y)}"{anchor}>{escape(text)}</text>'


def _bars(groups: list[str], series: list[tuple[str, list[int], str]], unit: str, *,
          stacked: bool, rows: tuple[float, float], thickness: float, headroom: float,
          values: tuple[str, float, float, str], legend: bool,
          colours: list[str] | None = None) -> str:
    """Horizontal bars as an SVG ``data:`` URI: one band per group, top to bottom, holding
    the series stacked or side by side.

    ``rows``: the figure's height in inches per group and fixed (matplotlib's ``figsize``);
    ``thickness``: the band's height, one group being 1; ``headroom``: the axis ends at the
    largest bar times this; ``values``: where the numbers go (``"end"`` past the bar or
    ``"center"`` inside it), their size, gap and colour; ``colours``: one per bar (a single
    series), instead of the series' colour.
    """
    n = len(groups)
    longest = max((v for _, vs, _ in series for v in vs), default=0)
    if stacked:
        longest = max((sum(vs) for vs in zip(*[vs for _, vs, _ in series])), default=0)
    top = max(longest, 1) * headroom
    # Vertical layout: matplotlib's axes take 77 % of the figure's height; the bands plus
    # 5 % of their span above and below fill the axes.
    legend_h = TICK_SIZE * 1.2 + 6 if legend else 0
    y0 = EDGE + legend_h + (TICK_SIZE * 0.6 if not legend else 0)
    axes_h = 0.77 * (rows[0] * n + rows[1]) * 72
    span = max(n - 1 + thickness, thickness)
    pitch = axes_h / (span * 1.1)
    y1 = y0 + axes_h

    def centre(i: int) -> float:
        return y0 + (0.05 * span + thickness / 2 + i) * pitch

    # Horizontal layout: the labels' column, then the axis.
    label_lines = [_wrap(g) for g in groups]
    label_w = max((text_width(line, TICK_SIZE) for lines in label_lines for line in lines),
                  default=0)
    x0 = EDGE + label_w + TICK_LENGTH
    ticks = _ticks(top, CHART_WIDTH - x0)
    x1 = CHART_WIDTH - EDGE - text_width(num(ticks[-1]), TICK_SIZE) / 2
    ticks = _ticks(top, x1 - x0)

    def x(v: float) -> float:
        return x0 + (x1 - x0) * v / top

    out = []
    # grid, behind the bars
    out.append(f'<g stroke="{GRID}" stroke-width="0.6">')
    out += [f'<line x1="{_f(x(t))}" y1="{_f(y0)}" x2="{_f(x(t))}" y2="{_f(y1)}"/>' for t in ticks]
    out.append("</g>")
    # bars
    size, where, gap, ink = values[1], values[0], values[2], values[3]
    numbers = []
    band = thickness / (1 if stacked else len(series))
    for i in range(n):
        left = 0
        for j, (_, vs, colour) in enumerate(series):
            v = vs[i]
            if stacked:
                cy, h = centre(i), band * pitch
            else:  # side by side, a little gap between bars of the same group
                cy = centre(i) - thickness / 2 * pitch + band * (j + 0.5) * pitch
                h = band * pitch * (0.92 if len(series) > 1 else 1)
            start = left if stacked else 0
            fill = colours[i] if colours else colour
            # a stacked segment reaches under the next one: no hairline seam between them
            under = 0.4 if stacked and v and any(s[1][i] for s in series[j + 1:]) else 0
            out.append(f'<rect x="{_f(x(start))}" y="{_f(cy - h / 2)}" '
                       f'width="{_f(x(start + v) - x(start) + under)}" height="{_f(h)}" fill="{fill}"/>')
            baseline = cy + 0.36 * size
            if where == "center":
                if v:
                    numbers.append(_text(x(start + v / 2), baseline, num(v), "middle"))
            else:
                numbers.append(_text(x(start + v) + gap, baseline, num(v)))
            if stacked:
                left += v
    out.append(f'<g font-size="{_f(size)}" fill="{ink}">')
    out += numbers
    out.append("</g>")
    # spines, ticks and labels
    out.append(f'<g stroke="{MUTED}" stroke-width="0.8" stroke-linecap="square">'
               f'<line x1="{_f(x0)}" y1="{_f(y0)}" x2="{_f(x0)}" y2="{_f(y1)}"/>'
               f'<line x1="{_f(x0)}" y1="{_f(y1)}" x2="{_f(x1)}" y2="{_f(y1)}"/></g>')
    out.append(f'<g stroke="{INK}" stroke-width="0.8">')
    out += [f'<line x1="{_f(x(t))}" y1="{_f(y1)}" x2="{_f(x(t))}" y2="{_f(y1 + TICK_LENGTH)}"/>'
            for t in ticks]
    out.append("</g>")
    out.append(f'<g font-size="{_f(TICK_SIZE)}">')
    tick_y = y1 + 2 * TICK_LENGTH + 0.78 * TICK_SIZE
    out += [_text(x(t), tick_y, num(t), "middle") for t in ticks]
    unit_y = tick_y + 0.22 * TICK_SIZE + 4 + 0.78 * TICK_SIZE
    out.append(_text((x0 + x1) / 2, unit_y, unit, "middle"))
    line_h = TICK_SIZE * 1.2
    for i, lines in enumerate(label_lines):
        first = centre(i) + 0.36 * TICK_SIZE - (len(lines) - 1) * line_h / 2
        out += [_text(x0 - TICK_LENGTH, first + k * line_h, line, "end")
                for k, line in enumerate(lines)]
    out.append("</g>")
    if legend:  # above the axes, centred, one column per series (matplotlib's spacing)
        em = 8
        widths = [2 * em + 0.8 * em + text_width(name, em) for name, _, _ in series]
        lx = (x0 + x1) / 2 - (sum(widths) + 2 * em * (len(series) - 1)) / 2
        ly = y0 - 4 - em * 0.6
        out.append(f'<g font-size="{em}">')
        for (name, _, colour), w in zip(series, widths):
            out.append(f'<rect x="{_f(lx)}" y="{_f(ly - 0.35 * em)}" width="{_f(2 * em)}" '
                       f'height="{_f(0.7 * em)}" fill="{colour}"/>')
            out.append(_text(lx + 2.8 * em, ly + 0.36 * em, name))
            lx += w + 2 * em
        out.append("</g>")
    bottom = unit_y + 0.22 * TICK_SIZE + EDGE
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{_f(CHART_WIDTH)}pt" '
           f'height="{_f(bottom)}pt" viewBox="0 0 {_f(CHART_WIDTH)} {_f(bottom)}" '
           f'font-family="{CHART_FONT}" fill="{INK}">' + "".join(out) + "</svg>")
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def bar_chart(items: list[tuple[str, int]], unit: str, highlight: Iterable[str] = ()) -> str:
    """Horizontal bars, largest at the top in the given order; values printed at the bars."""
    highlight = set(highlight)
    return _bars([label for label, _ in items], [("", [v for _, v in items], ACCENT)], unit,
                 stacked=False, rows=(0.32, 0.5), thickness=0.66, headroom=1.12,
                 values=("end", 8, 3, INK), legend=False,
                 colours=[ACCENT_2 if label in highlight else ACCENT for label, _ in items])


def stacked_chart(groups: list[str], series: list[tuple[str, list[int]]], unit: str,
                  colours: list[str]) -> str:
    """Horizontal stacked bars: one bar per group, one segment per series."""
    return _bars(groups, [(name, values, c) for (name, values), c in zip(series, colours)], unit,
                 stacked=True, rows=(0.42, 0.8), thickness=0.6, headroom=1.05,
                 values=("center", 8, 0, "white"), legend=True)


def grouped_chart(groups: list[str], series: list[tuple[str, list[int]]], unit: str,
                  colours: list[str]) -> str:
    """Horizontal bars side by side: one group per category, one bar per series."""
    return _bars(groups, [(name, values, c) for (name, values), c in zip(series, colours)], unit,
                 stacked=False, rows=(0.5, 0.8), thickness=0.8, headroom=1.12,
                 values=("end", 7.5, 2, INK), legend=True)


# --------------------------------------------------------------------------- readings


def _extremes(counts: list[tuple[str, int]]) -> tuple[list[str], int, list[str], int]:
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
    top, n_top, bottom, n_bottom = _extremes(counts)
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


# --------------------------------------------------------------------------- the data


def _rows(tables: dict, name: str) -> list[dict]:
    return tables.get(name, [])


def _json_list(value: str | None) -> list:
    return json.loads(value) if value else []


def _level(n: int, top: int) -> int:
    """0-4: how dark a cell of a cross table is (the CSS decides the colours)."""
    if not n or not top:
        return 0
    return min(4, 1 + int(3 * n / top))


class ReportBuilder:
    """The public database -> the plain data of the templates."""

    def __init__(self, public_db: Path, data_dir: Path | None, progress: Progress = _noop):
        self.tables = read_tables(public_db)
        self.public_db = Path(public_db)
        self.progress = progress
        self.assets = (Path(data_dir) / "assets") if data_dir else None
        if self.assets and not self.assets.is_dir():
            self.assets = None
        self.warnings: list[str] = []
        t = self.tables
        self.project = (_rows(t, "project") or [{}])[0]
        self.base_url = (self.project.get("base_url") or "").rstrip("/")
        self.orgs = {o["id"]: o for o in _rows(t, "organisations")}
        self.themes = {th["id"]: th for th in _rows(t, "themes")}
        self.provinces = {p["id"]: p for p in _rows(t, "provinces")}
        self.province_order = sorted(self.provinces, key=lambda p: self.provinces[p]["position"])
        self.kinds = sorted(_rows(t, "finding_kinds"), key=lambda k: k["position"] or 0)
        self.kind_label = {k["id"]: k["label"] for k in self.kinds}
        for kind, (label, _, _) in FINDING_KINDS.items():
            self.kind_label.setdefault(kind, label)
        self.events = sorted(_rows(t, "events"), key=lambda e: (e["date"] or "9999", e["id"]))
        self.notes = _rows(t, "notes")
        self.findings = sorted(_rows(t, "findings"),
                               key=lambda f: (f["note_id"], f["position"] or 0, f["id"]))
        self.documents = {d["id"]: d for d in _rows(t, "documents")}
        self.used_documents: set[str] = set()
        self.markdown = Markdown(self.orgs, self.themes, self.assets, self.warnings)
        self.figure = 0

    # ---- helpers
    def doc(self, doc_id: str, heading_level: int = 3):
        """A staff text rendered, or ``None``."""
        doc = self.documents.get(doc_id)
        if not doc:
            return None
        self.used_documents.add(doc_id)
        return self.markdown.render(doc["text"], heading_level, doc["source_path"])

    def reading(self, doc_id: str, generated: str) -> dict:
        staff = self.doc(doc_id, heading_level=4)
        return {"html": staff, "text": generated, "staff": staff is not None,
                "source": self.documents[doc_id]["source_path"] if staff else None}

    def chart(self, title: str, uri: str, reading: dict, alt: str) -> dict:
        self.figure += 1
        return {"number": self.figure, "title": title, "src": uri, "alt": alt,
                "reading": reading}

    def finding_url(self, finding_id: str) -> str:
        return f"{self.base_url}/cotour/findings/{finding_id}"

    def org_name(self, org_id: str) -> str:
        org = self.orgs.get(org_id)
        return typo(org["name"]) if org else org_id

    @staticmethod
    def event_label(event: dict) -> str:
        """How a reading names an event: the city, or ``l’incontro finale di <city>``."""
        return f"l’incontro finale di {event['city']}" if event["kind"] == "finale" else event["city"]

    @staticmethod
    def that_of(row: dict) -> str:
        return (f"l’incontro finale di {row['city']}" if row["kind_id"] == "finale"
                else f"quello di {row['city']}")

    def province_name(self, sigla: str | None) -> str:
        return self.provinces[sigla]["name"] if sigla in self.provinces else (sigla or "")

    # ---- the whole
    def build(self) -> dict:
        steps = [("progetto", self.project_chapter), ("mappatura", self.mapping_chapter),
                 ("tour", self.tour_chapter), ("tappe", self.event_chapters),
                 ("sintesi", self.synthesis_chapter), ("iniziative", self.initiatives_chapter),
                 ("ibridazioni", self.hybrid_chapter),
                 ("appendici", self.appendices)]
        out = {}
        for done, (name, step) in enumerate(steps, 1):
            out[name] = step()
            self.progress("dati del rapporto", done, len(steps))
        data = {
            "lang": LOCALE,
            "meta": self.meta(),
            "cover": self.cover(),
            **out,
        }
        data["toc"] = self.toc(data)
        unused = sorted(set(self.documents) - self.used_documents)
        for doc_id in unused:
            known = ", ".join([*STAFF_SECTIONS, *READINGS])
            self.warnings.append(f"{self.documents[doc_id]['source_path']}: not used by the "
                                 f"report (known names: {known})")
        return data

    def meta(self) -> dict:
        p = self.project
        return {
            "title": typo(p.get("title") or "Co?Tour"),
            "subtitle": typo(p.get("subtitle") or ""),
            "authors": [typo(o) for o in _json_list(p.get("organisers"))],
            "description": typo(p.get("description") or ""),
            "keywords": ", ".join(_json_list(p.get("keywords"))),
            "created": p.get("release_date") or "",
            "generator": "cotour-kb",
        }

    def licence(self) -> dict:
        spdx = self.project.get("licence") or ""
        licence = LICENCES.get(spdx)
        if licence is None:  # cotour check refuses such a licence; show it as it is
            return {"id": spdx, "name": spdx, "url": f"https://spdx.org/licenses/{spdx}.html"}
        return {"id": spdx, "name": licence.title_it, "url": licence.url}

    def cover(self) -> dict:
        p = self.project
        return {
            "title": typo(p.get("title") or "Co?Tour"),
            "subtitle": typo(p.get("subtitle") or ""),
            "organisers": [{"name": typo(o), "logo": organiser_logo(self.assets, o)}
                           for o in _json_list(p.get("organisers"))],
            "date": long_date(p.get("release_date")),
            "version": p.get("version") or "",
            "licence": self.licence(),
            "illustrative": bool(p.get("illustrative")),
            "image": asset_uri(self.assets, "copertina.svg") or asset_uri(self.assets, "copertina.png")
            or asset_uri(self.assets, "copertina.jpg"),
        }

    # ---- 1. Il progetto
    def project_chapter(self) -> dict:
        p = self.project
        held = [e for e in self.events if e["status"] == "svolto"]
        stops = [e for e in held if e["kind"] == "tappa"]
        finale = next((e for e in self.events if e["kind"] == "finale"), None)
        mapped = [o for o in self.orgs.values() if o["mapped"]]
        themes = []
        children = defaultdict(list)
        for th in sorted(self.themes.values(), key=lambda th: th["label"].casefold()):
            children[th["parent_id"]].append(th)

        def walk(parent, depth):
            for th in children.get(parent, []):
                themes.append({"label": typo(th["label"]), "description": typo(th["description"]),
                               "depth": depth, "id": th["id"]})
                walk(th["id"], depth + 1)
        walk(None, 0)
        first, last = (stops[0], stops[-1]) if stops else (None, None)
        phase2 = ""
        if stops:
            cities = join(e["city"] for e in stops)
            phase2 = (f"Tra il {long_date(first['date'])} e il {long_date(last['date'])} il tour ha "
                      f"fatto tappa in {plural(len(stops), 'capoluogo', 'capoluoghi')} "
                      f"({cities}): a ogni incontro le organizzazioni hanno messo in comune "
                      "buone pratiche, problemi, opportunità, minacce, strategie, frustrazioni "
                      "e soddisfazioni.")
        if finale:
            where = f"a {finale['city']}"
            when = f" il {long_date(finale['date'])}" if finale["date"] else ""
            phase2 += {
                "svolto": f" L’incontro finale, {where}{when}, ha presentato i risultati e "
                          "lanciato nuove iniziative nate dalla contaminazione tra attori.",
                "programmato": f" L’incontro finale è programmato {where}{when}: presenterà i "
                               "risultati e lancerà le iniziative nate dagli incontri.",
                "annullato": f" L’incontro finale previsto {where}{when} è stato annullato.",
            }[finale["status"]]
        return {
            "introduction": self.doc("introduzione"),
            "description": typo(p.get("description") or ""),
            "organisers": join(typo(o) for o in _json_list(p.get("organisers"))),
            "phase1": (f"La prima fase ha mappato {plural(len(mapped), 'organizzazione', 'organizzazioni')} "
                       f"della regione, cooperative e non, che praticano forme di nuova mutualità; "
                       f"{plural(len(self.orgs) - len(mapped), 'altra è stata incontrata', 'altre sono state incontrate')} "
                       "per la prima volta durante il tour." if len(self.orgs) > len(mapped) else
                       f"La prima fase ha mappato {plural(len(mapped), 'organizzazione', 'organizzazioni')} "
                       "della regione, cooperative e non, che praticano forme di nuova mutualità."),
            "phase2": phase2,
            "themes": themes,
            "period": (f"dal {long_date(p.get('temporal_start'))} al {long_date(p.get('temporal_end'))}"
                       if p.get("temporal_start") and p.get("temporal_end") else ""),
            "spatial": p.get("spatial") or "",
        }

    # ---- 2. La mappatura
    def mapping_chapter(self) -> dict:
        mapped = [o for o in self.orgs.values() if o["mapped"]]
        total = len(mapped)
        charts = []
        if not total:
            return {"total": 0, "charts": [], "others": len(self.orgs)}
        # by province
        by_province = Counter(o["province"] for o in mapped)
        counts = [(self.province_name(p), by_province.get(p, 0)) for p in self.province_order]
        ordered = sorted(counts, key=lambda c: -c[1])
        text = reading_distribution(
            counts, total, ("organizzazione", "organizzazioni"),
            ("la provincia più rappresentata è", "le province più rappresentate sono"),
            ("la meno rappresentata è", "le meno rappresentate sono"),
            missing="nessuna organizzazione mappata nelle province di" if sum(
                1 for c in counts if not c[1]) > 1 else "nessuna organizzazione mappata nella provincia di")
        charts.append(self.chart("Organizzazioni mappate per provincia",
                                 bar_chart(ordered, "organizzazioni"),
                                 self.reading("mappatura-province", text),
                                 "Grafico a barre: " + "; ".join(f"{l} {n}" for l, n in ordered)))
        # by legal form
        by_form = Counter(o["legal_form"] for o in mapped)
        counts = [(f, by_form[f]) for f in LEGAL_FORMS if by_form.get(f)]
        ordered = sorted(counts, key=lambda c: -c[1])
        text = reading_distribution(
            counts, total, ("organizzazione", "organizzazioni"),
            ("la forma giuridica più diffusa è", "le forme giuridiche più diffuse sono"),
            ("la meno frequente è", "le meno frequenti sono"),
            name=lambda f: LEGAL_FORMS[f][1])
        charts.append(self.chart("Organizzazioni mappate per forma giuridica",
                                 bar_chart([(LEGAL_FORMS[f][0], n) for f, n in ordered], "organizzazioni"),
                                 self.reading("mappatura-forme-giuridiche", text),
                                 "Grafico a barre: " + "; ".join(f"{LEGAL_FORMS[f][0]} {n}" for f, n in ordered)))
        # cooperative or not x emerging or traditional
        cross = Counter((bool(o["is_cooperative"]), o["profile"]) for o in mapped)
        coop = sum(n for (c, _), n in cross.items() if c)
        emerging = sum(n for (_, p), n in cross.items() if p == "emergente")
        groups = [(True, "Cooperative e consorzi"), (False, "Altre organizzazioni")]
        text = (f"Le cooperative (comprese le cooperative sociali e i consorzi) sono {num(coop)} "
                f"su {num(total)} ({share(coop, total)}); gli attori emergenti sono "
                f"{num(emerging)} ({share(emerging, total)}).")
        for is_coop, name in groups:
            e, t = cross.get((is_coop, "emergente"), 0), cross.get((is_coop, "tradizionale"), 0)
            who = "Tra le cooperative" if is_coop else "Tra le altre organizzazioni"
            if e + t == 0:
                continue
            if e > t:
                text += f" {who} prevale il profilo emergente ({num(e)} su {num(e + t)})."
            elif t > e:
                text += f" {who} prevale il profilo tradizionale ({num(t)} su {num(e + t)})."
            else:
                text += f" {who} emergenti e tradizionali si equivalgono ({num(e)} e {num(t)})."
        charts.append(self.chart(
            "Cooperative e non, attori emergenti e settori tradizionali",
            stacked_chart([g for _, g in groups],
                          [(PROFILES[p][0], [cross.get((c, p), 0) for c, _ in groups])
                           for p in PROFILES], "organizzazioni", [ACCENT_2, ACCENT]),
            self.reading("mappatura-profili", text),
            "Grafico a barre sovrapposte: " + "; ".join(
                f"{g}: {cross.get((c, 'emergente'), 0)} emergenti, "
                f"{cross.get((c, 'tradizionale'), 0)} tradizionali" for c, g in groups)))
        # by theme
        by_theme = Counter(th for o in mapped for th in _json_list(o["themes"]))
        counts = [(th["label"], by_theme.get(th["id"], 0)) for th in
                  sorted(self.themes.values(), key=lambda th: th["label"].casefold())]
        ordered = sorted([c for c in counts if c[1]], key=lambda c: -c[1])
        if ordered:
            text = reading_distribution(
                counts, total, ("organizzazione", "organizzazioni"),
                ("il tema dichiarato più spesso è", "i temi dichiarati più spesso sono"),
                ("il meno dichiarato è", "i meno dichiarati sono"), name=quoted,
                missing="nessuna organizzazione dichiara il tema" if sum(
                    1 for c in counts if not c[1]) == 1 else "nessuna organizzazione dichiara i temi",
                of=" delle organizzazioni", feminine=False)
            untagged = sum(1 for o in mapped if not _json_list(o["themes"]))
            if untagged:
                text += (f" {plural(untagged, 'organizzazione non dichiara', 'organizzazioni non dichiarano')} "
                         "alcun tema.")
            charts.append(self.chart("Organizzazioni mappate per tema dichiarato",
                                     bar_chart([(typo(l), n) for l, n in ordered], "organizzazioni"),
                                     self.reading("mappatura-temi", text),
                                     "Grafico a barre: " + "; ".join(f"{l} {n}" for l, n in ordered)))
        return {"total": total, "others": len(self.orgs) - total, "charts": charts,
                "coop": coop, "emerging": emerging}

    # ---- 3. Il tour
    def event_counts(self) -> tuple[Counter, Counter]:
        return (Counter(n["event_id"] for n in self.notes),
                Counter(f["event_id"] for f in self.findings))

    def tour_chapter(self) -> dict:
        notes, findings = self.event_counts()
        rows = []
        for e in self.events:
            rows.append({
                "id": e["id"], "city": e["city"], "label": self.event_label(e), "kind_id": e["kind"],
                "province": self.province_name(e["province"]),
                "date": long_date(e["date"]) or "da definire",
                "kind": "incontro finale" if e["kind"] == "finale" else "tappa",
                "status": EVENT_STATUS.get(e["status"], e["status"]),
                "held": e["status"] == "svolto",
                "venue": typo(e["venue"]),
                "persons": e["attendance_persons"], "organisations": e["attendance_organisations"],
                "notes": notes.get(e["id"], 0), "findings": findings.get(e["id"], 0),
            })
        held = [r for r in rows if r["held"]]
        status = Counter(e["status"] for e in self.events)
        parts = [plural(status.get("svolto", 0), "incontro svolto", "incontri svolti")]
        if status.get("programmato"):
            parts.append(plural(status["programmato"], "programmato", "programmati"))
        if status.get("annullato"):
            parts.append(plural(status["annullato"], "annullato", "annullati"))
        text = f"Il calendario conta {plural(len(self.events), 'incontro', 'incontri')}: {join(parts)}."
        with_persons = [r for r in held if r["persons"]]
        if with_persons:
            persons = sum(r["persons"] for r in with_persons)
            top = max(with_persons, key=lambda r: r["persons"])
            low = min(with_persons, key=lambda r: r["persons"])
            text += (f" Agli incontri svolti hanno partecipato in tutto {num(persons)} persone"
                     f"{'' if len(with_persons) == len(held) else ' (dove la presenza è stata registrata)'}; "
                     f"il più partecipato è stato {self.that_of(top)} ({num(top['persons'])} persone"
                     f", {share(top['persons'], persons)} del totale)")
            text += (f", il meno partecipato {self.that_of(low)} ({num(low['persons'])})."
                     if low is not top else ".")
        total_findings = sum(r["findings"] for r in held)
        if total_findings:
            top = max(held, key=lambda r: r["findings"])
            text += (f" Dalle note pubbliche sono emersi {plural(total_findings, 'risultato', 'risultati')}, "
                     f"{the_share(top['findings'], total_findings)} dei quali "
                     f"{'all’incontro finale di ' if top['kind_id'] == 'finale' else 'a '}{top['city']}.")
        persons = sum(r["persons"] or 0 for r in held)
        return {"rows": rows, "reading": self.reading("tour", text),
                "totals": {"persons": persons, "organisations": sum(r["organisations"] or 0 for r in held),
                           "notes": sum(r["notes"] for r in rows),
                           "findings": sum(r["findings"] for r in rows)}}

    # ---- 4. One chapter per held event
    @cached_property
    def roles_by_finding(self) -> dict[str, list[dict]]:
        """finding id -> its finding_organisations rows (one pass: scanning all the rows for
        every finding was quadratic, 104 of the 116 s of the report's data at M)."""
        roles = defaultdict(list)
        for r in _rows(self.tables, "finding_organisations"):
            roles[r["finding_id"]].append(r)
        return roles

    def finding_item(self, f: dict, notes_by_id: dict) -> dict:
        roles = self.roles_by_finding.get(f["id"], [])
        return {
            "id": f["id"],
            "url": self.finding_url(f["id"]),
            "html": self.markdown.render(f["text"], 4, f["source_path"]),
            "note": typo(notes_by_id[f["note_id"]]["title"]) if f["note_id"] in notes_by_id else "",
            "sources": [self.org_name(o) for o in _json_list(f["source_organisations"])],
            "mentioned": [self.org_name(r["organisation_id"]) for r in roles if r["role"] == "mentioned"],
            "themes": [typo(self.themes[t]["label"]) for t in _json_list(f["themes"]) if t in self.themes],
        }

    def event_chapters(self) -> list[dict]:
        notes_by_id = {n["id"]: n for n in self.notes}
        hosts = defaultdict(list)
        for h in _rows(self.tables, "event_hosts"):
            hosts[h["event_id"]].append(self.org_name(h["organisation_id"]))
        chapters = []
        held = [e for e in self.events if e["status"] == "svolto"]
        # Grouped once, in their order (not a scan of all notes and findings per event).
        notes_of, findings_of = defaultdict(list), defaultdict(list)
        for n in self.notes:
            notes_of[n["event_id"]].append(n)
        for f in self.findings:
            findings_of[f["event_id"]].append(f)
        for i, e in enumerate(held, 1):
            notes = sorted(notes_of[e["id"]],
                           key=lambda n: (NOTE_ORDER.index(n["kind"]) if n["kind"] in NOTE_ORDER else 9,
                                          n["id"]))
            findings = findings_of[e["id"]]
            by_kind = []
            for k in self.kinds:
                items = [self.finding_item(f, notes_by_id) for f in findings if f["kind"] == k["id"]]
                if items:
                    by_kind.append({"kind": k["id"], "label": k["label"], "items": items})
            counts = [f"{len(g['items'])} {g['label'].lower() if len(g['items']) != 1 else singular(g['kind'])}"
                      for g in by_kind]
            summary = (f"{plural(len(notes), 'nota', 'note')} pubblic{'a' if len(notes) == 1 else 'he'}, "
                       f"{plural(len(findings), 'risultato', 'risultati')}"
                       + (f": {join(counts)}." if counts else "."))
            chapters.append({
                "id": f"tappa-{e['id']}",
                "city": e["city"],
                "kind": "Incontro finale" if e["kind"] == "finale" else "Tappa",
                "title": f"{e['city']}" + (" – incontro finale" if e["kind"] == "finale" else ""),
                "date": long_date(e["date"]),
                "province": self.province_name(e["province"]),
                "venue": typo(e["venue"]),
                "persons": e["attendance_persons"], "organisations": e["attendance_organisations"],
                "hosts": hosts.get(e["id"], []),
                "summary": summary,
                "notes": [{
                    "title": typo(n["title"]), "kind": NOTE_KINDS.get(n["kind"], n["kind"]),
                    "date": long_date(n["date"]) if n["date"] != e["date"] else "",
                    "participants": [self.org_name(o) for o in _json_list(n["participants"])],
                    "html": self.markdown.render(n["text"], 4, n["source_path"]),
                } for n in notes],
                "kinds": by_kind,
            })
            self.progress("tappe", i, len(held))
        return chapters

    # ---- 5. Sintesi trasversale
    def synthesis_chapter(self) -> dict:
        held = [e for e in self.events if e["status"] == "svolto"]
        total = len(self.findings)
        charts = []
        # kinds x events
        cell = Counter((f["kind"], f["event_id"]) for f in self.findings)
        top = max(cell.values(), default=0)
        by_kind = Counter(f["kind"] for f in self.findings)
        by_event = Counter(f["event_id"] for f in self.findings)
        kinds_events = {
            "columns": [{"id": e["id"], "total": by_event.get(e["id"], 0),
                         "city": e["city"] + (" (finale)" if e["kind"] == "finale" else "")}
                        for e in held],
            "rows": [{"label": k["label"], "total": by_kind.get(k["id"], 0),
                      "cells": [{"n": cell.get((k["id"], e["id"]), 0),
                                 "level": _level(cell.get((k["id"], e["id"]), 0), top)} for e in held]}
                     for k in self.kinds],
            "total": total,
        }
        counts = [(k["label"], by_kind.get(k["id"], 0)) for k in self.kinds]
        if total:
            text = reading_distribution(
                counts, total, ("risultato", "risultati"),
                ("il tipo di risultato più frequente è", "i tipi più frequenti sono"),
                ("il meno frequente è", "i meno frequenti sono"), name=quoted,
                missing="nessun risultato di tipo", feminine=False, unit_feminine=False)
            ev = [(self.event_label(e), by_event.get(e["id"], 0)) for e in held]
            richest, n_rich, poorest, n_poor = _extremes(ev)
            if richest and n_rich != n_poor:
                each = lambda labels: " ciascuno" if len(labels) > 1 else ""
                text += (f" Il maggior numero di risultati viene {join(da(r) for r in richest)} "
                         f"({num(n_rich)}{each(richest)}), il minore "
                         f"{join(da(p) for p in poorest)} ({num(n_poor)}{each(poorest)}).")
            ordered = sorted([c for c in counts if c[1]], key=lambda c: -c[1])
            charts.append(self.chart("Risultati per tipo", bar_chart(ordered, "risultati"),
                                     self.reading("sintesi-tipi", text),
                                     "Grafico a barre: " + "; ".join(f"{l} {n}" for l, n in ordered)))
        # themes x provinces
        provinces = [p for p in self.province_order
                     if any(e["province"] == p for e in held)]
        tagged = [(ft["theme_id"], f) for f in self.findings for ft in [
            {"theme_id": t} for t in _json_list(f["themes"])]]
        cell = Counter((t, f["province"]) for t, f in tagged)
        top = max(cell.values(), default=0)
        theme_rows = []
        for th in sorted(self.themes.values(), key=lambda th: th["label"].casefold()):
            cells = [cell.get((th["id"], p), 0) for p in provinces]
            theme_rows.append({"label": typo(th["label"]), "total": sum(cells),
                               "spread": sum(1 for c in cells if c),
                               "cells": [{"n": n, "level": _level(n, top)} for n in cells]})
        spread = [(r["label"], r["spread"]) for r in theme_rows]
        themes_text = ""
        if tagged:
            widest, n_wide, narrowest, n_narrow = _extremes(spread)
            n_tagged = len({f["id"] for _, f in tagged})
            themes_text = (f"Su {plural(total, 'risultato', 'risultati')}, {num(n_tagged)} "
                           f"({share(n_tagged, total)}) {'porta' if n_tagged == 1 else 'portano'} "
                           "almeno un tema. "
                           f"{'Il tema discusso nel maggior numero di province è' if len(widest) == 1 else 'I temi discussi nel maggior numero di province sono'} "
                           f"{join(quoted(w) for w in widest)} ({plural(n_wide, 'provincia', 'province')} "
                           f"su {num(len(provinces))})")
            if n_narrow < n_wide:
                themes_text += (f"; {join(quoted(w) for w in narrowest)} "
                                f"{'compare' if len(narrowest) == 1 else 'compaiono'} soltanto in "
                                f"{plural(n_narrow, 'provincia', 'province')}")
            silent = [r["label"] for r in theme_rows if not r["total"]]
            themes_text += "."
            if silent:
                themes_text += (f" {'Il tema' if len(silent) == 1 else 'I temi'} "
                                f"{join(quoted(s) for s in silent)} non "
                                f"{'è' if len(silent) == 1 else 'sono'} mai stat{'o' if len(silent) == 1 else 'i'} "
                                "associat" + ("o" if len(silent) == 1 else "i") + " a un risultato.")
            by_prov = Counter(f["province"] for _, f in tagged)
            best = max(provinces, key=lambda p: by_prov.get(p, 0))
            themes_text += (f" La provincia con più temi segnalati è {self.province_name(best)} "
                            f"({plural(by_prov.get(best, 0), 'etichetta', 'etichette')}).")
        themes_provinces = {
            "columns": [{"id": p, "name": self.province_name(p)} for p in provinces],
            "rows": theme_rows,
            "reading": self.reading("sintesi-temi-province", themes_text),
        }
        # practices and threats recurring across provinces
        recurring = []
        for kind in ("practice", "threat"):
            by_theme = defaultdict(list)
            for t, f in tagged:
                if f["kind"] == kind:
                    by_theme[t].append(f)
            items = []
            for t, fs in by_theme.items():
                provs = sorted({f["province"] for f in fs}, key=self.province_order.index)
                if len(provs) >= 2 and t in self.themes:
                    items.append({"theme": typo(self.themes[t]["label"]),
                                  "provinces": [self.province_name(p) for p in provs],
                                  "count": len(fs),
                                  "findings": [{"id": f["id"], "url": self.finding_url(f["id"]),
                                                "city": f["city"]} for f in fs]})
            items.sort(key=lambda i: (-len(i["provinces"]), -i["count"], i["theme"]))
            recurring.append({"kind": kind, "label": self.kind_label[kind], "items": items})
        parts = []
        for group in recurring:
            items = group["items"]
            what = "buone pratiche" if group["kind"] == "practice" else "minacce"
            if not items:
                parts.append(f"Nessun tema raccoglie {what} in più di una provincia.")
            else:
                first = items[0]
                parts.append(f"{'Un tema raccoglie' if len(items) == 1 else f'Sono {num(len(items))} i temi che raccolgono'} "
                             f"{what} in due o più province; il più diffuso è {quoted(first['theme'])}, "
                             f"in {plural(len(first['provinces']), 'provincia', 'province')} "
                             f"({join(first['provinces'])}).")
        recurring_reading = self.reading("sintesi-ricorrenze", " ".join(parts))
        # emerging and traditional actors, as sources
        profiles = self.profile_comparison()
        if profiles["total"]:
            charts.append(self.chart(
                "Punti sollevati da attori emergenti e tradizionali, per tipo",
                grouped_chart([r["label"] for r in profiles["kinds"]],
                              [(PROFILES[p][0], [r[p] for r in profiles["kinds"]]) for p in PROFILES],
                              "risultati sollevati", [ACCENT_2, ACCENT]),
                profiles["reading"],
                "Grafico a barre affiancate: " + "; ".join(
                    f"{r['label']}: {r['emergente']} emergenti, {r['tradizionale']} tradizionali"
                    for r in profiles["kinds"])))
        return {"total": total, "kinds_events": kinds_events, "themes_provinces": themes_provinces,
                "recurring": recurring, "recurring_reading": recurring_reading,
                "profiles": profiles, "charts": charts,
                "conclusions": self.doc("conclusioni")}

    def profile_comparison(self) -> dict:
        sources = defaultdict(set)  # finding -> profiles that raised it
        for r in _rows(self.tables, "finding_organisations"):
            org = self.orgs.get(r["organisation_id"])
            if r["role"] == "source" and org:
                sources[r["finding_id"]].add(org["profile"])
        by_id = {f["id"]: f for f in self.findings}
        kinds = {p: Counter() for p in PROFILES}
        themes = {p: Counter() for p in PROFILES}
        for fid, profiles in sources.items():
            f = by_id.get(fid)
            if not f:
                continue
            for p in profiles & set(PROFILES):
                kinds[p][f["kind"]] += 1
                for t in _json_list(f["themes"]):
                    themes[p][t] += 1
        totals = {p: sum(kinds[p].values()) for p in PROFILES}
        rows = [{"label": k["label"], "kind": k["id"], **{p: kinds[p].get(k["id"], 0) for p in PROFILES}}
                for k in self.kinds if any(kinds[p].get(k["id"]) for p in PROFILES)]
        label = lambda t: typo(self.themes[t]["label"]) if t in self.themes else t
        common = sorted(set(themes["emergente"]) & set(themes["tradizionale"]), key=label)
        only = {p: sorted(set(themes[p]) - set(themes[q]), key=label)
                for p, q in (("emergente", "tradizionale"), ("tradizionale", "emergente"))}
        text = ""
        e, t = totals["emergente"], totals["tradizionale"]
        if e or t:
            text = (f"Gli attori emergenti hanno sollevato {plural(e, 'punto', 'punti')}, i settori "
                    f"tradizionali {num(t)}.")
            if e and t:
                diffs = sorted(((kinds["emergente"][k] / e - kinds["tradizionale"][k] / t, k)
                                for k in self.kind_label), key=lambda d: (d[0], d[1]))
                low, high = diffs[0], diffs[-1]
                if high[0] > 0:
                    k = high[1]
                    text += (f" Rispetto ai tradizionali, gli emergenti insistono di più su "
                             f"{quoted(self.kind_label[k])} ({share(kinds['emergente'][k], e)} dei loro "
                             f"punti contro {share(kinds['tradizionale'][k], t)})")
                if low[0] < 0:
                    k = low[1]
                    text += (f"{';' if high[0] > 0 else ''} i tradizionali su {quoted(self.kind_label[k])} "
                             f"({share(kinds['tradizionale'][k], t)} contro {share(kinds['emergente'][k], e)})")
                text += "." if (high[0] > 0 or low[0] < 0) else ""
                if common:
                    both = sorted(common, key=lambda th: -(themes["emergente"][th] + themes["tradizionale"][th]))
                    text += (f" I due gruppi hanno {plural(len(common), 'tema', 'temi')} in comune; "
                             f"il più condiviso è {quoted(label(both[0]))}.")
                else:
                    text += " I due gruppi non hanno temi in comune."
        return {
            "total": e + t, "totals": totals, "kinds": rows,
            "common": [label(th) for th in common],
            "only_emerging": [label(th) for th in only["emergente"]],
            "only_traditional": [label(th) for th in only["tradizionale"]],
            "reading": self.reading("sintesi-profili", text),
        }

    # ---- 6. Nuove iniziative
    def initiatives_chapter(self) -> dict:
        t = self.tables
        events = {e["id"]: e for e in self.events}
        finale = next((e for e in self.events if e["kind"] == "finale"), None)
        items = []
        for ini in sorted(_rows(t, "initiatives"), key=lambda i: i["title"].casefold()):
            items.append({
                "id": ini["id"], "title": typo(ini["title"]),
                "status": INITIATIVE_STATUS.get(ini["status"], ini["status"]),
                "html": self.markdown.render(ini["description"], 4),
                "born_from": [f"{events[r['event_id']]['city']}"
                              + (f" ({long_date(events[r['event_id']]['date'])})"
                                 if events[r["event_id"]]["date"] else "")
                              for r in _rows(t, "initiative_events")
                              if r["initiative_id"] == ini["id"] and r["event_id"] in events],
                "organisations": [self.org_name(r["organisation_id"]) for r in _rows(t, "initiative_organisations")
                                  if r["initiative_id"] == ini["id"]],
                "themes": [typo(self.themes[r["theme_id"]]["label"]) for r in _rows(t, "initiative_themes")
                           if r["initiative_id"] == ini["id"] and r["theme_id"] in self.themes],
            })
        text = ""
        if items:
            where = ""
            if finale:
                when = f" del {long_date(finale['date'])}" if finale["date"] else ""
                where = (f"All’incontro finale di {finale['city']}{when} "
                         if finale["status"] == "svolto"
                         else f"In vista dell’incontro finale di {finale['city']}{when} ")
            n = len(items)
            text = (f"{where}{'è nata' if n == 1 else 'sono nate'} "
                    f"{plural(n, 'nuova iniziativa', 'nuove iniziative')}.")
            text = text[0].upper() + text[1:]
            states = {"avviata": ("è già avviata", "sono già avviate"),
                      "proposta": ("è ancora una proposta", "sono ancora proposte"),
                      "conclusa": ("è conclusa", "sono concluse")}
            status = Counter(i["status"] for i in items)
            if n == 1:
                text += f" L’iniziativa {states.get(items[0]['status'], ('è ' + items[0]['status'],))[0]}."
            else:
                parts = [f"{num(k)} {states[s][k != 1] if s in states else s}"
                         for s, k in sorted(status.items(), key=lambda kv: (-kv[1], kv[0]))]
                text += f" Di queste, {join(parts)}."
            cross = sum(1 for i in items if len(i["born_from"]) > 1)
            if cross:
                who = ("Tutte nascono" if cross == n else "Una nasce" if cross == 1
                       else f"{num(cross)} nascono")
                text += f" {who} dall’incontro di idee emerse in più tappe."
            widest = max(items, key=lambda i: len(i["organisations"]))
            if widest["organisations"]:
                text += (f" La più partecipata è {quoted(widest['title'])}, con "
                         f"{plural(len(widest['organisations']), 'organizzazione', 'organizzazioni')}.")
        return {"items": items, "reading": self.reading("iniziative", text)}

    # ---- Ibridazioni possibili (pairs and network computed by kb.hybrid at build time)
    def hybrid_chapter(self) -> dict:
        from .hybrid import report_chapter
        data = report_chapter(self.public_db, self.finding_url)
        for pair in data["pairs"] + data["realised"]:
            pair["reason"] = typo(pair["reason"])
        data["figure"] = self.chart(
            "La rete delle organizzazioni", data["figure_src"],
            self.reading("ibridazioni-rete", data["network_text"]),
            data["figure_alt"]) if data["figure_src"] else None
        return data

    # ---- 7. Appendici
    def appendices(self) -> dict:
        directory = []
        for o in sorted(self.orgs.values(), key=lambda o: organisation_key(o["name"]) or o["name"]):
            directory.append({
                "name": typo(o["name"]),
                "legal_form": o["legal_form"],
                "profile": o["profile"],
                "cooperative": bool(o["is_cooperative"]),
                "place": (f"{o['municipality']} ({o['province']})" if o["municipality"]
                          else self.province_name(o["province"])),
                "website": o["website"],
                "themes": [typo(self.themes[t]["label"]) for t in _json_list(o["themes"]) if t in self.themes],
                "mapped": bool(o["mapped"]),
            })
        dictionary = []
        for table in TABLES:
            if table.internal:
                continue
            dictionary.append({
                "name": table.name, "title": typo(table.title_it), "description": typo(table.it),
                "columns": [{"name": c.name, "type": TYPE_NAMES.get(c.type, c.type),
                             "description": typo(c.it),
                             "key": c.name in table.pk,
                             "fk": f"{c.fk[0]}.{c.fk[1]}" if c.fk else "",
                             "values": ", ".join(c.values)}
                            for c in table.public_columns],
            })
        p = self.project
        info = {r["key"]: r["value"] for r in _rows(self.tables, "cotour_build")}
        year = (p.get("release_date") or "")[:4]
        publisher = typo(p.get("publisher_name") or "")
        cite = (f"{publisher} ({year}). {typo(p.get('title') or '')}"
                + (f": {typo(p.get('subtitle'))}" if p.get("subtitle") else "")
                + (f". Versione {p['version']}" if p.get("version") else "")
                + f". {self.licence()['name']}.")
        kinds_notes = Counter(n["kind"] for n in self.notes)
        return {
            "acknowledgements": self.doc("ringraziamenti"),
            "directory": directory,
            "dictionary": dictionary,
            "method": {
                "organisations": len(self.orgs),
                "mapped": sum(1 for o in self.orgs.values() if o["mapped"]),
                "events": sum(1 for e in self.events if e["status"] == "svolto"),
                "notes": len(self.notes),
                "notes_by_kind": join(plural(n, NOTE_KINDS[k].lower(), NOTE_KINDS[k].lower()[:-1] + "e"
                                             if k != "tavolo" else "tavoli di lavoro")
                                      for k, n in sorted(kinds_notes.items(),
                                                         key=lambda kv: NOTE_ORDER.index(kv[0])
                                                         if kv[0] in NOTE_ORDER else 9)),
                "findings": len(self.findings),
                "kinds": join(k["label"].lower() for k in self.kinds),
                "sources": [{"title": typo(s.get("title")), "url": s.get("path")}
                            for s in _json_list(p.get("sources"))],
                "period": (f"dal {long_date(p.get('temporal_start'))} al {long_date(p.get('temporal_end'))}"
                           if p.get("temporal_start") and p.get("temporal_end") else ""),
                "spatial": p.get("spatial") or "",
                "base_url": self.base_url,
            },
            "cite": {
                "text": cite,
                "url": self.base_url,
                "finding_example": self.finding_url(self.findings[0]["id"]) if self.findings else "",
            },
            "colophon": {
                "illustrative": bool(p.get("illustrative")),
                "tool_version": info.get("tool_version") or "",
                "digest": (info.get("source_digest") or info.get("input_digest") or "")[:12],
                "date": long_date(p.get("release_date")),
                "publisher": publisher,
                "contact": p.get("contact") or "",
                "licence": self.licence(),
                "version": p.get("version") or "",
                "title": typo(p.get("title") or ""),
            },
        }

    def toc(self, data: dict) -> list[dict]:
        entries = [{"id": "progetto", "number": "1", "title": "Il progetto"},
                   {"id": "mappatura", "number": "2", "title": "La mappatura"},
                   {"id": "tour", "number": "3", "title": "Il tour"}]
        n = 3
        tappe = []
        for chapter in data["tappe"]:
            n += 1
            chapter["number"] = str(n)
            tappe.append({"id": chapter["id"], "number": str(n),
                          "title": chapter["title"], "note": chapter["date"]})
        entries += tappe
        entries.append({"id": "sintesi", "number": str(n + 1), "title": "Sintesi trasversale"})
        entries.append({"id": "iniziative", "number": str(n + 2), "title": "Nuove iniziative"})
        entries.append({"id": "ibridazioni", "number": str(n + 3), "title": "Ibridazioni possibili"})
        appendices = []
        letters = iter("ABCDEFGH")
        if data["appendici"]["acknowledgements"]:
            appendices.append({"id": "ringraziamenti", "title": "Ringraziamenti"})
        appendices += [{"id": "organizzazioni", "title": "Elenco delle organizzazioni"},
                       {"id": "dizionario", "title": "Dizionario dei dati"},
                       {"id": "metodo", "title": "Metodo e fonti"},
                       {"id": "citare", "title": "Come citare"},
                       {"id": "colophon", "title": "Colophon"}]
        for a in appendices:
            a["number"] = next(letters)
        data["appendici"]["sections"] = {a["id"]: a for a in appendices}
        entries.append({"id": "appendici", "number": "", "title": "Appendici", "children": appendices})
        for e in entries:
            e.setdefault("children", [])
            e.setdefault("note", "")
            if e["id"] in ("progetto", "mappatura", "tour", "sintesi", "iniziative", "ibridazioni"):
                data[e["id"] if e["id"] != "progetto" else "progetto"]["number"] = e["number"]
        return entries


def singular(kind: str) -> str:
    return {"practice": "buona pratica", "problem": "problema", "opportunity": "opportunità",
            "threat": "minaccia", "strategy": "strategia", "frustration": "frustrazione",
            "satisfaction": "soddisfazione", "proposal": "proposta", "synergy": "sinergia"}[kind]


# --------------------------------------------------------------------------- rendering


def report_data(db_path: Path | str, data_dir: Path | str | None = None,
                progress: Progress = _noop) -> tuple[dict, list[str]]:
    """The templates' data from the public database for ``--db``, and the warnings."""
    public = require_public(public_path_for(db_path))
    builder = ReportBuilder(public, Path(data_dir) if data_dir else None, progress)
    data = builder.build()
    return data, builder.warnings


def render_html(data: dict, screen: bool = False) -> str:
    """The report as HTML. ``screen``: the edition people open in a browser, which also carries
    the head elements only browsers use (WeasyPrint would copy a viewport ``<meta>`` into the
    PDF's metadata); the layout is the same and lives in the templates."""
    return render_editions(data)[screen]


def render_editions(data: dict) -> tuple[str, str]:
    """The print and the screen edition of the report, its body rendered once for both (the
    body of a report of 50,000 findings is tens of megabytes; only ``base.html``'s head
    differs)."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
    from markupsafe import Markup
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    report = env.get_template("report.html")
    body = Markup("".join(report.blocks["body"](report.new_context({**data, "screen": False}))))
    page = env.get_template("base.html")
    return page.render(**data, screen=False, body=body), page.render(**data, screen=True, body=body)


@contextmanager
def page_references_listed_once():
    """While active, pydyf's ``PDF.page_references`` is built once per page count, not at
    every read.

    Why: WeasyPrint 70 reads ``pdf.page_references[n]`` for every PDF/UA structure element
    (``weasyprint.pdf.tags``) and every bookmark, and pydyf 0.13 rebuilds the tuple of all the
    pages' references at each read, so a tagged PDF costs elements × pages: quadratic in the
    length of the report (427 pages of the M corpus: 17.7 s of tagging, 2.1 s with this; at the
    M report's thousands of pages it did not finish). The value returned is the same tuple,
    rebuilt whenever a page is added, so the PDF's bytes do not change (and another thread
    writing a PDF meanwhile gets the same values). Scoped to our own ``write_pdf`` call and
    undone afterwards; ``tests/test_report.py`` checks the values, the bytes and the undoing.
    """
    import pydyf

    original = pydyf.PDF.page_references

    def listed_once(pdf):
        kids = pdf.pages["Kids"]
        key = (id(kids), len(kids))
        cached = pdf.__dict__.get("_cotour_page_references")
        if cached is None or cached[0] != key:
            cached = (key, original.fget(pdf))
            pdf.__dict__["_cotour_page_references"] = cached
        return cached[1]

    pydyf.PDF.page_references = property(listed_once, doc=original.__doc__)
    try:
        yield
    finally:
        pydyf.PDF.page_references = original


class _WarningCollector(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def write_report(db_path: Path | str, out_pdf: Path | str, data_dir: Path | str | None = None,
                 archival: bool = False, progress: Progress = _noop) -> ReportResult:
    """Write the PDF at ``out_pdf`` and its HTML edition beside it (same name, ``.html``).

    ``archival``: PDF/A-3a with the open dataset's CSV files attached; otherwise a tagged
    PDF/UA-1. The same public database gives the same bytes (dates come from the data).
    """
    start = time.perf_counter()
    out_pdf = Path(out_pdf)
    public = require_public(public_path_for(db_path))
    data, warnings = report_data(public, data_dir, progress)
    html, screen_html = render_editions(data)
    out_pdf.parent.mkdir(parents=True, exist_ok=True)
    html_path = out_pdf.with_suffix(".html")
    html_path.write_text(screen_html, encoding="utf-8")

    from weasyprint import HTML, Attachment

    created = data["meta"]["created"]
    stamp = (datetime.fromisoformat(created).replace(tzinfo=timezone.utc) if created
             else datetime(2000, 1, 1, tzinfo=timezone.utc))
    options = {"pdf_variant": "pdf/ua-1", "custom_metadata": True}
    attached: list[str] = []
    workdir = None
    handler = _WarningCollector()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(handler)
    try:
        if archival:
            workdir = Path(tempfile.mkdtemp(prefix="cotour-report-"))
            csvs = _table_csvs(public, workdir)
            titles = {t.name: t.title_it for t in TABLES}
            options = {"pdf_variant": "pdf/a-3a", "custom_metadata": True, "attachments": [
                Attachment(filename=str(path), name=path.name,
                           description=titles.get(path.stem, path.stem),
                           created=stamp, modified=stamp, relationship="Data")
                for path in csvs]}
            attached = [p.name for p in csvs]
        progress("impaginazione", 0, 1)
        document = HTML(string=html, base_url=str(TEMPLATES)).render()
        progress("impaginazione", 1, 1)
        tmp = out_pdf.with_name(f".{out_pdf.name}.tmp")
        with page_references_listed_once():
            document.write_pdf(tmp, **options)
        tmp.replace(out_pdf)
    finally:
        logger.removeHandler(handler)
        if workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    warnings += [f"weasyprint: {m}" for m in handler.messages]
    return ReportResult(out_pdf, html_path, len(document.pages), time.perf_counter() - start,
                        attached, warnings)


def _table_csvs(public: Path, out_dir: Path) -> list[Path]:
    """The open dataset's CSV files, written by the publisher's own writer."""
    try:
        from .publish import write_table_csvs
    except ImportError as exc:  # pragma: no cover - publish ships with the package
        raise ReportError(f"--archival needs the open dataset's CSV writer (kb.publish): {exc}")
    return sorted(write_table_csvs(public, out_dir))
