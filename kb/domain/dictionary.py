"""The data dictionary: every table and column of the knowledge base, in Italian and English.

This is the single description of the data. The schema is created from it; Datasette's metadata,
the open dataset's ``datapackage.json``, the DCAT record and the report's appendix are generated
from it. Add a column here and it appears everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from .vocabulary import (
    EVENT_KIND_IDS,
    EVENT_KINDS,
    EVENT_STATUS_IDS,
    EVENT_STATUSES,
    EVIDENCE_ROLES,
    FINDING_KIND_IDS,
    FINDING_KINDS,
    HELD,
    INITIATIVE_STATUSES,
    LEGAL_FORM_IDS,
    NOTE_KIND_IDS,
    ORGANISATION_ROLES,
    PROFILE_IDS,
    PROGRAMME_ROLE_IDS,
    PROVINCES,
    REGION,
    SOURCE,
    VISIBILITY_IDS,
    ids,
    spelled,
    sql_string,
)

# Column types and what they become in SQLite and in a Frictionless Table Schema.
SQLITE_TYPES = {"text": str, "integer": int, "real": float, "boolean": int, "date": str, "json": str}
FRICTIONLESS_TYPES = {"text": "string", "integer": "integer", "real": "number",
                      "boolean": "boolean", "date": "date", "json": "array"}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    it: str
    en: str
    fk: tuple[str, str] | None = None
    required: bool = False
    personal: bool = False  # a person's data: never in the public database
    values: tuple[str, ...] = ()  # the allowed values, where the column is a vocabulary
    markdown: bool = False  # holds Markdown, shown rendered (and sanitised)


@dataclass(frozen=True)
class Table:
    name: str
    title_it: str
    title_en: str
    it: str
    en: str
    pk: tuple[str, ...]
    columns: tuple[Column, ...]
    label_column: str | None = None
    fts: tuple[str, ...] = ()  # columns indexed for Italian full-text search
    facets: tuple[str, ...] = ()
    array_facets: tuple[str, ...] = ()
    sort: str | None = None
    sort_desc: bool = False
    internal: bool = False  # bookkeeping, not data: left out of the open dataset

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def public_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if not c.personal)

    @property
    def foreign_keys(self) -> list[tuple[str, str, str]]:
        return [(c.name, c.fk[0], c.fk[1]) for c in self.columns if c.fk]


@dataclass(frozen=True)
class HybridScore:
    """The published parameters of the hybridisation's score (:mod:`kb.hybrid` computes with
    these, and ``hybrid_pairs``' description is written from them)."""
    theme: float = 0.5  # per shared theme ...
    max_themes: int = 4  # ... up to this many
    answer: float = 1.0  # per answer (a problem of one met by a practice of the other) ...
    similarity: float = 10.0  # ... plus this times the texts' similarity
    max_answers: int = 3  # the pair's best answers that count
    mentioned_factor: float = 0.5  # an answer through a practice that only mentions the organisation
    event: float = 0.5  # per event together ...
    max_events: int = 3  # ... up to this many
    # In the ranking, an answer whose problem or practice a better-ranked pair already cites
    # counts this much, once more for each earlier use: the top pairs rest on different findings.
    reuse_factor: float = 0.5
    exact_betweenness_nodes: int = 500  # betweenness is estimated from a sample beyond this

    def formula_it(self) -> str:
        n = _number_it
        return (f"Punteggio = {n(self.theme)} × temi in comune (max {self.max_themes}) + per "
                f"ciascuna delle {self.max_answers} risposte migliori ({n(self.answer)} + "
                f"{n(self.similarity)} × somiglianza, × {n(self.mentioned_factor)} se la buona "
                f"pratica cita soltanto l'organizzazione) + {n(self.event)} × tappe in comune "
                f"(max {self.max_events}). In classifica ogni risposta il cui problema o la cui "
                f"buona pratica sono già citati da una coppia meglio classificata conta × "
                f"{n(self.reuse_factor)} per ciascuna citazione precedente.")

    def formula_en(self) -> str:
        return (f"Score = {self.theme:g} × shared themes (max {self.max_themes}) + for each of "
                f"the {self.max_answers} best answers ({self.answer:g} + {self.similarity:g} × "
                f"similarity, × {self.mentioned_factor:g} when the practice only mentions the "
                f"organisation) + {self.event:g} × events together (max {self.max_events}). "
                f"In the ranking, each answer whose problem or practice a better-ranked pair "
                f"already cites counts × {self.reuse_factor:g} for each earlier citation.")


def _number_it(x: float) -> str:
    return f"{x:g}".replace(".", ",")


HYBRID_SCORE = HybridScore()


def C(name, type, it, en, **kw) -> Column:
    return Column(name, type, it, en, **kw)


def _source_line(what_it: str, what_en: str) -> Column:
    return C("source_line", "integer", f"Riga del file sorgente in cui inizia {what_it}",
             f"Line of the source file where {what_en} starts")


