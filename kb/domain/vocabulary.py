"""Every controlled vocabulary of the knowledge base, in one place, in Italian and English.

The reader's checks, the headings' matching, the data dictionary's allowed values (and so the
schema's, Datasette's, the open dataset's constraints), the report's words and the SQL of views
and queries all take their lists and codes from here. A programme in another region, or with
another list of finding kinds, changes this module and nothing else.

A :class:`Term` is one value: its code (what the data files and the database hold), and its
Italian and English words, singular and plural, lower case as in running text (:func:`title`
capitalises them for a heading or a chart).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    id: str  # the code in data/ and in the database
    it: str  # Italian, singular
    it_plural: str
    en: str  # English, singular
    en_plural: str

    @property
    def label(self) -> str:
        """The plural as a heading or a chart's label: "Buone pratiche"."""
        return title(self.it_plural)

    @property
    def label_en(self) -> str:
        return title(self.en_plural)


@dataclass(frozen=True)
class FindingKind(Term):
    headings: tuple[str, ...] = ()  # the level-2 headings that open a section of this kind


@dataclass(frozen=True)
class LegalForm(Term):
    it_article: str = ""  # the form with its article: "la cooperativa", "l’associazione"
    cooperative: bool = False  # counts as a cooperative (is_cooperative)


@dataclass(frozen=True)
class Province:
    id: str  # the sigla
    name: str
    istat: str  # ISTAT code (Bologna is a metropolitan city: 237)
    geonames: str  # its GeoNames ADM2 feature (https://www.geonames.org/<number>)
    metropolitan: bool = False  # a città metropolitana, not a provincia

    @property
    def place(self) -> tuple[str, str]:
        """Its name as a place, Italian and English: "Provincia di Parma", "Province of Parma"."""
        if self.metropolitan:
            return f"Città metropolitana di {self.name}", f"Metropolitan City of {self.name}"
        return f"Provincia di {self.name}", f"Province of {self.name}"


def title(words: str) -> str:
    """Capitalised for a heading, a chart's label or a table's cell: "buone pratiche" -> "Buone pratiche"."""
    return words[:1].upper() + words[1:]


def ids(terms) -> tuple[str, ...]:
    """The codes of a vocabulary, in its order."""
    return tuple(t.id for t in terms)


def by_id(terms) -> dict:
    return {t.id: t for t in terms}


def spelled(words, last: str) -> str:
    """``a, b o c`` (``last`` is "e", "o", "and", "or")."""
    words = list(words)
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {last} {words[-1]}"


# --------------------------------------------------------------------------- findings

# In the order the report and Datasette present them. The headings are matched folded (case,
# accents and punctuation do not count).
FINDING_KINDS: tuple[FindingKind, ...] = (
    FindingKind("practice", "buona pratica", "buone pratiche", "good practice", "good practices",
                ("Buone pratiche", "Buone prassi", "Pratiche", "Good practices", "Practices")),
    FindingKind("problem", "problema", "problemi", "problem", "problems",
                ("Problemi", "Problematiche", "Problematiche riscontrate", "Criticità", "Problems")),
    FindingKind("opportunity", "opportunità", "opportunità", "opportunity", "opportunities",
                ("Opportunità", "Opportunities")),
    FindingKind("threat", "minaccia", "minacce", "threat", "threats",
                ("Minacce", "Rischi", "Threats")),
    FindingKind("strategy", "strategia", "strategie", "strategy", "strategies",
                ("Strategie", "Strategies")),
    FindingKind("frustration", "frustrazione", "frustrazioni", "frustration", "frustrations",
                ("Frustrazioni", "Frustrations")),
    FindingKind("satisfaction", "soddisfazione", "soddisfazioni", "satisfaction", "satisfactions",
                ("Soddisfazioni", "Satisfactions")),
    FindingKind("proposal", "proposta", "proposte", "proposal", "proposals",
                ("Proposte", "Idee", "Nuove iniziative", "Proposals")),
    FindingKind("synergy", "sinergia", "sinergie", "synergy", "synergies",
                ("Sinergie", "Collaborazioni", "Synergies")),
)
FINDING_KIND_IDS = ids(FINDING_KINDS)
FINDING_KIND = by_id(FINDING_KINDS)
# The kinds the hybridisation reads: a problem or a threat one organisation raised, answered by
# another's good practice; a synergy naming both shows a pair already at work.
PRACTICE, PROBLEM, THREAT, SYNERGY = "practice", "problem", "threat", "synergy"
PROPOSAL = "proposal"
# What the report says of the organisation that brought a finding, by its kind (agreeing with
# the Italian noun): a problem is raised, a good practice told, a proposal put forward…
RAISED_BY = {PRACTICE: "raccontata", PROBLEM: "sollevato", "opportunity": "segnalata",
             THREAT: "segnalata", "strategy": "proposta", "frustration": "espressa",
             "satisfaction": "espressa", PROPOSAL: "avanzata", SYNERGY: "raccontata"}
