"""Checking a release folder: checksums, the Data Package, the DCAT records and the citation files."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..outputs import Progress, _noop
from . import citation, dcat
from .dcat import RECORDS
from .publish import _release_files, _sha256
from .spreadsheet import workbook_differences
from .tables import WORKBOOK_NAME, published_tables


@dataclass
class CheckReport:
    folder: Path
    problems: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)  # rows per resource, from frictionless

    @property
    def valid(self) -> bool:
        return not self.problems


def check_release(folder: Path | str, progress: Progress = _noop) -> CheckReport:
    """Validate a release: checksums, the zip, Frictionless (types, keys), the DCAT record.

    Long on purpose: the checks in the order their report prints them, each a few lines.
    """
    from frictionless import validate

    folder = Path(folder)
    report = CheckReport(folder)
    if not (folder / "datapackage.json").is_file():
        report.problems.append(f"{folder}: no datapackage.json; is this a release folder?")
        return report
    progress("verifica", 0, 4)
    # checksums: every listed file matches, every file is listed
    sums_path = folder / "SHA256SUMS"
    zips = sorted(p.name for p in folder.glob("*.zip"))
    listed = {}
    if not sums_path.is_file():
        report.problems.append("SHA256SUMS: missing")
    else:
        for n, line in enumerate(sums_path.read_text(encoding="utf-8").splitlines(), 1):
            m = re.fullmatch(r"([0-9a-f]{64}) [ *](.+)", line)
            if not m:
                report.problems.append(f"SHA256SUMS:{n}: not a checksum line")
                continue
            listed[m.group(2)] = m.group(1)
            path = folder / m.group(2)
            if not path.is_file():
                report.problems.append(f"{m.group(2)}: listed in SHA256SUMS but missing")
            elif _sha256(path) != m.group(1):
                report.problems.append(f"{m.group(2)}: checksum does not match SHA256SUMS")
        for name in _release_files(folder):
            if name not in listed and name != "SHA256SUMS":
                report.problems.append(f"{name}: not listed in SHA256SUMS")
    progress("verifica", 1, 4)
    # the zip holds exactly the other files, byte for byte
    if len(zips) != 1:
        report.problems.append(f"{folder}: expected one zip archive, found {len(zips)}")
    else:
        expected = [n for n in _release_files(folder) if n != zips[0]]
        try:
            with zipfile.ZipFile(folder / zips[0]) as zf:
                names = sorted(zf.namelist())
                if names != expected:
                    report.problems.append(f"{zips[0]}: its files differ from the release's "
                                           f"(missing {sorted(set(expected) - set(names))}, "
                                           f"extra {sorted(set(names) - set(expected))})")
                for name in sorted(set(names) & set(expected)):
                    inside, beside = zf.read(name), (folder / name).read_bytes()
                    if name in RECORDS.values():
                        report.problems += [f"{zips[0]}: {name}: {p}" for p in
                                            record_differences(inside, beside, zips[0])]
                    elif name == "SHA256SUMS":
                        report.problems += [f"{zips[0]}: SHA256SUMS: {p}" for p in
                                            inner_sums_problems(inside, zf, names)]
                    elif inside != beside:
                        report.problems.append(f"{zips[0]}: {name} differs from the file")
        except zipfile.BadZipFile as exc:
            report.problems.append(f"{zips[0]}: {exc}")
    progress("verifica", 2, 4)
    # frictionless: the schema, types, constraints, primary and foreign keys
    result = validate(str(folder / "datapackage.json"))
    for error in result.errors:
        report.problems.append(f"datapackage.json: {error.message}")
    for task in result.tasks:
        report.rows[task.name] = task.stats.get("rows") or 0
        for error in task.errors:
            row = getattr(error, "row_number", None)
            where = f"{task.place}:{row}" if row else task.place
            report.problems.append(f"{where}: {error.type}: {error.message}")
    progress("verifica", 3, 4)
    # the catalogue records: mandatory properties, the official shapes, the files as they are
    for version, name in RECORDS.items():
        report.problems += [f"{name}: {p}" for p in check_record(folder, name, version)]
    report.problems += check_citation(folder)
    # the spreadsheet edition holds the database's values, typed
    if (folder / WORKBOOK_NAME).is_file() and (folder / "cotour.db").is_file():
        try:
            report.problems += [f"{WORKBOOK_NAME}: {p}" for p in workbook_differences(
                folder / WORKBOOK_NAME, folder / "cotour.db", published_tables())]
        except (OSError, zipfile.BadZipFile, KeyError, ValueError, sqlite3.Error) as exc:
            report.problems.append(f"{WORKBOOK_NAME}: cannot be read: {exc}")
    else:
        report.problems.append(f"{WORKBOOK_NAME}: missing")
    progress("verifica", 4, 4)
    return report


def record_differences(inside: bytes, beside: bytes, zip_name: str) -> list[str]:
    """How the record inside the zip differs from the one beside it, beyond what it cannot
    know: the zip's ``dcat:byteSize`` and ``spdx:checksum`` (its values are checked with the
    record beside the zip)."""
    from rdflib import Graph
    from rdflib.namespace import DCAT

    try:
        inner = named_checksums(Graph().parse(data=inside, format="turtle"))
        outer = named_checksums(Graph().parse(data=beside, format="turtle"))
    except Exception as exc:  # rdflib raises many kinds of parser errors
        return [f"does not parse: {exc}"]
    only_outer, only_inner = outer - inner, inner - outer
    problems = [f"inside the zip only: {' '.join(t.n3() for t in triple)}"
                for triple in sorted(only_inner)]
    zips = [d for d, url in outer.subject_objects(DCAT.downloadURL)
            if str(url).endswith(f"/{zip_name}")]
    nodes = {c for d in zips for c in only_outer.objects(d, dcat.SPDX.checksum)}
    allowed = {DCAT.byteSize, dcat.SPDX.checksum}
    extra = [t for t in only_outer if not ((t[0] in zips and t[1] in allowed) or t[0] in nodes)]
    problems += [f"beside the zip only: {' '.join(t.n3() for t in triple)}"
                 for triple in sorted(extra)]
    for prop in allowed:
        if not any((d, prop, None) in only_outer for d in zips):
            problems.append(f"the record beside the zip does not add the zip's {prop.n3()}")
    return problems


def named_checksums(graph):
    """``graph`` with each distribution's checksum node (the record's only blank nodes) named
    after its distribution, so two records compare triple by triple."""
    from rdflib import BNode, Graph, URIRef

    names = {node: URIRef(f"{dist}-checksum")
             for dist, node in graph.subject_objects(dcat.SPDX.checksum)}
    out = Graph()
    for s, p, o in graph:
        out.add((names.get(s, s), p, names.get(o, o)))
    if any(isinstance(term, BNode) for triple in out for term in triple):
        raise ValueError("a blank node other than a checksum")
    return out


def inner_sums_problems(text: bytes, zf: zipfile.ZipFile, names: list[str]) -> list[str]:
    """SHA256SUMS inside the zip lists every other file of the zip with its checksum there."""
    listed = {}
    for n, line in enumerate(text.decode("utf-8", "replace").splitlines(), 1):
        m = re.fullmatch(r"([0-9a-f]{64}) [ *](.+)", line)
        if not m:
            return [f"line {n}: not a checksum line"]
        listed[m.group(2)] = m.group(1)
    problems = []
    if sorted(listed) != sorted(n for n in names if n != "SHA256SUMS"):
        problems.append("does not list exactly the zip's other files")
    problems += [f"{name}: checksum does not match the file in the zip"
                 for name in sorted(set(listed) & set(names))
                 if hashlib.sha256(zf.read(name)).hexdigest() != listed[name]]
    return problems


def check_record(folder: Path, name: str, version: str) -> list[str]:
    """What is wrong with the catalogue record ``name`` of the release in ``folder``."""
    from rdflib import Graph, URIRef
    from rdflib.namespace import DCAT

    record = folder / name
    if not record.is_file():
        return ["missing"]
    graph = Graph()
    try:
        graph.parse(record, format="turtle")
    except Exception as exc:  # rdflib raises many kinds of parser errors
        return [f"does not parse: {exc}"]
    problems = dcat.missing_mandatory(graph) + dcat.subjects_outside_themes(graph)
    conforms, text = dcat.shacl_report(graph, version)
    if not conforms:
        problems.append(f"does not conform to DCAT-AP {version}:\n{text}")
    base = None  # the catalogue's home page, base_url: the release is under base/opendata/
    for catalog in graph.subjects(DCAT.dataset, None):
        base = str(graph.value(catalog, URIRef("http://xmlns.com/foaf/0.1/homepage")))
    for dist in sorted(graph.subjects(DCAT.downloadURL, None)):
        url = str(graph.value(dist, DCAT.downloadURL))
        path = url.split("/opendata/", 1)[-1]
        if base is None or not url.startswith(f"{base}/opendata/"):
            problems.append(f"<{dist}>: download address {url} is not in the release")
        elif not (folder / path).is_file():
            problems.append(f"<{dist}>: {path} is not in the release")
        else:
            size = graph.value(dist, DCAT.byteSize)
            if size is not None and float(size) != (folder / path).stat().st_size:
                problems.append(f"<{dist}>: dcat:byteSize {size} is not the size of {path}")
            checksum = graph.value(dist, dcat.SPDX.checksum)
            if checksum is not None:
                algorithm = str(graph.value(checksum, dcat.SPDX.algorithm)).rsplit("_", 1)[-1]
                value = str(graph.value(checksum, dcat.SPDX.checksumValue))
                if algorithm not in ("sha1", "sha256") \
                        or value != _digest(folder / path, algorithm):
                    problems.append(f"<{dist}>: spdx:checksum is not the {algorithm} of {path}")
    return problems


def _digest(path: Path, algorithm: str) -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as fp:
        for block in iter(lambda: fp.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_citation(folder: Path) -> list[str]:
    """CITATION.cff against the CFF 1.2.0 schema; dataset.jsonld a schema.org Dataset whose
    downloads are files of the release, embedded as it is in index.html; .zenodo.json JSON."""
    import jsonschema
    from rdflib import Graph, URIRef
    from rdflib.namespace import RDF

    problems = []
    path = folder / "CITATION.cff"
    try:
        # YAML dates as text, as the schema asks of tools
        data = json.loads(json.dumps(yaml.safe_load(path.read_text(encoding="utf-8")),
                                     default=str))
        schema = json.loads(citation.CFF_SCHEMA.read_text(encoding="utf-8"))
        problems += [f"CITATION.cff: {'/'.join(map(str, e.path)) or 'file'}: {e.message}"
                     for e in jsonschema.Draft7Validator(schema).iter_errors(data)]
    except (OSError, yaml.YAMLError) as exc:
        problems.append(f"CITATION.cff: {exc}")
    for name in (".zenodo.json", "dataset.jsonld"):
        try:
            json.loads((folder / name).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            problems.append(f"{name}: {exc}")
    if problems:
        return problems
    text = (folder / "dataset.jsonld").read_text(encoding="utf-8")
    data = json.loads(text)
    # schema.org's context, offline: every term is a schema.org term
    if data.pop("@context", None) != "https://schema.org/":
        problems.append("dataset.jsonld: its @context is not https://schema.org/")
    graph = Graph().parse(data=json.dumps(data), format="json-ld",
                          context={"@vocab": "https://schema.org/"})
    datasets = list(graph.subjects(RDF.type, URIRef("https://schema.org/Dataset")))
    if len(datasets) != 1:
        problems.append(f"dataset.jsonld: {len(datasets)} schema.org Datasets, not 1")
    for url in graph.objects(None, URIRef("https://schema.org/contentUrl")):
        relative = str(url).split("/opendata/", 1)[-1]
        if not (folder / relative).is_file():
            problems.append(f"dataset.jsonld: {url} is not a file of the release")
    landing = folder / "index.html"
    page = landing.read_text(encoding="utf-8") if landing.is_file() else ""
    found = re.search(r'<script type="application/ld\+json">\n(.*?)\n</script>', page, re.S)
    if not found or json.loads(found.group(1)) != json.loads(text):
        problems.append("index.html: does not embed dataset.jsonld")
    return problems
