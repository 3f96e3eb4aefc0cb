"""Where the files that ship with the package are: found from the package, never from the
current directory, so a wheel installed anywhere finds them as the clone does."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
# Official schemas and vocabularies, vendored unchanged (see validators/README.md).
VALIDATORS = PACKAGE / "validators"
# The report's Jinja2 and CSS templates live at the top of the repository, in reports/templates/
# (the design's layout); pyproject.toml ships them as the package kb.templates.
REPORT_TEMPLATES = Path(str(resources.files("kb.templates")))