PROBLEM_KINDS = (PROBLEM, THREAT)

# How a finding names an organisation (finding_organisations.role).
ORGANISATION_ROLES: tuple[Term, ...] = (
    Term("source", "fonte", "fonti", "source (raised the point)", "sources"),
    Term("mentioned", "citata", "citate", "mentioned", "mentioned"),
)
SOURCE, MENTIONED = ids(ORGANISATION_ROLES)

# What a finding is to a pair of the hybridisation (hybrid_evidence.role), by finding kind.
EVIDENCE_ROLES: tuple[Term, ...] = (
    Term("problema", "problema", "problemi", "problem", "problems"),
    Term("minaccia", "minaccia", "minacce", "threat", "threats"),
    Term("pratica", "pratica", "pratiche", "practice", "practices"),
    Term("sinergia", "sinergia", "sinergie", "synergy", "synergies"),
)
EVIDENCE_ROLE_OF_KIND = dict(zip(PROBLEM_KINDS + (PRACTICE, SYNERGY), ids(EVIDENCE_ROLES)))

# --------------------------------------------------------------------------- organisations

LEGAL_FORMS: tuple[LegalForm, ...] = (
    LegalForm("cooperativa", "cooperativa", "cooperative", "cooperative", "cooperatives",
              "la cooperativa", True),
    LegalForm("cooperativa sociale", "cooperativa sociale", "cooperative sociali",
              "social cooperative", "social cooperatives", "la cooperativa sociale", True),
    LegalForm("consorzio", "consorzio", "consorzi", "consortium", "consortia", "il consorzio", True),
    LegalForm("associazione", "associazione", "associazioni", "association", "associations",
              "l’associazione"),
    LegalForm("fondazione", "fondazione", "fondazioni", "foundation", "foundations",
              "la fondazione"),
    LegalForm("impresa", "impresa", "imprese", "business", "businesses", "l’impresa"),
    LegalForm("startup", "startup", "startup", "startup", "startups", "la startup"),
    LegalForm("ente pubblico", "ente pubblico", "enti pubblici", "public body", "public bodies",
              "l’ente pubblico"),
    LegalForm("gruppo informale", "gruppo informale", "gruppi informali", "informal group",
              "informal groups", "il gruppo informale"),
    LegalForm("altro", "altra forma", "altre forme", "other form", "other forms",
              "un’altra forma"),
)
LEGAL_FORM_IDS = ids(LEGAL_FORMS)
LEGAL_FORM = by_id(LEGAL_FORMS)
COOPERATIVE_FORMS = frozenset(f.id for f in LEGAL_FORMS if f.cooperative)

PROFILES: tuple[Term, ...] = (
    Term("emergente", "attore emergente", "attori emergenti", "emerging actor", "emerging actors"),
    Term("tradizionale", "settore tradizionale", "settori tradizionali", "traditional sector",
         "traditional sectors"),
)
PROFILE_IDS = ids(PROFILES)
EMERGING, TRADITIONAL = PROFILE_IDS

# Who ran the programme (organisations.programme_role): the organisers of project.yaml, matched
# to the mapping by name as a mention is, and the organisations its `staff` key lists. They sat
# at every meeting, so meeting them says nothing: never a pair or a bridge of the hybridisation.
PROGRAMME_ROLES: tuple[Term, ...] = (
    Term("organizzatore", "organizzatore", "organizzatori", "organiser", "organisers"),
    Term("staff", "staff del programma", "staff del programma", "programme staff",
         "programme staff"),
)
PROGRAMME_ROLE_IDS = ids(PROGRAMME_ROLES)
ORGANISER, STAFF = PROGRAMME_ROLE_IDS

