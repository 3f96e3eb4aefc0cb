"""Opening databases safely and reading them back: checked files, read-only connections, counts."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import sqlite_utils

from ..diagnostics import CotourError
from ..domain.dictionary import TABLES


def connect_read_only(path: Path | str) -> sqlite3.Connection:
    """A connection that cannot change the file: the databases people see are never edited."""
    # As a URI, so a '?', '#' or '%' in the path is quoted rather than read as a parameter.
    return sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)


class DatabaseError(CotourError):
    """A database given to a command cannot be used: missing, not a file, not SQLite, damaged."""


SQLITE_HEADER = b"SQLite format 3\x00"

QUICK_CHECK_BYTES = 64 << 20


def checked_database(path: Path | str, what: str = "database") -> Path:
    """``path`` when it is a readable SQLite file; else a :class:`DatabaseError` saying why.

    Checked before anything opens it: SQLite would create a missing file, block on a FIFO and
    report a directory or a damaged file with a bare exception.
    """
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise DatabaseError(f"{what} not found; run 'cotour build' first", path) from None
    except NotADirectoryError:
        raise DatabaseError(f"{what} not found: a folder of its path is a file", path) from None
    except OSError as exc:
        raise DatabaseError(f"cannot read the {what}: {exc.strerror}", path) from None
    if stat.S_ISDIR(mode):
        raise DatabaseError(f"is a folder, not a {what}", path)
    if not stat.S_ISREG(mode):
        raise DatabaseError(f"is not a regular file, so not a {what}", path)
    try:
        with open(path, "rb") as fp:
            head = fp.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise DatabaseError(f"cannot read the {what}: {exc.strerror}", path) from None
    if head != SQLITE_HEADER:
        raise DatabaseError(f"not a SQLite database (damaged, or another kind of file); "
                            "run 'cotour build' again", path)
    try:
        conn = connect_read_only(path)
        try:
            conn.execute("select count(*) from sqlite_master").fetchone()
            # Damage past the first page shows only when read: a small file is read whole
            # now, so the command fails before it writes anything.
            if os.path.getsize(path) <= QUICK_CHECK_BYTES:
                problem = conn.execute("pragma quick_check(1)").fetchone()[0]
                if problem != "ok":
                    raise sqlite3.DatabaseError(problem)
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise DatabaseError(f"damaged {what} ({exc}); run 'cotour build' again", path) from None
    return path


def read_tables(path: Path) -> dict[str, list[dict]]:
    """Every dictionary table of a database as rows (what the report reads)."""
    db = sqlite_utils.Database(path)
    try:
        return {t.name: list(db[t.name].rows) for t in TABLES}
    finally:
        db.close()


def table_counts(path: Path) -> dict[str, int]:
    """How many rows each dictionary table of a database holds."""
    db = sqlite_utils.Database(path)
    try:
        return {t.name: db[t.name].count for t in TABLES}
    finally:
        db.close()


def build_info(path: Path) -> dict[str, str]:
    """What a database records of its build; empty when it has no ``cotour_build`` table."""
    conn = connect_read_only(checked_database(path))
    try:
        if conn.execute("select 1 from sqlite_master where type = 'table' "
                        "and name = 'cotour_build'").fetchone() is None:
            return {}
        return dict(conn.execute("select key, value from cotour_build"))
    except sqlite3.Error as exc:
        raise DatabaseError(f"damaged database ({exc}); run 'cotour build' again", path) from None
    finally:
        conn.close()
