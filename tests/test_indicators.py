"""The results framework: project.yaml's ``funder`` and ``objectives`` read and checked at
their lines, the ``indicators`` table computed from the public database (values worked out by
hand on the mini fixture), and carried by the report, Datasette and the open dataset."""

import shutil
import sqlite3

import pytest

from kb.pipeline import build, check

from conftest import MINI

FUNDER = """funder: {name: Regione Emilia-Romagna, id: "80062590379",
         programme: "Bando per l'innovazione sociale 2015"}
"""
# The mini fixture met by hand: Parma (held, 30 persons) had Il Mosaico (host, participant,
# source), Orti Ribelli (participant, source); Bologna (held) had Kilowatt (participant,
# source); the final meeting is scheduled. Public findings: 3 at each held event.
OBJECTIVES = """objectives:
  - id: tour
    text: Incontrare le realtà in ogni capoluogo
    indicators:
      - {id: tappe, label: Tappe svolte, measure: events_held, target: 3,
         note: La terza tappa è stata rinviata.}
      - {id: calendario, label: Tappe in calendario, measure: events_planned, target: 2}
      - {id: province, label: Province raggiunte, measure: provinces_reached, target: 2}
      - {id: mappate, label: Organizzazioni mappate, measure: organisations_mapped, target: 2}
      - {id: incontrate, label: Organizzazioni presenti, measure: organisations_met, target: 4}
      - {id: presenze, label: Presenze, measure: attendance, target: 25}
  - id: contaminazione
    text: Far incontrare emergenti e tradizionali
    indicators:
      - {id: emergenti, label: Emergenti presenti, measure: emerging_met, target: 2}
      - {id: tradizionali, label: Tradizionali presenti, measure: traditional_met, target: 1}
      - {id: coppie, label: Coppie sedute insieme, measure: pairs_met, target: 1}
      - {id: risultati, label: Risultati, measure: findings, target: 10}
      - {id: pratiche, label: Buone pratiche, measure: "findings:practice", target: 2}
      - {id: frustrazioni, label: Frustrazioni pubbliche, measure: "findings:frustration", target: 0}
      - {id: iniziative, label: Iniziative, measure: initiatives_launched, target: 1}
      - {id: avviate, label: Iniziative avviate, measure: initiatives_started, target: 1}
      - {id: soddisfatti, label: Soddisfatti, value: 0.87, source: questionario, target: 0.8,
         unit: share}
"""
EXPECTED = [  # (id, objective, target, actual, difference)
    ("tappe", "tour", 3, 2, -1), ("calendario", "tour", 2, 2, 0),
    ("province", "tour", 2, 2, 0), ("mappate", "tour", 2, 2, 0),
    ("incontrate", "tour", 4, 3, -1), ("presenze", "tour", 25, 30, 5),
    ("emergenti", "contaminazione", 2, 2, 0), ("tradizionali", "contaminazione", 1, 1, 0),
    # Orti Ribelli and Il Mosaico at Parma; Kilowatt never sat with Il Mosaico
    ("coppie", "contaminazione", 1, 1, 0),
    ("risultati", "contaminazione", 10, 6, -4), ("pratiche", "contaminazione", 2, 2, 0),
    # the only frustration is in the internal debriefing
    ("frustrazioni", "contaminazione", 0, 0, 0),
    ("iniziative", "contaminazione", 1, 1, 0), ("avviate", "contaminazione", 1, 1, 0),
    ("soddisfatti", "contaminazione", 0.8, 0.87, 0.07),
]


@pytest.fixture(scope="module")
def funded(tmp_path_factory):
    """The mini fixture with a funder and a results framework, built."""
    data = tmp_path_factory.mktemp("funded") / "data"
    shutil.copytree(MINI, data)
    with open(data / "project.yaml", "a", encoding="utf-8") as f:
        f.write(FUNDER + OBJECTIVES)
    result = build(data, data.parent / "build" / "cotour.db")
    return data, result


def test_indicators_computed_from_the_public_database(funded):
    _, result = funded
    for path in (result.db_path, result.public_path):
        conn = sqlite3.connect(path)
        rows = conn.execute("select id, objective_id, target, actual, difference from indicators "
                            "order by objective_position, position").fetchall()
        conn.close()
        assert EXPECTED == rows


def test_funder_in_the_project_row(funded):
    _, result = funded
    conn = sqlite3.connect(result.public_path)
    assert [("Regione Emilia-Romagna", "80062590379", "Bando per l'innovazione sociale 2015")] == \
        conn.execute("select funder_name, funder_id, funder_programme from project").fetchall()
    conn.close()