# --------------------------------------------------------------------------- places

# Emilia-Romagna's provinces, west to east (the order of charts and tables).
PROVINCES: tuple[Province, ...] = (
    Province("PC", "Piacenza", "033", "3171057"),
    Province("PR", "Parma", "034", "3171456"),
    Province("RE", "Reggio Emilia", "035", "3169524"),
    Province("MO", "Modena", "036", "3173330"),
    Province("BO", "Bologna", "237", "3181927", metropolitan=True),
    Province("FE", "Ferrara", "038", "3177088"),
    Province("RA", "Ravenna", "039", "3169560"),
    Province("FC", "Forlì-Cesena", "040", "3176745"),
    Province("RN", "Rimini", "099", "6457404"),  # a province since 1992: a newer GeoNames id
)
PROVINCE_IDS = ids(PROVINCES)
PROVINCE = by_id(PROVINCES)
REGION = ("Emilia-Romagna", "Emilia-Romagna")  # Italian, English
REGION_GEONAMES = "3177401"  # the region's GeoNames ADM1 feature
# A generous box around the region: points outside it are almost surely typos.
REGION_BOX = {"lat": (43.7, 45.15), "lon": (9.19, 12.76)}

# --------------------------------------------------------------------------- events and notes

EVENT_KINDS: tuple[Term, ...] = (
    Term("tappa", "tappa del tour", "tappe del tour", "stop of the tour", "stops of the tour"),
    Term("finale", "incontro finale", "incontri finali", "final meeting", "final meetings"),
)
EVENT_KIND_IDS = ids(EVENT_KINDS)
TOUR_STOP, FINAL = EVENT_KIND_IDS

# An event's status; ``it`` agrees with "tappa" (feminine), as the report writes it.
EVENT_STATUSES: tuple[Term, ...] = (
    Term("svolto", "svolta", "svolte", "held", "held"),
    Term("programmato", "programmata", "programmate", "scheduled", "scheduled"),
    Term("annullato", "annullata", "annullate", "cancelled", "cancelled"),
)
EVENT_STATUS_IDS = ids(EVENT_STATUSES)
HELD, SCHEDULED, CANCELLED = EVENT_STATUS_IDS

# The kinds of session a note records, in the order the report lists them.
NOTE_KINDS: tuple[Term, ...] = (
    Term("plenaria", "plenaria", "plenarie", "plenary session", "plenary sessions"),
    Term("tavolo", "tavolo di lavoro", "tavoli di lavoro", "working table", "working tables"),
    Term("intervista", "intervista", "interviste", "interview", "interviews"),
    Term("sintesi", "sintesi", "sintesi", "summary", "summaries"),
)
NOTE_KIND_IDS = ids(NOTE_KINDS)
WORKING_TABLE = "tavolo"  # what an imported Word note records unless told otherwise

VISIBILITIES: tuple[Term, ...] = (
    Term("public", "pubblica", "pubbliche", "public", "public"),
    Term("internal", "interna (solo per lo staff)", "interne (solo per lo staff)",
         "internal (staff only)", "internal (staff only)"),
)
VISIBILITY_IDS = ids(VISIBILITIES)
PUBLIC = VISIBILITY_IDS[0]

# --------------------------------------------------------------------------- initiatives

INITIATIVE_STATUSES: tuple[Term, ...] = (
    Term("proposta", "proposta", "proposte", "proposed", "proposed"),
    Term("avviata", "avviata", "avviate", "started", "started"),
    Term("conclusa", "conclusa", "concluse", "completed", "completed"),
)
INITIATIVE_STATUS_IDS = ids(INITIATIVE_STATUSES)
PROPOSED, STARTED, COMPLETED = INITIATIVE_STATUS_IDS


# --------------------------------------------------------------------------- indicators

@dataclass(frozen=True)
class Measure:
    id: str  # what project.yaml's indicators name in ``measure``
    it: str  # what it counts, Italian, as the report and the data dictionary say it
    en: str


