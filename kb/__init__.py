"""Co?Tour knowledge base: data/ -> SQLite knowledge base -> public database, report, open data."""

__version__ = "1.0.0"
