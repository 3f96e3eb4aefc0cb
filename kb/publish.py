"""Public database -> the open dataset.

Reads only the public database. Everything descriptive is generated from :mod:`kb.dictionary`
and from the ``project`` table.
"""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

from .dictionary import TABLES, Table
from .diagnostics import CotourError


class PublishError(CotourError):
    pass


def published_tables() -> list[Table]:
    """The dictionary's tables that belong to the open dataset, in dictionary order."""
    return [t for t in TABLES if not t.internal]


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def write_table_csvs(public_db: Path, out_dir: Path) -> list[Path]:
    """One CSV per published table of ``public_db`` into ``out_dir``; the paths, in dictionary order.

    The format: UTF-8 without BOM, a header row of the dictionary's public column names, RFC 4180
    quoting with ``\\r\\n`` line endings (the csv module's default; a line break inside a quoted
    value stays ``\\n``), rows in primary-key order. Null is an empty field; booleans are ``1``
    and ``0``; dates are ISO 8601 (``YYYY-MM-DD``) as stored; JSON columns are their JSON text.
    """
    public_db, out_dir = Path(public_db), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(f"file:{public_db}?mode=ro", uri=True)
    try:
        written = []
        for table in published_tables():
            columns = [c.name for c in table.public_columns]
            select = ", ".join(f"[{c}]" for c in columns)
            order = ", ".join(f"[{c}]" for c in table.pk)
            rows = conn.execute(f"select {select} from [{table.name}] order by {order}")
            path = out_dir / f"{table.name}.csv"
            with open(path, "w", encoding="utf-8", newline="") as fp:
                writer = csv.writer(fp, lineterminator="\r\n")
                writer.writerow(columns)
                for row in rows:
                    writer.writerow([_csv_value(v) for v in row])
            written.append(path)
        return written
    except sqlite3.Error as exc:
        raise PublishError(f"{public_db}: cannot read the public database: {exc}") from exc
    finally:
        conn.close()
