"""A deterministic synthetic corpus in the format of ``data/`` (like the sample), at any size.

    python benchmarks/generate.py --size S --out build/bench/S
    python benchmarks/generate.py --size L            # -> build/bench/L

The same size and seed always give the same bytes. The text is Italian-like: words drawn from an
Italian vocabulary with Zipf frequencies (a few function words are very common, most content words
rare), so full-text searches meet both very common and rare terms, as in real notes. Every finding
kind appears under the headings DESIGN.md lists, with ``[[mentions]]`` (``[[!source]]`` too),
``#tags`` of the themes, internal notes and personal fields. The corpus passes ``cotour check``
with no error.

Sizes: T (tests), S (the sample's size), M (about 50,000 findings), L (about 500,000 findings,
25,000 notes, 5,000 organisations, 2,500 events).
"""

from __future__ import annotations

import argparse
import bisect
import csv
import io
import itertools
import json
import random
import shutil
import sys
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kb.domain.syntax import organisation_key, slugify

SIZES = {
    "T": {"events": 3, "organisations": 12, "notes": 6, "findings": 30, "initiatives": 2},
    "S": {"events": 10, "organisations": 60, "notes": 40, "findings": 300, "initiatives": 6},
    "M": {"events": 250, "organisations": 1_000, "notes": 2_500, "findings": 50_000,
          "initiatives": 60},
    "L": {"events": 2_500, "organisations": 5_000, "notes": 25_000, "findings": 500_000,
          "initiatives": 300},
}
SEED = 2015

# --------------------------------------------------------------------------- vocabulary

# Ordered from the most to the least frequent: the rank is the Zipf rank.
FUNCTION_WORDS = """
di e il la che per a in un una con non del della i le si da al è sono più come anche ma nel dei
delle alla gli lo se o tra su ci questo molto ha hanno sul nella quando poi già solo essere fare
tutti tutto loro noi chi dove perché ancora sempre stesso altri altre ogni cui così invece
""".split()

CONTENT_WORDS = """
cooperativa comunità spazi soci lavoro territorio progetto mutualità servizi rete welfare persone
cooperative bandi giovani spazio associazioni comune risorse cooperazione valore tempo sociale
condivisione economia sociali nuove nuovi imprese gestione giovane esperienza regione sede
progetti attività formazione quartiere abitanti famiglie tavolo reti modello comuni pubblico
fondazione volontari cittadini relazioni anziani servizio bando finanziamento credito fiducia
partecipazione filiera produttori terra agricoltura orti cibo mercato costi affitto sostenibile
rigenerazione edificio immobile recupero riuso condiviso condivisa condivisi strumenti accesso
piattaforma digitale dati app utenti coworking freelance professionisti tutele mutua sanitaria
assistenza cura casa abitare cohousing vicinato scuola bambini cultura teatro biblioteca festival
turismo montagna appennino borgo paese costa pianura città periferia centro distretto consorzio
impresa startup mappatura tappa incontro plenaria domanda offerta bisogni opportunità rischio
problema soluzione strategia proposta idea sinergia collaborazione alleanza patto fondo capitale
ristorno prezzo equo solidale emporio banca mobilità bici trasporto logistica energia comunitaria
rinnovabile ambiente rifiuti circolare riparazione scambio dono reciprocità governance assemblea
statuto socio sovventore multistakeholder ibrido ibrida contaminazione innovazione tradizione
tradizionale emergente storico settore agricolo edilizia abitativa inserimento lavorativo
svantaggiati disabilità inclusione migranti accoglienza lingua donne conciliazione orari
burocrazia normativa regole fiscale contributi amministrazione ufficio sportello procedura
tempi lenti lunghi difficile facile costoso gratuito volontariato mutualistico mutualistica
cooperativo cooperativi fare insieme rete regionale provinciale locale nazionale europeo
partenariato convenzione accordo contratto committenti fatturazione reddito precarietà fatica
soddisfazione frustrazione entusiasmo fiducia diffidenza ascolto racconto narrazione
comunicazione social sito newsletter eventi laboratorio officina serra magazzino capannone
cortile piazza strada parco giardino bosco fiume mare collina valle crinale delta
trasparenza bilancio rendicontazione impatto misurazione valutazione indicatori
apprendimento competenze mestieri artigiani artigianato manifattura makers stampanti riciclo
sprechi eccedenze alimentari mense distribuzione consegna domicilio badanti infermieri
medici ambulatorio farmacia salute benessere sport palestra oratorio parrocchia
crowdfunding prestito microcredito garanzia fideiussione tesoreria liquidità anticipo
""".split()