# What a link table's id columns point to: entity -> (table, Italian, English).
LINKED = {
    "finding": ("findings", "Risultato", "Finding"),
    "note": ("notes", "Nota", "Note"),
    "organisation": ("organisations", "Organizzazione", "Organisation"),
    "theme": ("themes", "Tema", "Theme"),
    "event": ("events", "Tappa", "Event"),
    "initiative": ("initiatives", "Iniziativa", "Initiative"),
}


def _link(name: str, title_it: str, title_en: str, it: str, en: str, left: str, right: str,
          facets: tuple[str, ...] = ()) -> "Table":
    """A link table of two ids, each a foreign key, together the primary key."""
    columns = tuple(C(f"{entity}_id", "text", LINKED[entity][1], LINKED[entity][2],
                      fk=(LINKED[entity][0], "id"), required=True) for entity in (left, right))
    return Table(name, title_it, title_en, it, en, (f"{left}_id", f"{right}_id"), columns,
                  facets=facets)


TABLES: tuple[Table, ...] = (
    Table(
        "project", "Progetto", "Project",
        "Il programma Co?Tour e questa edizione dei dati: titolo, organizzatori, licenza.",
        "The Co?Tour programme and this release of the data: title, organisers, licence.",
        ("id",),
        (
            C("id", "text", "Identificativo del dataset", "Dataset identifier", required=True),
            C("title", "text", "Titolo (italiano)", "Title (Italian)", required=True),
            C("title_en", "text", "Titolo in inglese", "Title in English"),
            C("subtitle", "text", "Sottotitolo", "Subtitle"),
            C("description", "text", "Descrizione (italiano)", "Description (Italian)"),
            C("description_en", "text", "Descrizione in inglese", "Description in English"),
            C("keywords", "json", "Parole chiave (lista JSON)", "Keywords (JSON list)"),
            C("sources", "json", "Fonti del materiale (lista JSON di {title, path})",
              "Where the material comes from (JSON list of {title, path})"),
            C("temporal_start", "date", "Inizio del periodo coperto", "Start of the period covered"),
            C("temporal_end", "date", "Fine del periodo coperto", "End of the period covered"),
            C("spatial", "text", "Copertura geografica", "Spatial coverage"),
            C("spatial_geonames", "text", "Numero GeoNames del luogo coperto",
              "GeoNames number of the place covered"),
            C("organisers", "json", "Organizzatori del programma (lista JSON)",
              "The programme's organisers (JSON list)"),
            C("organiser_ids", "json",
              "Codici IPA o fiscali degli organizzatori, nello stesso ordine (lista JSON)",
              "The organisers' IPA codes or tax numbers, in the same order (JSON list)"),
            C("publisher_name", "text", "Editore dei dati", "Publisher of the data"),
            C("publisher_id", "text", "Codice IPA o partita IVA dell'editore",
              "Publisher's IPA code or VAT number"),
            C("contact", "text", "Contatto", "Contact point"),
            C("licence", "text", "Licenza (identificativo SPDX)", "Licence (SPDX identifier)"),
            C("release_date", "date", "Data di questa edizione dei dati", "Date of this release"),
            C("version", "text", "Versione", "Version"),
            C("base_url", "text", "Indirizzo pubblico di Datasette", "Public Datasette address"),
            C("dataset_id", "text", "Identificativo DCAT dichiarato", "DCAT identifier as given"),
            C("eu_theme", "json", "Temi UE dei dati (codici, lista JSON)",
              "EU data themes (codes, JSON list)"),
            C("frequency", "text", "Frequenza di aggiornamento (codice UE)",
              "Update frequency (EU code)"),
            C("subjects", "json", "Sottotemi EuroVoc (numeri dei concetti, lista JSON)",
              "EuroVoc subjects (concept numbers, JSON list)"),
            C("doi", "text", "DOI del deposito del dataset", "DOI of the dataset's deposit"),
            C("illustrative", "boolean", "1 se i dati sono illustrativi (un esempio)",
              "1 if the data are illustrative (an example)"),
            C("funder_name", "text", "Chi ha finanziato il programma", "Who funded the programme"),
            C("funder_id", "text", "Codice del finanziatore (IPA o fiscale)",
              "The funder's code (IPA or tax number)"),
            C("funder_programme", "text", "Programma o bando di finanziamento",
              "Funding programme or call"),
        ),
        label_column="title",
    ),
    Table(
        "provinces", "Province", "Provinces",
        f"Le {len(PROVINCES)} province della regione {REGION[0]}, con sigla e codice ISTAT.",
        f"The {len(PROVINCES)} provinces of {REGION[1]}, with their abbreviation and ISTAT code.",
        ("id",),
        (
            C("id", "text", "Sigla della provincia", "Province abbreviation", required=True),
            C("name", "text", "Nome", "Name", required=True),
            C("istat_code", "text", "Codice ISTAT", "ISTAT code", required=True),
            C("position", "integer", "Ordine geografico, da ovest a est",
              "Geographical order, from west to east", required=True),
        ),
        label_column="name", sort="position",
    ),
    Table(
        "finding_kinds", "Tipi di risultato", "Finding kinds",
        f"I tipi di risultato raccolti nelle tappe: {', '.join(k.it_plural for k in FINDING_KINDS)}.",
        f"The kinds of findings gathered at the events: "
        f"{', '.join(k.en_plural for k in FINDING_KINDS)}.",
        ("id",),
        (
            C("id", "text", "Codice del tipo", "Kind code", required=True, values=FINDING_KIND_IDS),
            C("label", "text", "Nome italiano", "Italian name", required=True),
            C("label_en", "text", "Nome inglese", "English name"),
            C("position", "integer", "Ordine di presentazione", "Order of presentation"),
        ),
        label_column="label", sort="position",
    ),
    Table(
        "themes", "Temi", "Themes",
        "Il vocabolario controllato dei temi della nuova mutualità, eventualmente ad albero.",
        "The controlled vocabulary of new-mutuality themes, optionally as a tree.",
        ("id",),
        (
            C("id", "text", "Identificativo del tema", "Theme identifier", required=True),
            C("label", "text", "Nome (italiano)", "Label (Italian)", required=True),
            C("label_en", "text", "Nome in inglese", "Label in English"),
            C("description", "text", "Descrizione (italiano)", "Description (Italian)"),
            C("description_en", "text", "Descrizione in inglese", "Description in English"),
            C("parent_id", "text", "Tema più generale", "Broader theme", fk=("themes", "id")),
        ),
        label_column="label", sort="id",
    ),
    Table(
        "organisations", "Organizzazioni", "Organisations",
        "Le organizzazioni della mappatura (fase 1) e quelle incontrate durante il tour.",
        "The organisations of the mapping (phase 1) and those first met during the tour.",
        ("id",),
        (
            C("id", "text", "Identificativo", "Identifier", required=True),
            C("name", "text", "Denominazione", "Official name", required=True),
            C("aliases", "json", "Altri nomi usati nelle note (lista JSON)",
              "Other names used in the notes (JSON list)"),
            C("legal_form", "text", "Forma giuridica", "Legal form", required=True,
              values=LEGAL_FORM_IDS),
            C("is_cooperative", "boolean", "1 se è una cooperativa o un consorzio",
              "1 if a cooperative or a consortium"),
            C("profile", "text", "Profilo: attore emergente o settore tradizionale",
              "Profile: new emerging actor or established sector", required=True,
              values=PROFILE_IDS),
            C("sector", "text", "Settore", "Sector"),
            C("province", "text", "Provincia (sigla)", "Province (abbreviation)",
              fk=("provinces", "id"), required=True),
            C("province_istat", "text", "Codice ISTAT della provincia", "Province ISTAT code"),
            C("municipality", "text", "Comune", "Municipality"),
            C("website", "text", "Sito web", "Website"),
            C("founded", "integer", "Anno di fondazione", "Year founded"),
            C("lat", "real", "Latitudine (gradi decimali)", "Latitude (decimal degrees)"),
            C("lon", "real", "Longitudine (gradi decimali)", "Longitude (decimal degrees)"),
            C("themes", "json", "Temi dichiarati nella mappatura (lista JSON)",
              "Themes declared in the mapping (JSON list)"),
            C("description", "text", "Descrizione", "Description"),
            C("mapped", "boolean", "1 se trovata dalla mappatura della fase 1, 0 se incontrata "
              "durante il tour", "1 if found by the phase-1 mapping, 0 if first met on the tour"),
            C("programme_role", "text",
              "Ruolo nel programma: organizzatore (tra gli organizzatori di project.yaml) o "
              "staff (nella sua lista staff); vuoto per le altre. Non è mai una coppia né un "
              "ponte delle Ibridazioni possibili",
              "Role in the programme: organiser (among project.yaml's organisers) or staff (in "
              "its staff list); empty for the others. Never a pair nor a bridge of the possible "
              "hybridisations", values=PROGRAMME_ROLE_IDS),
            _source_line("la riga dell'organizzazione in organisations.csv",
                         "the organisation's row in organisations.csv"),
        ),
        label_column="name", facets=("province", "profile", "legal_form", "is_cooperative", "mapped",
                "programme_role"),
        array_facets=("themes",), sort="name",
    ),
    Table(
        "events", "Tappe", "Events",
        "Le tappe del tour nei capoluoghi di provincia e l'incontro finale.",
        "The stops of the tour in the provincial capitals and the final meeting.",
        ("id",),
        (
            C("id", "text", "Identificativo", "Identifier", required=True),
            C("name", "text", "Nome della tappa (città; la data se la città torna)",
              "Name of the event (city; the date too if the city recurs)", required=True),
            C("city", "text", "Città", "City", required=True),
            C("province", "text", "Provincia (sigla)", "Province (abbreviation)",
              fk=("provinces", "id"), required=True),
            C("province_istat", "text", "Codice ISTAT della provincia", "Province ISTAT code"),
            C("date", "date", "Data", "Date"),
            C("kind", "text", f"Tipo: {spelled((k.it for k in EVENT_KINDS), 'o')}",
              "Kind: a stop of the tour or the final meeting", required=True,
              values=EVENT_KIND_IDS),
            C("status", "text", f"Stato: {spelled(EVENT_STATUS_IDS, 'o')}",
              f"Status: {spelled((s.en for s in EVENT_STATUSES), 'or')}", required=True,
              values=EVENT_STATUS_IDS),
            C("venue", "text", "Luogo", "Venue"),
            C("attendance_persons", "integer", "Persone presenti", "People attending"),
            C("attendance_organisations", "integer", "Organizzazioni presenti",
              "Organisations attending"),
            C("programme", "text", "Programma (indirizzo)", "Programme (address)"),
            _source_line("l'evento in events.yaml", "the event in events.yaml"),
        ),
        label_column="name", facets=("kind", "status", "province"), sort="date",
    ),
    Table(
        "notes", "Note", "Notes",
        "Le note degli incontri: una per sessione plenaria, tavolo, intervista o sintesi. "
        "Il testo è la parte narrativa, fuori dalle sezioni dei risultati.",
        "The meeting notes: one per plenary session, table, interview or summary. The text is "
        "the narrative, outside the finding sections.",
        ("id",),
        (
            C("id", "text", "Identificativo stabile (tappa e nome del file)",
              "Stable identifier (event and file name)", required=True),
            C("event_id", "text", "Tappa", "Event", fk=("events", "id"), required=True),
            C("title", "text", "Titolo", "Title", required=True),
            C("kind", "text", "Tipo di sessione", "Kind of session", required=True,
              values=NOTE_KIND_IDS),
            C("date", "date", "Data", "Date"),
            C("visibility", "text", f"Visibilità: {spelled(VISIBILITY_IDS, 'o')} (solo per lo staff)",
              f"Visibility: {spelled(VISIBILITY_IDS, 'or')} (staff only)", values=VISIBILITY_IDS),
            C("facilitator", "text", "Facilitatore (dato personale)",
              "Facilitator (personal data)", personal=True),
            C("rapporteur", "text", "Verbalizzante (dato personale)", "Rapporteur (personal data)",
              personal=True),
            C("interviewees", "json", "Persone intervistate (dato personale, lista JSON)",
              "People interviewed (personal data, JSON list)", personal=True),
            C("participants", "json", "Organizzazioni partecipanti (lista JSON di identificativi)",
              "Participating organisations (JSON list of ids)"),
            C("text", "text", "Testo narrativo della nota (Markdown)",
              "The note's narrative text (Markdown)", markdown=True),
            C("source_path", "text", "File sorgente, relativo alla cartella dei dati",
              "Source file, relative to the data folder", required=True),
            _source_line("la nota", "the note"),
        ),
        label_column="title", fts=("title", "text"), facets=("event_id", "kind"),
        array_facets=("participants",), sort="id",
    ),
    Table(
        "findings", "Risultati", "Findings",
        "I risultati emersi negli incontri: ogni voce di elenco sotto un titolo di tipo "
        "(buone pratiche, problemi, minacce…) è un risultato, con la sua provenienza.",
        "What came out of the meetings: each list item under a kind heading (good practices, "
        "problems, threats…) is one finding, with its provenance.",
        ("id",),
        (
            C("id", "text", "Identificativo stabile (dipende da nota, tipo e testo)",
              "Stable identifier (depends on note, kind and text)", required=True),
            C("note_id", "text", "Nota", "Note", fk=("notes", "id"), required=True),
            C("event_id", "text", "Tappa", "Event", fk=("events", "id"), required=True),
            C("kind", "text", "Tipo di risultato", "Kind of finding",
              fk=("finding_kinds", "id"), required=True, values=FINDING_KIND_IDS),
            C("position", "integer", "Posizione nella nota", "Position in the note"),
            C("text", "text", "Testo del risultato, come scritto (Markdown)",
              "The finding's text, as written (Markdown)", required=True, markdown=True),
            C("date", "date", "Data", "Date"),
            C("province", "text", "Provincia della tappa (sigla)", "Province of the event",
              fk=("provinces", "id")),
            C("city", "text", "Città della tappa", "City of the event"),
            C("themes", "json", "Temi (lista JSON di identificativi)", "Themes (JSON list of ids)"),
            C("organisations", "json", "Organizzazioni citate (lista JSON di identificativi)",
              "Organisations mentioned (JSON list of ids)"),
            C("source_organisations", "json",
              "Organizzazioni che hanno sollevato il punto (lista JSON)",
              "Organisations that raised the point (JSON list)"),
            C("source_profiles", "json",
              f"Profili ({', '.join(PROFILE_IDS)}) di chi ha sollevato il punto (lista JSON)",
              "Profiles (emerging, traditional) of those who raised the point (JSON list)"),
            C("source_path", "text", "File sorgente, relativo alla cartella dei dati",
              "Source file, relative to the data folder", required=True),
            _source_line("la voce", "the item"),
        ),
        label_column="id", fts=("text",), facets=("kind", "event_id", "province"),
        array_facets=("themes", "source_profiles", "source_organisations", "organisations"),
        sort="date",
    ),
    Table(
        "initiatives", "Nuove iniziative", "New initiatives",
        "Le iniziative lanciate all'incontro finale, nate dalla contaminazione tra attori.",
        "The initiatives launched at the final meeting, born from the cross-contamination.",
        ("id",),
        (
            C("id", "text", "Identificativo", "Identifier", required=True),
            C("title", "text", "Titolo", "Title", required=True),
            C("description", "text", "Descrizione", "Description"),
            C("status", "text", f"Stato: {spelled((s.it for s in INITIATIVE_STATUSES), 'o')}",
              f"Status: {spelled((s.en for s in INITIATIVE_STATUSES), 'or')}", required=True,
              values=ids(INITIATIVE_STATUSES)),
            C("status_date", "date", "Data da cui l'iniziativa è nello stato indicato",
              "Date since which the initiative has had its status"),
            C("lead_id", "text", "Organizzazione capofila", "Lead organisation",
              fk=("organisations", "id")),
            C("next_step", "text", "Prossimo passo", "Next step"),
            _source_line("l'iniziativa in initiatives.yaml", "the initiative in initiatives.yaml"),
        ),
        label_column="title", facets=("status",), sort="id",
    ),
    Table(
        "indicators", "Indicatori di risultato", "Result indicators",
        "Il quadro dei risultati del programma: ogni obiettivo con i suoi indicatori, il valore "
        "atteso, quello raggiunto e lo scarto. Il valore raggiunto è calcolato dalla base di "
        "dati pubblica quando l'indicatore nomina una misura; altrimenti è quello dichiarato "
        "dallo staff, con la sua fonte.",
        "The programme's results framework: each objective with its indicators, the target, "
        "the actual value and the difference. The actual value is computed from the public "
        "database when the indicator names a measure; otherwise it is the value staff gave, "
        "with its source.",
        ("id",),
        (
            C("id", "text", "Identificativo dell'indicatore", "Indicator identifier",
              required=True),
            C("objective_id", "text", "Identificativo dell'obiettivo", "Objective identifier",
              required=True),
            C("objective", "text", "L'obiettivo", "The objective", required=True),
            C("objective_position", "integer", "Posizione dell'obiettivo nel quadro",
              "Position of the objective in the framework", required=True),
            C("position", "integer", "Posizione dell'indicatore nel suo obiettivo",
              "Position of the indicator within its objective", required=True),
            C("label", "text", "Indicatore", "Indicator", required=True),
            C("measure", "text", "Misura calcolata dalla base di dati (vuota se il valore è "
              "dichiarato)", "Measure computed from the database (empty when the value is "
              "given)"),
            C("source", "text", "Fonte del valore dichiarato", "Source of the given value"),
            C("target", "real", "Valore atteso", "Target", required=True),
            C("actual", "real", "Valore raggiunto", "Actual value"),
            C("difference", "real", "Scarto: valore raggiunto meno valore atteso",
              "Difference: actual minus target"),
            C("unit", "text", "Unità (share: una quota, da 0 a 1)",
              "Unit (share: a proportion, from 0 to 1)"),
            C("note", "text", "Il perché dello scarto, scritto dallo staff",
              "Why the result differs, as staff wrote it"),
            _source_line("l'indicatore in project.yaml", "the indicator in project.yaml"),
        ),
        label_column="label", facets=("objective_id",), sort="objective_position",
    ),
    Table(
        "finding_organisations", "Risultati × organizzazioni", "Findings × organisations",
        "Le organizzazioni citate in ogni risultato, con il ruolo: source (ha sollevato il "
        "punto) o mentioned (citata).",
        "The organisations mentioned in each finding, with their role: source (raised the "
        "point) or mentioned.",
        ("finding_id", "organisation_id"),
        (
            C("finding_id", "text", "Risultato", "Finding", fk=("findings", "id"), required=True),
            C("organisation_id", "text", "Organizzazione", "Organisation",
              fk=("organisations", "id"), required=True),
            C("role", "text", f"Ruolo: {spelled(ids(ORGANISATION_ROLES), 'o')}",
              f"Role: {spelled(ids(ORGANISATION_ROLES), 'or')}",
              required=True, values=ids(ORGANISATION_ROLES)),
        ),
        facets=("role",),
    ),
    _link("finding_themes", "Risultati × temi", "Findings × themes",
          "I temi associati a ogni risultato con un tag #tema.",
          "The themes tagged on each finding with a #theme tag.",
          "finding", "theme", facets=("theme_id",)),
    _link("note_participants", "Note × partecipanti", "Notes × participants",
          "Le organizzazioni che hanno partecipato alla sessione di ogni nota.",
          "The organisations that took part in each note's session.",
          "note", "organisation"),
    _link("organisation_themes", "Organizzazioni × temi", "Organisations × themes",
          "I temi dichiarati da ogni organizzazione nella mappatura.",
          "The themes each organisation declared in the mapping.",
          "organisation", "theme", facets=("theme_id",)),
    _link("event_hosts", "Tappe × ospitanti", "Events × hosts",
          "Le organizzazioni che hanno ospitato ogni tappa.",
          "The organisations that hosted each event.",
          "event", "organisation"),
    _link("initiative_organisations", "Iniziative × organizzazioni", "Initiatives × organisations",
          "Le organizzazioni coinvolte in ogni nuova iniziativa.",
          "The organisations taking part in each new initiative.",
          "initiative", "organisation"),
    _link("initiative_themes", "Iniziative × temi", "Initiatives × themes",
          "I temi di ogni nuova iniziativa.", "The themes of each new initiative.",
          "initiative", "theme"),
    _link("initiative_events", "Iniziative × tappe", "Initiatives × events",
          "Le tappe in cui è nata l'idea di ogni nuova iniziativa.",
          "The events where each new initiative's idea came from.",
          "initiative", "event"),
    Table(
        "documents", "Testi del rapporto", "Report texts",
        "I testi scritti dallo staff per il rapporto (introduzione, conclusioni, "
        "ringraziamenti…), in Markdown.",
        "The texts staff wrote for the report (introduction, conclusions, acknowledgements…), "
        "in Markdown.",
        ("id",),
        (
            C("id", "text", "Nome del testo", "Name of the text", required=True),
            C("text", "text", "Testo (Markdown)", "Text (Markdown)", required=True, markdown=True),
            C("source_path", "text", "File sorgente, relativo alla cartella dei dati",
              "Source file, relative to the data folder", required=True),
        ),
    ),
    Table(
        "cotour_build", "Informazioni sulla costruzione", "Build information",
        "Da che cosa è stato costruito questo database: impronta dei dati, versione dello "
        "strumento, se è la versione pubblica e da quale base di conoscenza deriva.",
        "What this database was built from: the input digest, the tool version, whether it is "
        "the public edition and which knowledge base it derives from.",
        ("key",),
        (
            C("key", "text", "Chiave", "Key", required=True),
            C("value", "text", "Valore", "Value"),
        ),
        internal=True,
    ),
    Table(
        "hybrid_pairs", "Ibridazioni possibili", "Possible hybridisations",
        "Coppie (organizzazione emergente, organizzazione tradizionale) che potrebbero "
        "completarsi, con un punteggio e il motivo in chiaro, calcolate dal database pubblico: "
        "temi in comune, un problema o una minaccia sollevati da una e una buona pratica "
        "dell'altra sullo stesso tema con testo simile (TF-IDF sul testo ridotto alle radici "
        f"italiane), tappe in comune. {HYBRID_SCORE.formula_it()} Le coppie "
        "che collaborano già (una sinergia che le cita entrambe o un'iniziativa comune) sono "
        "segnate come realizzate e classificate a parte. Gli organizzatori e lo staff del "
        "programma (organisations.programme_role) non sono mai in una coppia.",
        "Pairs (emerging organisation, traditional organisation) that could complete each other, "
        "with a score and a plain-language reason, computed from the public database: shared "
        "themes, a problem or threat raised by one and a good practice of the other on the same "
        "theme with similar text (TF-IDF over the Italian-stemmed text), events in common. "
        f"{HYBRID_SCORE.formula_en()} Pairs already working together (a synergy naming both, "
        "or a common initiative) are marked as realised and ranked apart. The programme's "
        "organisers and staff (organisations.programme_role) are never in a pair.",
        ("id",),
        (
            C("id", "text", "Identificativo stabile: le due organizzazioni unite da --",
              "Stable identifier: the two organisations joined by --", required=True),
            C("emerging_id", "text", "Organizzazione emergente", "Emerging organisation",
              fk=("organisations", "id"), required=True),
            C("traditional_id", "text", "Organizzazione tradizionale", "Traditional organisation",
              fk=("organisations", "id"), required=True),
            C("rank", "integer", "Posizione in classifica (tra le candidate o tra le realizzate)",
              "Rank (among candidates, or among realised pairs)"),
            C("score", "real", "Punteggio (somma pesata delle evidenze della coppia)",
              "Score (weighted sum of the pair's evidence)"),
            C("rank_score", "real",
              "Punteggio in classifica: il punteggio con le risposte che ripetono un problema o "
              "una buona pratica già citati da coppie meglio classificate ridotte (vedi la "
              "descrizione della tabella); la classifica segue questo",
              "Ranking score: the score with the answers that repeat a problem or practice "
              "already cited by better-ranked pairs reduced (see the table's description); the "
              "rank follows it"),
            C("shared_themes", "json", "Temi in comune (lista JSON di identificativi)",
              "Shared themes (JSON list of ids)"),
            C("answers", "integer",
              "Problemi o minacce di una a cui risponde una buona pratica dell'altra",
              "Problems or threats of one answered by a good practice of the other"),
            C("best_similarity", "real",
              "Somiglianza del testo della risposta migliore (coseno TF-IDF, 0–1)",
              "Text similarity of the best answer (TF-IDF cosine, 0–1)"),
            C("events_together", "integer", "Tappe a cui hanno partecipato entrambe",
              "Events both took part in"),
            C("shared_events", "json", "Tappe in comune (lista JSON di identificativi)",
              "Events in common (JSON list of ids)"),
            C("realised", "boolean",
              "1 se collaborano già (sinergia o iniziativa comune), 0 se è una possibilità",
              "1 if already working together (synergy or common initiative), 0 if a possibility"),
            C("realised_by", "json",
              "Dove collaborano già (lista JSON di {table, id}: findings o initiatives)",
              "Where they already work together (JSON list of {table, id}: findings or "
              "initiatives)"),
            C("reason", "text", "Il motivo, in italiano, con i risultati che lo sostengono",
              "The reason, in Italian, with the findings behind it"),
            C("evidence_findings", "json",
              "Risultati alla base della coppia (lista JSON di identificativi)",
              "Findings behind the pair (JSON list of ids)"),
        ),
        label_column="id", facets=("realised", "emerging_id", "traditional_id"),
        array_facets=("shared_themes",), sort="rank_score", sort_desc=True,
    ),
    Table(
        "hybrid_evidence", "Ibridazioni × risultati", "Hybridisations × findings",
        "I risultati alla base di ogni coppia di Ibridazioni possibili, con il loro ruolo: "
        "problema, minaccia, pratica (la buona pratica che risponde) o sinergia.",
        "The findings behind each possible-hybridisation pair, with their role: problem, "
        "threat, practice (the good practice that answers) or synergy.",
        ("pair_id", "finding_id"),
        (
            C("pair_id", "text", "Coppia", "Pair", fk=("hybrid_pairs", "id"), required=True),
            C("finding_id", "text", "Risultato", "Finding", fk=("findings", "id"), required=True),
            C("role", "text", f"Ruolo: {spelled((r.it for r in EVIDENCE_ROLES), 'o')}",
              f"Role: {spelled((r.en for r in EVIDENCE_ROLES), 'or')}", required=True,
              values=ids(EVIDENCE_ROLES)),
            C("organisation_id", "text",
              "L'organizzazione della coppia per cui il risultato è citato: chi ha sollevato il "
              "problema, chi risponde con la buona pratica; per una sinergia quella che l'ha "
              "raccontata, altrimenti l'emergente",
              "The pair's organisation the finding is cited for: who raised the problem, who "
              "answers with the practice; for a synergy the one that told it, else the emerging "
              "one", fk=("organisations", "id")),
            C("organisation_role", "text",
              f"Il suo ruolo nel risultato: {spelled(ids(ORGANISATION_ROLES), 'o')} (citata "
              "soltanto: il punto l'ha sollevato un'altra organizzazione, o nessuna è indicata)",
              f"Its role in the finding: {spelled(ids(ORGANISATION_ROLES), 'or')} (only "
              "mentioned: another organisation raised the point, or none is marked)",
              values=ids(ORGANISATION_ROLES)),
        ),
        facets=("role",),
    ),
    Table(
        "organisation_network", "Rete delle organizzazioni", "Network of organisations",
        "Le organizzazioni come rete: due sono legate se citate nello stesso risultato o "
        "presenti alla stessa sessione. Grado, centralità di intermediazione (betweenness, "
        f"stimata su un campione fisso oltre {HYBRID_SCORE.exact_betweenness_nodes} "
        "organizzazioni) e legami tra i due profili. Gli organizzatori e lo staff del "
        "programma (organisations.programme_role) hanno condotto tutti gli incontri: le misure "
        "delle altre lasciano fuori i legami con loro; la loro riga conta i propri legami come "
        "contesto, senza intermediazione, e non sono mai ponti.",
        "The organisations as a network: two are tied when named in the same finding or present "
        "at the same session. Degree, betweenness centrality (estimated from a fixed sample "
        f"beyond {HYBRID_SCORE.exact_betweenness_nodes} organisations) and ties across the two "
        "profiles. The programme's organisers and staff (organisations.programme_role) ran "
        "every meeting: the measures of the others leave out the ties to them; their own row "
        "counts their ties as context, without betweenness, and they are never bridges.",
        ("organisation_id",),
        (
            C("organisation_id", "text", "Organizzazione", "Organisation",
              fk=("organisations", "id"), required=True),
            C("profile", "text", "Profilo", "Profile", values=PROFILE_IDS),
            C("degree", "integer", "Grado: organizzazioni a cui è legata",
              "Degree: organisations it is tied to"),
            C("strength", "integer",
              "Forza: risultati e sessioni condivisi, sommati su tutti i legami",
              "Strength: findings and sessions shared, summed over all ties"),
            C("betweenness", "real", "Centralità di intermediazione (normalizzata, 0–1; vuota "
              "per organizzatori e staff)",
              "Betweenness centrality (normalised, 0–1; empty for organisers and staff)"),
            C("cross_profile_ties", "integer", "Legami con organizzazioni dell'altro profilo",
              "Ties to organisations of the other profile"),
            C("same_profile_ties", "integer", "Legami con organizzazioni dello stesso profilo",
              "Ties to organisations of the same profile"),
            C("is_bridge", "boolean",
              "1 se fa da ponte: almeno due legami con l'altro profilo, e non meno che con il "
              "proprio (mai per organizzatori e staff)", "1 if a bridge: at least two ties to the "
              "other profile, and no fewer than to its own (never for organisers and staff)"),
        ),
        facets=("profile", "is_bridge"), sort="betweenness", sort_desc=True,
    ),
)

