"""Every canned query's exact answer on tests/fixtures/canned, worked out by hand.

The fixture is made so that each condition of each query changes its answer: Gamma is only
mentioned (never a source), Delta only hosts an event, Epsilon only takes part in a note,
Theta is not from the mapping; a theme has two practices in one province (not recurring);
Bologna holds a stop and the final meeting. The findings, by the text they start with:

    Parma 2015-12-09, tavolo (participants Alfa, Beta; host Alfa)
      P1 practice  spazi       source Alfa (tradizionale)
      P2 practice  agricoltura source Beta (emergente), Alfa mentioned
      P3 practice  finanza     -
      P6 practice  finanza     -
      T1 threat    finanza     source Beta
      T2 threat    welfare     source Alfa
    Ravenna 2015-12-09, tavolo
      R1 problem   finanza     -
    Bologna 2015-12-10, plenaria (participant Epsilon; host Delta)
      P4 practice  coworking (a sub-theme of spazi)
      P5 practice  spazi
      B1 problem   finanza     source Zeta (emergente)
      T3 threat    welfare     source Zeta
      T4 threat    finanza     Gamma (tradizionale) and Beta mentioned
    Bologna (incontro finale) 2016-03-18, sintesi
      F1 proposal  spazi       source Alfa
"""

import asyncio
import json
import sqlite3

import pytest

from kb.serve.canned import CannedQueryError, parse_query, read_queries
from kb.pipeline import build
from kb.store.search import search
from kb.serve.app import PUBLIC_NAME, make_datasette

from conftest import FIXTURES

LOOP = asyncio.new_event_loop()

