"""Cited and found: CITATION.cff (against the CFF 1.2.0 schema), .zenodo.json, the schema.org
Dataset and the landing page that embeds it."""

import json
import re
import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml
from rdflib import Graph, Literal, URIRef

from kb.release.citation import CFF_SCHEMA
from kb.release.check import check_release
from kb.release.publish import publish

SCHEMA = "https://schema.org/"


@pytest.fixture(scope="module")
def release(mini_build, tmp_path_factory) -> Path:
    kb_path, _ = mini_build
    return publish(kb_path, tmp_path_factory.mktemp("cite") / "opendata").out_dir


def cff_errors(data) -> list[str]:
    schema = json.loads(CFF_SCHEMA.read_text(encoding="utf-8"))
    return [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(data)]


def test_citation_cff_is_valid_cff_1_2(release):
    data = yaml.safe_load((release / "CITATION.cff").read_text(encoding="utf-8"))
    assert [] == cff_errors(data)
    assert {
        "cff-version": "1.2.0",
        "type": "dataset",
        "title": "Co?Tour – Viaggio nella nuova mutualità",
        "authors": [{"name": "Confcooperative Emilia Romagna"},
                    {"name": "Irecoop Emilia Romagna"}, {"name": "Kilowatt Soc. Coop"}],
        "date-released": "2016-03-31",
        "license": "CC-BY-4.0",
        "url": "https://dati.example.org/cotour/cotour",
        "keywords": ["mutualità", "cooperazione"],
        "identifiers": [{"type": "other",
                         "value": "12345678903:co-tour-viaggio-nella-nuova-mutualita",
                         "description": "DCAT-AP_IT dct:identifier"}],
    } == {k: v for k, v in data.items() if k not in ("message", "abstract")}
    assert data["abstract"].startswith("Dati illustrativi")


def test_the_cff_schema_rejects_what_is_not_cff(release):
    """The check can fail: no author, a date that is no date."""
    data = yaml.safe_load((release / "CITATION.cff").read_text(encoding="utf-8"))
    broken = data | {"authors": [], "date-released": "31/03/2016"}
    assert 2 == len(cff_errors(broken))


def test_zenodo_metadata(release):
    data = json.loads((release / ".zenodo.json").read_text(encoding="utf-8"))
    assert {
        "upload_type": "dataset",
        "title": "Co?Tour – Viaggio nella nuova mutualità",
        "description": "Dati illustrativi: questo dataset è un esempio, i suoi dati non vanno "
                       "usati come fonte.<br><br>Dati di prova per i test.",
        "creators": [{"name": "Confcooperative Emilia Romagna"},
                     {"name": "Irecoop Emilia Romagna"}, {"name": "Kilowatt Soc. Coop"}],
        "access_right": "open",
        "license": "cc-by-4.0",
        "publication_date": "2016-03-31",
        "language": "ita",
        "keywords": ["mutualità", "cooperazione"],
        "related_identifiers": [{"identifier": "https://dati.example.org/cotour/cotour",
                                 "relation": "isSupplementedBy", "resource_type": "dataset",
                                 "scheme": "url"}],
        "notes": "Illustrative data: this dataset is an example; do not use it as a source.",
    } == data


def schema_graph(text: str) -> Graph:
    data = json.loads(text)
    assert SCHEMA == data.pop("@context")
    return Graph().parse(data=json.dumps(data), format="json-ld", context={"@vocab": SCHEMA})


def test_schema_org_dataset(release):
    g = schema_graph((release / "dataset.jsonld").read_text(encoding="utf-8"))
    ds = URIRef("https://dati.example.org/cotour/cotour#dataset")
    value = lambda p: g.value(ds, URIRef(SCHEMA + p))  # noqa: E731
    assert (URIRef(SCHEMA + "Dataset"), Literal("Co?Tour – Viaggio nella nuova mutualità"),
            Literal("https://creativecommons.org/licenses/by/4.0/"), Literal("2016-03-31")) \
        == (g.value(ds, URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")),
            value("name"), value("license"), value("datePublished"))
    creators = sorted(str(g.value(c, URIRef(SCHEMA + "name")))
                      for c in g.objects(ds, URIRef(SCHEMA + "creator")))
    assert ["Confcooperative Emilia Romagna", "Irecoop Emilia Romagna",
            "Kilowatt Soc. Coop"] == creators
    downloads = {str(g.value(d, URIRef(SCHEMA + "contentUrl"))):
                 str(g.value(d, URIRef(SCHEMA + "encodingFormat")))
                 for d in g.objects(ds, URIRef(SCHEMA + "distribution"))}
    base = "https://dati.example.org/cotour/opendata/"
    assert "text/csv" == downloads[base + "data/findings.csv"]
    assert ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            == downloads[base + "cotour.xlsx"])
    assert all((release / url[len(base):]).is_file() for url in downloads)
    variables = {str(g.value(v, URIRef(SCHEMA + "name")))
                 for v in g.objects(ds, URIRef(SCHEMA + "variableMeasured"))}
    assert {"findings.kind", "organisations.lat", "events.date"} <= variables


def test_landing_page_embeds_the_json_ld_and_links_every_file(release):
    page = (release / "index.html").read_text(encoding="utf-8")
    embedded = re.search(r'<script type="application/ld\+json">\n(.*?)\n</script>', page, re.S)
    assert json.loads((release / "dataset.jsonld").read_text(encoding="utf-8")) \
        == json.loads(embedded.group(1))
    links = set(re.findall(r'<a href="([^":]+)"', page))
    assert {"cotour.xlsx", "cotour.db", "datapackage.json", "data/findings.csv", "README.md",
            "CITATION.cff", "dcat-ap_it.ttl", "dataset.jsonld"} <= links
    assert all((release / link).is_file() for link in links)


def test_check_release_finds_an_invalid_citation_file(release, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(release, broken)
    (broken / "CITATION.cff").write_text("cff-version: 1.2.0\ntitle: x\n", encoding="utf-8")
    problems = check_release(broken).problems
    assert "CITATION.cff: checksum does not match SHA256SUMS" in problems
    assert any(p.startswith("CITATION.cff: file: 'authors' is a required property")
               for p in problems), problems
