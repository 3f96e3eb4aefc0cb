"""A scoped speed-up of pydyf for WeasyPrint's tagged PDFs."""

from __future__ import annotations

from contextlib import contextmanager


@contextmanager
def page_references_listed_once():
    """While active, pydyf's ``PDF.page_references`` is built once per page count, not at
    every read.

    Why: WeasyPrint 70 reads ``pdf.page_references[n]`` for every PDF/UA structure element
    (``weasyprint.pdf.tags``) and every bookmark, and pydyf 0.13 rebuilds the tuple of all the
    pages' references at each read, so a tagged PDF costs elements × pages: quadratic in the
    length of the report (427 pages of the M corpus: 17.7 s of tagging, 2.1 s with this; at the
    M report's thousands of pages it did not finish). The value returned is the same tuple,
    rebuilt whenever a page is added, so the PDF's bytes do not change (and another thread
    writing a PDF meanwhile gets the same values). Scoped to our own ``write_pdf`` call and
    undone afterwards; ``tests/test_report.py`` checks the values, the bytes and the undoing.
    """
    import pydyf

    original = pydyf.PDF.page_references

    def listed_once(pdf):
        kids = pdf.pages["Kids"]
        key = (id(kids), len(kids))
        cached = pdf.__dict__.get("_cotour_page_references")
        if cached is None or cached[0] != key:
            cached = (key, original.fget(pdf))
            pdf.__dict__["_cotour_page_references"] = cached
        return cached[1]

    pydyf.PDF.page_references = property(listed_once, doc=original.__doc__)
    try:
        yield
    finally:
        pydyf.PDF.page_references = original
