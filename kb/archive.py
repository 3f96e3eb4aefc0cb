"""Zip archives assembled from parts compressed beforehand, on any core: the release's, the
workbook's and the REFI-QDA project's (figures: docs/developers/benchmarks.md).

:mod:`zipfile` compresses one member at a time on the calling thread with zlib. The release,
its workbook and the REFI-QDA project are hundreds of MB at scale: here each member, or each
piece of one, is deflated on its own (a worker process, a thread: ISA-L's deflate releases the
GIL and is about ten times faster than zlib's default level, for a tenth more bytes), and the
archive is written from the parts at the end. Every entry has the same date, mode 0644, made
on unix, and the central directory lists them by name, so the same files give the same bytes.
ZIP64 records appear only where a size or offset needs them; :mod:`zipfile` reads the result
back (``cotour publish --check``).
"""

from __future__ import annotations

import hashlib
import shutil
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterable

from isal import isal_zlib

LEVEL = 2  # ISA-L's level 2: about zlib's level 1 in size, ten times faster than zlib's 6


@dataclass(frozen=True)
class Part:
    """One member, or a piece of one, compressed: its raw deflate stream in ``path`` (or the
    file itself, stored); the digests only where asked for."""

    path: Path
    size: int
    crc: int
    compressed_size: int
    sha256: str | None = None
    sha1: str | None = None
    stored: bool = False


class Deflater:
    """Deflates what is written to it into ``path``, counting its size and CRC-32 (and its
    digests, with ``digests``).

    A piece that is not ``last`` ends on a full flush instead of a final block: the pieces of
    one member, deflated apart (on different cores), then make one stream end to end."""

    def __init__(self, path: Path, last: bool = True, digests: bool = False):
        self.path, self.last = Path(path), last
        self.out: BinaryIO = open(self.path, "wb")
        self.compressor = isal_zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
        self.digests = (hashlib.sha256(), hashlib.sha1()) if digests else ()
        self.crc, self.size = 0, 0

    def write(self, block: bytes) -> None:
        for digest in self.digests:
            digest.update(block)
        self.crc = isal_zlib.crc32(block, self.crc)  # ISA-L's: several times zlib's speed
        self.size += len(block)
        self.out.write(self.compressor.compress(block))

    def close(self) -> Part:
        self.out.write(self.compressor.flush() if self.last
                       else self.compressor.flush(isal_zlib.Z_FULL_FLUSH))
        compressed = self.out.tell()
        self.out.close()
        return Part(self.path, self.size, self.crc, compressed,
                    *(d.hexdigest() for d in self.digests))


def deflate_file(source: Path, part: Path) -> Part:
    """``source`` read once: deflated into ``part``, with its size, CRC-32 and digests."""
    deflater = Deflater(part, digests=True)
    with open(source, "rb") as src:
        for block in iter(lambda: src.read(1 << 22), b""):
            deflater.write(block)
    return deflater.close()


def store_file(source: Path) -> Part:
    """``source`` kept as it is in the archive (a file already compressed, such as a zip)."""
    sha256, sha1, crc, size = hashlib.sha256(), hashlib.sha1(), 0, 0
    with open(source, "rb") as src:
        for block in iter(lambda: src.read(1 << 22), b""):
            sha256.update(block)
            sha1.update(block)
            crc = isal_zlib.crc32(block, crc)
            size += len(block)
    return Part(Path(source), size, crc, size, sha256.hexdigest(), sha1.hexdigest(), stored=True)


def joined(pieces: list[Part]) -> Part:
    """One member made of ``pieces`` deflated apart, end to end (see :class:`Deflater`)."""
    crc, size, compressed = 0, 0, 0
    for piece in pieces:
        crc = isal_zlib.crc32_combine(crc, piece.crc, piece.size)
        size += piece.size
        compressed += piece.compressed_size
    return _Joined(pieces[0].path, size, crc, compressed, pieces=tuple(p.path for p in pieces))


@dataclass(frozen=True)
class _Joined(Part):
    pieces: tuple[Path, ...] = ()


@dataclass(frozen=True)
class Entry:
    """What the central directory says of a member."""

    name: str
    crc: int
    size: int
    compressed_size: int
    offset: int
    stored: bool = False


@dataclass(frozen=True)
class Fragment:
    """Members written one after another into ``path`` by a :class:`ZipWriter` without a
    central directory (offsets from the fragment's start), to be put into a whole archive."""

    path: Path
    entries: tuple[Entry, ...]


