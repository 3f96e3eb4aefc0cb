"""Our Datasette hooks: an Italian interface that searches in Italian, links what it shows,
and stays safe and fast.

* Templates: ``kb/serve/templates/`` goes before Datasette's own (each page extends
  Datasette's, ``{% extends "default:table.html" %}``, and writes the blocks it replaces);
  ``kb/serve/static/cotour.css`` is served at ``/-/cotour/cotour.css``.
* Search: ``?_search=`` takes what ``cotour search`` takes (OR, NOT, "a phrase", ``coop*``). The
  index holds Italian stems (see :mod:`kb.domain.text`), so an ASGI wrapper rewrites the typed words
  into the FTS5 expression Datasette matches (``searchmode: raw``), keeping the typed words in
  ``_cotour_search``; Datasette carries every argument into its links, so a request whose
  ``_search`` is the expression of ``_cotour_search`` is one of those links and is left alone.
  Without an explicit sort, a table's search page is ordered by relevance (bm25): the table
  view's one query is rewritten to join the full-text index's rank, and its pages go by offset.
* Cells: note text with its mentions as links to the organisation and its ``#tags`` as chips
  linked to the theme; JSON lists of ids as lists of labelled links; booleans as sì/no.
* Pages: Italian column labels, facet labels, the dossier of an organisation, an event, a theme
  and a finding (:mod:`kb.serve.pages`); canned queries say which values are unknown.
* Safety: a Content-Security-Policy on every response (no third-party images, scripts or
  frames); 405 for writes, 404 for unknown formats, errors without tracebacks in the log; the
  staff sign-in checks the password hash on a worker thread, one at a time, and refuses an
  address after repeated failures; anonymous visitors see no protected database in
  ``/-/databases`` and ``/-/metadata``.
* Speed: the served databases never change, so anonymous GET responses are kept (bounded, in
  memory) and marked cacheable.

Canned queries and researchers' own SQL use the SQL functions ``cotour_match(text)`` (the same
``MATCH`` expression as ``cotour search``) and ``cotour_stem(text)``.


The app and its metadata are :mod:`kb.serve.app` and :mod:`kb.serve.metadata`; the hooks are
gathered in :mod:`kb.serve.plugin`, one concern a module.
"""
