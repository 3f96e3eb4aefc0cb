"""The release's zip, reproducible (fixed dates, sorted entries) and compressed in parallel."""

from __future__ import annotations

import hashlib
import shutil
import struct
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FileDigest:
    """What the release says of one of its files: size and checksums; and, for the zip, its
    raw deflate stream (``part``) with the CRC-32."""

    size: int
    sha256: str
    sha1: str
    crc: int
    part: Path
    compressed_size: int


class ReleaseZip:
    """The release's zip archive, filled as the release is written: each file is compressed
    and hashed on a second thread as soon as it is written (:meth:`add`), and the archive is
    assembled from the compressed parts at the end (:meth:`write`).

    Why not :mod:`zipfile`: it compresses one member at a time on the calling thread and reads
    each file again for its checksums, which made it most of the time of a large publish
    (figures: docs/developers/benchmarks.md). zlib and hashlib release the GIL on large blocks,
    so here compressing overlaps writing the next file. :mod:`zipfile` reads the result
    back (``cotour publish --check``); ZIP64 records appear only where a size or offset needs them.
    """

    LEVEL = 6  # zlib's default: level 9 took 2.5x the time for 1 % less

    def __init__(self, folder: Path, parts: Path):
        self.folder, self.parts = folder, parts
        self.pool = ThreadPoolExecutor(max_workers=2)
        self.pending: dict[str, Future] = {}

    def add(self, path: Path) -> None:
        name = path.relative_to(self.folder).as_posix()
        part = self.parts / str(len(self.pending))
        self.pending[name] = self.pool.submit(self._deflate, path, part)

    def digest(self, name: str) -> FileDigest:
        return self.pending[name].result()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    @classmethod
    def _deflate(cls, path: Path, part: Path) -> FileDigest:
        """Read ``path`` once: size, SHA-256, SHA-1, CRC-32 and raw deflate stream (to ``part``)."""
        sha256, sha1, crc, size = hashlib.sha256(), hashlib.sha1(), 0, 0
        compressor = zlib.compressobj(cls.LEVEL, zlib.DEFLATED, -15)
        with open(path, "rb") as src, open(part, "wb") as dst:
            for block in iter(lambda: src.read(1 << 22), b""):
                sha256.update(block)
                sha1.update(block)
                crc = zlib.crc32(block, crc)
                size += len(block)
                dst.write(compressor.compress(block))
            dst.write(compressor.flush())
            compressed = dst.tell()
        return FileDigest(size, sha256.hexdigest(), sha1.hexdigest(), crc, part, compressed)

    def write(self, zip_path: Path, names: list[str], release_date: str) -> None:
        """The archive of ``names`` (all added), in sorted order, every entry dated
        ``release_date`` (00:00), mode 0644, made on unix: the same files give the same bytes."""
        year, month, day = (int(x) for x in str(release_date)[:10].split("-"))
        dos_date, dos_time = (max(year, 1980) - 1980) << 9 | month << 5 | day, 0
        big = 0xFFFFFFFF
        central = []
        with open(zip_path, "wb") as out:
            for name in sorted(names):
                m = self.digest(name)
                encoded = name.encode("utf-8")
                flags = 0 if encoded.isascii() else 0x800
                offset = out.tell()
                sizes64 = m.size >= big or m.compressed_size >= big
                extra = struct.pack("<HHQQ", 1, 16, m.size, m.compressed_size) if sizes64 else b""
                version = 45 if sizes64 else 20
                out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, version, flags, 8, dos_time,
                                      dos_date, m.crc, big if sizes64 else m.compressed_size,
                                      big if sizes64 else m.size, len(encoded), len(extra)))
                out.write(encoded + extra)
                with open(m.part, "rb") as part:
                    shutil.copyfileobj(part, out, 1 << 22)
                central.append((encoded, flags, m, offset))
            cd_start = out.tell()
            for encoded, flags, m, offset in central:
                values = [v for v in (m.size, m.compressed_size, offset) if v >= big]
                extra = (struct.pack(f"<HH{len(values)}Q", 1, 8 * len(values), *values)
                         if values else b"")
                version = 45 if values else 20
                out.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 3 << 8 | version,
                                      version, flags, 8, dos_time, dos_date, m.crc,
                                      min(m.compressed_size, big), min(m.size, big),
                                      len(encoded), len(extra), 0, 0, 0, 0o644 << 16,
                                      min(offset, big)))
                out.write(encoded + extra)
            cd_end = out.tell()
            count, cd_size = len(central), cd_end - cd_start
            if count >= 0xFFFF or cd_start >= big or cd_size >= big:
                out.write(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 3 << 8 | 45, 45, 0, 0,
                                      count, count, cd_size, cd_start))
                out.write(struct.pack("<IIQI", 0x07064B50, 0, cd_end, 1))
            out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, min(count, 0xFFFF),
                                  min(count, 0xFFFF), min(cd_size, big), min(cd_start, big), 0))
