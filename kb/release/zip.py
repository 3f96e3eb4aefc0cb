"""The release's zip, reproducible (fixed dates, entries listed by name), its files compressed
on threads as they are written (:mod:`kb.archive`)."""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from ..archive import Part, deflate_file, store_file, write_zip

FileDigest = Part  # what the release says of one of its files: size, checksums (and its part)


class ReleaseZip:
    """The release's zip archive, filled as the release is written: each file is compressed
    and hashed on a thread as soon as it is written (:meth:`add`), and the archive is
    assembled from the compressed parts at the end (:meth:`write`). A file already compressed
    (the workbook, the REFI-QDA project: zips themselves) is stored as it is."""

    def __init__(self, folder: Path, parts: Path):
        self.folder, self.parts = folder, parts
        self.pool = ThreadPoolExecutor(max_workers=2)
        self.pending: dict[str, Future] = {}
        self._adding = threading.Lock()  # files are added from more than one thread

    def add(self, path: Path, stored: bool = False) -> None:
        name = path.relative_to(self.folder).as_posix()
        with self._adding:
            part = self.parts / str(len(self.pending))
            self.pending[name] = (self.pool.submit(store_file, path) if stored
                                  else self.pool.submit(deflate_file, path, part))

    def digest(self, name: str) -> Part:
        return self.pending[name].result()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def write(self, zip_path: Path, names: list[str], release_date: str) -> None:
        """The archive of ``names`` (all added), every entry dated ``release_date``."""
        write_zip(zip_path, [(name, self.digest(name)) for name in sorted(names)], release_date)