# What the knowledge base computes for an indicator of the results framework (project.yaml's
# ``objectives``), each from the public database (kb.store.indicators holds the SQL).
MEASURES: tuple[Measure, ...] = (
    Measure("events_held", "tappe del tour svolte", "stops of the tour held"),
    Measure("events_planned", "tappe del tour in calendario (svolte, programmate o annullate)",
            "stops of the tour in the calendar (held, scheduled or cancelled)"),
    Measure("provinces_reached", "province in cui si è svolto almeno un incontro",
            "provinces where at least one event was held"),
    Measure("organisations_mapped", "organizzazioni censite dalla mappatura",
            "organisations found by the mapping"),
    Measure("organisations_met", "organizzazioni presenti ad almeno un incontro svolto (in una "
            "sessione, citate in un risultato o come ospiti)",
            "organisations present at one held event or more (in a session, named in a "
            "finding, or hosting)"),
    Measure("emerging_met", "attori emergenti presenti ad almeno un incontro svolto",
            "emerging actors present at one held event or more"),
    Measure("traditional_met", "organizzazioni tradizionali presenti ad almeno un incontro "
            "svolto", "traditional organisations present at one held event or more"),
    Measure("attendance", "presenze agli incontri svolti (persone, sommate incontro per "
            "incontro)", "attendance at the held events (persons, summed over the events)"),
    Measure("findings", "risultati pubblici degli incontri svolti",
            "public findings of the held events"),
    Measure("initiatives_launched", "nuove iniziative registrate", "new initiatives recorded"),
    Measure("initiatives_started", "iniziative avviate o concluse",
            "initiatives started or completed"),
    Measure("pairs_met", "coppie di un attore emergente e di un’organizzazione tradizionale "
            "presenti allo stesso incontro", "pairs of an emerging and a traditional "
            "organisation present at the same event"),
)
MEASURE = by_id(MEASURES)
FINDINGS_OF_KIND = "findings:"  # findings:<kind>, the findings of one kind
SHARE = "share"  # an indicator's unit: a proportion, printed as a percentage


def measure(name: str) -> Measure | None:
    """The measure ``name`` stands for (``findings:practice`` included), or ``None``."""
    if name.startswith(FINDINGS_OF_KIND):
        kind = FINDING_KIND.get(name[len(FINDINGS_OF_KIND):])
        return kind and Measure(name, f"risultati pubblici di tipo «{kind.it_plural}»",
                                f"public findings of kind '{kind.en_plural}'")
    return MEASURE.get(name)


def measure_names() -> list[str]:
    """Every measure's name, ``findings:<kind>`` spelled out for each kind."""
    return [*MEASURE, *(FINDINGS_OF_KIND + k for k in FINDING_KIND_IDS)]


def sql_string(value: str) -> str:
    """A vocabulary code as an SQL literal, for SQL generated from this module."""
    return "'" + value.replace("'", "''") + "'"


# Fields of a note's front matter that name people: kept for staff, never published.
PERSONAL_FIELDS = ["facilitator", "rapporteur", "interviewees"]

# EU authority tables (publications office): the codes project.yaml may use.
# Data themes with their official labels, Italian and English (the DCAT record needs them).
EU_THEMES = {
    "AGRI": ("Agricoltura, pesca, silvicoltura e prodotti alimentari",
             "Agriculture, fisheries, forestry and food"),
    "ECON": ("Economia e finanze", "Economy and finance"),
    "EDUC": ("Istruzione, cultura e sport", "Education, culture and sport"),
    "ENER": ("Energia", "Energy"),
    "ENVI": ("Ambiente", "Environment"),
    "GOVE": ("Governo e settore pubblico", "Government and public sector"),
    "HEAL": ("Salute", "Health"),
    "INTR": ("Tematiche internazionali", "International issues"),
    "JUST": ("Giustizia, sistema giuridico e sicurezza pubblica",
             "Justice, legal system and public safety"),
    "REGI": ("Regioni e città", "Regions and cities"),
    "SOCI": ("Popolazione e società", "Population and society"),
    "TECH": ("Scienza e tecnologia", "Science and technology"),
    "TRAN": ("Trasporti", "Transport"),
}

