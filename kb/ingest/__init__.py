"""Read the files of ``data/`` into plain records that remember their source lines.

Nothing here touches a database. Each reader checks what can be checked inside its own file
(types, vocabularies, dates); references between files are checked in :mod:`kb.normalise`.
:func:`kb.ingest.source.read_source` reads a whole data folder; :mod:`kb.importer` brings a
Word note into it.
"""
