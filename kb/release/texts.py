"""The release's README and LICENSE, generated from the project and the dictionary."""

from __future__ import annotations

from ..domain.dictionary import FRICTIONLESS_TYPES
from ..domain.vocabulary import LICENCES
from ..store.public import PUBLIC_NAME
from . import dcat
from .citation import citation_text
from .dcat import RECORDS, dataset_identifier
from .tables import CSV_DIR, RECORD_NAME, WORKBOOK_NAME, published_tables, zip_name


def dataset_readme(project: dict, counts: dict[str, int]) -> str:
    """README.md of the release: what it is, its files, tables and columns, licence, citation.

    Long on purpose: the README written top to bottom, one section after another.
    """
    licence = LICENCES[project["licence"]]
    lines = [f"# {project['title']}", ""]
    if project.get("title_en"):
        lines += [f"*{project['title_en']}*", ""]
    if project.get("illustrative"):
        lines += ["> **Dati illustrativi.** Questo dataset è un esempio: i suoi dati non vanno "
                  "usati come fonte.", ">",
                  "> **Illustrative data.** This dataset is an example: do not use its data as a "
                  "source.", ""]
    lines += [project["description"], ""]
    if project.get("description_en"):
        lines += [project["description_en"], ""]
    facts = [("Identificativo / Identifier", dataset_identifier(project)),
             ("Versione / Version", project.get("version")),
             ("Data di rilascio / Release date", project["release_date"]),
             ("Editore / Publisher", project["publisher_name"]),
             ("Organizzatori / Organisers", ", ".join(project.get("organisers") or [])),
             ("Periodo / Period", " – ".join(str(project[k]) for k in ("temporal_start",
                                                                         "temporal_end")
                                               if project.get(k))),
             ("Copertura geografica / Spatial coverage", project.get("spatial")),
             ("Parole chiave / Keywords", ", ".join(project.get("keywords") or [])),
             ("Contatto / Contact", project.get("contact")),
             ("Licenza / Licence", f"{licence.title} ({project['licence']})"),
             ("Consultazione / Browse online", dcat.uris(project)["database"])]
    lines += [f"- **{k}:** {v}" for k, v in facts if v]
    lines += ["", "## File / Files", "",
              "| file | contenuto / content |", "|---|---|",
              f"| `{CSV_DIR}/<tabella>.csv` | una tabella per file: UTF-8, intestazione, "
              "virgolette RFC 4180, date ISO 8601, righe in ordine di chiave primaria, liste "
              "come testo JSON / one table per file: UTF-8, header row, RFC 4180 quoting, ISO "
              "8601 dates, rows in primary-key order, lists as JSON text |",
              f"| `{WORKBOOK_NAME}` | **da aprire con Excel o LibreOffice**: un foglio per "
              "tabella, con numeri, date e codici già tipizzati (i CSV, aperti con un foglio "
              "di calcolo in italiano, perdono i decimali e gli zeri iniziali) / **open this one "
              "in a spreadsheet**: a sheet per table, numbers, dates and codes already typed |",
              "| `cotour.db` | lo stesso contenuto come database SQLite, con ricerca a testo "
              "libero / the same data as a SQLite database, with full-text search |",
              "| `datapackage.json` | descrizione Frictionless Data Package, con tipi e chiavi "
              "/ Frictionless Data Package descriptor, with types and keys |",
              f"| `{RECORD_NAME}` | scheda DCAT-AP_IT (Turtle) per i portali italiani / "
              "DCAT-AP_IT record (Turtle) for Italian data portals |",
              f"| `{RECORDS['3.0.1']}` | la stessa scheda per DCAT-AP 3.0.1 (portale europeo) / "
              "the same record for DCAT-AP 3.0.1 (European data portal) |",
              "| `metadata.yml` | metadati per Datasette / Datasette metadata |",
              "| `index.html` | pagina di presentazione, con la descrizione schema.org "
              "(`dataset.jsonld`) per i motori di ricerca / landing page, with the schema.org "
              "description (`dataset.jsonld`) for search engines |",
              "| `CITATION.cff`, `.zenodo.json` | come citare il dataset (Citation File Format "
              "1.2) e i metadati per un deposito su Zenodo / how to cite the dataset (Citation "
              "File Format 1.2) and the metadata of a Zenodo deposit |",
              "| `cotour.qdpx`, `cotour-codebook.qdc` | le note codificate, progetto e codebook "
              "REFI-QDA per ATLAS.ti, NVivo, MAXQDA, QualCoder / the coded notes, REFI-QDA "
              "project and codebook |",
              "| `LICENSE` | licenza / licence |",
              "| `SHA256SUMS` | impronte SHA-256 dei file / SHA-256 checksums of the files |",
              f"| `{zip_name(project)}` | tutti i file in un archivio / every file in one "
              "archive |", "",
              "L'archivio non può contenere la propria impronta: le schede DCAT e `SHA256SUMS` "
              "al suo interno non lo descrivono; quelle pubblicate accanto all'archivio ne danno "
              "dimensione e impronte. / The archive cannot hold its own checksum: the DCAT "
              "records and `SHA256SUMS` inside it leave it out; those published beside it give "
              "its size and checksums.", ""]
    lines += ["## Tabelle / Tables", ""]
    for table in published_tables():
        n = counts.get(table.name, 0)
        lines += [f"### `{table.name}` — {table.title_it} / {table.title_en}", "",
                  f"{table.it} *{table.en}*", "",
                  f"Righe / Rows: {n}. Chiave primaria / Primary key: "
                  f"{', '.join(f'`{k}`' for k in table.pk)}.", "",
                  "| colonna / column | tipo / type | descrizione | description |",
                  "|---|---|---|---|"]
        for c in table.public_columns:
            note = f" → `{c.fk[0]}.{c.fk[1]}`" if c.fk else ""
            values = f" ({', '.join(c.values)})" if c.values else ""
            lines.append(f"| `{c.name}` | {FRICTIONLESS_TYPES[c.type]} | {c.it}{values}{note} "
                         f"| {c.en} |")
        lines.append("")
    lines += ["## Aprire i dati con Datasette / Open the data with Datasette", "",
              "```sh", "pip install datasette", "datasette cotour.db -m metadata.yml", "```", "",
              f"Il database si chiama `{PUBLIC_NAME}` e una riga ha l'indirizzo "
              f"`/{PUBLIC_NAME}/<tabella>/<id>`, come nella versione online "
              f"({dcat.uris(project)['database']}). / The database is named `{PUBLIC_NAME}` and "
              "a row's address is the same as online.", "",
              "## Verificare / Validate", "",
              "```sh", "sha256sum -c SHA256SUMS", "frictionless validate datapackage.json", "```",
              "", "## Licenza / Licence", "",
              f"{licence.title} ({project['licence']}): {licence.url}", "",
              f"Titolare dei diritti / Rights holder: {project['publisher_name']}.", "",
              "## Come citare / How to cite", "", citation_text(project), ""]
    return "\n".join(lines)


def licence_text(project: dict) -> str:
    licence = LICENCES[project["licence"]]
    year = str(project["release_date"])[:4]
    return "\n".join([
        f"{project['title']}",
        f"Copyright (c) {year} {project['publisher_name']}",
        "",
        f"I dati di questo dataset sono distribuiti con licenza {licence.title} "
        f"({project['licence']}).",
        f"The data of this dataset are released under the {licence.title} licence "
        f"({project['licence']}).",
        "",
        f"Testo della licenza / Licence text: {licence.url}",
        "",
        "Attribuzione richiesta / Required attribution:",
        citation_text(project),
        "",
    ])
