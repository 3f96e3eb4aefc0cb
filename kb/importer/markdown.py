"""pandoc's JSON tree of a Word document -> the note's Markdown, as ``data/notes/`` writes it.

Why a writer of our own instead of pandoc's Markdown output: pandoc 2.x pads list markers
(``-   item``), separates lists with ``<!-- -->``, escapes ``#tags`` and ``[[mentions]]``, and
keeps Word's "List Bullet 2" paragraphs as separate flat lists. The note format needs plain
``- item`` lines, nested by indentation, so that a finding's text is the same whether it was
typed in Markdown or imported from Word.
"""

from __future__ import annotations

import json
import re

# A Word style that nests a list: "List Bullet 2", "List Number 3", "Elenco puntato 2".
LIST_STYLE_LEVEL = re.compile(r"(?i)\b(?:list|elenco)\b.*?(\d)\s*$")
# A bold paragraph longer than this is emphasis, not a heading.
HEADING_WORDS = 8

def node_type(node) -> str:
    return node.get("t", "")


def node_content(node):
    return node.get("c")


def _style(attr) -> str:
    return dict(attr[2]).get("custom-style", "")


def _is_quote(style: str) -> bool:
    """Word's quotation styles: Quote, Intense Quote, Citazione, Citazione intensa."""
    return any(word in style.casefold() for word in ("quote", "citazione"))


def inline_text(inlines: list) -> str:
    """The text of inlines, without any Markdown."""
    out = []
    for node in inlines:
        t, c = node_type(node), node_content(node)
        if t == "Str":
            out.append(c)
        elif t in ("Space", "SoftBreak", "LineBreak"):
            out.append(" ")
        elif t in ("Emph", "Strong", "Underline", "Strikeout", "Superscript", "Subscript", "SmallCaps"):
            out.append(inline_text(c))
        elif t in ("Span", "Quoted", "Cite", "Link", "Image"):
            out.append(inline_text(c[1]))
        elif t in ("Code", "Math"):
            out.append(c[1])
    return " ".join("".join(out).split())


def _escape(text: str) -> str:
    """A Word text run as Markdown that reads back as the same text.

    ``#tags`` and ``[[mentions]]`` are left as they are, since they mean the same in a note."""
    text = text.replace("\\", "\\\\")
    text = re.sub(r"([*`])", r"\\\1", text)
    text = re.sub(r"(?<![^\W_])_|_(?![^\W_])", r"\\_", text)
    text = re.sub(r"<(?=[A-Za-z/!?])", r"\\<", text)
    return re.sub(r"&(?=#?\w+;)", r"\\&", text)


LINE_START = [
    (re.compile(r"^(#{1,6})(?=\s|$)"), r"\\\1"),          # an ATX heading
    (re.compile(r"^([-+])(?=\s|$)"), r"\\\1"),            # a bullet
    (re.compile(r"^(\d{1,9})([.)])(?=\s|$)"), r"\1\\\2"),  # a numbered item
    (re.compile(r"^>"), r"\\>"),                          # a block quote
    (re.compile(r"^([=-])(?=[=-]*\s*$)"), r"\\\1"),       # a setext underline
]


def _escape_line_starts(text: str) -> str:
    lines = []
    for line in text.split("\n"):
        line = line.lstrip()
        for pattern, repl in LINE_START:
            line = pattern.sub(repl, line, count=1)
        lines.append(line)
    return "\n".join(lines)


