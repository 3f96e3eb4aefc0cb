"""The open dataset's catalogue record: DCAT-AP_IT, as Italian portals harvest it.

One graph describes the catalogue, the dataset, the Datasette service and one distribution per
file of the release, as the release holds it (its address in the release, size and checksum:
SHA-1 in the 2.1.1 record, the only algorithm its shapes accept, SHA-256 in the 3.0.1 one).
It is written twice, because the two versions of DCAT-AP that portals validate against disagree
on one datatype: ``dcat:byteSize`` is ``xsd:decimal`` in DCAT-AP 2.1.1 (on which DCAT-AP_IT
builds: ``dcat-ap_it.ttl``) and ``xsd:nonNegativeInteger`` in 3.0.1 (``dcat-ap.ttl``, for the
European portal). Everything else is the same triples, and each file conforms to its version's
official SHACL shapes (kept unchanged in ``kb/validators``).

What ckanext-dcatapit, the harvester of dati.gov.it and of the regional CKAN portals, reads is
shaped the way it reads it (``ckanext/dcatapit/dcat/profiles.py``): the licence is a
``dcatapit:LicenseDocument`` of AgID's licence vocabulary with its ``dct:type`` and
``dcatapit:referenceDoc``; the period has ``schema:startDate``/``schema:endDate`` (and DCAT's own
``dcat:startDate``/``dcat:endDate``); the place has a ``dcatapit:geographicalIdentifier`` (a
GeoNames address) and its name as ``skos:prefLabel`` (Italian and English) and ``rdfs:label``,
which ckanext-dcat reads (it ignores ``locn:geographicalName``); every agent has ``dct:identifier``; EuroVoc ``dct:subject``
only where AgID's mapping puts it under one of the dataset's themes.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, FOAF, OWL, RDF, RDFS, SKOS, XSD
from rdflib.namespace import DCTERMS as DCT

from ..domain.text import fold
from ..domain.vocabulary import EU_THEMES, LICENCES
from ..resources import VALIDATORS

VALIDATORS = VALIDATORS
# version -> the official shapes of that version, checked together as one shapes graph
SHAPES = {
    "2.1.1": ("dcat-ap_2.1.1_shacl_shapes.ttl", "dcat-ap_2.1.1_shacl_range.ttl"),
    "3.0.1": ("dcat-ap_3.0.1_shacl_shapes.ttl", "dcat-ap_3.0.1_shacl_range.ttl"),
}
# the record file of each version
RECORDS = {"2.1.1": "dcat-ap_it.ttl", "3.0.1": "dcat-ap.ttl"}

DCATAPIT = Namespace("http://dati.gov.it/onto/dcatapit#")
DCATAP = Namespace("http://data.europa.eu/r5r/")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
LOCN = Namespace("http://www.w3.org/ns/locn#")
SCHEMA = Namespace("http://schema.org/")  # ckanext-dcat's spelling, http not https
SPDX = Namespace("http://spdx.org/rdf/terms#")
ADMS_LICENCE_TYPE = "http://purl.org/adms/licencetype/"
ITALIAN_LICENCES = "https://w3id.org/italia/controlled-vocabulary/licences/"
EU = "http://publications.europa.eu/resource/authority/"
EUROVOC = "http://eurovoc.europa.eu/"
GEONAMES = "http://www.geonames.org/"  # the form of the AgID guidelines and the harvester
IANA = "https://www.iana.org/assignments/media-types/"
LANGUAGES = ("ITA", "ENG")  # the data's own language, and the descriptions' second one
AVAILABILITY = (f"{EU}planned-availability/STABLE", ("stabile", "stable"))
# ADMS licence types (what a licence's dct:type says), with their labels
LICENCE_TYPES = {
    "Attribution": ("Attribuzione", "Attribution"),
    "PublicDomain": ("Pubblico dominio", "Public domain"),
    "ViralEffect-ShareAlike": ("Condivisione allo stesso modo", "Viral effect (share-alike)"),
}


@dataclass(frozen=True)
class FileFormat:
    eu_code: str  # EU file-type code (DCAT-AP_IT requires it)
    media_type: str  # IANA media type


FORMATS = {
    ".csv": FileFormat("CSV", "text/csv"),
    ".db": FileFormat("BIN", "application/vnd.sqlite3"),  # the EU table has no SQLite type
    ".json": FileFormat("JSON", "application/json"),
    ".xlsx": FileFormat("XLSX",
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ".zip": FileFormat("ZIP", "application/zip"),
    ".qdpx": FileFormat("ZIP", "application/zip"),  # a REFI-QDA project is a zip archive
    ".qdc": FileFormat("XML", "application/xml"),  # a REFI-QDA codebook
}


@dataclass(frozen=True)
class ReleaseFile:
    """One file of the release, as a distribution describes it."""

    path: str  # relative to the release folder
    title_it: str
    title_en: str
    description_it: str
    description_en: str
    size: int | None = None  # None for the zip in the record it holds (kb.release.publish)
    sha1: str | None = None
    sha256: str | None = None
    access_url: str | None = None  # a page that shows it (Datasette), else its download


def dataset_identifier(project: dict) -> str:
    """``<publisher id>:<dataset id>`` as DCAT-AP_IT asks (``dataset_id`` with a ``:`` is taken
    as already complete)."""
    own = project.get("dataset_id") or project["id"]
    if ":" in own or not project.get("publisher_id"):
        return own
    return f"{project['publisher_id']}:{own}"


def uris(project: dict) -> dict[str, str]:
    base = project["base_url"].rstrip("/")
    database = f"{base}/cotour"
    return {"base": base, "database": database, "catalog": f"{base}#catalog",
            "dataset": f"{database}#dataset", "service": f"{database}#service",
            "publisher": f"{database}#publisher", "contact": f"{database}#contact",
            "temporal": f"{database}#temporal", "spatial": f"{database}#spatial",
            "release": f"{base}/opendata/"}


def licence_uri(project: dict) -> str:
    return ITALIAN_LICENCES + LICENCES[project["licence"]].italian


def record(project: dict, files: list[ReleaseFile], version: str = "2.1.1") -> Graph:
    """The record of the release: catalogue, dataset, service, one distribution per file.

    Long on purpose: one graph stated triple after triple in the order the DCAT-AP_IT
    profile lists its classes; split, each part would take the graph and the same nodes.
    """
    g = Graph()
    for prefix, ns in (("dcat", DCAT), ("dct", DCT), ("dcatapit", DCATAPIT), ("dcatap", DCATAP),
                       ("foaf", FOAF), ("vcard", VCARD), ("locn", LOCN), ("skos", SKOS),
                       ("owl", OWL), ("xsd", XSD), ("schema", SCHEMA), ("spdx", SPDX)):
        g.bind(prefix, ns, override=True)
    u = {k: URIRef(v) for k, v in uris(project).items()}
    release = Literal(project["release_date"], datatype=XSD.date)

    def texts(subject, predicate, it: str | None, en: str | None) -> None:
        if it:
            g.add((subject, predicate, Literal(it, lang="it")))
        if en:
            g.add((subject, predicate, Literal(en, lang="en")))

    def agent(uri, name: str, identifier: str | None) -> None:
        g.add((uri, RDF.type, FOAF.Agent))
        g.add((uri, RDF.type, DCATAPIT.Agent))
        g.add((uri, FOAF.name, Literal(name, lang="it")))
        if identifier:
            g.add((uri, DCT.identifier, Literal(identifier)))

    def concept(uri: str, scheme: str, labels: tuple[str, str] | None = None) -> URIRef:
        ref = URIRef(uri)
        g.add((ref, RDF.type, SKOS.Concept))
        g.add((ref, SKOS.inScheme, URIRef(scheme)))
        if labels:
            texts(ref, SKOS.prefLabel, *labels)
        return ref

    # agents
    agent(u["publisher"], project["publisher_name"], project.get("publisher_id"))
    creators = []
    for name, identifier in zip(project.get("organisers") or [],
                                project.get("organiser_ids") or [None] * 99):
        creator = URIRef(f"{u['database']}#creator-{_slug(name)}")
        agent(creator, name, identifier)
        creators.append(creator)
    languages = []
    for code in LANGUAGES:
        language = URIRef(f"{EU}language/{code}")
        g.add((language, RDF.type, DCT.LinguisticSystem))
        languages.append(language)

    # the catalogue
    catalog = u["catalog"]
    g.add((catalog, RDF.type, DCAT.Catalog))
    g.add((catalog, RDF.type, DCATAPIT.Catalog))
    texts(catalog, DCT.title, project["title"], project.get("title_en"))
    texts(catalog, DCT.description, project["description"], project.get("description_en"))
    g.add((catalog, DCT.publisher, u["publisher"]))
    g.add((catalog, DCT.modified, release))
    g.add((catalog, DCT.issued, release))
    g.add((catalog, FOAF.homepage, u["base"]))
    g.add((u["base"], RDF.type, FOAF.Document))
    for language in languages:
        g.add((catalog, DCT.language, language))
    themes = URIRef(f"{EU}data-theme")
    g.add((themes, RDF.type, SKOS.ConceptScheme))
    texts(themes, DCT.title, "Temi dei dati", "Data theme")
    g.add((catalog, DCAT.themeTaxonomy, themes))
    g.add((catalog, DCAT.dataset, u["dataset"]))
    g.add((catalog, DCAT.service, u["service"]))

    # the dataset
    ds = u["dataset"]
    g.add((ds, RDF.type, DCAT.Dataset))
    g.add((ds, RDF.type, DCATAPIT.Dataset))
    g.add((ds, DCT.identifier, Literal(dataset_identifier(project))))
    texts(ds, DCT.title, project["title"], project.get("title_en"))
    texts(ds, DCT.description, project["description"], project.get("description_en"))
    g.add((ds, DCT.modified, release))
    g.add((ds, DCT.issued, release))
    for language in languages:
        g.add((ds, DCT.language, language))
    for code in project["eu_theme"]:
        g.add((ds, DCAT.theme, concept(f"{EU}data-theme/{code}", f"{EU}data-theme",
                                       EU_THEMES[code])))
    for number in project.get("subjects") or []:
        g.add((ds, DCT.subject, concept(f"{EUROVOC}{number}", EUROVOC.rstrip("/"),
                                        eurovoc_labels(number))))
    frequency = URIRef(f"{EU}frequency/{project['frequency']}")
    g.add((ds, DCT.accrualPeriodicity, frequency))
    g.add((frequency, RDF.type, DCT.Frequency))
    g.add((ds, DCT.publisher, u["publisher"]))
    g.add((ds, DCT.rightsHolder, u["publisher"]))
    for creator in creators:
        g.add((ds, DCT.creator, creator))
    g.add((ds, DCAT.landingPage, u["database"]))
    g.add((u["database"], RDF.type, FOAF.Document))
    for keyword in project.get("keywords") or []:
        g.add((ds, DCAT.keyword, Literal(keyword, lang="it")))
    if project.get("version"):
        g.add((ds, OWL.versionInfo, Literal(project["version"])))
    if project.get("doi"):
        g.add((ds, DCT.identifier, Literal(f"https://doi.org/{project['doi']}")))
    if project.get("temporal_start") or project.get("temporal_end"):
        period = u["temporal"]
        g.add((ds, DCT.temporal, period))
        g.add((period, RDF.type, DCT.PeriodOfTime))
        for key, props in (("temporal_start", (SCHEMA.startDate, DCAT.startDate)),
                           ("temporal_end", (SCHEMA.endDate, DCAT.endDate))):
            if project.get(key):
                for prop in props:
                    g.add((period, prop, Literal(project[key], datatype=XSD.date)))
    if project.get("spatial"):
        place = u["spatial"]
        g.add((ds, DCT.spatial, place))
        g.add((place, RDF.type, DCT.Location))
        g.add((place, LOCN.geographicalName, Literal(project["spatial"], lang="it")))
        # The name as the harvesters read it: ckanext-dcat (under ckanext-dcatapit) takes a
        # place's text from skos:prefLabel, then rdfs:label, the last value it meets winning;
        # one rdfs:label, in Italian, makes the Italian name the one a portal shows.
        texts(place, SKOS.prefLabel, project["spatial"], project.get("spatial_en"))
        g.add((place, RDFS.label, Literal(project["spatial"], lang="it")))
        if project.get("spatial_geonames"):
            # a plain literal: the harvester reads the identifier's text (``.value``)
            g.add((place, DCATAPIT.geographicalIdentifier,
                   Literal(f"{GEONAMES}{project['spatial_geonames']}")))
    if project.get("contact"):
        contact = project["contact"]
        g.add((ds, DCAT.contactPoint, u["contact"]))
        for cls in (VCARD.Kind, VCARD.Organization, DCATAPIT.Organization):
            g.add((u["contact"], RDF.type, cls))
        g.add((u["contact"], VCARD.fn, Literal(project["publisher_name"])))
        if re.match(r"https?://", contact):
            g.add((u["contact"], VCARD.hasURL, URIRef(contact)))
        else:
            g.add((u["contact"], VCARD.hasEmail, URIRef(f"mailto:{contact}")))

    # the licence, as AgID's vocabulary names it
    licence = LICENCES[project["licence"]]
    lic = URIRef(licence_uri(project))
    g.add((lic, RDF.type, DCT.LicenseDocument))
    g.add((lic, RDF.type, DCATAPIT.LicenseDocument))
    g.add((lic, DCT.type, concept(ADMS_LICENCE_TYPE + licence.licence_type,
                                  ADMS_LICENCE_TYPE.rstrip("/"),
                                  LICENCE_TYPES[licence.licence_type])))
    g.add((lic, FOAF.name, Literal(licence.title_it, lang="it")))
    g.add((lic, FOAF.name, Literal(licence.title, lang="en")))
    g.add((lic, DCATAPIT.referenceDoc, Literal(licence.url, datatype=XSD.anyURI)))
    g.add((lic, SKOS.exactMatch, URIRef(f"{EU}licence/{licence.eu_code}")))
    availability = concept(AVAILABILITY[0], f"{EU}planned-availability", AVAILABILITY[1])

    # the Datasette service
    service = u["service"]
    g.add((service, RDF.type, DCAT.DataService))
    texts(service, DCT.title, f"{project['title']} – Datasette",
          f"{project.get('title_en') or project['title']} – Datasette")
    g.add((service, DCAT.endpointURL, u["database"]))
    g.add((service, DCAT.servesDataset, ds))
    g.add((service, DCT.license, lic))

    # the distributions: the release's files as they are
    # 2.1.1 wants sizes as decimals and SHA-1 checksums only; 3.0.1 non-negative integers
    if version == "2.1.1":
        byte_type, algorithm, digest_of = XSD.decimal, SPDX.checksumAlgorithm_sha1, "sha1"
    else:
        byte_type, algorithm, digest_of = (XSD.nonNegativeInteger, SPDX.checksumAlgorithm_sha256,
                                           "sha256")
    g.add((algorithm, RDF.type, SPDX.ChecksumAlgorithm))
    for f in files:
        fmt = FORMATS[Path(f.path).suffix]
        download = URIRef(u["release"] + f.path)
        dist = URIRef(f"{download}#distribution")
        g.add((ds, DCAT.distribution, dist))
        g.add((dist, RDF.type, DCAT.Distribution))
        g.add((dist, RDF.type, DCATAPIT.Distribution))
        texts(dist, DCT.title, f.title_it, f.title_en)
        texts(dist, DCT.description, f.description_it, f.description_en)
        file_type = URIRef(f"{EU}file-type/{fmt.eu_code}")
        g.add((file_type, RDF.type, DCT.MediaTypeOrExtent))
        g.add((dist, DCT.format, file_type))
        media_type = URIRef(IANA + fmt.media_type)
        g.add((media_type, RDF.type, DCT.MediaType))
        g.add((dist, DCAT.mediaType, media_type))
        g.add((dist, DCAT.downloadURL, download))
        g.add((dist, DCAT.accessURL, URIRef(f.access_url) if f.access_url else download))
        if f.access_url:
            g.add((dist, DCAT.accessService, service))
        g.add((dist, DCT.license, lic))
        g.add((dist, DCATAP.availability, availability))
        g.add((dist, DCT.issued, release))
        g.add((dist, DCT.modified, release))
        if f.size is not None:
            g.add((dist, DCAT.byteSize, Literal(str(f.size), datatype=byte_type)))
        if getattr(f, digest_of):
            checksum = BNode(f"checksum-{_slug(f.path)}")
            g.add((dist, SPDX.checksum, checksum))
            g.add((checksum, RDF.type, SPDX.Checksum))
            g.add((checksum, SPDX.algorithm, algorithm))
            g.add((checksum, SPDX.checksumValue,
                   Literal(getattr(f, digest_of), datatype=XSD.hexBinary)))
    return g


@functools.cache
def _mapping() -> Graph:
    """AgID's mapping of the EU data themes to EuroVoc (the harvester's), vendored unchanged."""
    return Graph().parse(VALIDATORS / "dcatapit_theme-subtheme-mapping.rdf")


def eurovoc_labels(number: str) -> tuple[str | None, str | None]:
    """The Italian and English labels of a EuroVoc concept, as AgID's mapping gives them."""
    ref = URIRef(f"{EUROVOC}{number}")
    labels = {lbl.language: str(lbl) for lbl in _mapping().objects(ref, SKOS.prefLabel)}
    return labels.get("it"), labels.get("en")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")


