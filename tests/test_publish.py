import asyncio
import csv
import hashlib
import json
import shutil
import sqlite3
import zipfile
from pathlib import Path

import pytest
import sqlite_utils
from hypothesis import given, settings, strategies as st
import yaml
from click.testing import CliRunner
from frictionless import validate
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS as DCT, FOAF, RDF, XSD

from kb.cli import cli
from kb.domain.dictionary import TABLES
from kb.pipeline import build
from kb.store.public import NotPublicError
from kb.release.dcat import mandatory_values, missing_mandatory, shacl_report
from kb.domain.vocabulary import LICENCES
from kb.release.tables import PublishError, published_tables, project_row, table_schema, write_table_csvs
from kb.release.check import check_release
from kb.release.texts import dataset_readme
from kb.release.publish import publish
from kb.domain.vocabulary import EU_THEMES

from conftest import CANARIES, plant_canaries

MINI = Path(__file__).parent / "fixtures" / "mini"

EU = "http://publications.europa.eu/resource/authority/"
SPDX = Namespace("http://spdx.org/rdf/terms#")
PUBLISHED = [t.name for t in TABLES if not t.internal]


def row_count(db_path: Path, table: str) -> int:
    with sqlite3.connect(db_path) as conn:
        return conn.execute(f"select count(*) from [{table}]").fetchone()[0]


@pytest.fixture(scope="module")
def release(mini_build, tmp_path_factory) -> Path:
    kb_path, _ = mini_build
    return publish(kb_path, tmp_path_factory.mktemp("release") / "opendata").out_dir


@pytest.fixture(scope="module")
def record(release) -> Graph:
    return Graph().parse(release / "dcat-ap_it.ttl", format="turtle")


# ---- CSV ---------------------------------------------------------------------------------------

def test_write_table_csvs_writes_one_csv_per_published_table_in_order(mini_build, tmp_path):
    _, public_path = mini_build
    paths = write_table_csvs(public_path, tmp_path)
    assert [tmp_path / f"{name}.csv" for name in PUBLISHED] == paths
    assert "cotour_build" not in PUBLISHED


@pytest.mark.parametrize("table", PUBLISHED)
def test_csv_has_the_public_columns_and_rows_in_key_order(mini_build, tmp_path, table):
    _, public_path = mini_build
    write_table_csvs(public_path, tmp_path)
    raw = (tmp_path / f"{table}.csv").read_bytes()
    assert raw.endswith(b"\r\n") and not raw.startswith(b"\xef\xbb\xbf")
    with open(tmp_path / f"{table}.csv", encoding="utf-8", newline="") as fp:
        rows = list(csv.reader(fp))
    spec = next(t for t in TABLES if t.name == table)
    assert [c.name for c in spec.public_columns] == rows[0]
    keys = [tuple(r[rows[0].index(k)] for k in spec.pk) for r in rows[1:]]
    assert sorted(keys) == keys


@pytest.mark.parametrize("table", PUBLISHED)
def test_csvs_load_back_into_sqlite_with_the_same_row_counts(mini_build, release, tmp_path, table):
    _, public_path = mini_build
    db = sqlite_utils.Database(tmp_path / "back.db")
    with open(release / "data" / f"{table}.csv", encoding="utf-8", newline="") as fp:
        db[table].insert_all(csv.DictReader(fp))
    assert row_count(public_path, table) == (db[table].count if db[table].exists() else 0)


def test_csv_values_are_iso_dates_booleans_and_json_text(release):
    with open(release / "data" / "project.csv", encoding="utf-8", newline="") as fp:
        project = next(csv.DictReader(fp))
    assert "2016-03-31" == project["release_date"]
    assert "1" == project["illustrative"]
    assert ["SOCI"] == json.loads(project["eu_theme"])


# ---- the release -------------------------------------------------------------------------------

