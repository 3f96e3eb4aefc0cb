"""Replaying what Italian portals take from the record: ckanext-dcatapit's parser, with rdflib.

``ckanext/dcatapit/dcat/profiles.py`` (``ItalianDCATAPProfile.parse_dataset``) and the licence
lookup of ``ckanext/dcatapit/interfaces.py`` / ``model/license.py`` are followed step by step, on
the extension's own vocabularies (kept unchanged in ``kb/validators``): what it does not find it
drops, or for the licence answers "C1_Unknown".
"""

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS as DCT, FOAF, RDF, RDFS, SKOS

from kb.pipeline import build, check
from kb.release.check import check_release
from kb.release.publish import publish

from conftest import MINI

VALIDATORS = Path(__file__).resolve().parent.parent / "kb" / "validators"
DCATAPIT = Namespace("http://dati.gov.it/onto/dcatapit#")
SCHEMA = Namespace("http://schema.org/")
SPDX = Namespace("http://spdx.org/rdf/terms#")
TIME = Namespace("http://www.w3.org/2006/time")
GEO_BASE_URI = "http://publications.europa.eu/resource/authority/place/"
FORMAT_BASE_URI = "http://publications.europa.eu/resource/authority/file-type/"
FREQ_BASE_URI = "http://publications.europa.eu/resource/authority/frequency/"
LANG_BASE_URI = "http://publications.europa.eu/resource/authority/language/"
UNKNOWN = "https://w3id.org/italia/controlled-vocabulary/licences/C1_Unknown"


def licence_table():
    """The extension's licence table, loaded as ``commands/vocabulary.py:load_licenses`` does."""
    g = Graph().parse(VALIDATORS / "dcatapit_licences.rdf")
    rows = []
    for licence in g.subjects(None, SKOS.Concept):
        licence_type = g.value(licence, SKOS.exactMatch) or g.value(
            g.value(licence, SKOS.broader), SKOS.exactMatch)
        names = {lbl.language: str(lbl) for lbl in g.objects(licence, SKOS.prefLabel)}
        rows.append({"uri": str(licence), "document_uri": str(g.value(licence,
                                                                      DCATAPIT.referenceDoc)
                                                              or ""),
                     "default_name": names.get("it"), "names": names,
                     "license_type": str(licence_type or "")})
    return rows


def get_license(table, id_or_uri):
    """``License.get``: by uri, then document uri, then default name, then licence type."""
    for key in ("uri", "document_uri", "default_name", "license_type"):
        for row in table:
            if id_or_uri and row[key] == id_or_uri:
                return row
    return None


def get_license_from_dcat(table, license_uri, license_dct, prefname, **names):
    """``interfaces.get_license_from_dcat``."""
    found = get_license(table, license_uri)
    if not found and prefname:
        found = get_license(table, prefname)
    if not found:
        for lang, name in names.items():
            found = next((r for r in table if r["names"].get(lang) == name), None)
            if found:
                break
    if not found and license_dct:
        found = get_license(table, license_dct)
    return found or get_license(table, UNKNOWN)