TABLES_BY_NAME = {t.name: t for t in TABLES}


@dataclass(frozen=True)
class View:
    title_it: str
    title_en: str
    sql: str
    # The view's columns, in order: each a table's column shown as it is ("findings.text"),
    # which lends it its description, or a computed one with its own (Italian, English).
    columns: dict[str, str | tuple[str, str]]

    def source(self, name: str) -> tuple[str, str] | None:
        """``(table, column)`` that view column ``name`` shows as it is; None if computed."""
        spec = self.columns[name]
        return None if isinstance(spec, tuple) else tuple(spec.split("."))

    def describe(self, name: str) -> tuple[str, str]:
        """The column's description, Italian and English."""
        source = self.source(name)
        if source is None:
            return self.columns[name]
        column = TABLES_BY_NAME[source[0]].column(source[1])
        return column.it, column.en


# Views researchers will want; each database computes them from its own rows.
VIEWS: dict[str, View] = {
    "findings_detail": View(
        "Risultati con tappa, nota e tipo in chiaro",
        "Findings with their event, note and kind spelled out",
        """
        select f.id, k.label as tipo, f.kind, e.city as citta, f.province, e.date as data,
               n.title as nota, f.text, f.themes, f.organisations, f.source_profiles,
               f.note_id, f.event_id, f.source_path, f.source_line
        from findings f
        join finding_kinds k on k.id = f.kind
        join events e on e.id = f.event_id
        join notes n on n.id = f.note_id
        """,
        {"id": "findings.id", "tipo": "finding_kinds.label", "kind": "findings.kind",
         "citta": "events.city", "province": "findings.province", "data": "events.date",
         "nota": "notes.title", "text": "findings.text", "themes": "findings.themes",
         "organisations": "findings.organisations",
         "source_profiles": "findings.source_profiles", "note_id": "findings.note_id",
         "event_id": "findings.event_id", "source_path": "findings.source_path",
         "source_line": "findings.source_line"},
    ),
    "event_kind_counts": View(
        "Quanti risultati per tappa e tipo",
        "How many findings per event and kind",
        f"""
        select e.id as event_id, e.city as citta, e.date as data, k.id as kind,
               k.label as tipo, count(f.id) as risultati
        from events e cross join finding_kinds k
        left join findings f on f.event_id = e.id and f.kind = k.id
        where e.status = {sql_string(HELD)}
        group by e.id, k.id
        order by e.date, e.id, k.position
        """,
        {"event_id": "events.id", "citta": "events.city", "data": "events.date",
         "kind": "finding_kinds.id", "tipo": "finding_kinds.label",
         "risultati": ("Numero di risultati di quel tipo alla tappa",
                       "Number of findings of that kind at the event")},
    ),
    "organisation_activity": View(
        "Attività di ogni organizzazione: risultati in cui è citata o fonte, tappe, note",
        "Each organisation's activity: findings mentioning it or raised by it, events, notes",
        f"""
        select o.id, o.name, o.profile, o.legal_form, o.province,
               (select count(*) from finding_organisations fo where fo.organisation_id = o.id)
                   as risultati,
               (select count(*) from finding_organisations fo
                  where fo.organisation_id = o.id and fo.role = {sql_string(SOURCE)}) as come_fonte,
               (select count(distinct f.event_id) from finding_organisations fo
                  join findings f on f.id = fo.finding_id where fo.organisation_id = o.id)
                   as tappe_citata,
               (select count(*) from note_participants np where np.organisation_id = o.id)
                   as note_partecipate
        from organisations o
        """,
        {
            "id": "organisations.id", "name": "organisations.name",
            "profile": "organisations.profile", "legal_form": "organisations.legal_form",
            "province": "organisations.province",
            "risultati": ("Risultati che citano l'organizzazione (in qualunque ruolo)",
                          "Findings that mention the organisation (in any role)"),
            "come_fonte": ("Risultati sollevati dall'organizzazione (ruolo source)",
                           "Findings the organisation raised (role source)"),
            "tappe_citata": ("Tappe in cui l'organizzazione è citata",
                             "Events where the organisation is mentioned"),
            "note_partecipate": ("Note delle sessioni a cui l'organizzazione ha partecipato",
                                 "Notes of the sessions the organisation took part in"),
        },
    ),
}
