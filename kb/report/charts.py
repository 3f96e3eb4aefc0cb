"""The report's figures as SVG: horizontal bar charts and the organisations' network."""

from __future__ import annotations

import base64
from typing import Iterable

from ..domain.vocabulary import EMERGING, TRADITIONAL
from ..hybrid.evidence import SEED
from ..hybrid.network import without_staff
from .words import num

# Colours of the charts (the CSS has the same ones as custom properties).
INK, ACCENT, ACCENT_2, MUTED, GRID = "#1f2a30", "#1f6f78", "#d9822b", "#8a9aa3", "#dde3e6"


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
# The figure for phones (the HTML edition under 40rem): 262 pt is the 350 px column of a
# 390 px screen, its text 1.53 times the print size (13 pt, the body's 17 px), labels wrapped
# shorter; width, text scale, characters per label line.
NARROW = (262.0, 13 / TICK_SIZE, 16)

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


def _ticks(top: float, length: float, size: float = TICK_SIZE) -> list[int]:
    """Integer ticks from 0 up to ``top`` at a round step: as many intervals as three label
    heights fit in ``length`` points, at most 9 (matplotlib's ``MaxNLocator(integer=True)``)."""
    most = min(9, max(1, int(length // (size * 3))))
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
          colours: list[str] | None = None, narrow: bool = False) -> str:
    """Horizontal bars as an SVG ``data:`` URI: one band per group, top to bottom, holding
    the series stacked or side by side.

    ``rows``: the figure's height in inches per group and fixed (matplotlib's ``figsize``);
    ``thickness``: the band's height, one group being 1; ``headroom``: the axis ends at the
    largest bar times this; ``values``: where the numbers go (``"end"`` past the bar or
    ``"center"`` inside it), their size, gap and colour; ``colours``: one per bar (a single
    series), instead of the series' colour; ``narrow``: the phone's figure (see
    :data:`NARROW`), its text as large as the page's.

    Long on purpose: one SVG drawn top to bottom (axis, bands, bars, values, legend) on the
    same measures.
    """
    width, scale, wrap = NARROW if narrow else (CHART_WIDTH, 1.0, 26)
    tick_size, tick_length = TICK_SIZE * scale, TICK_LENGTH * scale
    rows = (rows[0] * scale, rows[1] * scale)
    # on a phone every text is the page's size (13 pt); in print the numbers are a little smaller
    values = (values[0], tick_size if narrow else values[1], values[2] * scale, values[3])
    n = len(groups)
    longest = max((v for _, vs, _ in series for v in vs), default=0)
    if stacked:
        longest = max((sum(vs) for vs in zip(*[vs for _, vs, _ in series])), default=0)
    top = max(longest, 1) * headroom
    # Vertical layout: matplotlib's axes take 77 % of the figure's height; the bands plus
    # 5 % of their span above and below fill the axes.
    # The legend above the axes: one row, or one line per series when a row would not fit
    # the figure (the phone's, at the page's text size).
    em = tick_size if narrow else 8
    widths = [2 * em + 0.8 * em + text_width(name, em) for name, _, _ in series]
    one_row = sum(widths) + 2 * em * (len(series) - 1) <= width - 2 * EDGE
    legend_lines = 1 if one_row else len(series)
    legend_h = (tick_size * 1.2 + 6 + (legend_lines - 1) * em * 1.4) if legend else 0
    y0 = EDGE + legend_h + (tick_size * 0.6 if not legend else 0)
    axes_h = 0.77 * (rows[0] * n + rows[1]) * 72
    span = max(n - 1 + thickness, thickness)
    pitch = axes_h / (span * 1.1)
    y1 = y0 + axes_h

    def centre(i: int) -> float:
        return y0 + (0.05 * span + thickness / 2 + i) * pitch

    # Horizontal layout: the labels' column, then the axis.
    label_lines = [_wrap(g, wrap) for g in groups]
    label_w = max((text_width(line, tick_size) for lines in label_lines for line in lines),
                  default=0)
    x0 = EDGE + label_w + tick_length
    ticks = _ticks(top, width - x0, tick_size)
    x1 = width - EDGE - text_width(num(ticks[-1]), tick_size) / 2
    ticks = _ticks(top, x1 - x0, tick_size)

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
    out += [f'<line x1="{_f(x(t))}" y1="{_f(y1)}" x2="{_f(x(t))}" y2="{_f(y1 + tick_length)}"/>'
            for t in ticks]
    out.append("</g>")
    out.append(f'<g font-size="{_f(tick_size)}">')
    tick_y = y1 + 2 * tick_length + 0.78 * tick_size
    out += [_text(x(t), tick_y, num(t), "middle") for t in ticks]
    unit_y = tick_y + 0.22 * tick_size + 4 + 0.78 * tick_size
    out.append(_text((x0 + x1) / 2, unit_y, unit, "middle"))
    line_h = tick_size * 1.2
    for i, lines in enumerate(label_lines):
        first = centre(i) + 0.36 * tick_size - (len(lines) - 1) * line_h / 2
        out += [_text(x0 - tick_length, first + k * line_h, line, "end")
                for k, line in enumerate(lines)]
    out.append("</g>")
    if legend:  # above the axes, centred in one row (matplotlib's spacing), or stacked
        lx = (x0 + x1) / 2 - (sum(widths) + 2 * em * (len(series) - 1)) / 2 if one_row else EDGE
        ly = y0 - 4 - em * 0.6 - (legend_lines - 1) * em * 1.4
        out.append(f'<g font-size="{em}">')
        for (name, _, colour), w in zip(series, widths):
            out.append(f'<rect x="{_f(lx)}" y="{_f(ly - 0.35 * em)}" width="{_f(2 * em)}" '
                       f'height="{_f(0.7 * em)}" fill="{colour}"/>')
            out.append(_text(lx + 2.8 * em, ly + 0.36 * em, name))
            if one_row:
                lx += w + 2 * em
            else:
                ly += em * 1.4
        out.append("</g>")
    bottom = unit_y + 0.22 * tick_size + EDGE
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{_f(width)}pt" '
           f'height="{_f(bottom)}pt" viewBox="0 0 {_f(width)} {_f(bottom)}" '
           f'font-family="{CHART_FONT}" fill="{INK}">' + "".join(out) + "</svg>")
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def bar_chart(items: list[tuple[str, int]], unit: str, highlight: Iterable[str] = (),
              narrow: bool = False) -> str:
    """Horizontal bars, largest at the top in the given order; values printed at the bars."""
    highlight = set(highlight)
    return _bars([label for label, _ in items], [("", [v for _, v in items], ACCENT)], unit,
                 stacked=False, rows=(0.32, 0.5), thickness=0.66, headroom=1.12,
                 values=("end", 8, 3, INK), legend=False,
                 colours=[ACCENT_2 if label in highlight else ACCENT for label, _ in items],
                 narrow=narrow)


def stacked_chart(groups: list[str], series: list[tuple[str, list[int]]], unit: str,
                  colours: list[str], narrow: bool = False) -> str:
    """Horizontal stacked bars: one bar per group, one segment per series."""
    return _bars(groups, [(name, values, c) for (name, values), c in zip(series, colours)], unit,
                 stacked=True, rows=(0.42, 0.8), thickness=0.6, headroom=1.05,
                 values=("center", 8, 0, "white"), legend=True, narrow=narrow)


def grouped_chart(groups: list[str], series: list[tuple[str, list[int]]], unit: str,
                  colours: list[str], narrow: bool = False) -> str:
    """Horizontal bars side by side: one group per category, one bar per series."""
    return _bars(groups, [(name, values, c) for (name, values), c in zip(series, colours)], unit,
                 stacked=False, rows=(0.5, 0.8), thickness=0.8, headroom=1.12,
                 values=("end", 7.5, 2, INK), legend=True, narrow=narrow)


def both(make, *args, **kwargs) -> tuple[str, str]:
    """A chart for print and its narrow twin for phones."""
    return make(*args, **kwargs), make(*args, narrow=True, **kwargs)


# --------------------------------------------------------------------------- the network
# The organisations' ties as computed by kb.hybrid, drawn with a fixed layout.

# the same colours as the other figures: emerging orange, traditional teal
PROFILE_COLOURS = {EMERGING: ACCENT_2, TRADITIONAL: ACCENT}
CROSS_EDGE_COLOUR = "#7a4f9a"
SAME_EDGE_COLOUR = "#c8c8c8"


def network_layout(graph, max_nodes: int = 120):
    """The drawn part of the network (organisations with a tie once the programme's staff are
    left out, the ``max_nodes`` most connected) and its positions: Kamada-Kawai has no
    randomness; the seeded spring layout places what it cannot. Computed once for both figures
    (it is most of their cost)."""
    import networkx as nx

    graph = without_staff(graph)
    drawn = sorted((o for o in graph.nodes if graph.degree(o) > 0),
                   key=lambda o: (-graph.degree(o), o))[:max_nodes]
    sub = graph.subgraph(sorted(drawn))
    if not sub.number_of_nodes():
        return sub, {}
    start = nx.spring_layout(sub, seed=SEED, iterations=50)
    return sub, nx.kamada_kawai_layout(sub, pos=start, weight=None)


LABEL_SIZE = 7.5  # points, the names on the network
LABEL_GAP = 3.0  # points between two names in a column


def stack(wanted: list[float], heights: list[float], top: float, bottom: float,
          gap: float = LABEL_GAP) -> list[float]:
    """Boxes of ``heights`` in one column, in the given order, each as near as it can be to
    its ``wanted`` centre, none overlapping another (``gap`` between) and all within
    ``top``..``bottom`` when they fit: their top edges."""
    tops, y = [], top
    for centre, h in zip(wanted, heights):  # down: each below the one before
        tops.append(max(centre - h / 2, y))
        y = tops[-1] + h + gap
    limit = bottom
    for i in range(len(tops) - 1, -1, -1):  # up from the bottom: what went past it
        tops[i] = min(tops[i], limit - heights[i])
        limit = tops[i] - gap
    return tops


def network_graph_svg(graph, labelled: list[str] = (), max_nodes: int = 120,
                      width: float = 7.0, height: float = 5.5, legend_size: float = 8,
                      layout=None) -> str:
    """The network as SVG text (``width`` × ``height`` inches), deterministic (fixed layout).

    Only organisations with at least one tie are drawn, the programme's staff left out, at
    most ``max_nodes`` of them (the most connected); colour is the profile, size the degree;
    ties that cross the two profiles are drawn in colour. The ``labelled`` organisations (those
    the report's table names) are named in two columns beside the network, left and right,
    each name as near to its node's height as the others allow and tied to it by a line: no
    name overlaps another or the network. Each name is a ``<g class="label">`` holding its
    box and text. Written directly, text as text: drawing it with matplotlib cost more than
    the rest of the report outside WeasyPrint.

    Long on purpose: one SVG drawn in layers (ties, nodes, labels, legend) on the same
    layout.
    """
    import numpy as np
    from xml.sax.saxutils import escape

    W, H = width * 72, height * 72  # points
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W:g}pt" height="{H:g}pt" '
           f'viewBox="0 0 {W:g} {H:g}" font-family="Noto Sans, DejaVu Sans, sans-serif">']
    sub, pos = layout or network_layout(graph, max_nodes)
    if sub.number_of_nodes():
        nodes = sorted(sub.nodes)
        named = [o for o in labelled if o in pos]
        xy = np.array([pos[o] for o in nodes])
        low, high = xy.min(axis=0), xy.max(axis=0)
        centre = (low + high) / 2
        half = np.maximum((high - low) / 2, 1e-9)
        # The names' columns take the sides (a name of two lines at most COLUMN points wide);
        # the network the middle, above the legend, equal aspect.
        column = 118.0 if named else 0.0
        room_w = W - 2 * (column + 10) - 2 * EDGE
        room_h = H - 4.5 * legend_size - 2 * EDGE
        scale = min(room_w / (2 * half[0]), room_h / (2 * half[1]))
        middle = EDGE + room_h / 2

        def at(point) -> tuple[float, float]:
            return (W / 2 + (point[0] - centre[0]) * scale, middle - (point[1] - centre[1]) * scale)

        for cross in (False, True):
            colour, opacity = (CROSS_EDGE_COLOUR, 0.45) if cross else (SAME_EDGE_COLOUR, 0.7)
            out.append(f'<g stroke="{colour}" stroke-opacity="{opacity}" stroke-linecap="round">')
            for a, b in sorted(sub.edges):
                if (sub.nodes[a]["profile"] != sub.nodes[b]["profile"]) != cross:
                    continue
                (x1, y1), (x2, y2) = at(pos[a]), at(pos[b])
                w = 0.25 + 0.35 * min(sub.edges[a, b]["weight"], 6)
                out.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                           f'stroke-width="{w:.2f}"/>')
            out.append("</g>")
        out.append('<g stroke="white" stroke-width="0.6">')
        for o in nodes:
            x, y = at(pos[o])
            radius = (18 + 10 * sub.degree(o)) ** 0.5 / 2  # matplotlib's marker area, pt²
            colour = PROFILE_COLOURS.get(sub.nodes[o]["profile"], "#888888")
            ring = ' stroke="#1f2a30" stroke-width="1.2"' if o in named else ""
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius:.2f}" fill="{colour}"{ring}/>')
        out.append("</g>")
        line_h = LABEL_SIZE * 1.2
        for right in (False, True):
            side = sorted((o for o in named if (at(pos[o])[0] >= W / 2) == right),
                          key=lambda o: (at(pos[o])[1], o))
            lines = []
            for o in side:
                name = sub.nodes[o]["name"]
                lines.append([name] if text_width(name, LABEL_SIZE) <= column else
                             _wrap(name, max(12, len(name) // 2 + 1)))
            heights = [line_h * len(ls) + 2 for ls in lines]
            tops = stack([at(pos[o])[1] for o in side], heights, EDGE, middle * 2 - EDGE)
            x = W - EDGE - column if right else EDGE + column
            for o, ls, top, h in zip(side, lines, tops, heights):
                nx_, ny_ = at(pos[o])
                text_w = max(text_width(line, LABEL_SIZE) for line in ls)
                box_x = x - 1 if right else x - text_w - 1
                out.append(f'<line x1="{nx_:.1f}" y1="{ny_:.1f}" x2="{x:.1f}" '
                           f'y2="{top + h / 2:.1f}" stroke="#5b6b73" stroke-width="0.5"/>')
                out.append(f'<g class="label"><rect x="{box_x:.1f}" y="{top:.1f}" '
                           f'width="{text_w + 2:.1f}" height="{h:.1f}" rx="1.5" fill="white" '
                           'fill-opacity="0.85"/>')
                for k, line in enumerate(ls):
                    out.append(f'<text x="{x:.1f}" y="{top + 1 + line_h * (k + 0.75):.1f}" '
                               f'font-size="{LABEL_SIZE}" text-anchor="{"start" if right else "end"}" '
                               f'fill="{INK}">{escape(line)}</text>')
                out.append("</g>")
    legend = [("circle", PROFILE_COLOURS[EMERGING], "Emergente"),
              ("circle", PROFILE_COLOURS[TRADITIONAL], "Tradizionale"),
              ("line", CROSS_EDGE_COLOUR, "Legame tra i due profili")]
    k = legend_size / 8
    for i, (mark, colour, label) in enumerate(legend):
        y = H - 10 * k - 11 * k * (len(legend) - 1 - i)
        if mark == "circle":
            out.append(f'<circle cx="{14 * k:g}" cy="{y:g}" r="{3.5 * k:g}" fill="{colour}"/>')
        else:
            out.append(f'<line x1="{6 * k:g}" y1="{y:g}" x2="{22 * k:g}" y2="{y:g}" '
                       f'stroke="{colour}" stroke-width="{1.5 * k:g}"/>')
        out.append(f'<text x="{28 * k:g}" y="{y + 2.5 * k:g}" font-size="{legend_size:g}" '
                   f'fill="{INK}">{label}</text>')
    out.append("</svg>")
    return "\n".join(out)


def network_svg(public_db, labelled: list[str] = (), **options) -> str:
    """The network figure (SVG text) of a public database."""
    from ..hybrid import network, read_evidence
    return network_graph_svg(network(read_evidence(public_db)), labelled, **options)


def network_figures(public_db, labelled: list[str] = ()) -> tuple[str, str]:
    """The network as SVG ``data:`` URIs: for print, with the ``labelled`` organisations
    named, and for phones (narrower, no names on it, the legend as large as the page's text;
    the names are in the table that follows)."""
    from ..hybrid import network, read_evidence
    graph = network(read_evidence(public_db))
    layout = network_layout(graph)
    wide = network_graph_svg(graph, labelled, layout=layout)
    narrow = network_graph_svg(graph, width=NARROW[0] / 72, height=4.6, legend_size=13,
                               layout=layout)
    return tuple("data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
                 for svg in (wide, narrow))
