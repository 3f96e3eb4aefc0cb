"""The report's Jinja2 and CSS templates, shipped inside the package as ``kb.templates``
(see pyproject.toml); this file only makes the folder importable for importlib.resources."""
