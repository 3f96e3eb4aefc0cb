"""``project.yaml``: the project's description, and the identifiers a release must not publish
as placeholders.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, NamedTuple

from ..diagnostics import Diagnostics, did_you_mean, excerpt
from ..domain.vocabulary import EU_FREQUENCIES, EU_THEMES, LICENCES
from .fields import VERSION, Fields, _kind, text_problem
from .files import _read_text
from .objectives import read_funder, read_objectives
from .yaml_lines import LineDict, LineList, load_yaml

PROJECT_KEYS = {
    "title": True, "subtitle": False, "description": True, "keywords": False, "sources": False,
    "temporal": False, "spatial": False, "organisers": True, "publisher": True, "contact": False,
    "licence": True, "release_date": True, "version": False, "base_url": True,
    "dataset_id": False, "eu_theme": True, "frequency": True, "subjects": False, "doi": False,
    "illustrative": False, "funder": False, "objectives": False, "staff": False,
}


def read_project(data_dir: Path, diags: Diagnostics) -> dict:
    """Long on purpose: one key after another in the order of the file's documentation, each
    checked at its line.
    """
    rel = "project.yaml"
    path = str(data_dir / rel)
    text = _read_text(data_dir, rel, diags)
    if text is None:
        return {}
    errors = len(diags.errors)
    data = load_yaml(text, path, diags)
    if len(diags.errors) > errors:
        return {}
    if data is None:
        data = LineDict()  # an empty file: every required key is reported missing
    if not isinstance(data, LineDict):
        diags.error(path, 1, "project.yaml must be a mapping of keys")
        return {}
    f = Fields(data, path, diags)
    f.unknown_keys(PROJECT_KEYS, "project.yaml")
    for key, required in PROJECT_KEYS.items():
        if required and key not in data:
            diags.error(path, 1, f"missing required key '{key}'")
    p: dict[str, Any] = {}
    p["title"], p["title_en"] = f.bilingual("title")
    p["subtitle"] = f.text("subtitle")
    p["description"], p["description_en"] = f.bilingual("description")
    p["keywords"] = f.text_list("keywords")
    p["sources"] = []
    sources = data.get("sources") or []
    if not isinstance(sources, list):
        f.error("sources", "'sources' must be a list: [{title: ..., path: https://...}]")
        sources = []
    for i, src in enumerate(sources):
        line = sources.line_of(i) if isinstance(sources, LineList) else f.line("sources")
        if not isinstance(src, LineDict) or not src.get("title"):
            diags.error(path, line, "each source needs a 'title' (and a 'path')")
            continue
        sf = Fields(src, path, diags)
        sf.unknown_keys(["title", "path"], "a source")
        title = sf.text("title")
        if title:
            p["sources"].append({"title": title, "path": sf.text("path")})
    temporal = data.get("temporal")
    p["temporal_start"] = p["temporal_end"] = None
    if isinstance(temporal, LineDict):
        tf = Fields(temporal, path, diags)
        tf.unknown_keys(["start", "end"], "'temporal'")
        p["temporal_start"], p["temporal_end"] = tf.date("start"), tf.date("end")
    elif temporal is not None:
        f.error("temporal", "'temporal' must be a mapping {start: YYYY-MM-DD, end: YYYY-MM-DD}")
    spatial = data.get("spatial")
    p["spatial"] = p["spatial_geonames"] = None
    if isinstance(spatial, LineDict):
        sf = Fields(spatial, path, diags)
        sf.unknown_keys(["name", "geonames"], "'spatial'")
        p["spatial"], p["spatial_geonames"] = sf.text("name", True), sf.text("geonames")
        if p["spatial_geonames"] and not p["spatial_geonames"].isdigit():
            sf.error("geonames", f"geonames '{p['spatial_geonames']}' must be the place's GeoNames "
                                 "number (the digits of https://www.geonames.org/<number>)")
            p["spatial_geonames"] = None
    else:
        p["spatial"] = f.text("spatial")
    p["organisers"], p["organiser_ids"] = [], []
    organiser_lines = []  # where each organiser is written, for the problems of its id
    organisers = data.get("organisers") or []
    if not isinstance(organisers, list):
        f.error("organisers", f"'organisers' must be a list: write it as a list: "
                              f"[{excerpt(str(organisers))}]")
        organisers = []
    for i, organiser in enumerate(organisers):
        if isinstance(organiser, LineDict):
            of = Fields(organiser, path, diags)
            of.unknown_keys(["name", "id"], "an organiser")
            name, identifier = of.text("name", True), of.text("id")
        else:
            problem = text_problem("organisers", organiser)
            if problem:
                diags.error(path, organisers.line_of(i), "each organiser is a name or "
                            f"{{name: ..., id: ...}}, not a {_kind(organiser)}"
                            if isinstance(organiser, list) else problem)
                continue
            name, identifier = str(organiser).strip(), None
        if name:
            p["organisers"].append(name)
            p["organiser_ids"].append(identifier)
            organiser_lines.append(organisers.line_of(i) if isinstance(organisers, LineList)
                                   else f.line("organisers"))
    # Organisations that worked for the programme besides the organisers: (id, name or alias,
    # line); the normalisation resolves them.
    p["staff"] = []
    staff = data.get("staff")
    if staff is not None and not isinstance(staff, list):
        f.error("staff", "'staff' must be a list of organisations: [org-id, ...]")
    for i, ref in enumerate(staff if isinstance(staff, list) else []):
        line = staff.line_of(i) if isinstance(staff, LineList) else f.line("staff")
        if text_problem("staff", ref) or not str(ref).strip():
            diags.error(path, line, "each item of 'staff' is an organisation's id, name or alias")
        else:
            p["staff"].append((str(ref).strip(), line))
    publisher = data.get("publisher")
    p["publisher_name"] = p["publisher_id"] = None
    if isinstance(publisher, LineDict):
        pf = Fields(publisher, path, diags)
        pf.unknown_keys(["name", "id"], "'publisher'")
        p["publisher_name"], p["publisher_id"] = pf.text("name", True), pf.text("id")
    elif publisher is not None:
        p["publisher_name"] = f.text("publisher")
    p["contact"] = f.text("contact")
    p["licence"] = f.text("licence")
    if p["licence"] and p["licence"] not in LICENCES:
        f.error("licence", f"licence '{excerpt(p['licence'])}' is not one of the SPDX identifiers with a "
                           f"code in the EU licence table{did_you_mean(p['licence'], LICENCES)} "
                           f"(one of: {', '.join(LICENCES)})")
    p["release_date"] = f.date("release_date")
    p["version"] = f.text("version")
    if p["version"] and not VERSION.fullmatch(p["version"]):
        f.error("version", f"version '{excerpt(p['version'])}' is not a version: use digits, "
                           "letters, '.', '-' or '_' (e.g. 1.0.0), at most 40 characters; it "
                           "names the open dataset's files")
        p["version"] = None
    p["base_url"] = f.text("base_url")
    if p["base_url"]:
        if not re.match(r"https?://", p["base_url"]):
            f.error("base_url", f"base_url '{excerpt(p['base_url'])}' must start with http:// "
                                "or https://")
        p["base_url"] = p["base_url"].rstrip("/")
    p["dataset_id"] = f.text("dataset_id")
    p["eu_theme"] = f.text_list("eu_theme", one=True)
    if "eu_theme" in data and not p["eu_theme"] and not isinstance(data["eu_theme"], str):
        f.error("eu_theme", f"'eu_theme' must give at least one EU data theme (one of: "
                            f"{', '.join(EU_THEMES)})")
    for code in p["eu_theme"]:
        if code not in EU_THEMES:
            f.error("eu_theme", f"unknown EU data theme '{excerpt(code)}'"
                                f"{did_you_mean(code[:100], EU_THEMES)}")
    p["frequency"] = f.choice("frequency", EU_FREQUENCIES)
    p["subjects"] = []
    for subject, line in f.slug_list("subjects"):
        if subject.isdigit():
            p["subjects"].append(subject)
        else:
            diags.error(path, line, f"subject '{subject}' must be a EuroVoc concept's number "
                                    "(the digits of http://eurovoc.europa.eu/<number>)")
    p["doi"] = f.text("doi")
    if p["doi"] and not DOI.match(p["doi"]):
        f.error("doi", f"doi '{p['doi']}' is not a DOI (10.<registrant>/<suffix>, without "
                       "https://doi.org/)")
    illustrative = data.get("illustrative", False)
    if not isinstance(illustrative, bool):
        f.error("illustrative", "'illustrative' must be true or false")
        illustrative = False
    p["illustrative"] = illustrative
    p.update(read_funder(f, data))
    p["objectives"] = read_objectives(f, data)
    # An example may keep example values, a real release may not; a placeholder identifier is
    # said even in an example, since the catalogue record would publish it as the agent's.
    for found in placeholders(p):
        line = organiser_lines[found.index] if found.index is not None else f.line(found.key)
        if not illustrative:
            diags.error(path, line, f"{found.message} (or set 'illustrative: true')")
        elif found.identifier:
            diags.warning(path, line, found.message)
    return p


DOI = re.compile(r"^10\.\d{4,9}/\S+$")

# Domains reserved for examples (RFC 2606, RFC 6761).
EXAMPLE_HOST = re.compile(r"(^|[@.])(example\.(com|net|org|edu)|[^@/]*\.(example|test|invalid)"
                          r"|localhost)$", re.I)


def _host(address: str) -> str:
    """The host of a URL or the domain of an e-mail address."""
    address = re.sub(r"^(https?://|mailto:)", "", address.strip(), flags=re.I)
    return re.split(r"[/:?#]", address.rsplit("@", 1)[-1], maxsplit=1)[0]


def code_problem(code: str) -> str | None:
    """What is wrong with ``code`` as an Italian organisation's identifier, or None: it may be a
    codice fiscale or partita IVA of 11 digits with its check digit right (not all zeros), a
    person-style codice fiscale of 16 characters with its check letter right, or an IPA code
    (lower-case letters, digits and ``_``, starting with a letter; only the form can be checked
    offline)."""
    if re.fullmatch(r"\d{11}", code):
        if set(code) == {"0"}:
            return "is all zeros"
        if set(code[:10]) == {"0"}:
            return "is a placeholder (ten zeros and a digit)"
        odd = sum(int(d) for d in code[0:10:2])
        even = sum(2 * int(d) - 9 * (int(d) > 4) for d in code[1:10:2])
        check = (10 - (odd + even) % 10) % 10
        if check != int(code[10]):
            return (f"fails its check digit (a codice fiscale or partita IVA starting "
                    f"{code[:10]} ends in {check})")
        return None
    if re.fullmatch(r"[A-Z]{6}\d{2}[A-Z]\d{2}[A-Z]\d{3}[A-Z]", code.upper()):
        if _cf_check_letter(code.upper()[:15]) != code.upper()[15]:
            return "fails its check letter (a codice fiscale of 16 characters)"
        return None
    if re.fullmatch(r"[a-z][a-z0-9_]{1,29}", code):
        return None
    return "is neither an IPA code nor a codice fiscale or partita IVA"


def valid_organisation_code(code: str) -> bool:
    """Whether ``code`` can be an Italian organisation's identifier (:func:`code_problem`)."""
    return code_problem(code) is None