def test_release_has_every_file(release):
    expected = {"cotour.db", "datapackage.json", "dcat-ap_it.ttl", "dcat-ap.ttl", "metadata.yml",
                "README.md", "LICENSE", "SHA256SUMS", "co-tour-viaggio-nella-nuova-mutualita.zip",
                "cotour.qdpx", "cotour-codebook.qdc", "cotour.xlsx", "CITATION.cff",
                ".zenodo.json", "dataset.jsonld", "index.html"}
    expected |= {f"data/{name}.csv" for name in PUBLISHED}
    assert expected == {p.relative_to(release).as_posix()
                        for p in release.rglob("*") if p.is_file()}


def test_zip_holds_every_other_file_with_fixed_times_in_sorted_order(release):
    with zipfile.ZipFile(release / "co-tour-viaggio-nella-nuova-mutualita.zip") as zf:
        infos = zf.infolist()
        names = [i.filename for i in infos]
        assert sorted(names) == names
        assert {(2016, 3, 31, 0, 0, 0)} == {i.date_time for i in infos}
        # the records and SHA256SUMS beside the zip describe it; the zip's own cannot
        differ = {name for name in names if (release / name).read_bytes() != zf.read(name)}
        assert {"dcat-ap_it.ttl", "dcat-ap.ttl", "SHA256SUMS"} == differ
    others = {p.relative_to(release).as_posix() for p in release.rglob("*")
              if p.is_file() and p.suffix != ".zip"}
    assert others == set(names)


def sums(text: str) -> dict[str, str]:
    pairs = [line.split("  ", 1) for line in text.splitlines()]
    assert sorted(name for _, name in pairs) == [name for _, name in pairs]
    return {name: digest for digest, name in pairs}


def test_sha256sums_cover_every_file_and_the_zip_inside_the_zip_every_other(release):
    zip_name = "co-tour-viaggio-nella-nuova-mutualita.zip"
    beside = sums((release / "SHA256SUMS").read_text())
    files = {p.relative_to(release).as_posix() for p in release.rglob("*") if p.is_file()}
    assert files - {"SHA256SUMS"} == set(beside)
    assert {name: hashlib.sha256((release / name).read_bytes()).hexdigest()
            for name in beside} == beside
    with zipfile.ZipFile(release / zip_name) as zf:
        inside = sums(zf.read("SHA256SUMS").decode())
        assert {name: hashlib.sha256(zf.read(name)).hexdigest() for name in inside} == inside
    assert files - {"SHA256SUMS", zip_name} == set(inside)
    # only the records differ, the ones beside the zip describing it
    assert {"dcat-ap_it.ttl", "dcat-ap.ttl"} == {n for n in inside if inside[n] != beside[n]}


@pytest.mark.parametrize("name, version, size", [("dcat-ap_it.ttl", "2.1.1", XSD.decimal),
                                                 ("dcat-ap.ttl", "3.0.1", XSD.nonNegativeInteger)])
def test_the_record_beside_the_zip_adds_its_size_and_checksum_and_nothing_else(
        release, name, version, size):
    from kb.release.check import named_checksums

    zip_name = "co-tour-viaggio-nella-nuova-mutualita.zip"
    data = (release / zip_name).read_bytes()
    algorithm, digest = (("sha1", hashlib.sha1(data)) if version == "2.1.1"
                         else ("sha256", hashlib.sha256(data)))
    beside = named_checksums(Graph().parse(release / name))
    with zipfile.ZipFile(release / zip_name) as zf:
        inside = named_checksums(Graph().parse(data=zf.read(name), format="turtle"))
    only_beside, only_inside = beside - inside, inside - beside
    assert [] == list(only_inside)
    dist = URIRef(f"https://dati.example.org/cotour/opendata/{zip_name}#distribution")
    node = URIRef(f"{dist}-checksum")
    def values(triples):  # literals by value: Turtle writes the decimal 109920 as 109920.0
        return {tuple((o.datatype, o.toPython()) if isinstance(o, Literal) else o for o in t)
                for t in triples}

    assert values([(dist, DCAT.byteSize, Literal(str(len(data)), datatype=size)),
                   (dist, SPDX.checksum, node), (node, RDF.type, SPDX.Checksum),
                   (node, SPDX.algorithm, SPDX[f"checksumAlgorithm_{algorithm}"]),
                   (node, SPDX.checksumValue, Literal(digest.hexdigest(), datatype=XSD.hexBinary))
                   ]) == values(only_beside)