CONTENT_WORDS = list(dict.fromkeys(CONTENT_WORDS))
ZIPF_EXPONENT = 1.05


def _zipf(words: list[str]) -> list[float]:
    return list(itertools.accumulate(1 / (rank ** ZIPF_EXPONENT)
                                     for rank in range(1, len(words) + 1)))


_FUNCTION_CUM, _CONTENT_CUM = _zipf(FUNCTION_WORDS), _zipf(CONTENT_WORDS)

THEMES = [
    ("beni-comuni", None, "Beni comuni", "Commons"),
    ("spazi-condivisi", "beni-comuni", "Spazi condivisi", "Shared spaces"),
    ("rigenerazione-urbana", "beni-comuni", "Rigenerazione urbana", "Urban regeneration"),
    ("cultura-partecipata", "beni-comuni", "Cultura partecipata", "Participatory culture"),
    ("welfare-di-comunita", None, "Welfare di comunità", "Community welfare"),
    ("abitare-collaborativo", "welfare-di-comunita", "Abitare collaborativo", "Collaborative housing"),
    ("agricoltura-sociale", "welfare-di-comunita", "Agricoltura sociale", "Social farming"),
    ("governance-ibrida", None, "Governance ibrida", "Hybrid governance"),
    ("cooperative-di-comunita", "governance-ibrida", "Cooperative di comunità", "Community cooperatives"),
    ("piattaforme-digitali", None, "Piattaforme digitali", "Digital platforms"),
    ("mobilita-condivisa", "piattaforme-digitali", "Mobilità condivisa", "Shared mobility"),
    ("economia-circolare", None, "Economia circolare", "Circular economy"),
    ("lavoro-autonomo", None, "Lavoro autonomo e freelance", "Self-employment and freelancing"),
    ("finanza-mutualistica", None, "Finanza mutualistica", "Mutual finance"),
    ("redistribuzione-del-valore", None, "Redistribuzione del valore", "Value redistribution"),
]

# Every finding kind with headings that mean it (of kb.vocabulary.FINDING_KINDS), the first the
# most used (kept as they are: the synthetic corpus, and so the figures, stay comparable).
KIND_HEADINGS = {
    "practice": ["Buone pratiche", "Buone prassi", "Pratiche", "Good practices"],
    "problem": ["Problemi", "Criticità", "Problematiche riscontrate", "Problematiche"],
    "opportunity": ["Opportunità", "Opportunita'", "Opportunities"],
    "threat": ["Minacce", "Rischi", "Threats"],
    "strategy": ["Strategie", "Strategies"],
    "frustration": ["Frustrazioni", "Frustrations"],
    "satisfaction": ["Soddisfazioni", "Satisfactions"],
    "proposal": ["Proposte", "Idee", "Nuove iniziative", "Proposals"],
    "synergy": ["Sinergie", "Collaborazioni", "Synergies"],
}
NARRATIVE_HEADINGS = ["Contesto", "Chi c'era", "Note a margine", "Il clima del tavolo",
                      "Domande aperte", "Dopo l'incontro"]

# Province: (centre lat, centre lon, capital, other municipalities).
PROVINCES = {
    "PC": (45.05, 9.69, "Piacenza", ["Fiorenzuola d'Arda", "Castel San Giovanni", "Bobbio", "Bettola"]),
    "PR": (44.80, 10.33, "Parma", ["Fidenza", "Salsomaggiore Terme", "Langhirano", "Borgo Val di Taro"]),
    "RE": (44.70, 10.63, "Reggio Emilia", ["Correggio", "Scandiano", "Guastalla", "Castelnovo ne' Monti"]),
    "MO": (44.65, 10.93, "Modena", ["Carpi", "Sassuolo", "Mirandola", "Pavullo nel Frignano"]),
    "BO": (44.49, 11.34, "Bologna", ["Imola", "Casalecchio di Reno", "San Lazzaro di Savena", "Porretta Terme"]),
    "FE": (44.84, 11.62, "Ferrara", ["Cento", "Comacchio", "Argenta", "Codigoro"]),
    "RA": (44.42, 12.20, "Ravenna", ["Faenza", "Lugo", "Cervia", "Bagnacavallo"]),
    "FC": (44.22, 12.04, "Forlì", ["Cesena", "Cesenatico", "Santa Sofia", "Bertinoro"]),
    "RN": (44.06, 12.57, "Rimini", ["Riccione", "Santarcangelo di Romagna", "Cattolica", "Novafeltria"]),
}