EU_FREQUENCIES = [
    "ANNUAL", "ANNUAL_2", "ANNUAL_3", "BIENNIAL", "BIMONTHLY", "BIWEEKLY", "CONT", "DAILY",
    "DAILY_2", "HOURLY", "IRREG", "MONTHLY", "MONTHLY_2", "MONTHLY_3", "NEVER", "OP_DATPRO",
    "OTHER", "QUARTERLY", "TRIENNIAL", "UNKNOWN", "UPDATE_CONT", "WEEKLY", "WEEKLY_2",
    "WEEKLY_3", "QUADRENNIAL", "QUINQUENNIAL", "DECENNIAL", "BIDECENNIAL", "TRIDECENNIAL",
]


@dataclass(frozen=True)
class Licence:
    eu_code: str  # code in the EU licence authority table (publications office)
    title: str  # English title
    title_it: str  # Italian title
    url: str  # the licence's own page
    italian: str  # code in AgID's vocabulary, w3id.org/italia/controlled-vocabulary/licences
    licence_type: str  # its ADMS licence type (purl.org/adms/licencetype), what dct:type says


# SPDX identifier -> licence: the licences an open dataset of this project may carry.
LICENCES = {
    "CC-BY-4.0": Licence("CC_BY_4_0", "Creative Commons Attribution 4.0 International",
                         "Creative Commons Attribuzione 4.0 Internazionale (CC BY 4.0)",
                         "https://creativecommons.org/licenses/by/4.0/", "A21_CCBY40",
                         "Attribution"),
    "CC-BY-SA-4.0": Licence("CC_BYSA_4_0",
                            "Creative Commons Attribution-ShareAlike 4.0 International",
                            "Creative Commons Attribuzione – Condividi allo stesso modo 4.0 "
                            "Internazionale (CC BY-SA 4.0)",
                            "https://creativecommons.org/licenses/by-sa/4.0/", "A31_CCBYSA40",
                            "ViralEffect-ShareAlike"),
    "CC0-1.0": Licence("CC0", "Creative Commons CC0 1.0 Universal",
                       "Creative Commons CC0 1.0 Universale (pubblico dominio)",
                       "https://creativecommons.org/publicdomain/zero/1.0/", "A11_CCO10",
                       "PublicDomain"),
    "ODC-By-1.0": Licence("ODC_BY", "Open Data Commons Attribution License 1.0",
                          "Open Data Commons Attribution License 1.0",
                          "https://opendatacommons.org/licenses/by/1-0/", "A210_ODCBY",
                          "Attribution"),
    "ODbL-1.0": Licence("ODC_BL", "Open Data Commons Open Database License 1.0",
                        "Open Data Commons Open Database License 1.0",
                        "https://opendatacommons.org/licenses/odbl/1-0/", "A310_ODBL",
                        "ViralEffect-ShareAlike"),
    "PDDL-1.0": Licence("ODC_PDDL", "Open Data Commons Public Domain Dedication and License 1.0",
                        "Open Data Commons Public Domain Dedication and License 1.0",
                        "https://opendatacommons.org/licenses/pddl/1-0/", "A12_PDDL",
                        "PublicDomain"),
}

# The staff texts the report knows (data/report/<name>.md): whole sections, or the reading
# that replaces the generated one under a chart.
REPORT_SECTIONS = ("sintesi", "introduzione", "metodo", "conclusioni", "raccomandazioni",
                   "ringraziamenti")

REPORT_READINGS = {
    "mappatura-province": "Organizzazioni per provincia",
    "mappatura-forme-giuridiche": "Organizzazioni per forma giuridica",
    "mappatura-profili": "Cooperative e non, emergenti e tradizionali",
    "mappatura-temi": "Organizzazioni per tema",
    "tour": "Le tappe del tour",
    "sintesi-tipi": "Risultati per tipo e tappa",
    "sintesi-temi-province": "Temi per provincia",
    "sintesi-ricorrenze": "Pratiche e minacce ricorrenti",
    "sintesi-profili": "Emergenti e tradizionali a confronto",
    "iniziative": "Nuove iniziative",
    "ibridazioni-rete": "La rete delle organizzazioni",
}

REPORT_DOCUMENTS = (*REPORT_SECTIONS, *REPORT_READINGS)