def harvest(g: Graph) -> dict:
    """What ``ItalianDCATAPProfile.parse_dataset`` puts in CKAN's dataset dict."""
    mapping = Graph().parse(VALIDATORS / "dcatapit_theme-subtheme-mapping.rdf")
    file_types = Graph().parse(VALIDATORS / "dcatapit_filetypes-filtered.rdf")
    licences = licence_table()
    dataset = next(g.subjects(RDF.type, DCATAPIT.Dataset))
    value = lambda s, p: (str(g.value(s, p)) if g.value(s, p) is not None else None)  # noqa: E731
    out = {"identifier": value(dataset, DCT.identifier),
           "modified": value(dataset, DCT.modified), "issued": value(dataset, DCT.issued),
           "frequency": value(dataset, DCT.accrualPeriodicity).replace(FREQ_BASE_URI, ""),
           "language": sorted(str(v).replace(LANG_BASE_URI, "")
                              for v in g.objects(dataset, DCT.language))}
    # temporal: schema.org first, then time:hasBeginning
    out["temporal_coverage"] = []
    for interval in g.objects(dataset, DCT.temporal):
        start, end = value(interval, SCHEMA.startDate), value(interval, SCHEMA.endDate)
        if start or end:
            out["temporal_coverage"].append({"temporal_start": start, "temporal_end": end})
    # themes and the subthemes the mapping puts under them
    subjects = set(g.objects(dataset, DCT.subject))
    out["themes"] = [{"theme": str(t).split("/")[-1],
                      "subthemes": sorted(str(s) for s in subjects
                                          if (t, SKOS.narrowMatch, s) in mapping)}
                     for t in sorted(g.objects(dataset, DCAT.theme))]
    # spatial: the literal text of dcatapit:geographicalIdentifier
    names, geonames = [], None
    for spatial in g.objects(dataset, DCT.spatial):
        for literal in g.objects(spatial, DCATAPIT.geographicalIdentifier):
            text = literal.value  # a URIRef has no .value: the parser needs a literal
            if GEO_BASE_URI in text:
                names.append(text.replace(GEO_BASE_URI, ""))
            elif geonames is None:
                geonames = text
    out["geographical_name"] = ",".join(names) or None
    out["geographical_geonames_url"] = geonames
    # ckanext-dcat's own spatial fields (``_spatial``, under the Italian profile): the place's
    # URI, and its text from skos:prefLabel, then rdfs:label, the last value met winning
    out["spatial_uri"] = out["spatial_text"] = None
    for spatial in g.objects(dataset, DCT.spatial):
        if isinstance(spatial, URIRef):
            out["spatial_uri"] = str(spatial)
        if (spatial, RDF.type, DCT.Location) in g:
            for label in g.objects(spatial, SKOS.prefLabel):
                out["spatial_text"] = str(label)
            for label in g.objects(spatial, RDFS.label):
                out["spatial_text"] = str(label)
    # agents: identifier and Italian name
    for predicate, key in ((DCT.publisher, "publisher"), (DCT.rightsHolder, "holder")):
        agent = g.value(dataset, predicate)
        out[f"{key}_identifier"] = value(agent, DCT.identifier)
        out[f"{key}_name"] = next((str(n) for n in g.objects(agent, FOAF.name)
                                   if n.language == "it"), None)
    out["creator"] = sorted(({"creator_identifier": value(c, DCT.identifier),
                              "creator_name": {str(n.language): str(n)
                                               for n in g.objects(c, FOAF.name)}}
                             for c in g.objects(dataset, DCT.creator)),
                            key=lambda c: c["creator_name"]["it"])
    # resources: format code and licence, resolved as the extension does
    formats, licence_uris = set(), set()
    for dist in g.objects(dataset, DCAT.distribution):
        fmt = value(dist, DCT["format"])
        code = fmt.replace(FORMAT_BASE_URI, "")
        known = (URIRef(fmt), None, None) in file_types
        formats.add((code, known))
        licence = g.value(dist, DCT.license)
        names = {n.language: str(n) for n in g.objects(licence, FOAF.name) if n.language}
        prefname = next((str(n) for n in g.objects(licence, FOAF.name) if not n.language), None)
        row = get_license_from_dcat(licences, str(licence), value(licence, DCT.type), prefname,
                                    **names)
        licence_uris.add(row["uri"])
    out["formats"] = sorted(formats)
    out["license_type"] = sorted(licence_uris)
    # ckanext-dcat's resource fields: size (int(float(byteSize))), hash and hash_algorithm
    out["resources"] = {}
    for dist in g.objects(dataset, DCAT.distribution):
        size = g.value(dist, DCAT.byteSize)
        resource = {"size": int(float(size)) if size is not None else None,
                    "hash": None, "hash_algorithm": None}
        for checksum in g.objects(dist, SPDX.checksum):
            resource["hash"] = value(checksum, SPDX.checksumValue)
            resource["hash_algorithm"] = value(checksum, SPDX.algorithm)
        out["resources"][str(g.value(dist, DCAT.downloadURL)).split("/opendata/")[1]] = resource
    return out