FIRST_NAMES = """Giulia Luca Matteo Sara Paolo Stefano Chiara Francesca Marco Elena Andrea Silvia
Davide Anna Federica Giorgio Laura Simone Marta Alessandro Valentina Roberto Ilaria Lorenzo
Martina Daniele Beatrice Enrico Irene Tommaso Caterina Filippo Elisa Nicola Serena Riccardo
Alice Pietro Greta Emanuele""".split()
SURNAMES = """Bertolazzi Rinaldi Guidetti Gualtieri Venturelli Ghinelli Bellei Montanari Zanotti
Casadei Pancaldi Magnani Tarozzi Ferrarini Malaguti Vandelli Guerzoni Benassi Barbieri Righi
Morselli Bonazzi Tassinari Zaccherini Baldini Cavazza Golinelli Fabbri Zoffoli Campana Orlandini
Minarelli Scaglioni Rossetti Baraldi Mezzetti Stagni Sabattini Fantuzzi Lugli Sgarbi Ricci
Bacchilega Gardini Paganelli Strocchi Sintoni Pasini Bagnoli Conti""".split()

NAME_NOUNS = """Terra Orto Serra Officina Fornace Filanda Cascina Corte Ponte Porto Mulino Forno
Bottega Cantiere Laboratorio Casa Rete Nodo Trama Radice Seme Germoglio Alveare Sentiero Rifugio
Piazza Cortile Granaio Vigna Bosco Sorgente Faro Bussola Tessitura Fucina Stazione Fabbrica
Quercia Castagno Ulivo Girasole Melograno Lanterna Crocevia Approdo Ancora Vela Molo Argine
Golena Pieve Borgo Contrada Rocca Torre Mura Loggia Chiostro Teatro Cinema Libreria Emporio""".split()
NAME_ADJECTIVES = """Viva Comune Nuova Aperta Solidale Libera Verde Rossa Alta Bassa Grande Piccola
Lenta Ostinata Felice Vicina Lontana Antica Giovane Condivisa Mutua Ribelle Gentile Curiosa
Operosa Fertile Ospitale Leggera Sospesa Ritrovata Accesa Diffusa Sociale Civica Urbana
Rurale Montana Fluviale Marina Padana""".split()
LEGAL_FORMS = [  # (legal form, weight, name pattern, suffix)
    ("cooperativa", 30, "{x}", " Soc. Coop"),
    ("cooperativa sociale", 22, "Cooperativa Sociale {x}", ""),
    ("consorzio", 4, "Consorzio {x}", ""),
    ("associazione", 18, "Associazione {x}", ""),
    ("fondazione", 3, "Fondazione {x}", ""),
    ("impresa", 8, "{x}", " S.r.l."),
    ("startup", 6, "{x} Lab", " S.r.l.s."),
    ("ente pubblico", 2, "Ente {x}", ""),
    ("gruppo informale", 5, "Gruppo {x}", ""),
    ("altro", 2, "Rete {x}", ""),
]
SECTORS = ["welfare", "agricoltura", "cultura", "abitare", "lavoro", "formazione", "turismo",
           "ambiente", "finanza", "mobilità", "manifattura", "servizi"]
NOTE_KINDS = [("tavolo", 60), ("plenaria", 15), ("intervista", 15), ("sintesi", 10)]


# --------------------------------------------------------------------------- text


