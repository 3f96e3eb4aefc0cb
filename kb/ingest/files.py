"""Opening the files of ``data/`` safely: regular files only, bounded sizes, UTF-8, zip bombs refused."""

from __future__ import annotations

import errno
import io
import os
import stat
import zipfile
import zlib
from pathlib import Path
from typing import Any

from ..diagnostics import Diagnostics, excerpt
from .yaml_lines import LineDict, load_yaml

# An input file larger than this is refused: the data of this project are text written by
# people, and a runaway file must not become unbounded memory.
MAX_FILE_BYTES = 64 << 20


def read_bytes(path: Path, diags: Diagnostics, shown: str | None = None) -> bytes | None:
    """The bytes of an input file, or ``None`` after a diagnostic saying why it cannot be read.

    Opened without blocking and checked to be a regular file before reading: a FIFO or a
    device among the data must never make a command wait for ever.
    """
    shown = shown or str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        diags.error(shown, 1, _unreadable(path, exc))
        return None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            diags.error(shown, 1, "a folder where a file is expected")
            return None
        if not stat.S_ISREG(info.st_mode):
            diags.error(shown, 1, "not a regular file (a pipe or a device): it cannot be read "
                                  "as input")
            return None
        if info.st_size > MAX_FILE_BYTES:
            diags.error(shown, 1, f"file too large ({info.st_size:,} bytes; at most "
                                  f"{MAX_FILE_BYTES:,}): is it really this project's data?")
            return None
        with os.fdopen(fd, "rb", closefd=False) as fp:
            # Asked for the size fstat gave (a buffer of the limit would be allocated, and
            # given back, for every file), then for the rest should the file have grown.
            data = fp.read(info.st_size + 1)
            if len(data) > info.st_size:
                data += fp.read(MAX_FILE_BYTES - len(data) + 1)
            return data
    except OSError as exc:
        diags.error(shown, 1, _unreadable(path, exc))
        return None
    finally:
        os.close(fd)


def _unreadable(path: Path, exc: OSError) -> str:
    if exc.errno == errno.ENOENT and os.path.islink(path):
        return "a broken link: it points to a file that does not exist"
    if exc.errno == errno.ENOENT:
        return "file not found"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "cannot read the file: permission denied"
    if exc.errno == errno.ENOTDIR:
        return "file not found: a folder of its path is a file"
    if exc.errno == errno.EISDIR:
        return "a folder where a file is expected"
    if exc.errno == errno.ELOOP:
        return "a link that points to itself (a loop of links)"
    return f"cannot read the file: {(exc.strerror or str(exc)).lower()}"


def is_hidden(name: str) -> bool:
    """Hidden files and folders (``.bozza.md``, ``.git``, editors' swap files) are not input:
    never read, never in the build's digest."""
    return name.startswith(".")


def decode(raw: bytes, path: str, diags: Diagnostics) -> str | None:
    """UTF-8 text with the BOM dropped and line endings made ``\\n``; ``None`` if not UTF-8."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        diags.error(
            path, line,
            f"not UTF-8 (byte 0x{raw[exc.start]:02x}); save the file as UTF-8",
        )
        return None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _read_text(data_dir: Path, rel: str, diags: Diagnostics, required: bool = True) -> str | None:
    path = data_dir / rel
    shown = str(path)
    if not os.path.lexists(path):
        if required:
            diags.error(shown, 1, "file not found")
        return None
    raw = read_bytes(path, diags, shown)
    return None if raw is None else decode(raw, shown, diags)


def _read_yaml(data_dir: Path, rel: str, diags: Diagnostics, required: bool = True) -> Any:
    text = _read_text(data_dir, rel, diags, required)
    return None if text is None else load_yaml(text, str(data_dir / rel), diags)


def _entries(data: Any, path: str, diags: Diagnostics, what: str) -> list[LineDict]:
    """The mappings of a YAML list file; anything else in it is an error."""
    if data is None:
        return []
    if not isinstance(data, list):
        diags.error(path, getattr(data, "line", 1), f"expected a list of {what}")
        return []
    entries = []
    for i, item in enumerate(data):
        if isinstance(item, LineDict):
            entries.append(item)
        else:
            diags.error(path, data.line_of(i), f"expected a {what[:-1]} (a mapping), not '{item}'")
    return entries


def _duplicates(items, path: str, diags: Diagnostics, what: str) -> None:
    seen: dict[str, int] = {}
    for item in items:
        if item.id in seen:
            diags.error(path, item.line, f"duplicate {what} id '{item.id}' (first at line {seen[item.id]})")
        else:
            seen[item.id] = item.line


# A zip archive (a spreadsheet, a Word file) may unpack to at most this much: a 100 KB "zip
# bomb" unpacks to gigabytes.
MAX_UNPACKED_BYTES = 256 << 20

MAX_MEMBERS = 10_000


def zip_problem(raw: bytes, limit: int = MAX_UNPACKED_BYTES) -> str | None:
    """Why the zip archive ``raw`` must not be opened, or ``None``.

    Every member is inflated here, in blocks, counting what it really gives (a member's
    declared size can lie) and stopping past ``limit``: a reader trusting the archive could
    otherwise be made to fill the memory.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            members = archive.infolist()
            if len(members) > MAX_MEMBERS:
                return f"the archive holds {len(members):,} files (at most {MAX_MEMBERS:,})"
            declared = sum(m.file_size for m in members)
            if declared > limit:
                return (f"the archive unpacks to {declared:,} bytes (at most {limit:,}): "
                        "refused, it may be a zip bomb")
            total = 0
            for member in members:
                with archive.open(member) as fp:
                    while block := fp.read(1 << 20):
                        total += len(block)
                        if total > limit:
                            return (f"the archive unpacks to more than {limit:,} bytes: "
                                    "refused, it may be a zip bomb")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError,
            zlib.error, ValueError) as exc:
        return f"a damaged archive ({excerpt(str(exc))})"
    return None
