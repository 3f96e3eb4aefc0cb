"""How the open dataset is cited and found: the files citation services and search engines read.

From the project's metadata and the data dictionary:

- ``CITATION.cff``: Citation File Format 1.2.0 (GitHub, Zenodo and reference managers read it);
- ``.zenodo.json``: the metadata of a Zenodo deposit of the release;
- ``dataset.jsonld``: a schema.org ``Dataset`` (what Google Dataset Search reads), also embedded
  in ``index.html``, the release's small landing page (its layout in
  ``reports/templates/opendata/``).
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from ..domain.dictionary import Table
from ..domain.vocabulary import LICENCES
from . import dcat
from ..resources import REPORT_TEMPLATES, VALIDATORS

TEMPLATES = REPORT_TEMPLATES / "opendata"
CFF_SCHEMA = VALIDATORS / "cff_1.2.0_schema.json"
ILLUSTRATIVE_IT = ("Dati illustrativi: questo dataset è un esempio, i suoi dati non vanno usati "
                   "come fonte.")
ILLUSTRATIVE_EN = "Illustrative data: this dataset is an example; do not use it as a source."


def citation_text(project: dict) -> str:
    """The reference, as the README, the LICENSE and the landing page print it."""
    year = str(project["release_date"])[:4]
    authors = "; ".join(project.get("organisers") or [project["publisher_name"]])
    version = f", versione {project['version']}" if project.get("version") else ""
    where = (f"https://doi.org/{project['doi']}" if project.get("doi")
             else dcat.uris(project)["database"])
    return (f"{authors} ({year}). {project['title']} [dataset]{version}. "
            f"{project['publisher_name']}. {dcat.dataset_identifier(project)}. {where}")


def _description(project: dict) -> str:
    text = project["description"]
    if project.get("illustrative"):
        text = f"{ILLUSTRATIVE_IT}\n\n{text}"
    return text


def cff(project: dict) -> str:
    """``CITATION.cff`` (CFF 1.2.0): the organisers as authors (entities)."""
    data: dict = {
        "cff-version": "1.2.0",
        "message": "Se usate questi dati, citateli così. / If you use these data, please cite "
                   "them as below.",
        "type": "dataset",
        "title": project["title"],
        "authors": [{"name": name} for name in
                    (project.get("organisers") or [project["publisher_name"]])],
        "abstract": _description(project),
        "date-released": str(project["release_date"]),
        "license": project["licence"],
        "url": dcat.uris(project)["database"],
    }
    if project.get("version"):
        data["version"] = str(project["version"])
    if project.get("keywords"):
        data["keywords"] = list(project["keywords"])
    identifiers = []
    if project.get("doi"):
        data["doi"] = project["doi"]
        identifiers.append({"type": "doi", "value": project["doi"]})
    identifiers.append({"type": "other", "value": dcat.dataset_identifier(project),
                        "description": "DCAT-AP_IT dct:identifier"})
    data["identifiers"] = identifiers
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def zenodo(project: dict) -> dict:
    """``.zenodo.json``: the deposit's metadata (Zenodo's legacy deposit format)."""
    data: dict = {
        "upload_type": "dataset",
        "title": project["title"],
        "description": _description(project).replace("\n\n", "<br><br>"),
        "creators": [{"name": name} for name in
                     (project.get("organisers") or [project["publisher_name"]])],
        "access_right": "open",
        "license": project["licence"].lower(),  # Zenodo takes SPDX ids, lower-case
        "publication_date": str(project["release_date"]),
        "language": "ita",
    }
    if project.get("version"):
        data["version"] = str(project["version"])
    if project.get("keywords"):
        data["keywords"] = list(project["keywords"])
    related = [{"identifier": dcat.uris(project)["database"], "relation": "isSupplementedBy",
                "resource_type": "dataset", "scheme": "url"}]
    related += [{"identifier": s["path"], "relation": "isDerivedFrom", "scheme": "url"}
                for s in project.get("sources") or [] if s.get("path")]
    data["related_identifiers"] = related
    if project.get("doi"):
        data["doi"] = project["doi"]
    if project.get("illustrative"):
        data["notes"] = ILLUSTRATIVE_EN
    return data


def schema_org(project: dict, tables: list[Table], files: list[dcat.ReleaseFile]) -> dict:
    """The schema.org ``Dataset`` (JSON-LD) of the release."""
    licence = LICENCES[project["licence"]]
    u = dcat.uris(project)

    def organisation(name: str, identifier: str | None) -> dict:
        org = {"@type": "Organization", "name": name}
        if identifier:
            org["identifier"] = identifier
        return org

    data: dict = {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "@id": u["dataset"],
        "name": project["title"],
        "description": _description(project),
        "url": u["release"],
        "sameAs": u["database"],
        "identifier": ([f"https://doi.org/{project['doi']}"] if project.get("doi") else [])
        + [dcat.dataset_identifier(project)],
        "license": licence.url,
        "isAccessibleForFree": True,
        "inLanguage": ["it", "en"],
        "datePublished": str(project["release_date"]),
        "creator": [organisation(n, i) for n, i in
                    zip(project.get("organisers") or [],
                        project.get("organiser_ids") or [None] * 99)],
        "publisher": organisation(project["publisher_name"], project.get("publisher_id")),
    }
    if project.get("title_en"):
        data["alternateName"] = project["title_en"]
    if project.get("version"):
        data["version"] = str(project["version"])
    if project.get("keywords"):
        data["keywords"] = list(project["keywords"])
    if project.get("temporal_start") or project.get("temporal_end"):
        data["temporalCoverage"] = (f"{project.get('temporal_start') or '..'}/"
                                    f"{project.get('temporal_end') or '..'}")
    if project.get("spatial"):
        place: dict = {"@type": "Place", "name": project["spatial"]}
        if project.get("spatial_geonames"):
            place["sameAs"] = f"{dcat.GEONAMES}{project['spatial_geonames']}"
        data["spatialCoverage"] = place
    data["distribution"] = []
    for f in files:
        download: dict = {"@type": "DataDownload", "name": f.title_it,
                          "contentUrl": u["release"] + f.path,
                          "encodingFormat": dcat.FORMATS[Path(f.path).suffix].media_type}
        if f.size is not None:
            download["contentSize"] = f"{f.size} B"
        data["distribution"].append(download)
    data["variableMeasured"] = [
        {"@type": "PropertyValue", "name": f"{t.name}.{c.name}", "description": c.it}
        for t in tables for c in t.public_columns]
    return data


def json_ld(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def landing_page(project: dict, data: dict, files: list[dcat.ReleaseFile]) -> str:
    """``index.html``: what the release is, its files, how to cite it; the JSON-LD inside."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, keep_trailing_newline=True)
    licence = LICENCES[project["licence"]]
    # "</" would close the script element early
    embedded = json.dumps(data, ensure_ascii=False, indent=2).replace("</", "<\\/")
    return env.get_template("index.html").render(
        project=project, licence=licence, files=files, citation=citation_text(project),
        json_ld=embedded, illustrative=ILLUSTRATIVE_IT if project.get("illustrative") else None,
        datasette=dcat.uris(project)["database"])