def test_check_release_finds_a_record_inside_the_zip_that_differs_in_more(release, tmp_path):
    """A record in the zip that differs from the one beside it in more than the zip's size and
    checksum (here: another title) is a problem; so is one beside the zip without them."""
    zip_name = "co-tour-viaggio-nella-nuova-mutualita.zip"
    broken = tmp_path / "broken"
    shutil.copytree(release, broken)
    with zipfile.ZipFile(release / zip_name) as src, \
            zipfile.ZipFile(broken / zip_name, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "dcat-ap_it.ttl":
                data = data.replace("Dati di prova per i test.".encode(),
                                    "Altri dati.".encode())
            dst.writestr(info, data)
    problems = [p for p in check_release(broken).problems if p.startswith(f"{zip_name}: dcat")]
    where = f"{zip_name}: dcat-ap_it.ttl"
    description = "<http://purl.org/dc/terms/description>"
    assert sorted(
        f"{where}: {side} the zip only: <https://dati.example.org/cotour{subject}> "
        f"{description} {text}@it"
        for side, text in (("inside", '"Altri dati."'), ("beside", '"Dati di prova per i test."'))
        for subject in ("#catalog", "/cotour#dataset")) == sorted(problems)


def test_cotour_db_is_the_public_database(mini_build, release):
    _, public_path = mini_build
    assert public_path.read_bytes() == (release / "cotour.db").read_bytes()


def test_republishing_is_byte_identical(mini_build, release, tmp_path):
    kb_path, _ = mini_build
    again = publish(kb_path, tmp_path / "again").out_dir
    files = sorted(p.relative_to(release) for p in release.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    for name in files:
        assert (release / name).read_bytes() == (again / name).read_bytes(), name


def test_publish_replaces_a_previous_release_whole(mini_build, tmp_path):
    kb_path, _ = mini_build
    out = tmp_path / "opendata"
    publish(kb_path, out)
    (out / "data" / "stale.csv").write_text("x\r\n")
    publish(kb_path, out)
    assert not (out / "data" / "stale.csv").exists()
    assert [out] == list(tmp_path.iterdir())  # no temporary folder left behind


def test_publish_refuses_to_overwrite_a_folder_that_is_not_a_release(mini_build, tmp_path):
    kb_path, _ = mini_build
    (tmp_path / "mine.txt").write_text("keep me")
    with pytest.raises(PublishError, match="not a release"):
        publish(kb_path, tmp_path)
    assert "keep me" == (tmp_path / "mine.txt").read_text()


def test_publish_needs_a_public_database(tmp_path):
    with pytest.raises(NotPublicError, match="public database not found"):
        publish(tmp_path / "cotour.db", tmp_path / "out")


def test_publish_reports_progress(mini_build, tmp_path):
    kb_path, _ = mini_build
    seen = []
    publish(kb_path, tmp_path / "out",
            progress=lambda label, done, total: seen.append((done, total)))
    assert (8, 8) == seen[-1]


# ---- datapackage.json --------------------------------------------------------------------------

def test_frictionless_validates_the_package(release, mini_build):
    _, public_path = mini_build
    report = validate(str(release / "datapackage.json"))
    assert [] == report.flatten(["rowNumber", "fieldName", "type", "note"])
    assert report.valid
    assert {name: row_count(public_path, name) for name in PUBLISHED} == \
        {task.name: task.stats.get("rows", 0) for task in report.tasks}


def test_a_broken_foreign_key_fails_frictionless(release, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(release, broken)
    path = broken / "data" / "finding_themes.csv"
    with open(path, encoding="utf-8", newline="") as fp:
        rows = list(csv.reader(fp))
    rows[1][rows[0].index("theme_id")] = "no-such-theme"
    with open(path, "w", encoding="utf-8", newline="") as fp:
        csv.writer(fp).writerows(rows)
    report = validate(str(broken / "datapackage.json"))
    assert not report.valid
    # the file changed too, so its recorded size and SHA-256 no longer match
    assert ["byte-count", "foreign-key", "hash-count"] \
        == sorted(e.type for task in report.tasks for e in task.errors)


def test_datapackage_describes_the_project_and_every_table_from_the_dictionary(release):
    package = json.loads((release / "datapackage.json").read_text(encoding="utf-8"))
    assert "co-tour-viaggio-nella-nuova-mutualita" == package["name"]
    assert "id" not in package  # no DOI yet: v2 wants a global identifier or none
    assert "2016-03-31T00:00:00Z" == package["created"]
    assert ("Co?Tour – Viaggio nella nuova mutualità", "Co?Tour – A journey into new mutuality") \
        == (package["title"], package["title_en"])
    assert ("Dati di prova per i test.", "Test data.") \
        == (package["description"], package["description_en"])
    assert [{"name": "CC-BY-4.0", "path": "https://creativecommons.org/licenses/by/4.0/",
             "title": "Creative Commons Attribution 4.0 International"}] == package["licenses"]
    assert [("Confcooperative Emilia Romagna", ["creator"]), ("Irecoop Emilia Romagna", ["creator"]),
            ("Kilowatt Soc. Coop", ["creator"]),
            ("Confcooperative Emilia Romagna", ["publisher", "rightsHolder"])] \
        == [(c["title"], c["roles"]) for c in package["contributors"]]
    assert ["mutualità", "cooperazione"] == package["keywords"]
    assert PUBLISHED == [r["name"] for r in package["resources"]]
    findings = next(r for r in package["resources"] if r["name"] == "findings")
    assert ["id"] == findings["schema"]["primaryKey"]
    assert {"fields": ["note_id"], "reference": {"resource": "notes", "fields": ["id"]}} \
        in findings["schema"]["foreignKeys"]
    kind = next(f for f in findings["schema"]["fields"] if f["name"] == "kind")
    assert ("string", "Tipo di risultato", "Kind of finding") \
        == (kind["type"], kind["description"], kind["description_en"])
    themes = next(r for r in package["resources"] if r["name"] == "themes")
    assert [{"fields": ["parent_id"], "reference": {"fields": ["id"]}}] \
        == themes["schema"]["foreignKeys"]


def test_every_resource_carries_the_size_and_sha256_of_its_file(release):
    package = json.loads((release / "datapackage.json").read_text(encoding="utf-8"))
    sums = dict(reversed(line.split("  ", 1))
                for line in (release / "SHA256SUMS").read_text().splitlines())
    assert [(r["path"], (release / r["path"]).stat().st_size, f"sha256:{sums[r['path']]}")
            for r in package["resources"]] \
        == [(r["path"], r["bytes"], r["hash"]) for r in package["resources"]]


def test_a_doi_becomes_the_package_id(release):
    from kb.release.tables import data_package

    project = project_row(release / "cotour.db") | {"doi": "10.5281/zenodo.123456"}
    assert "https://doi.org/10.5281/zenodo.123456" == data_package(project)["id"]


# The whole schema of one table, written out from the dictionary by hand: losing a constraint
# (the enums, a required flag, a key) fails here.
EVENTS_SCHEMA = {
    "fields": [
        {"name": "id", "type": "string", "description": "Identificativo",
         "description_en": "Identifier", "constraints": {"required": True}},
        {"name": "name", "type": "string",
         "description": "Nome della tappa (città; la data se la città torna)",
         "description_en": "Name of the event (city; the date too if the city recurs)",
         "constraints": {"required": True}},
        {"name": "city", "type": "string", "description": "Città", "description_en": "City",
         "constraints": {"required": True}},
        {"name": "province", "type": "string", "description": "Provincia (sigla)",
         "description_en": "Province (abbreviation)", "constraints": {"required": True}},
        {"name": "province_istat", "type": "string", "description": "Codice ISTAT della provincia",
         "description_en": "Province ISTAT code"},
        {"name": "date", "type": "date", "description": "Data", "description_en": "Date"},
        {"name": "kind", "type": "string", "description": "Tipo: tappa del tour o incontro finale",
         "description_en": "Kind: a stop of the tour or the final meeting",
         "constraints": {"required": True, "enum": ["tappa", "finale"]}},
        {"name": "status", "type": "string",
         "description": "Stato: svolto, programmato o annullato",
         "description_en": "Status: held, scheduled or cancelled",
         "constraints": {"required": True, "enum": ["svolto", "programmato", "annullato"]}},
        {"name": "venue", "type": "string", "description": "Luogo", "description_en": "Venue"},
        {"name": "attendance_persons", "type": "integer", "description": "Persone presenti",
         "description_en": "People attending"},
        {"name": "attendance_organisations", "type": "integer",
         "description": "Organizzazioni presenti", "description_en": "Organisations attending"},
        {"name": "programme", "type": "string", "description": "Programma (indirizzo)",
         "description_en": "Programme (address)"},
        {"name": "source_line", "type": "integer",
         "description": "Riga del file sorgente in cui inizia l'evento in events.yaml",
         "description_en": "Line of the source file where the event in events.yaml starts"},
    ],
    "missingValues": [""],
    "primaryKey": ["id"],
    "foreignKeys": [{"fields": ["province"], "reference": {"resource": "provinces",
                                                           "fields": ["id"]}}],
}


def test_the_events_schema_whole(release):
    package = json.loads((release / "datapackage.json").read_text(encoding="utf-8"))
    events = next(r for r in package["resources"] if r["name"] == "events")
    assert EVENTS_SCHEMA == events["schema"]
    assert EVENTS_SCHEMA == table_schema(next(t for t in TABLES if t.name == "events"))


def test_frictionless_rejects_a_value_outside_an_enum(release, tmp_path):
    """The enum constraints are enforced, not only written: a kind outside them fails."""
    broken = tmp_path / "broken"
    shutil.copytree(release, broken)
    package = json.loads((broken / "datapackage.json").read_text(encoding="utf-8"))
    path = broken / "data" / "events.csv"
    text = path.read_text(encoding="utf-8").replace(",tappa,", ",tappona,", 1)
    path.write_text(text, encoding="utf-8", newline="")
    events = next(r for r in package["resources"] if r["name"] == "events")
    del events["bytes"], events["hash"]
    (broken / "datapackage.json").write_text(json.dumps(package), encoding="utf-8")
    report = validate(str(broken / "datapackage.json"))
    assert [("constraint-error", "kind")] == [(e.type, e.field_name) for task in report.tasks
                                              for e in task.errors]


def test_sample_package_has_temporal_spatial_and_sources(sample_build, tmp_path):
    kb_path, _ = sample_build
    out = publish(kb_path, tmp_path / "sample").out_dir
    package = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    project = project_row(out / "cotour.db")
    assert {"start": project["temporal_start"], "end": project["temporal_end"]} \
        == package["temporal"]
    assert project["spatial"] == package["spatial"]
    assert [{k: v for k, v in s.items() if v} for s in project["sources"]] == package["sources"]
    assert check_release(out).valid


# ---- the DCAT-AP_IT record ---------------------------------------------------------------------

def test_record_has_every_mandatory_property(record):
    assert [] == missing_mandatory(record)
    kinds = [key.split()[0] for key in mandatory_values(record)]
    # a distribution per CSV, plus cotour.db, cotour.xlsx, datapackage.json, the REFI-QDA
    # project and codebook, and the zip
    assert (1, 1, len(PUBLISHED) + 6) == (kinds.count("catalog"), kinds.count("dataset"),
                                          kinds.count("distribution"))


def test_record_values_come_from_the_project(record):
    dataset = next(record.subjects(RDF.type, DCAT.Dataset))
    assert "12345678903:co-tour-viaggio-nella-nuova-mutualita" \
        == str(record.value(dataset, DCT.identifier))
    assert {URIRef(f"{EU}data-theme/SOCI")} == set(record.objects(dataset, DCAT.theme))
    assert URIRef(f"{EU}frequency/IRREG") == record.value(dataset, DCT.accrualPeriodicity)
    assert "2016-03-31" == str(record.value(dataset, DCT.modified))
    holder = record.value(dataset, DCT.rightsHolder)
    assert "Confcooperative Emilia Romagna" == str(record.value(holder, FOAF.name))
    distributions = set(record.objects(dataset, DCAT.distribution))
    codes = ("CSV", "BIN", "XLSX", "JSON", "ZIP", "XML")
    assert {URIRef(f"{EU}file-type/{code}") for code in codes} \
        == {record.value(d, DCT.format) for d in distributions}
    licence = URIRef("https://w3id.org/italia/controlled-vocabulary/licences/A21_CCBY40")
    assert {licence} == {record.value(d, DCT.license) for d in distributions}


def test_csv_distributions_download_the_release_file_and_show_the_datasette_table(record,
                                                                                 release):
    findings = URIRef("https://dati.example.org/cotour/opendata/data/findings.csv#distribution")
    assert (URIRef("https://dati.example.org/cotour/opendata/data/findings.csv"),
            URIRef("https://dati.example.org/cotour/cotour/findings")) \
        == (record.value(findings, DCAT.downloadURL), record.value(findings, DCAT.accessURL))
    assert (release / "data" / "findings.csv").stat().st_size \
        == int(float(record.value(findings, DCAT.byteSize)))


@pytest.mark.parametrize("version, name", [("2.1.1", "dcat-ap_it.ttl"), ("3.0.1", "dcat-ap.ttl")])
def test_each_record_conforms_to_its_dcat_ap_version(release, version, name):
    conforms, text = shacl_report(Graph().parse(release / name, format="turtle"), version)
    assert conforms, text


def test_the_two_records_differ_only_in_sizes_and_checksums(release):
    """DCAT-AP 2.1.1 types dcat:byteSize as xsd:decimal and takes only SHA-1; 3.0.1 wants
    xsd:nonNegativeInteger (SHA-256 used): the rest is the same graph."""
    from rdflib.namespace import DCAT as D

    spdx = "http://spdx.org/rdf/terms#"

    def rest(name):
        g = Graph().parse(release / name, format="turtle")
        return {(s, p, o) for s, p, o in g
                if p != D.byteSize and not str(p).startswith(spdx) and not str(o).startswith(spdx)}

    assert rest("dcat-ap_it.ttl") == rest("dcat-ap.ttl")


def test_record_conforms_to_the_dcat_ap_shapes(record):
    conforms, text = shacl_report(record)
    assert conforms, text


def test_the_shapes_catch_a_record_without_a_title(record):
    broken = Graph()
    for triple in record:
        broken.add(triple)
    broken.remove((None, DCT.title, None))
    conforms, text = shacl_report(broken)
    assert not conforms
    assert "dct:title" in text or "http://purl.org/dc/terms/title" in text


def test_every_eu_theme_code_has_its_authority_labels():
    assert ["AGRI", "ECON", "EDUC", "ENER", "ENVI", "GOVE", "HEAL", "INTR", "JUST", "REGI",
            "SOCI", "TECH", "TRAN"] == sorted(EU_THEMES)
    assert all(it and en and it != en for it, en in EU_THEMES.values())


@pytest.mark.parametrize("old, new, expected", [
    ("licence: CC-BY-4.0", "licence: GPL-3.0",
     "project.yaml:7: error: licence 'GPL-3.0' is not one of the SPDX identifiers with a code in "
     "the EU licence table"),
    ("eu_theme: SOCI", "eu_theme: SOCY",
     "project.yaml:10: error: unknown EU data theme 'SOCY'; did you mean 'SOCI'?"),
    ("frequency: IRREG", "frequency: SOMETIMES",
     "project.yaml:11: error: invalid frequency 'SOMETIMES'"),
])
def test_check_reports_what_the_record_cannot_carry_at_its_line(tmp_path, old, new, expected):
    """Validated once, by the reader: `cotour check` names the line."""
    data = tmp_path / "data"
    shutil.copytree(MINI, data)
    path = data / "project.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", "--data", str(data)])
    assert 1 == result.exit_code
    lines = [line for line in result.stderr.splitlines() if "project.yaml" in line]
    assert 1 == len(lines), lines
    assert lines[0].startswith(f"{data}/{expected}"), lines


# ---- README, LICENSE, metadata.yml -------------------------------------------------------------

@pytest.mark.parametrize("illustrative, says", [(1, True), (0, False)])
def test_readme_says_when_the_data_are_illustrative(release, illustrative, says):
    project = project_row(release / "cotour.db") | {"illustrative": illustrative}
    text = dataset_readme(project, {})
    assert says == ("Illustrative data" in text and "Dati illustrativi" in text)


def test_readme_lists_every_table_and_column_and_how_to_cite(release):
    text = (release / "README.md").read_text(encoding="utf-8")
    for table in published_tables():
        assert f"### `{table.name}`" in text
        for column in table.public_columns:
            assert f"| `{column.name}` |" in text
    assert "datasette cotour.db -m metadata.yml" in text
    assert "## Come citare / How to cite" in text
    assert "Creative Commons Attribution 4.0 International (CC-BY-4.0)" in text
    assert "**Illustrative data.**" in text


def test_licence_file_names_the_licence(release):
    text = (release / "LICENSE").read_text(encoding="utf-8")
    assert LICENCES["CC-BY-4.0"].url in text
    assert "Confcooperative Emilia Romagna" in text


def test_metadata_yml_is_the_public_datasettes_metadata(mini_build, release):
    from kb.serve.metadata import metadata

    _, public_path = mini_build
    written = (release / "metadata.yml").read_text(encoding="utf-8")
    assert metadata(public_path) == yaml.safe_load(written)


def test_datasette_serves_the_release_with_its_metadata_at_the_same_addresses(release):
    from datasette.app import Datasette

    metadata = yaml.safe_load((release / "metadata.yml").read_text(encoding="utf-8"))
    assert "cotour" in metadata["databases"]
    with open(release / "data" / "findings.csv", encoding="utf-8", newline="") as fp:
        finding_id = next(csv.DictReader(fp))["id"]

    async def fetch():
        ds = Datasette([str(release / "cotour.db")], metadata=metadata)
        await ds.invoke_startup()
        table = await ds.client.get("/cotour/findings.json?_shape=objects&_size=1")
        row = await ds.client.get(f"/cotour/findings/{finding_id}.json?_shape=objects")
        return table, row

    table, row = asyncio.run(fetch())
    assert 200 == table.status_code
    assert 200 == row.status_code
    assert finding_id == row.json()["rows"][0]["id"]


# ---- privacy -----------------------------------------------------------------------------------



@pytest.fixture(scope="module")
def canary_release(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("canary")
    data = root / "data"
    shutil.copytree(MINI, data)
    plant_canaries(data)
    result = build(data, root / "build" / "cotour.db")
    return result.db_path, publish(result.db_path, root / "build" / "opendata").out_dir


def test_canaries_are_in_the_knowledge_base(canary_release):
    kb_path, _ = canary_release
    with sqlite3.connect(kb_path) as conn:
        dump = "\n".join(conn.iterdump()).lower()
    assert [] == [name for name, canary in CANARIES.items() if canary not in dump]


def test_no_personal_name_and_no_internal_note_anywhere_in_the_release(canary_release):
    _, out = canary_release
    blobs = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    for name in [n for n in blobs if n.endswith(".zip")]:
        with zipfile.ZipFile(out / name) as zf:
            blobs.update({f"{name}!{m}": zf.read(m) for m in zf.namelist()})
    assert any("!" in name for name in blobs)
    leaks = [(name, canary) for name, blob in blobs.items() for canary in CANARIES.values()
             if canary.encode() in blob.lower()]
    assert [] == leaks


def test_the_canary_release_is_still_valid(canary_release):
    _, out = canary_release
    assert [] == check_release(out).problems


# ---- checking a release, and the command line --------------------------------------------------

def test_check_release_accepts_a_release(release):
    report = check_release(release)
    assert [] == report.problems
    assert PUBLISHED == list(report.rows)


def test_check_release_finds_a_changed_file_and_a_broken_key(release, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(release, broken)
    path = broken / "data" / "findings.csv"
    text = path.read_text(encoding="utf-8")
    with open(path, encoding="utf-8", newline="") as fp:
        first = list(csv.DictReader(fp))[0]
    path.write_text(text.replace(first["note_id"], "no-such-note", 1), encoding="utf-8", newline="")
    problems = check_release(broken).problems
    assert "data/findings.csv: checksum does not match SHA256SUMS" in problems
    assert any("foreign-key" in p and "no-such-note" in p for p in problems), problems


def test_cli_publish_then_check(mini_build, tmp_path):
    kb_path, _ = mini_build
    out = tmp_path / "opendata"
    runner = CliRunner()
    result = runner.invoke(cli, ["publish", "--db", str(kb_path), "--out", str(out)])
    assert 0 == result.exit_code, result.output
    assert f"{out}: open dataset — {len(PUBLISHED)} tables" in result.output
    result = runner.invoke(cli, ["publish", "--check", str(out)])
    assert 0 == result.exit_code, result.output
    assert ("valid (frictionless, SHA256SUMS, zip, DCAT-AP 2.1.1 and 3.0.1, CITATION.cff, "
            "schema.org, workbook)") in result.output


def test_cli_check_fails_on_a_tampered_release(release, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(release, broken)
    (broken / "LICENSE").write_text("changed")
    result = CliRunner().invoke(cli, ["publish", "--check", str(broken)])
    assert 1 == result.exit_code
    assert f"{broken}: error: LICENSE: checksum does not match SHA256SUMS" in result.output


def test_cli_publish_without_a_build_says_what_to_do(tmp_path):
    result = CliRunner().invoke(cli, ["publish", "--db", str(tmp_path / "cotour.db"),
                                      "--out", str(tmp_path / "out")])
    assert 1 == result.exit_code
    assert "run 'cotour build' first" in result.output


# ---- the CSV lines publish writes a column at a time are the csv module's -----------------------


_FIELD = st.one_of(st.none(), st.integers(), st.floats(allow_nan=True),
                   st.text(alphabet=st.sampled_from('ab ,"\r\n\t;\'x\x00é')),
                   st.text(), st.binary(max_size=4))


@settings(max_examples=300)
@given(st.integers(1, 4).flatmap(lambda n: st.lists(st.tuples(*[_FIELD] * n), max_size=6)))
def test_csv_lines_are_what_the_csv_module_writes(rows):
    import io

    from kb.release.tables import csv_lines, csv_writer, write_csv_rows

    out = io.StringIO(newline="")
    write_csv_rows(csv_writer(out), rows)
    assert out.getvalue() == csv_lines(rows)


def test_csv_lines_quote_by_hand():
    from kb.release.tables import csv_lines

    rows = [("a", None, 3, 0.5, 'di "lui"'), ("b,c", "", -1, 1e-07, "riga\r\nnuova")]
    assert ('a,,3,0.5,"di ""lui"""\r\n'
            '"b,c",,-1,1e-07,"riga\r\nnuova"\r\n') == csv_lines(rows)
