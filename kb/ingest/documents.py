"""Staff prose for the report: ``data/report/*.md``."""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..diagnostics import Diagnostics, excerpt
from .fields import SLUG, Fields
from .files import decode, read_bytes
from .notes import _listing, split_front_matter
from .records import Document
from .yaml_lines import LineList


def document_files(data_dir: Path, diags: Diagnostics) -> list[Path]:
    """The staff texts of ``data/report/`` (``.md``), sorted; other files are reported."""
    report_dir = data_dir / "report"
    if not os.path.lexists(report_dir):
        return []
    if not report_dir.is_dir():
        diags.error(str(report_dir), 1, "'report' must be a folder of .md texts")
        return []
    files = []
    for entry in _listing(report_dir, diags):
        path = Path(entry.path)
        if path.suffix != ".md":
            diags.warning(str(path), 1, "not a report text (.md): file ignored")
        elif not SLUG.match(path.stem):
            diags.error(str(path), 1, f"'{excerpt(path.stem)}' is not a valid name: use "
                                      "lower-case letters, digits and hyphens")
        else:
            files.append(path)
    return files


def read_documents(data_dir: Path, diags: Diagnostics) -> list[Document]:
    """The staff texts; one may start with a front matter whose only key is ``allow_names``,
    the personal names it publishes on purpose (an acknowledgement)."""
    documents = []
    for path in document_files(data_dir, diags):
        raw = read_bytes(path, diags)
        text = None if raw is None else decode(raw, str(path), diags)
        if text is None:
            continue
        rel = path.relative_to(data_dir).as_posix()
        body_line, allowed = 1, []
        if re.match(r"---[ \t]*\n", text):
            split = split_front_matter(text, str(path), diags)
            if split is None:
                continue
            meta, text, body_line = split
            f = Fields(meta, str(path), diags)
            f.unknown_keys(["allow_names"], "a staff text's front matter")
            names = f.text_list("allow_names")
            lines = meta.get("allow_names")
            allowed = [(name, lines.line_of(i) if isinstance(lines, LineList) else f.line(
                "allow_names")) for i, name in enumerate(names)]
        body_line += text[:len(text) - len(text.lstrip())].count("\n")  # stripped below
        documents.append(Document(path.stem, text.strip() + "\n", rel, body_line, allowed))
    return documents