def sha1(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


def resources(release: Path) -> dict:
    """What the harvest should take of every file the record describes, from the files."""
    record = Graph().parse(release / "dcat-ap_it.ttl", format="turtle")
    return {str(url).split("/opendata/")[1]: {
        "size": (release / str(url).split("/opendata/")[1]).stat().st_size,
        "hash": sha1(release / str(url).split("/opendata/")[1]),
        "hash_algorithm": "http://spdx.org/rdf/terms#checksumAlgorithm_sha1"}
        for url in record.objects(None, DCAT.downloadURL)}


@pytest.fixture(scope="module")
def sample_release(sample_build, tmp_path_factory):
    kb_path, _ = sample_build
    return publish(kb_path, tmp_path_factory.mktemp("harvest") / "opendata").out_dir


def test_the_sample_record_harvests_whole(sample_release):
    record = Graph().parse(sample_release / "dcat-ap_it.ttl", format="turtle")
    harvested = harvest(record)
    print(json.dumps(harvested, ensure_ascii=False, indent=1))  # the closing note shows it
    creators = [("80062830372", "Confcooperative Emilia Romagna"),
                ("00000000001", "Irecoop Emilia Romagna"), ("00000000002", "Kilowatt Soc. Coop")]
    assert {
        "identifier": "80062830372:cotour-nuova-mutualita",
        "modified": "2016-03-31", "issued": "2016-03-31", "frequency": "IRREG",
        "language": ["ENG", "ITA"],
        "temporal_coverage": [{"temporal_start": "2015-11-01", "temporal_end": "2016-03-31"}],
        "themes": [{"theme": "SOCI", "subthemes": ["http://eurovoc.europa.eu/100212"]}],
        "geographical_name": None,
        "geographical_geonames_url": "http://www.geonames.org/3177401",
        "spatial_uri": "https://dati.example.org/cotour/cotour#spatial",
        "spatial_text": "Emilia-Romagna",
        "publisher_identifier": "80062830372",
        "publisher_name": "Confcooperative Emilia Romagna",
        "holder_identifier": "80062830372", "holder_name": "Confcooperative Emilia Romagna",
        "creator": [{"creator_identifier": identifier, "creator_name": {"it": name}}
                    for identifier, name in creators],
        "formats": [("BIN", True), ("CSV", True), ("JSON", True), ("XLSX", True), ("XML", True),
                    ("ZIP", True)],
        "license_type": ["https://w3id.org/italia/controlled-vocabulary/licences/A21_CCBY40"],
        "resources": resources(sample_release),
    } == harvested
    # the zip too: 6 files of the release and the 22 tables' CSV files
    assert 28 == len(harvested["resources"])
    assert "cotour-nuova-mutualita-1.0.0.zip" in harvested["resources"]


def test_the_replay_answers_unknown_for_a_licence_it_cannot_match():
    """The replay is not a yes-machine: the EU authority's licence URI alone, with no Italian
    name, no reference document and no dct:type, is what used to harvest as 'Unknown'."""
    assert UNKNOWN == get_license_from_dcat(
        licence_table(), "http://publications.europa.eu/resource/authority/licence/CC_BY_4_0",
        None, "Creative Commons Attribution 4.0 International")["uri"]


@pytest.mark.parametrize("spdx", ["CC-BY-4.0", "CC-BY-SA-4.0", "CC0-1.0", "ODC-By-1.0",
                                  "ODbL-1.0", "PDDL-1.0"])
def test_every_licence_we_allow_is_in_agids_vocabulary_with_its_document(spdx):
    """Our licence table agrees with the harvester's: the Italian code exists, and its
    reference document and ADMS type resolve to that same code."""
    from kb.domain.vocabulary import LICENCES

    licence = LICENCES[spdx]
    table = licence_table()
    uri = f"https://w3id.org/italia/controlled-vocabulary/licences/{licence.italian}"
    row = get_license(table, uri)
    assert row is not None
    assert f"http://purl.org/adms/licencetype/{licence.licence_type}" == row["license_type"]


# ---- a project.yaml with only the required keys ------------------------------------------------

PLAIN = """\
title: {it: "Co?Tour – Viaggio nella nuova mutualità", en: "Co?Tour – A journey"}
description: {it: "Dati di prova per i test.", en: "Test data."}
organisers: [Confcooperative Emilia Romagna, Kilowatt Soc. Coop]
publisher: {name: Confcooperative Emilia Romagna, id: "12345678903"}
licence: CC-BY-4.0
release_date: 2016-03-31
base_url: https://dati.cotour-prova.it/cotour
eu_theme: SOCI
frequency: IRREG
"""


def plain_data(tmp_path: Path, organisers: str | None = None) -> Path:
    """The small fixture with a project.yaml of the required keys only (not illustrative)."""
    data = tmp_path / "data"
    shutil.copytree(MINI, data)
    text = PLAIN if organisers is None else PLAIN.replace(
        "organisers: [Confcooperative Emilia Romagna, Kilowatt Soc. Coop]", organisers)
    (data / "project.yaml").write_text(text, encoding="utf-8")
    return data


def test_check_names_the_key_each_agent_without_an_id_needs(tmp_path):
    data = plain_data(tmp_path)
    result = check(data)
    forms = "<IPA code, codice fiscale or partita IVA>"
    assert [f"{data}/project.yaml:3: error: organiser '{name}' has no id, which the catalogue "
            f"record gives its agents: write it as {{name: {name}, id: {forms}}} (or set "
            "'illustrative: true')"
            for name in ("Confcooperative Emilia Romagna", "Kilowatt Soc. Coop")] == [
        str(d) for d in result.diagnostics.errors]


def test_check_reports_placeholder_ids_at_their_lines(tmp_path):
    """All zeros, ten zeros and a digit, a wrong check digit (1234567890 ends in 3 by hand:
    odd places 1+3+5+7+9 = 25, even places doubled 2,4,6,8,0 -> 4+8+3+7+0 = 22, 10 - 47 % 10)."""
    data = plain_data(tmp_path, 'organisers:\n  - {name: A, id: "00000000000"}\n'
                                '  - {name: B, id: "00000000001"}\n'
                                '  - {name: C, id: "12345678901"}\n'
                                '  - {name: D, id: "12345678903"}\n'
                                '  - {name: E, id: "c_a944"}')
    result = check(data)
    assert [f"{data}/project.yaml:{line}: error: organiser id {message} (or set "
            "'illustrative: true')" for line, message in (
                (4, "'00000000000' of 'A' is all zeros"),
                (5, "'00000000001' of 'B' is a placeholder (ten zeros and a digit)"),
                (6, "'12345678901' of 'C' fails its check digit (a codice fiscale or partita "
                    "IVA starting 1234567890 ends in 3)"))] == [
        str(d) for d in result.diagnostics.errors]


def test_a_plain_project_harvests_with_period_place_and_identified_agents(tmp_path):
    """The period from the first to the last held event (Parma 9 December, Bologna 10
    December 2015; the final meeting is only planned), the region for two provinces, the
    organisers with the ids check asked for."""
    data = plain_data(tmp_path, 'organisers:\n'
                                '  - {name: Confcooperative Emilia Romagna, id: "12345678903"}\n'
                                '  - {name: Kilowatt Soc. Coop, id: "01234567897"}')
    assert [] == check(data).diagnostics.errors
    built = build(data, tmp_path / "build" / "cotour.db")
    release = publish(built.db_path, tmp_path / "build" / "opendata").out_dir
    harvested = harvest(Graph().parse(release / "dcat-ap_it.ttl", format="turtle"))
    assert {
        "temporal_coverage": [{"temporal_start": "2015-12-09", "temporal_end": "2015-12-10"}],
        "geographical_geonames_url": "http://www.geonames.org/3177401",
        "spatial_text": "Emilia-Romagna",
        "creator": [{"creator_identifier": "12345678903",
                     "creator_name": {"it": "Confcooperative Emilia Romagna"}},
                    {"creator_identifier": "01234567897",
                     "creator_name": {"it": "Kilowatt Soc. Coop"}}],
        "publisher_identifier": "12345678903",
        "resources": resources(release),
    } == {k: harvested[k] for k in ("temporal_coverage", "geographical_geonames_url",
                                    "spatial_text", "creator", "publisher_identifier",
                                    "resources")}
    record = Graph().parse(release / "dcat-ap_it.ttl", format="turtle")
    place = URIRef("https://dati.cotour-prova.it/cotour/cotour#spatial")
    assert {("it", "Emilia-Romagna"), ("en", "Emilia-Romagna")} == {
        (label.language, str(label)) for label in record.objects(place, SKOS.prefLabel)}
    assert [] == check_release(release).problems


@pytest.mark.parametrize("given, events, expected", [
    # one province: that province, its GeoNames ADM2 feature and its names
    ({}, [("2015-12-09", "PR")],
     ("2015-12-09", "2015-12-09", "Provincia di Parma", "Province of Parma", "3171456",
      ["temporal", "spatial"])),
    ({}, [("2015-11-07", "BO"), ("2015-12-10", "BO")],
     ("2015-11-07", "2015-12-10", "Città metropolitana di Bologna",
      "Metropolitan City of Bologna", "3181927", ["temporal", "spatial"])),
    # several: the region
    ({}, [("2015-11-07", "PC"), ("2015-12-09", "RA")],
     ("2015-11-07", "2015-12-09", "Emilia-Romagna", "Emilia-Romagna", "3177401",
      ["temporal", "spatial"])),
    # what project.yaml gives stays; a known name gets its GeoNames feature
    ({"temporal_start": "2015-01-01", "spatial": "emilia romagna"}, [("2015-12-09", "PR")],
     ("2015-01-01", None, "emilia romagna", "Emilia-Romagna", "3177401", [])),
    ({"spatial": "Rimini"}, [("2015-12-09", "PR")],
     ("2015-12-09", "2015-12-09", "Rimini", None, "6457404", ["temporal"])),
    ({"spatial": "Valle Padana"}, [],
     (None, None, "Valle Padana", None, None, [])),
    # no held event: nothing to derive
    ({}, [], (None, None, None, None, None, [])),
])
def test_period_and_place_from_the_held_events(given, events, expected):
    from kb.release.coverage import complete

    project = {"temporal_start": None, "temporal_end": None, "spatial": None,
               "spatial_geonames": None} | given
    out = complete(project, events)
    assert expected == (out["temporal_start"], out["temporal_end"], out["spatial"],
                        out["spatial_en"], out["spatial_geonames"], out["derived"])


def test_check_warns_of_the_samples_placeholder_ids(sample_build):
    """The sample is illustrative: its placeholder ids are warnings, not errors, each at its
    line (the catalogue record still publishes them, and says the data are illustrative)."""
    from conftest import SAMPLE

    path = SAMPLE / "project.yaml"
    assert [f"{path}:{line}: warning: {message}" for line, message in (
        (49, "organiser id '80062830372' of 'Confcooperative Emilia Romagna' fails its check "
             "digit (a codice fiscale or partita IVA starting 8006283037 ends in 9)"),
        (50, "organiser id '00000000001' of 'Irecoop Emilia Romagna' is a placeholder (ten "
             "zeros and a digit)"),
        (51, "organiser id '00000000002' of 'Kilowatt Soc. Coop' is a placeholder (ten zeros "
             "and a digit)"),
        (52, "publisher id '80062830372' fails its check digit (a codice fiscale or partita "
             "IVA starting 8006283037 ends in 9)"))] == [
        str(d) for d in check(SAMPLE).diagnostics.warnings]