class ZipWriter:
    """A zip archive written a member at a time: small texts deflated in memory, parts
    (deflated elsewhere) copied, fragments (archives of members written elsewhere) copied
    whole. Every entry is dated ``date`` (``YYYY-MM-DD``, 00:00), mode 0644, made on unix; the
    central directory lists the members by name (their order in the file is the order they
    came in), so the same members give the same bytes. ``directory=False`` writes a
    :class:`Fragment` instead of an archive."""

    def __init__(self, path: Path, date: str, directory: bool = True):
        year, month, day = (int(x) for x in str(date)[:10].split("-"))
        self.dos_date = (max(year, 1980) - 1980) << 9 | month << 5 | day
        self.path, self.directory = Path(path), directory
        self.out: BinaryIO = open(self.path, "wb")
        self.entries: list[Entry] = []

    def _header(self, name: str, crc: int, size: int, compressed: int, stored: bool) -> None:
        encoded = name.encode("utf-8")
        sizes64 = size >= _BIG or compressed >= _BIG
        extra = struct.pack("<HHQQ", 1, 16, size, compressed) if sizes64 else b""
        self.entries.append(Entry(name, crc, size, compressed, self.out.tell(), stored))
        self.out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 45 if sizes64 else 20,
                                   0 if encoded.isascii() else 0x800, 0 if stored else 8, 0,
                                   self.dos_date, crc, _BIG if sizes64 else compressed,
                                   _BIG if sizes64 else size, len(encoded), len(extra)))
        self.out.write(encoded + extra)

    def add(self, name: str, data: bytes) -> None:
        """A member held in memory (a note's text): deflated here."""
        compressed = isal_zlib.compress(data, LEVEL, -15)
        self._header(name, isal_zlib.crc32(data), len(data), len(compressed), False)
        self.out.write(compressed)

    def add_part(self, name: str, part: Part) -> None:
        self._header(name, part.crc, part.size, part.compressed_size, part.stored)
        for piece in getattr(part, "pieces", None) or (part.path,):
            with open(piece, "rb") as src:
                shutil.copyfileobj(src, self.out, 1 << 22)

    def add_fragment(self, fragment: Fragment) -> None:
        start = self.out.tell()
        with open(fragment.path, "rb") as src:
            shutil.copyfileobj(src, self.out, 1 << 22)
        self.entries += [Entry(e.name, e.crc, e.size, e.compressed_size, e.offset + start,
                               e.stored) for e in fragment.entries]

    def close(self) -> Fragment | None:
        if not self.directory:
            self.out.close()
            return Fragment(self.path, tuple(self.entries))
        out = self.out
        cd_start = out.tell()
        for e in sorted(self.entries, key=lambda e: e.name):
            encoded = e.name.encode("utf-8")
            values = [v for v in (e.size, e.compressed_size, e.offset) if v >= _BIG]
            extra = (struct.pack(f"<HH{len(values)}Q", 1, 8 * len(values), *values)
                     if values else b"")
            version = 45 if values else 20
            out.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 3 << 8 | version,
                                  version, 0 if encoded.isascii() else 0x800,
                                  0 if e.stored else 8, 0, self.dos_date, e.crc,
                                  min(e.compressed_size, _BIG), min(e.size, _BIG),
                                  len(encoded), len(extra), 0, 0, 0, 0o644 << 16,
                                  min(e.offset, _BIG)))
            out.write(encoded + extra)
        cd_end = out.tell()
        count, cd_size = len(self.entries), cd_end - cd_start
        if count >= 0xFFFF or cd_start >= _BIG or cd_size >= _BIG:
            out.write(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 3 << 8 | 45, 45, 0, 0,
                                  count, count, cd_size, cd_start))
            out.write(struct.pack("<IIQI", 0x07064B50, 0, cd_end, 1))
        out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, min(count, 0xFFFF),
                              min(count, 0xFFFF), min(cd_size, _BIG), min(cd_start, _BIG), 0))
        out.close()
        return None


_BIG = 0xFFFFFFFF


def write_zip(zip_path: Path, members: Iterable[tuple[str, Part]], date: str) -> None:
    """The archive of ``members`` (name, part), every entry dated ``date``."""
    zw = ZipWriter(zip_path, date)
    for name, part in members:
        zw.add_part(name, part)
    zw.close()
