"""Checks of the staff prose (``data/report/*.md``) before it reaches the report."""

from __future__ import annotations

import re
from pathlib import Path

from markdown_it import MarkdownIt

from ..diagnostics import Diagnostics
from ..domain.vocabulary import REPORT_DOCUMENTS
from ..ingest.records import Document


def staff_markdown(html: bool = False) -> MarkdownIt:
    """The Markdown the report prints (notes and ``data/report/*.md``): CommonMark with GFM
    tables and strikethrough, footnotes (``[^1]``), and images from ``data/assets/`` (a
    paragraph of one image with a title, ``![descrizione](foto.jpg "Didascalia")``, is a figure
    with its caption). Raw HTML is shown as text (``html=True`` only to find it)."""
    from mdit_py_plugins.footnote import footnote_plugin

    md = MarkdownIt("commonmark", {"html": html})
    md.enable(["table", "strikethrough"])
    return md.use(footnote_plugin)


_LOOKS_LIKE_TABLE = re.compile(r"^\s*\|.*\|\s*$")

_FOOTNOTE_REF = re.compile(r"\[\^[^\]\s]+\]")


def check_document(doc: Document, path: str, data_dir: Path, diags: Diagnostics) -> None:
    """Warn, at its line, about what the report cannot print of a staff text as it was meant:
    raw HTML, images that are not files of ``data/assets/``, a table that does not parse,
    a footnote without its text, a file name the report does not know."""
    if doc.name not in REPORT_DOCUMENTS:
        diags.warning(path, doc.body_line, f"'{doc.name}' is not a text the report uses: it is left out "
                      f"(known names: {', '.join(REPORT_DOCUMENTS)})")
    tokens = staff_markdown(html=True).parse(doc.text, {})

    def line(token) -> int:
        return doc.body_line + (token.map[0] if token.map else 0)

    block_line = doc.body_line
    for token in tokens:
        if token.map:
            block_line = line(token)
        if token.type == "html_block":
            diags.warning(path, block_line, "HTML is not printed as HTML: the report shows it as "
                          "text; write it in Markdown")
        if token.type == "paragraph_open":
            text_lines = doc.text.splitlines()[token.map[0]:token.map[1]]
            if sum(1 for t in text_lines if _LOOKS_LIKE_TABLE.match(t)) >= 2:
                diags.warning(path, block_line, "these lines look like a table but are not one: "
                              "a table needs a header row, then a line like |---|---|")
        if token.type != "inline":
            continue
        for child in token.children or []:
            if child.type == "html_inline":
                diags.warning(path, block_line, f"HTML {child.content!r} is shown as text, not "
                              "as HTML; write it in Markdown")
            elif child.type == "image":
                src = child.attrGet("src") or ""
                if "://" in src or src.startswith("data:"):
                    diags.warning(path, block_line, f"image '{src}' is not a file of data/assets/: "
                                  "the report shows its description instead")
                elif not (Path(data_dir) / "assets" / Path(src).name).is_file():
                    diags.warning(path, block_line, f"image '{src}' is not in data/assets/: the "
                                  "report shows its description instead")
            elif child.type == "text" and _FOOTNOTE_REF.search(child.content):
                ref = _FOOTNOTE_REF.search(child.content).group(0)
                diags.warning(path, block_line, f"footnote {ref} has no text: add a line "
                              f"'{ref}: …' at the end")