STARTS = {
    "P1": "[[!alfa]] apre", "P2": "[[!beta]] gestisce", "P3": "Un fondo", "P6": "Un gruppo",
    "T1": "[[!beta]] teme", "T2": "[[!alfa]] vede", "R1": "Mancano fondi",
    "P4": "Un coworking", "P5": "Le sale", "B1": "[[!zeta]] non trova",
    "T3": "[[!zeta]] teme", "T4": "[[gamma]] e", "F1": "[[!alfa]] propone",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    result = build(FIXTURES / "canned", tmp_path_factory.mktemp("canned") / "cotour.db")
    return result.public_path


@pytest.fixture(scope="module")
def ds(built):
    return make_datasette(built)


@pytest.fixture(scope="module")
def F(built):
    """Finding id and text by the names of the module's docstring."""
    conn = sqlite3.connect(built)
    found = {}
    for key, start in STARTS.items():
        (row,) = conn.execute("select id, text from findings where text like ? || '%'",
                              [start]).fetchall()
        found[key] = row
    return {key: row[0] for key, row in found.items()} | {
        key + "_text": row[1] for key, row in found.items()}


def rows(ds, name, **params):
    response = LOOP.run_until_complete(ds.client.get(
        f"/{PUBLIC_NAME}/{name}.json", params={"_shape": "objects", "_size": "max", **params}))
    assert 200 == response.status_code, response.text
    return response.json()["rows"]


def ids(*keys, F):
    return json.dumps(sorted(F[k] for k in keys), separators=(",", ":"))


def test_every_query_file_is_pinned_here():
    assert ["cerca", "contaminazioni", "ibridazioni_per_organizzazione", "iniziative_e_origini",
            "mappate_mai_presenti", "minacce_emergenti_e_tradizionali",
            "organizzazioni_per_provincia", "organizzazioni_piu_citate", "pratiche_ricorrenti",
            "risultati_con_due_organizzazioni", "risultati_per_tappa", "risultati_per_tema",
            "temi_per_provincia"] == [q.name for q in read_queries()]


# -- pratiche_ricorrenti ---------------------------------------------------------------------

def test_recurring_practices(ds, F):
    # finanza has two practices, both in Parma: two findings, one province, so not recurring.
    assert [{"tema_id": "spazi-condivisi", "tema": "Spazi condivisi", "n_province": 2,
             "province": "BO, PR", "n_risultati": 2, "risultati": ids("P1", "P5", F=F)}] \
        == rows(ds, "pratiche_ricorrenti", tipo="")


@pytest.mark.parametrize("tipo", ["threat", "Minacce", " minacce ", "THREATS"])
def test_recurring_threats_by_label_or_id(ds, F, tipo):
    assert [{"tema_id": "finanza-mutualistica", "tema": "Finanza mutualistica", "n_province": 2,
             "province": "BO, PR", "n_risultati": 2, "risultati": ids("T1", "T4", F=F)},
            {"tema_id": "welfare-di-comunita", "tema": "Welfare di comunità", "n_province": 2,
             "province": "BO, PR", "n_risultati": 2, "risultati": ids("T2", "T3", F=F)}] \
        == rows(ds, "pratiche_ricorrenti", tipo=tipo)


def test_recurring_problems(ds, F):
    assert [{"tema_id": "finanza-mutualistica", "tema": "Finanza mutualistica", "n_province": 2,
             "province": "BO, RA", "n_risultati": 2, "risultati": ids("B1", "R1", F=F)}] \
        == rows(ds, "pratiche_ricorrenti", tipo="problem")


# -- minacce_emergenti_e_tradizionali -------------------------------------------------------

def test_threats_raised_by_both_profiles(ds, F):
    # finanza: Beta (emergente) raised T1; Gamma (tradizionale) is only mentioned in T4.
    assert [{"tema_id": "welfare-di-comunita", "tema": "Welfare di comunità", "n_risultati": 2,
             "da_emergenti": ids("T3", F=F), "da_tradizionali": ids("T2", F=F)}] \
        == rows(ds, "minacce_emergenti_e_tradizionali", tipo="")


def test_practices_raised_by_both_profiles(ds):
    assert [] == rows(ds, "minacce_emergenti_e_tradizionali", tipo="Buone pratiche")


# -- temi_per_provincia ----------------------------------------------------------------------

def by_province(tema_id, tema, totale, **counts):
    return {"tema_id": tema_id, "tema": tema, "totale": totale,
            **{p: counts.get(p, 0) for p in ("PC", "PR", "RE", "MO", "BO", "FE", "RA", "FC", "RN")}}


def test_themes_by_province(ds):
    assert [by_province("finanza-mutualistica", "Finanza mutualistica", 6, PR=3, BO=2, RA=1),
            by_province("spazi-condivisi", "Spazi condivisi", 3, PR=1, BO=2),
            by_province("welfare-di-comunita", "Welfare di comunità", 2, PR=1, BO=1),
            by_province("agricoltura-sociale", "Agricoltura sociale", 1, PR=1),
            by_province("coworking", "Coworking", 1, BO=1)] \
        == rows(ds, "temi_per_provincia", tipo="")


def test_themes_by_province_of_threats(ds):
    assert [by_province("finanza-mutualistica", "Finanza mutualistica", 2, PR=1, BO=1),
            by_province("welfare-di-comunita", "Welfare di comunità", 2, PR=1, BO=1),
            by_province("agricoltura-sociale", "Agricoltura sociale", 0),
            by_province("coworking", "Coworking", 0),
            by_province("spazi-condivisi", "Spazi condivisi", 0)] \
        == rows(ds, "temi_per_provincia", tipo="Minacce")


# -- organizzazioni_piu_citate ---------------------------------------------------------------

ALFA = {"organizzazione_id": "alfa", "organizzazione": "Alfa Coop", "profilo": "tradizionale",
        "provincia": "PR", "risultati": 4, "come_fonte": 3, "tappe": 2,
        "dove": "Parma: 3, Bologna (incontro finale): 1"}
BETA = {"organizzazione_id": "beta", "organizzazione": "Beta Lab APS", "profilo": "emergente",
        "provincia": "PR", "risultati": 3, "come_fonte": 2, "tappe": 2,
        "dove": "Parma: 2, Bologna: 1"}
ZETA = {"organizzazione_id": "zeta", "organizzazione": "Zeta Startup", "profilo": "emergente",
        "provincia": "RA", "risultati": 2, "come_fonte": 2, "tappe": 1, "dove": "Bologna: 2"}
GAMMA = {"organizzazione_id": "gamma", "organizzazione": "Gamma Consorzio",
         "profilo": "tradizionale", "provincia": "BO", "risultati": 1, "come_fonte": 0,
         "tappe": 1, "dove": "Bologna: 1"}


def test_most_mentioned_organisations(ds):
    assert [ALFA, BETA, ZETA, GAMMA] == rows(ds, "organizzazioni_piu_citate", profilo="")


def test_most_mentioned_emerging_organisations(ds):
    assert [BETA, ZETA] == rows(ds, "organizzazioni_piu_citate", profilo="Emergente")


# -- risultati_con_due_organizzazioni --------------------------------------------------------

def test_findings_naming_two_organisations(ds, F):
    assert [{"risultato_id": F["P2"], "tipo": "Buone pratiche", "tappa": "Parma",
             "data": "2015-12-09", "nota": "Tavolo di Parma", "testo": F["P2_text"],
             "organizzazioni": '["beta", "alfa"]'}] \
        == rows(ds, "risultati_con_due_organizzazioni", organizzazione_1="Alfa Coop",
                organizzazione_2="beta")
    assert [F["T4"]] == [r["risultato_id"] for r in rows(
        ds, "risultati_con_due_organizzazioni", organizzazione_1="gamma consorzio",
        organizzazione_2="Beta Lab APS")]
    assert [] == rows(ds, "risultati_con_due_organizzazioni", organizzazione_1="alfa",
                      organizzazione_2="zeta")


# -- risultati_per_tappa ---------------------------------------------------------------------

KINDS = ["Buone pratiche", "Problemi", "Opportunità", "Minacce", "Strategie", "Frustrazioni",
         "Soddisfazioni", "Proposte", "Sinergie"]


def per_event(tappa_id, tappa, data, tipo_evento, note, risultati, **counts):
    return {"tappa_id": tappa_id, "tappa": tappa, "data": data, "tipo_evento": tipo_evento,
            "stato": "svolto", "note": note, "risultati": risultati,
            **{k: counts.get(k.split()[-1].lower(), 0) for k in KINDS}}


def test_what_each_event_produced(ds):
    assert [per_event("parma-2015", "Parma", "2015-12-09", "tappa", 1, 6, pratiche=4, minacce=2),
            per_event("ravenna-2015", "Ravenna", "2015-12-09", "tappa", 1, 1, problemi=1),
            per_event("bologna-2015", "Bologna", "2015-12-10", "tappa", 1, 5, pratiche=2,
                      problemi=1, minacce=2),
            per_event("finale-2016", "Bologna (incontro finale)", "2016-03-18", "finale", 1, 1,
                      proposte=1)] \
        == rows(ds, "risultati_per_tappa")


# -- iniziative_e_origini --------------------------------------------------------------------

RETE = {"iniziativa_id": "rete-spazi", "iniziativa": "Rete degli spazi", "stato": "avviata",
        "nata_da": "Parma (2015-12-09), Bologna (2015-12-10)",
        "organizzazioni": "Alfa Coop, Beta Lab APS", "temi": "Spazi condivisi",
        "descrizione": None}
FONDO = {"iniziativa_id": "fondo-comune", "iniziativa": "Fondo comune", "stato": "proposta",
         "nata_da": "Ravenna (2015-12-09)", "organizzazioni": "Zeta Startup",
         "temi": "Finanza mutualistica, Welfare di comunità", "descrizione": None}


def test_initiatives_and_their_origins(ds):
    assert [FONDO, RETE] == rows(ds, "iniziative_e_origini", stato="")
    assert [RETE] == rows(ds, "iniziative_e_origini", stato="Avviata")


# -- mappate_mai_presenti --------------------------------------------------------------------

GAMMA_ROW = {"organizzazione_id": "gamma", "organizzazione": "Gamma Consorzio",
             "forma_giuridica": "consorzio", "profilo": "tradizionale", "settore": "servizi",
             "provincia": "BO", "comune": "Bologna"}
ETA_ROW = {"organizzazione_id": "eta", "organizzazione": "Eta Fondazione",
           "forma_giuridica": "fondazione", "profilo": "tradizionale", "settore": "cultura",
           "provincia": "RA", "comune": "Faenza"}


def test_mapped_organisations_never_present(ds):
    # Not Delta (hosted Bologna), Epsilon (took part), Zeta (raised findings), Theta (not
    # mapped), Alfa and Beta (everything); Gamma is only mentioned, Eta never appears.
    assert [GAMMA_ROW, ETA_ROW] == rows(ds, "mappate_mai_presenti", provincia="")


@pytest.mark.parametrize("provincia", ["RA", "ra", "Ravenna"])
def test_mapped_organisations_never_present_in_a_province(ds, provincia):
    assert [ETA_ROW] == rows(ds, "mappate_mai_presenti", provincia=provincia)


# -- contaminazioni --------------------------------------------------------------------------

def test_findings_joining_both_profiles(ds, F):
    p2 = {"risultato_id": F["P2"], "tipo": "Buone pratiche", "tappa": "Parma",
          "data": "2015-12-09", "testo": F["P2_text"],
          "organizzazioni": "Beta Lab APS (emergente), Alfa Coop (tradizionale)"}
    t4 = {"risultato_id": F["T4"], "tipo": "Minacce", "tappa": "Bologna", "data": "2015-12-10",
          "testo": F["T4_text"],
          "organizzazioni": "Beta Lab APS (emergente), Gamma Consorzio (tradizionale)"}
    assert [p2, t4] == rows(ds, "contaminazioni", tipo="")
    assert [t4] == rows(ds, "contaminazioni", tipo="threat")


# -- risultati_per_tema ----------------------------------------------------------------------

def test_findings_of_a_theme_and_its_sub_themes(ds, F):
    found = rows(ds, "risultati_per_tema", tema="Spazi condivisi")
    assert [F[k] for k in ("P1", "P4", "P5", "F1")] == [r["risultato_id"] for r in found]
    assert {"risultato_id": F["P4"], "tipo": "Buone pratiche", "tappa": "Bologna",
            "data": "2015-12-10", "testo": F["P4_text"], "temi": '["coworking"]',
            "organizzazioni": "[]"} == found[1]
    assert [F["P4"]] == [r["risultato_id"] for r in rows(ds, "risultati_per_tema",
                                                          tema="coworking")]


# -- organizzazioni_per_provincia ------------------------------------------------------------

def test_organisations_by_province(ds):
    def row(p, nome, totale=0, emergenti=0, tradizionali=0, cooperative=0, mappate=0):
        return {"provincia": p, "nome": nome, "totale": totale, "emergenti": emergenti,
                "tradizionali": tradizionali, "cooperative": cooperative, "mappate": mappate}
    # Cooperatives: Alfa (cooperativa), Gamma (consorzio), Epsilon (cooperativa sociale).
    assert [row("PC", "Piacenza"), row("PR", "Parma", 3, 2, 1, 1, 2),
            row("RE", "Reggio Emilia"), row("MO", "Modena"),
            row("BO", "Bologna", 3, 1, 2, 2, 3), row("FE", "Ferrara"),
            row("RA", "Ravenna", 2, 1, 1, 0, 2), row("FC", "Forlì-Cesena"),
            row("RN", "Rimini")] == rows(ds, "organizzazioni_per_provincia")


# -- ibridazioni_per_organizzazione ----------------------------------------------------------

def pair_row(built, stato, pair):
    """A pair as the query shows it; score and reason are the hybridisation's, tested there."""
    conn = sqlite3.connect(built)
    rank, score, rank_score, reason, evidence = conn.execute(
        "select rank, score, rank_score, reason, evidence_findings from hybrid_pairs "
        "where id = ?", [pair]).fetchone()
    emerging, traditional = pair.split("--")
    names = dict(conn.execute("select id, name from organisations"))
    return {"stato": stato, "posizione": rank, "punteggio": score,
            "punteggio_classifica": rank_score, "emergente_id": emerging,
            "emergente": names[emerging], "tradizionale_id": traditional,
            "tradizionale": names[traditional], "motivo": reason, "risultati": evidence,
            "coppia_id": pair}


def test_hybridisations_of_an_organisation(ds, built):
    assert [pair_row(built, "possibile", "beta--gamma"),
            pair_row(built, "già avviata", "beta--alfa")] \
        == rows(ds, "ibridazioni_per_organizzazione", organizzazione="Beta Lab APS")
    assert ["beta--gamma", "zeta--gamma"] == [
        r["coppia_id"] for r in rows(ds, "ibridazioni_per_organizzazione",
                                     organizzazione="gamma")]
    assert ["beta--gamma", "zeta--gamma", "beta--alfa"] == [
        r["coppia_id"] for r in rows(ds, "ibridazioni_per_organizzazione", organizzazione="")]


# -- cerca -----------------------------------------------------------------------------------

@pytest.mark.parametrize("testo,expected", [
    ("bandi", {"T1", "T3", "T4", "parma-2015-tavolo"}),
    ("bandi OR credito", {"T1", "T3", "T4", "B1", "parma-2015-tavolo", "bologna-2015-plenaria"}),
    ("bandi NOT burocrazia", {"T1", "T4", "parma-2015-tavolo"}),
    ('"sale parrocchiali"', {"P5"}),
    ('"parrocchiali sale"', set()),
    ("cowork*", {"P4", "bologna-2015-plenaria"}),
])
def test_search(ds, built, F, testo, expected):
    found = rows(ds, "cerca", testo=testo)
    assert {F.get(k, k) for k in expected} == {r["id"] for r in found}
    assert [h.id for h in search(built, testo, limit=100)] == [r["id"] for r in found]


# -- the files -------------------------------------------------------------------------------

@pytest.mark.parametrize("text,message", [
    ("select 1\n", "x.sql:1: error: the header has no '-- title:'"),
    ("-- title: T\n-- description: D\n-- param tipo: colours\nselect :tipo\n",
     "x.sql:3: error: a parameter is written '-- param NAME: KIND'"),
    ("-- title: T\n-- description: D\nselect :tipo\n",
     "x.sql:1: error: the header declares parameters [] but the SQL uses ['tipo']"),
    ("-- title: T\n-- descrizione: D\nselect 1\n", "x.sql:2: error: a header line is"),
])
def test_a_bad_query_file_says_where(tmp_path, text, message):
    path = tmp_path / "x.sql"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CannedQueryError) as error:
        parse_query(path)
    assert str(error.value).startswith(f"{tmp_path}/{message}")