class MarkdownWriter:
    """pandoc's JSON tree -> the Markdown of a note (CommonMark, no raw HTML)."""

    def __init__(self):
        self.notes: list[str] = []  # footnotes
        self.lost: list[str] = []  # what could not be kept

    # ---- inlines

    def inlines(self, nodes: list) -> str:
        return "".join(self.inline(n) for n in nodes)

    def _wrap(self, mark: str, nodes: list) -> str:
        inner = self.inlines(nodes)
        core = inner.strip()
        if not core:
            return inner
        lead, trail = inner[: len(inner) - len(inner.lstrip())], inner[len(inner.rstrip()):]
        return f"{lead}{mark}{core}{mark}{trail}"

    def inline(self, node) -> str:
        t, c = node_type(node), node_content(node)
        if t == "Str":
            return _escape(c)
        if t in ("Space", "SoftBreak"):
            return " "
        if t == "LineBreak":
            return "\n"
        if t == "Emph":
            return self._wrap("*", c)
        if t == "Strong":
            return self._wrap("**", c)
        if t == "Strikeout":
            return self._wrap("~~", c)
        if t in ("Underline", "SmallCaps", "Superscript", "Subscript"):
            return self.inlines(c)
        if t == "Quoted":
            left, right = ("“", "”") if node_type(c[0]) == "DoubleQuote" else ("‘", "’")
            return left + self.inlines(c[1]) + right
        if t in ("Cite",):
            return self.inlines(c[1])
        if t == "Span":
            return self.inlines(c[1])
        if t == "Code":
            fence = "`" * (max((len(m) for m in re.findall(r"`+", c[1])), default=0) + 1)
            pad = " " if c[1].startswith("`") or c[1].endswith("`") else ""
            return f"{fence}{pad}{c[1]}{pad}{fence}"
        if t == "Math":
            return f"${c[1]}$" if node_type(c[0]) == "InlineMath" else f"$${c[1]}$$"
        if t == "Link":
            text, (url, title) = self.inlines(c[1]), c[2]
            if inline_text(c[1]) == url and re.match(r"[a-z]+:", url):
                return f"<{url}>"
            return f"[{text}]({url}{' ' + json.dumps(title, ensure_ascii=False) if title else ''})"
        if t == "Image":
            name = inline_text(c[1]) or c[2][0].rsplit("/", 1)[-1]
            self.lost.append(f"image '{name}'")
            return ""
        if t == "Note":
            self.notes.append(self.blocks(c, separator="\n\n"))
            return f"[^{len(self.notes)}]"
        if t == "RawInline":
            self.lost.append(f"raw {c[0]} text")
            return ""
        return ""

    def text(self, nodes: list) -> str:
        """A paragraph: inline Markdown, each line safe from being read as a block marker."""
        return _escape_line_starts(self.inlines(nodes).strip())

    # ---- blocks

    def blocks(self, nodes: list, separator: str = "\n\n", quote: bool = False) -> str:
        parts = [self.block(n, quote) for n in nodes]
        return separator.join(p for p in parts if p)

    def block(self, node, quote: bool = False) -> str:
        t, c = node_type(node), node_content(node)
        if t in ("Para", "Plain"):
            return self.text(c)
        if t == "Header":
            text = " ".join(self.inlines(c[2]).split())
            text = re.sub(r"(\s)(#+)$", r"\1\\\2", text)
            return f"{'#' * c[0]} {text}" if text else ""
        if t == "BulletList":
            return "\n".join(self._item("- ", item) for item in c)
        if t == "OrderedList":
            (start, _, delim), items = c
            mark = ")" if node_type(delim) == "OneParen" else "."
            return "\n".join(self._item(f"{start + i}{mark} ", item) for i, item in enumerate(items))
        if t == "Div":
            return self.blocks(c[1], quote=quote or _is_quote(_style(c[0])))
        if t == "BlockQuote":
            inner = self.blocks(c, quote=quote)
            if not quote:  # pandoc reads any indented Word paragraph as a quotation
                return inner
            return "\n".join(">" + (" " + line if line else "") for line in inner.split("\n"))
        if t == "CodeBlock":
            fence = "`" * max(3, max((len(m) for m in re.findall(r"`{3,}", c[1])), default=0) + 1)
            return f"{fence}\n{c[1]}\n{fence}"
        if t == "LineBlock":
            return "\n".join(self.text(line) for line in c)
        if t == "HorizontalRule":
            return "* * *"
        if t == "Table":
            return self.table(c)
        if t == "DefinitionList":
            out = []
            for term, definitions in c:
                out.append(self.text(term))
                out.extend(self.blocks(d) for d in definitions)
            return "\n\n".join(o for o in out if o)
        if t == "Figure":  # pandoc 3
            return self.blocks(c[2], quote=quote)
        if t == "RawBlock":
            self.lost.append(f"raw {c[0]} block")
        return ""

    def _item(self, marker: str, blocks: list) -> str:
        parts = []
        for i, block in enumerate(blocks):
            text = self.block(block)
            if not text:
                continue
            nested = node_type(block) in ("BulletList", "OrderedList") or (
                node_type(block) == "Div" and all(node_type(b) in ("BulletList", "OrderedList") for b in node_content(block)[1]))
            parts.append(("\n" if nested else "\n\n") + text if parts else text)
        text = "".join(parts)
        pad = " " * len(marker)
        lines = text.split("\n")
        return marker.rstrip() + (" " + lines[0] if lines[0] else "") + "".join(
            "\n" + (pad + line if line else "") for line in lines[1:])

    def table(self, c) -> str:
        """A Word table as a GFM pipe table: kept as narrative text (the note format has none)."""
        _, caption, colspecs, head, bodies, foot = c
        rows = list(head[1])
        for body in bodies:
            rows += body[2] + body[3]
        rows += foot[1]
        width = max([len(colspecs)] + [sum(cell[3] for cell in row[1]) for row in rows])
        grid = []
        for row in rows:
            cells = []
            for cell in row[1]:
                text = " ".join(self.blocks(cell[4], separator=" ").split()).replace("|", "\\|")
                cells += [text] + [""] * (cell[3] - 1)
            grid.append(cells + [""] * (width - len(cells)))
        if not grid:
            return ""
        lines = ["| " + " | ".join(grid[0]) + " |", "|" + "---|" * width]
        lines += ["| " + " | ".join(row) + " |" for row in grid[1:]]
        text = "\n".join(lines)
        caption_text = self.blocks(caption[1]) if caption and caption[1] else ""
        return f"{text}\n\n{caption_text}" if caption_text else text