BAD = [
    ("      - {id: x, label: X, measure: event_held, target: 9}\n",
     "error: unknown measure 'event_held'; did you mean 'events_held'?"),
    ("      - {id: x, label: X, measure: events_held, target: nove}\n",
     "error: 'target' must be a number, not 'nove'"),
    ("      - {id: x, label: X, value: 0.9, target: 0.8, unit: share}\n",
     "error: a given 'value' needs its 'source'"),
    ("      - {id: x, label: X, value: 0.9, source: q, target: 80%, unit: share}\n",
     "error: 'target' must be a number, not '80%' (a share is written 0.8, not 80%)"),
    ("      - {id: x, label: X, value: 90, source: q, target: 0.8, unit: share}\n",
     "error: 'value' 90 is a share: write it from 0 to 1 (0.8 for 80%)"),
    ("      - {id: x, label: X, target: 3}\n",
     "error: an indicator needs a 'measure'"),
    ("      - {id: x, label: X, measure: findings:idee, target: 3}\n",
     "error: unknown measure 'findings:idee'"),
]


@pytest.mark.parametrize("line, message", BAD)
def test_a_wrong_indicator_is_reported_at_its_line(tmp_path, line, message):
    data = tmp_path / "data"
    shutil.copytree(MINI, data)
    framework = ("objectives:\n  - id: tour\n    text: Il tour\n    indicators:\n"
                 "      - {id: tappe, label: Tappe, measure: events_held, target: 2}\n" + line)
    text = (data / "project.yaml").read_text(encoding="utf-8")
    (data / "project.yaml").write_text(text + framework, encoding="utf-8")
    at = len(text.splitlines()) + 6  # the wrong indicator's line
    problems = [str(d) for d in check(data).diagnostics.sorted()]
    assert [p for p in problems if message in p] == [p for p in problems if "project.yaml" in p]
    assert any(p.startswith(f"{data / 'project.yaml'}:{at}: {message}") for p in problems), problems


def test_a_name_in_the_results_framework_is_refused(tmp_path):
    # a staff member's name in an indicator's reason would reach the report and the open data
    data = tmp_path / "data"
    shutil.copytree(MINI, data)
    text = (data / "project.yaml").read_text(encoding="utf-8")
    (data / "project.yaml").write_text(
        text + "objectives:\n  - id: tour\n    text: Il tour\n    indicators:\n"
        "      - {id: tappe, label: Tappe, measure: events_held, target: 3,\n"
        "         note: Lo dice Maria Rossi.}\n", encoding="utf-8")
    (data / "notes" / "parma-2015" / "tavolo-1.md").read_text(encoding="utf-8")  # names her
    errors = [str(d) for d in check(data).diagnostics.errors]
    assert any("project.yaml" in e and "'Maria Rossi'" in e for e in errors), errors


def test_datasette_and_the_open_dataset_carry_the_indicators(funded, tmp_path):
    import asyncio
    import csv
    import json

    from kb.release.publish import publish
    from kb.serve.app import make_datasette

    _, result = funded
    ds = make_datasette(result.public_path)
    response = asyncio.run(ds.client.get(
        "/cotour/indicators.json?_shape=objects&_sort=id&id__in=coppie,soddisfatti"))
    assert 200 == response.status_code
    assert [("coppie", "pairs_met", None, 1.0, 1.0), ("soddisfatti", None, "questionario", 0.87, 0.8)] \
        == [(r["id"], r["measure"], r["source"], r["actual"], r["target"])
            for r in response.json()["rows"]]
    out = publish(result.db_path, tmp_path / "opendata")
    package = json.loads((out.out_dir / "datapackage.json").read_text(encoding="utf-8"))
    resource = next(r for r in package["resources"] if r["name"] == "indicators")
    assert "Indicatori di risultato" in (resource.get("title") or "") + json.dumps(resource)
    with open(out.out_dir / resource["path"], encoding="utf-8") as f:
        rows = {r["id"]: r for r in csv.DictReader(f)}
    assert len(EXPECTED) == len(rows)
    assert ("1", "1", "0") == tuple(str(int(float(rows["coppie"][k]))) for k in
                                    ("target", "actual", "difference"))


def test_a_release_without_its_key_messages_is_warned(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(MINI, data)
    text = (data / "project.yaml").read_text(encoding="utf-8")
    (data / "project.yaml").write_text(text.replace("illustrative: true", "illustrative: false"),
                                       encoding="utf-8")
    message = (f"{data / 'report' / 'sintesi.md'}:1: warning: missing: the key messages the "
               "report opens with (In sintesi); write them in this file")
    assert message in [str(d) for d in check(data).diagnostics.warnings]
    (data / "report").mkdir()
    (data / "report" / "sintesi.md").write_text("- Il tour ha funzionato.\n", encoding="utf-8")
    assert not any("sintesi.md" in str(d) for d in check(data).diagnostics.warnings)
    # an example may go without
    shutil.rmtree(data / "report")
    (data / "project.yaml").write_text(text, encoding="utf-8")
    assert not any("sintesi.md" in str(d) for d in check(data).diagnostics.warnings)