class Text:
    """Italian-like sentences with Zipf word frequencies."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def words(self, n: int) -> list[str]:
        """``n`` words in chunks of a function word and one or two content words."""
        rng = self.rng
        content = rng.choices(CONTENT_WORDS, cum_weights=_CONTENT_CUM, k=n)
        function = rng.choices(FUNCTION_WORDS, cum_weights=_FUNCTION_CUM, k=n)
        out: list[str] = []
        i = 0
        while len(out) < n:
            if rng.random() < 0.6:
                out.append(function[i])
            out.append(content[i])
            if rng.random() < 0.3:
                out.append(content[-1 - i])
            i += 1
        return out[:n]

    def sentence(self, lo: int = 8, hi: int = 22) -> str:
        words = self.words(self.rng.randint(lo, hi))
        if len(words) > 8 and self.rng.random() < 0.4:
            words[self.rng.randint(3, len(words) - 3)] += ","
        text = " ".join(words)
        return text[0].upper() + text[1:] + "."

    def paragraph(self, sentences: int) -> str:
        return " ".join(self.sentence() for _ in range(sentences))


def wrap(text: str, width: int = 96, indent: str = "") -> list[str]:
    """Lines of at most ``width`` characters, continuation lines indented."""
    lead = text[: len(text) - len(text.lstrip(" "))]
    lines, line = [], ""
    for word in text.lstrip(" ").split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = indent + word
        else:
            line = f"{line} {word}" if line else lead + word
    if line:
        lines.append(line)
    return lines


def _yaml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


# --------------------------------------------------------------------------- the corpus


class Corpus:
    def __init__(self, size: str, seed: int = SEED):
        self.size = SIZES[size]
        self.rng = random.Random(f"{seed}-{size}")
        self.text = Text(self.rng)
        self.files: dict[str, str] = {}

    # ---- organisations

    def organisations(self) -> None:
        rng = self.rng
        taken: dict[str, str] = {}  # organisation key -> id
        forms = [f for f in LEGAL_FORMS]
        weights = [f[1] for f in LEGAL_FORMS]
        orgs = []
        combos = [f"{n} {a}" for n in NAME_NOUNS for a in NAME_ADJECTIVES]
        rng.shuffle(combos)
        combo_iter = iter(combos)
        serial = itertools.count(2)
        while len(orgs) < self.size["organisations"]:
            form, _, pattern, suffix = rng.choices(forms, weights=weights)[0]
            province = rng.choice(list(PROVINCES))
            lat0, lon0, capital, towns = PROVINCES[province]
            municipality = capital if rng.random() < 0.5 else rng.choice(towns)
            core = next(combo_iter, None)
            if core is None:  # every combination used: number them
                core = f"{rng.choice(NAME_NOUNS)} {rng.choice(NAME_ADJECTIVES)} {next(serial)}"
            short = pattern.format(x=core)
            name = short + suffix
            org_id = slugify(short)
            aliases = [core] if short != core else []
            if rng.random() < 0.3:
                aliases.append(f"{core.split()[0]} di {municipality}")
            keys = {organisation_key(n) for n in [name, org_id, *aliases]}
            if any(k in taken for k in keys):
                aliases = []
                keys = {organisation_key(name), organisation_key(org_id)}
                if any(k in taken for k in keys):
                    continue
            for key in keys:
                taken[key] = org_id
            profile = "emergente" if form in ("startup", "gruppo informale") or rng.random() < 0.4 \
                else "tradizionale"
            themes = rng.sample([t[0] for t in THEMES], rng.randint(0, 3))
            coords = ("", "")
            if rng.random() < 0.8:
                coords = (f"{min(45.1, lat0 + rng.uniform(-0.15, 0.15)):.4f}",
                          f"{lon0 + rng.uniform(-0.15, 0.15):.4f}")
            orgs.append({
                "id": org_id, "name": name, "aliases": ";".join(aliases), "legal_form": form,
                "profile": profile, "sector": rng.choice(SECTORS), "province": province,
                "municipality": municipality,
                "website": f"https://{org_id}.example.org" if rng.random() < 0.5 else "",
                "founded": str(rng.randint(1950, 2015)) if rng.random() < 0.7 else "",
                "lat": coords[0], "lon": coords[1], "themes": ";".join(themes),
                "description": self.text.sentence(10, 30) if rng.random() < 0.6 else "",
                "mapped": "yes" if rng.random() < 0.85 else "no",
            })
        self.orgs = orgs
        # Some organisations speak much more than others: Zipf over a shuffled order.
        self.org_cum = list(itertools.accumulate(1 / r for r in range(1, len(orgs) + 1)))
        self.org_order = list(range(len(orgs)))
        rng.shuffle(self.org_order)
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(orgs[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(orgs)
        self.files["organisations.csv"] = out.getvalue()

    def org(self) -> dict:
        i = bisect.bisect_left(self.org_cum, self.rng.random() * self.org_cum[-1])
        return self.orgs[self.org_order[min(i, len(self.orgs) - 1)]]

    def org_ref(self, org: dict) -> str:
        """An organisation as a note would name it: its id, name or an alias."""
        choices = [org["id"], org["name"], *filter(None, org["aliases"].split(";"))]
        return self.rng.choice(choices)

    # ---- events

    def events(self) -> None:
        rng = self.rng
        n = self.size["events"]
        provinces = list(PROVINCES)
        day = date(2015, 11, 7)
        events, seen = [], {}
        for i in range(n):
            finale = i == n - 1
            province = provinces[i % len(provinces)] if i < len(provinces) else rng.choice(provinces)
            _, _, capital, towns = PROVINCES[province]
            city = capital if finale or i < len(provinces) or rng.random() < 0.4 else rng.choice(towns)
            base = f"{'finale' if finale else slugify(city)}-{day.year}"
            seen[base] = seen.get(base, 0) + 1
            event_id = base if seen[base] == 1 else f"{base}-{seen[base]}"
            status = "svolto"
            if not finale and i > 3 and rng.random() < 0.04:
                status = rng.choice(["programmato", "annullato"])
            event = {"id": event_id, "city": city, "province": province, "kind":
                     "finale" if finale else "tappa", "status": status, "date": day.isoformat()}
            if status == "programmato" and rng.random() < 0.5:
                del event["date"]
            events.append(event)
            day += timedelta(days=rng.randint(1, 3) if n > 50 else rng.randint(5, 25))
        self.events_list = events
        self.held = [e for e in events if e["status"] == "svolto"]
        lines = ["# Tappe sintetiche per il benchmark (benchmarks/generate.py).", ""]
        for e in events:
            lines.append(f"- id: {e['id']}")
            lines.append(f"  city: {_yaml_str(e['city'])}")
            lines.append(f"  province: {e['province']}")
            if "date" in e:
                lines.append(f"  date: {e['date']}")
            lines.append(f"  kind: {e['kind']}")
            lines.append(f"  status: {e['status']}")
            if rng.random() < 0.7:
                venue = f"{rng.choice(['Sala', 'Spazio', 'Auditorium', 'Centro'])} {self.org()['name']}"
                lines.append(f"  venue: {_yaml_str(venue)}")
            if e["status"] == "svolto":
                persons = rng.randint(15, 90)
                lines.append(f"  attendance: {{persons: {persons}, organisations: "
                             f"{rng.randint(5, persons // 2)}}}")
            hosts = list(dict.fromkeys(self.org()["id"] for _ in range(rng.randint(0, 2))))
            if hosts:
                lines.append(f"  hosts: [{', '.join(hosts)}]")
            lines.append("")
        self.files["events.yaml"] = "\n".join(lines)

    # ---- notes

    def person(self) -> str:
        return f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(SURNAMES)}"

    def finding(self) -> str:
        rng, text = self.rng, self.text
        parts = []
        if rng.random() < 0.55:
            parts.append(f"[[!{self.org_ref(self.org())}]]")
        parts.append(text.sentence(10, 28))
        if rng.random() < 0.35:
            parts.append(text.sentence(6, 18))
        if rng.random() < 0.3:
            org = self.org()
            if rng.random() < 0.2:
                ref = f"[[{org['id']}|{org['name'].split()[0].lower()}]]"
            else:
                ref = f"[[{self.org_ref(org)}]]"
            parts.append(f"Con {ref} {' '.join(text.words(rng.randint(3, 9)))}.")
        tags = rng.sample(self.theme_ids, rng.choices([0, 1, 2, 3], weights=[10, 45, 35, 10])[0])
        body = " ".join(parts) + "".join(f" #{t}" for t in tags)
        return body

    def item_lines(self, marker: str, body: str) -> list[str]:
        indent = " " * (len(marker) + 1)
        lines = wrap(f"{marker} {body}", indent=indent)
        if self.rng.random() < 0.05:  # a nested item belongs to the same finding
            lines += wrap(f"{indent}- {self.text.sentence(5, 12)}", indent=indent + "  ")
        return lines

    def notes(self) -> None:
        rng = self.rng
        n_notes, total = self.size["notes"], self.size["findings"]
        base = total // n_notes
        counts = [base] * n_notes
        for i in range(total - base * n_notes):
            counts[i % n_notes] += 1
        for i in range(n_notes):  # vary the length of notes, keeping the total
            j = rng.randrange(n_notes)
            delta = rng.randint(0, max(0, base // 2))
            if counts[j] - delta >= 1:
                counts[i] += delta
                counts[j] -= delta
        # Spread the notes over the events that took place, the finale getting a few more.
        per_event: dict[str, int] = {}
        names: dict[tuple[str, str], int] = {}
        kinds = [k for k, _ in NOTE_KINDS]
        kind_weights = [w for _, w in NOTE_KINDS]
        for i, count in enumerate(counts):
            event = self.held[i % len(self.held)] if i < len(self.held) else rng.choice(self.held)
            per_event[event["id"]] = per_event.get(event["id"], 0) + 1
            kind = "plenaria" if per_event[event["id"]] == 1 else rng.choices(kinds, kind_weights)[0]
            visibility = "internal" if rng.random() < 0.08 else "public"
            topic = " e ".join(rng.sample(CONTENT_WORDS[:120], 2))
            if kind == "tavolo":
                number = per_event[event["id"]]
                title = f"Tavolo {number} — {topic.capitalize()}"
                stem = f"tavolo-{number}-{slugify(topic)}"
            elif kind == "intervista":
                org = self.org()
                title = f"Intervista a {org['name']}"
                stem = f"intervista-{org['id']}"
            elif kind == "sintesi":
                title = f"Sintesi della giornata: {topic}" if rng.random() < 0.5 else "Sintesi della giornata"
                stem = "sintesi" if visibility == "public" else "debriefing-staff"
            else:
                title = f"Plenaria di {event['city']}"
                stem = "plenaria"
            key = (event["id"], stem)
            names[key] = names.get(key, 0) + 1
            if names[key] > 1:
                stem = f"{stem}-{names[key]}"
            self.files[f"notes/{event['id']}/{stem}.md"] = self.note(event, title, kind,
                                                                     visibility, count)

    def note(self, event: dict, title: str, kind: str, visibility: str, count: int) -> str:
        rng, text = self.rng, self.text
        staff = [self.person() for _ in range(2)]
        front = ["---", f"event: {event['id']}", f"title: {_yaml_str(title)}", f"kind: {kind}"]
        if rng.random() < 0.05:
            front.append(f"date: {event['date']}")
        if rng.random() < 0.9:
            front.append(f"facilitator: {staff[0]}")
        if rng.random() < 0.8:
            front.append(f"rapporteur: {staff[1]}")
        if kind == "intervista":
            front.append(f"interviewees: [{', '.join(self.person() for _ in range(rng.randint(1, 2)))}]")
        participants = list(dict.fromkeys(self.org_ref(self.org()) for _ in range(rng.randint(2, 8))))
        front.append(f"participants: [{', '.join(_yaml_str(p) for p in participants)}]")
        if visibility == "internal" or rng.random() < 0.7:
            front.append(f"visibility: {visibility}")
        front.append("---")
        body = wrap(text.paragraph(rng.randint(1, 4)))
        if visibility == "internal":
            body += wrap(f"Presenti {staff[0]} e {staff[1]}. Nota riservata allo staff.")
        if rng.random() < 0.3:
            body += ["", f"## {rng.choice(NARRATIVE_HEADINGS)}", ""]
            body += wrap(text.paragraph(rng.randint(1, 3)))
            if rng.random() < 0.2:
                body += [f"Al Tavolo #{rng.randint(1, 5)} {' '.join(text.words(6))}."]
        sections = rng.sample(list(KIND_HEADINGS), min(len(KIND_HEADINGS), rng.randint(1, 5), count))
        cuts = sorted(rng.sample(range(1, count), len(sections) - 1)) if len(sections) > 1 else []
        sizes = [b - a for a, b in zip([0, *cuts], [*cuts, count])]
        for kind_id, n in zip(sections, sizes):
            headings = KIND_HEADINGS[kind_id]
            heading = headings[0] if rng.random() < 0.7 else rng.choice(headings)
            body += ["", f"## {heading}", ""]
            ordered = rng.random() < 0.15
            bullet = rng.choice("-*+") if rng.random() < 0.2 else "-"
            for i in range(n):
                body += self.item_lines(f"{i + 1}." if ordered else bullet, self.finding())
        return "\n".join(front + body) + "\n"

    # ---- the rest

    def project(self) -> None:
        self.files["project.yaml"] = "\n".join([
            "# Corpus sintetico per il benchmark (benchmarks/generate.py): dati inventati.",
            'title: {it: "Co?Tour – corpus sintetico", en: "Co?Tour – synthetic corpus"}',
            'subtitle: "Rapporto finale dei risultati"',
            'description: "Corpus sintetico generato per misurare le prestazioni della pipeline."',
            "keywords: [mutualità, cooperazione, benchmark]",
            "temporal: {start: 2015-11-01, end: 2030-12-31}",
            "spatial: Emilia-Romagna",
            # invented ids with right check digits (those of tests/fixtures/mini)
            'organisers: [{name: Confcooperative Emilia Romagna, id: "12345678903"}, '
            '{name: Irecoop Emilia Romagna, id: "01234567897"}, '
            '{name: Kilowatt Soc. Coop, id: "02543210377"}]',
            'publisher: {name: Confcooperative Emilia Romagna, id: "12345678903"}',
            "contact: info@example.org",
            "licence: CC-BY-4.0",
            "release_date: 2016-03-31",
            "version: 1.0.0",
            "base_url: https://dati.example.org/cotour",
            "dataset_id: cotour-benchmark",
            "eu_theme: SOCI",
            "frequency: IRREG",
            "illustrative: true",
            "",
        ])

    def themes(self) -> None:
        self.theme_ids = [t[0] for t in THEMES]
        lines = ["# Temi del corpus sintetico.", ""]
        for theme_id, parent, it, en in THEMES:
            lines.append(f"- id: {theme_id}")
            if parent:
                lines.append(f"  parent: {parent}")
            lines.append(f"  label: {{it: {_yaml_str(it)}, en: {_yaml_str(en)}}}")
            lines.append(f"  description: {_yaml_str(self.text.sentence(10, 24))}")
            lines.append("")
        self.files["themes.yaml"] = "\n".join(lines)

    def initiatives(self) -> None:
        rng = self.rng
        lines = ["# Iniziative del corpus sintetico.", ""]
        for i in range(1, self.size["initiatives"] + 1):
            topic = " ".join(rng.sample(CONTENT_WORDS[:150], 3))
            lines.append(f"- id: iniziativa-{i}-{slugify(topic)}")
            lines.append(f"  title: {_yaml_str(topic.capitalize())}")
            lines.append(f"  description: {_yaml_str(self.text.paragraph(2))}")
            lines.append(f"  status: {rng.choice(['proposta', 'avviata', 'conclusa'])}")
            orgs = list(dict.fromkeys(self.org()["id"] for _ in range(rng.randint(1, 4))))
            lines.append(f"  organisations: [{', '.join(orgs)}]")
            lines.append(f"  themes: [{', '.join(rng.sample(self.theme_ids, rng.randint(1, 3)))}]")
            born = list(dict.fromkeys(rng.choice(self.held)["id"] for _ in range(rng.randint(1, 3))))
            lines.append(f"  born_from: [{', '.join(born)}]")
            lines.append("")
        self.files["initiatives.yaml"] = "\n".join(lines)

    def report_texts(self) -> None:
        for name in ("introduzione", "conclusioni"):
            paragraphs = [self.text.paragraph(self.rng.randint(3, 6)) for _ in range(3)]
            self.files[f"report/{name}.md"] = "\n\n".join(
                "\n".join(wrap(p)) for p in paragraphs) + "\n"

    def build(self) -> dict[str, str]:
        self.project()
        self.themes()
        self.organisations()
        self.events()
        self.notes()
        self.initiatives()
        self.report_texts()
        return self.files


def generate(out_dir: Path | str, size: str = "S", seed: int = SEED) -> dict[str, int]:
    """Write the corpus of ``size`` to ``out_dir`` (replaced as a whole); return its counts."""
    out_dir = Path(out_dir)
    corpus = Corpus(size, seed)
    files = corpus.build()
    if out_dir.exists():
        shutil.rmtree(out_dir)
    for rel, text in files.items():
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    return {
        "events": len(corpus.events_list),
        "organisations": len(corpus.orgs),
        "notes": sum(1 for rel in files if rel.startswith("notes/")),
        "findings": corpus.size["findings"],
        "bytes": sum(len(t.encode("utf-8")) for t in files.values()),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=list(SIZES), default="S")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, help="default: build/bench/<size>")
    args = parser.parse_args(argv)
    out = args.out or ROOT / "build" / "bench" / args.size
    counts = generate(out, args.size, args.seed)
    print(f"{out}: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