# ---- checks ------------------------------------------------------------------------------------

# The properties DCAT-AP_IT calls mandatory, per class: what `missing_mandatory` looks for.
MANDATORY = {
    "catalog": ("dct:title", "dct:description", "dct:publisher", "dct:modified", "dcat:dataset"),
    "dataset": ("dct:identifier", "dct:title@it", "dct:title@en", "dct:description@it",
                "dct:description@en", "dct:modified", "dcat:theme", "dct:rightsHolder",
                "dct:accrualPeriodicity", "dcat:distribution"),
    "distribution": ("dct:format", "dcat:accessURL", "dct:license"),
}


def mandatory_values(graph: Graph) -> dict[str, dict[str, list[str]]]:
    """For every catalogue, dataset and distribution: its mandatory properties' values."""
    prefixes = {"dct": str(DCT), "dcat": str(DCAT)}
    out = {}
    for kind, cls in (("catalog", DCAT.Catalog), ("dataset", DCAT.Dataset),
                      ("distribution", DCAT.Distribution)):
        for subject in sorted(graph.subjects(RDF.type, cls)):
            values = {}
            for prop in MANDATORY[kind]:
                name, _, lang = prop.partition("@")
                prefix, local = name.split(":")
                objects = graph.objects(subject, URIRef(prefixes[prefix] + local))
                values[prop] = sorted(str(o) for o in objects
                                      if not lang or getattr(o, "language", None) == lang)
            out[f"{kind} <{subject}>"] = values
    return out