# The codice fiscale's check letter: characters in odd positions (1st, 3rd, ...) and in even ones
# have their own values (DM 23/12/1976).
_CF_ODD = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25,
           24, 23]


def _cf_check_letter(first15: str) -> str:
    total = 0
    for i, ch in enumerate(first15):
        n = int(ch) if ch.isdigit() else ord(ch) - ord("A")
        total += _CF_ODD[n] if i % 2 == 0 else n
    return chr(ord("A") + total % 26)


class Placeholder(NamedTuple):
    key: str  # the project.yaml key
    message: str
    index: int | None = None  # the organiser's position in 'organisers'
    identifier: bool = False  # an agent's identifier (missing or not one), not an address


ID_FORMS = "<IPA code, codice fiscale or partita IVA>"


def placeholders(project: dict) -> list[Placeholder]:
    """What in the project's metadata is a placeholder: addresses in the domains reserved for
    examples, a publisher or organiser without an id or whose id fails its check (all zeros,
    a wrong check digit). An illustrative dataset may carry them (the release says so); a real
    release may not. Each message names the key to add or mend.
    """
    found = []
    for key in ("base_url", "contact"):
        if project.get(key) and EXAMPLE_HOST.search(_host(project[key])):
            found.append(Placeholder(key, f"{key} '{project[key]}' is an example address"))
    for source in project.get("sources") or []:
        if source.get("path") and EXAMPLE_HOST.search(_host(source["path"])):
            found.append(Placeholder("sources",
                                     f"source '{source['path']}' is an example address"))
    identifier = project.get("publisher_id")
    name = project.get("publisher_name")
    if not identifier:
        found.append(Placeholder("publisher", "the publisher has no id, which the catalogue "
                                 f"record gives its agents: write 'publisher' as {{name: {name or '...'}, "
                                 f"id: {ID_FORMS}}}", identifier=True))
    elif code_problem(identifier):
        found.append(Placeholder("publisher", f"publisher id '{identifier}' "
                                 f"{code_problem(identifier)}", identifier=True))
    for i, (name, identifier) in enumerate(zip(project.get("organisers") or [],
                                               project.get("organiser_ids") or [])):
        if not identifier:
            found.append(Placeholder("organisers", f"organiser '{name}' has no id, which the "
                                     "catalogue record gives its agents: write it as "
                                     f"{{name: {name}, id: {ID_FORMS}}}", i, True))
        elif code_problem(identifier):
            found.append(Placeholder("organisers", f"organiser id '{identifier}' of '{name}' "
                                     f"{code_problem(identifier)}", i, True))
    return found
