"""XML written as a stream, for the REFI-QDA project of half a million findings.

The escaping is ours because it is the hot path of the export (millions of attributes, most
needing nothing done: a GUID, a number); ``tests/test_qdpx.py`` checks it against what the
standard library's XML parser reads back, for any text.
"""

from __future__ import annotations

import io
import re
from typing import IO

import numpy as np

from ..archive import Deflater, Part
from ..diagnostics import CotourError


class XmlError(CotourError):
    """A character that XML 1.0 cannot hold."""



_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def checked(value: str, where: str) -> str:
    found = _NOT_XML.search(value)
    if found:
        raise XmlError(f"{where}: character U+{ord(found.group()):04X} cannot be written in "
                        "XML 1.0; remove it from the source file and run 'cotour build' again")
    return value


# The UTF-8 bytes below 0x20 that are not tab, line feed or carriage return: C0 controls, which
# XML 1.0 cannot hold (every byte of a longer sequence is 0x80 or above).
_CONTROL = np.ones(0x20, dtype=bool)
_CONTROL[[0x09, 0x0A, 0x0D]] = False


def xml_bytes(text: str) -> bytes | None:
    """``text`` in UTF-8, or None when it holds a character XML 1.0 cannot (``checked`` then
    says which). Tested on the bytes by NumPy: the regular expression reads some 350 million
    characters a second, this three times as many (the spreadsheet's rows are a billion)."""
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return None
    codes = np.frombuffer(data, dtype=np.uint8)
    if _CONTROL[codes[codes < 0x20]].any():
        return None
    # U+FFFE and U+FFFF are EF BF BE and EF BF BF; EF leads only U+F000 to U+FFFF
    if (codes == 0xEF).any() and (b"\xef\xbf\xbe" in data or b"\xef\xbf\xbf" in data):
        return None
    return data


_PLAIN_ATTR = re.compile('[^&<>"\n\r\t\x00-\x1f\ufffe\uffff\ud800-\udfff]*')


def escape_attr(value: str, where: str) -> str:
    if _PLAIN_ATTR.fullmatch(value):  # most values (GUIDs, numbers, names) need nothing done
        return value
    value = checked(value, where)
    return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("\n", "&#10;").replace("\r", "&#13;")
            .replace("\t", "&#9;"))


def escape_text(value: str, where: str) -> str:
    value = checked(value, where)
    return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\r", "&#13;"))


class XmlWriter:
    """Streams indented XML into a text file: the project of 500,000 findings is not held whole.

    ``where`` names what is being written (a note and its file), for an error's message."""

    def __init__(self, fp: IO[str], where: str, depth: int | None = None) -> None:
        """``depth``: a piece of a document, written from that depth (no XML declaration)."""
        self.fp, self.where, self.depth = fp, where, depth or 0
        if depth is None:
            fp.write('<?xml version="1.0" encoding="utf-8"?>\n')


    def _open(self, tag: str, attrs: dict[str, object]) -> str:
        items = [(k, v if type(v) is str else str(v)) for k, v in attrs.items() if v is not None]
        # One test for the whole element: joined by a space, the values are plain only when
        # each of them is.
        if _PLAIN_ATTR.fullmatch(" ".join([v for _, v in items])):
            pairs = "".join([f' {k}="{v}"' for k, v in items])
        else:
            pairs = "".join([f' {k}="{escape_attr(v, self.where)}"' for k, v in items])
        return f"{'  ' * self.depth}<{tag}{pairs}"

    def start(self, tag: str, **attrs) -> None:
        self.fp.write(self._open(tag, attrs) + ">\n")
        self.depth += 1

    def end(self, tag: str) -> None:
        self.depth -= 1
        self.fp.write(f"{'  ' * self.depth}</{tag}>\n")

    def empty(self, tag: str, **attrs) -> None:
        self.fp.write(self._open(tag, attrs) + "/>\n")

    def text(self, tag: str, value: str, **attrs) -> None:
        self.fp.write(self._open(tag, attrs) + f">{escape_text(value, self.where)}</{tag}>\n")


class _Deflating(io.RawIOBase):
    """A raw stream whose bytes go into a :class:`kb.archive.Deflater`."""

    def __init__(self, deflater: Deflater) -> None:
        self.deflater = deflater

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.deflater.write(bytes(data))
        return len(data)


class DeflatedText:
    """Text written into a :class:`kb.archive.Deflater` as UTF-8: encoded and buffered by
    :mod:`io` (a megabyte at a time), not in Python for each of the millions of writes."""

    def __init__(self, deflater: Deflater) -> None:
        self.deflater = deflater
        self.text = io.TextIOWrapper(io.BufferedWriter(_Deflating(deflater), 1 << 20),
                                     encoding="utf-8", newline="\n")
        self.write = self.text.write

    def close(self) -> Part:
        self.text.flush()
        return self.deflater.close()