def missing_mandatory(graph: Graph) -> list[str]:
    """``<subject>: missing dct:title@en``-style problems; empty when all are there."""
    classes = (("dcat:Catalog", DCAT.Catalog), ("dcat:Dataset", DCAT.Dataset),
               ("dcat:Distribution", DCAT.Distribution))
    problems = [f"no {name}" for name, cls in classes if not any(graph.subjects(RDF.type, cls))]
    for subject, values in mandatory_values(graph).items():
        problems += [f"{subject}: missing {prop}" for prop, v in values.items() if not v]
    return problems


def shacl_shapes(version: str) -> Graph:
    """The official DCAT-AP shapes of ``version`` (kept in kb/validators) as one graph."""
    shapes = Graph()
    for name in SHAPES[version]:
        shapes.parse(VALIDATORS / name, format="turtle")
    return shapes


def shacl_report(graph: Graph, version: str = "2.1.1") -> tuple[bool, str]:
    """(conforms, report text) of ``graph`` against the DCAT-AP shapes of ``version``."""
    import pyshacl

    conforms, _, text = pyshacl.validate(graph, shacl_graph=shacl_shapes(version),
                                         inference="rdfs")
    return bool(conforms), text


def subjects_outside_themes(graph: Graph) -> list[str]:
    """The dataset's EuroVoc subjects that AgID's theme–subtheme mapping (the harvester's) puts
    under none of its themes: ckanext-dcatapit drops them."""
    mapping = _mapping()
    problems = []
    for ds in graph.subjects(RDF.type, DCAT.Dataset):
        allowed = {m for theme in graph.objects(ds, DCAT.theme)
                   for m in mapping.objects(theme, SKOS.narrowMatch)}
        problems += [f"dct:subject <{s}> is under none of the dataset's themes in AgID's mapping"
                     for s in sorted(graph.objects(ds, DCT.subject)) if s not in allowed]
    return problems