def _list_level(block) -> int:
    """The nesting level a list's Word style asks for ("List Bullet 2" -> 2), else 1."""
    items = node_content(block)[1] if node_type(block) == "OrderedList" else node_content(block)
    first = items[0][0] if items and items[0] else None
    if first is not None and node_type(first) == "Div":
        match = LIST_STYLE_LEVEL.search(_style(node_content(first)[0]))
        if match:
            return max(1, int(match.group(1)))
    return 1


def _items(block) -> list:
    return node_content(block)[1] if node_type(block) == "OrderedList" else node_content(block)


def nest_lists(blocks: list) -> list:
    """Nest the flat lists that Word's "List Bullet 2" / "List Number 3" styles give.

    pandoc nests the levels of one Word numbering (Tab in a list) but reads each list style as a
    list of its own; here a level-2 list after a list becomes part of that list's last item, and
    a level-1 list after it continues the first one."""
    out: list = []
    stack: list[tuple[int, dict]] = []  # (level, list block) open at the end of ``out``
    for block in blocks:
        if node_type(block) not in ("BulletList", "OrderedList"):
            stack = []
            out.append(block)
            continue
        level = _list_level(block)
        while stack and stack[-1][0] > level:
            stack.pop()
        if stack and stack[-1][0] == level and node_type(stack[-1][1]) == node_type(block):
            _items(stack[-1][1]).extend(_items(block))
        elif stack and stack[-1][0] < level and _items(stack[-1][1]):
            _items(stack[-1][1])[-1].append(block)
            stack.append((level, block))
        else:
            out.append(block)
            stack = [(level, block)]
    return out


def unwrap(blocks: list) -> list:
    """Top-level blocks without Word's paragraph-style wrappers (Divs) and without the block
    quotes pandoc makes of indented paragraphs; paragraphs styled as quotations stay."""
    out = []
    for block in blocks:
        if node_type(block) == "Div" and not _is_quote(_style(node_content(block)[0])):
            out.extend(unwrap(node_content(block)[1]))
        elif node_type(block) == "BlockQuote":
            out.extend(unwrap(node_content(block)))
        else:
            out.append(block)
    return out


def bold_heading(block) -> str | None:
    """The text of a paragraph that is all bold and short enough to be a heading."""
    if node_type(block) not in ("Para", "Plain"):
        return None
    inlines = [n for n in node_content(block) if node_type(n) not in ("Space", "SoftBreak", "LineBreak")]
    if len(inlines) != 1 or node_type(inlines[0]) != "Strong":
        return None
    text = inline_text(node_content(inlines[0]))
    if not text or len(text.split()) > HEADING_WORDS or text[-1] in ".;,!?":
        return None
    return text


