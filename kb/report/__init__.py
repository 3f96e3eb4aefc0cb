"""The final results report: public database -> template data -> HTML -> PDF (WeasyPrint).

Python reads the public database (and nothing else but the images in ``data/assets/``) and
hands the templates plain data: strings, numbers, lists and dicts. The layout lives only in
``reports/templates/`` (Jinja2 and print CSS). Where to find each part:

``corpus.py``       the public database loaded once, and what every chapter shares
``chapters/``       one module per chapter, named after its template partial; ``chapter(corpus)``
                    returns the partial's plain data (``chapters/__init__.py`` puts them in order)
``words.py``        Italian numbers, dates, plurals, typography and labels (also Jinja filters)
``readings.py``     the generated reading of a chart (largest, second and smallest categories)
``markdown.py``     notes' and staff texts' Markdown -> safe HTML; images of ``data/assets/``
``images.py``       those images written without their metadata (EXIF, GPS, XMP, IPTC, comments)
``charts.py``       the figures as SVG: bar charts and the organisations' network
``render.py``       template data -> the print and screen HTML editions (Jinja2)
``pydyf_patch.py``  a scoped speed-up of pydyf for WeasyPrint's tagged PDFs
``write.py``        the files: the PDF and its HTML edition

Every chart has a reading generated from its figures; a staff text ``data/report/<section>.md``
(the ``documents`` table) replaces it.
"""

from .write import ReportError, ReportResult, report_data, write_report

__all__ = ["ReportError", "ReportResult", "report_data", "write_report"]
