"""Each normalisation rule as a table of input -> expected."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kb.domain.syntax import finding_id, heading_kind, mentions_in, near_heading, organisation_key, tags_in
from kb.normalise.notes import Block, markdown_blocks, parse_body, simple_blocks


@pytest.mark.parametrize("heading,expected", [
    ("Buone pratiche", "practice"),
    ("Buone prassi", "practice"),
    ("  BUONE   PRATICHE: ", "practice"),
    ("Good practices", "practice"),
    ("Problematiche riscontrate", "problem"),
    ("Criticità", "problem"),
    ("Criticita'", "problem"),
    ("Opportunità", "opportunity"),
    ("Opportunita'", "opportunity"),
    ("opportunita", "opportunity"),
    ("Rischi", "threat"),
    ("Minacce", "threat"),
    ("Strategie", "strategy"),
    ("Frustrazioni", "frustration"),
    ("Soddisfazioni!", "satisfaction"),
    ("Nuove iniziative", "proposal"),
    ("Idee", "proposal"),
    ("Collaborazioni", "synergy"),
    ("Synergies", "synergy"),
    ("Clima dell'incontro", None),
    ("Minaccie", None),
    ("", None),
])
def test_heading_kind(heading, expected):
    assert expected == heading_kind(heading)


@pytest.mark.parametrize("heading,expected", [
    ("Minaccie", "Minacce"),
    ("Oportunità", "Opportunità"),
    ("Buone pratice", "Buone pratiche"),
    ("Soddisfazione", "Soddisfazioni"),
    ("Minacce", None),
    ("Clima dell'incontro", None),
    ("Presenti", None),
])
def test_near_heading(heading, expected):
    assert expected == near_heading(heading)


@pytest.mark.parametrize("name,expected", [
    ("Kilowatt Soc. Coop", "kilowatt"),
    ("KILOWATT soc coop", "kilowatt"),
    ("kilowatt", "kilowatt"),
    ("Il Mosaico Società Cooperativa Sociale", "il mosaico"),
    ("Il Mosaico soc. coop. soc. Onlus", "il mosaico"),
    ("Serre S.r.l.", "serre"),
    ("Àngolo s.c.a r.l.", "angolo"),
    ("Orti Ribelli APS", "orti ribelli"),
    ("Forlì Bene Comune", "forli bene comune"),
    ("orti-ribelli", "orti ribelli"),
    ("Cooperativa Sociale Il Mosaico", "cooperativa sociale il mosaico"),
])
def test_organisation_key(name, expected):
    assert expected == organisation_key(name)


@pytest.mark.parametrize("text,expected", [
    ("Sala aperta al quartiere. #spazi-condivisi", ["spazi-condivisi"]),
    ("#spazi-condivisi, #welfare.", ["spazi-condivisi", "welfare"]),
    ("Il Tavolo #2 ne ha parlato", []),
    ("vedi https://example.org/mappa#sfitti", []),
    ("vedi [la mappa](https://example.org/#spazi)", []),
    ("vedi <https://example.org/#spazi>", []),
    ("linguaggio C#sharp", []),
    ("l&#39;apostrofo", []),
    ("codice `#spazi`", []),
    ("[[kilowatt|#spazi]] e basta", []),
    ("##doppio", []),
    ("(#welfare)", ["welfare"]),
])
def test_tags(text, expected):
    assert expected == [tag for tag, _ in tags_in(text)]


@pytest.mark.parametrize("text,expected", [
    ("[[kilowatt]] apre", [("kilowatt", False, None)]),
    ("[[!Mosaico]] segnala", [("Mosaico", True, None)]),
    ("con [[orti-ribelli|gli Orti]]", [("orti-ribelli", False, "gli Orti")]),
    ("[[!a]] e [[b]]", [("a", True, None), ("b", False, None)]),
    ("[link](x) e [[ spazi ]]", [("spazi", False, None)]),
    ("niente [[ menzioni", []),
])
def test_mentions(text, expected):
    assert expected == [(name, raised, shown) for name, raised, shown, _ in mentions_in(text)]


BODY = """\
Apertura del tavolo.

## Buone pratiche
- Prima voce
  che continua qui.
  - sotto-voce annidata
- Seconda voce

## Minacce
1. Una minaccia
2. Un'altra

## Clima
Disteso.

## Proposte
Testo libero in una sezione di proposte.

- Una proposta
"""


def test_parse_body_findings():
    # body_line=5: the body starts at the file's line 5, so "- Prima voce" is line 8.
    parsed = parse_body(BODY, body_line=5)
    assert [
        ("practice", "Prima voce\nche continua qui.\n- sotto-voce annidata", 8),
        ("practice", "Seconda voce", 11),
        ("threat", "Una minaccia", 14),
        ("threat", "Un'altra", 15),
        ("proposal", "Una proposta", 23),
    ] == [(f.kind, f.text, f.line) for f in parsed.findings]


def test_parse_body_narrative_keeps_everything_else():
    parsed = parse_body(BODY, body_line=5)
    # Kind headings with only items go; a kind section's prose stays, under its heading.
    assert (
        "Apertura del tavolo.\n\n## Clima\nDisteso.\n\n## Proposte\n"
        "Testo libero in una sezione di proposte."
    ) == parsed.narrative


def test_parse_body_near_miss_is_kept_as_narrative():
    parsed = parse_body("## Minaccie\n- resta narrativa\n", body_line=1)
    assert ([], [(1, "Minaccie", "Minacce")]) == (parsed.findings, parsed.near_misses)
    assert "## Minaccie\n- resta narrativa" == parsed.narrative


def test_level_one_heading_closes_a_section():
    parsed = parse_body("## Problemi\n- uno\n# Altro\n- non un risultato\n", body_line=1)
    assert ["uno"] == [f.text for f in parsed.findings]


@pytest.mark.parametrize("a,b,same", [
    ("Prima voce", "Prima voce", True),
    ("Prima voce", "  prima   VOCE ", True),
    ("Prima voce", "Prima voce.", False),
])
def test_finding_id_depends_on_normalised_text(a, b, same):
    assert same == (finding_id("n", "practice", a) == finding_id("n", "practice", b))


def test_finding_id_depends_on_note_and_kind():
    ids = {finding_id("n", "practice", "x"), finding_id("m", "practice", "x"),
           finding_id("n", "threat", "x")}
    assert 3 == len(ids)


# ---- the block structure: the fast reading of simple bodies against markdown-it's

def test_simple_blocks_read_a_note_as_markdown_it_does():
    # Worked out by hand: lines 0-based; an item runs to the next line that is not blank
    # and not its own (or to the end, not counting the last line break).
    body = ("Apertura, con [[Org]] e #tag.\n"   # 0 paragraph
            "Ancora apertura.\n"                # 1
            "\n"                                # 2
            "## Problemi\n"                     # 3 heading
            "1. Primo\n"                        # 4 item 4-7
            "   che continua\n"                 # 5
            "   - sotto-voce\n"                 # 6
            "     che continua\n"               # 7
            "2. Secondo\n"                      # 8 item 8-10 (its blank line with it)
            "\n"                                # 9
            "10. Terzo\n"                       # 10 item 10-11
            "### Dettagli\n"                    # 11 heading h3
            "2017: un anno.\n"                  # 12 paragraph
            "- #tag voce\n")                    # 13... a list right under a paragraph
    assert simple_blocks(body) is None  # (CommonMark's rule for that case is not taken)
    body = body.replace("2017: un anno.\n", "2017: un anno.\n\n")  # 12 paragraph, 13 blank
    expected = [
        Block("other", 0),
        Block("heading", 3, "h2", "Problemi"),
        Block("list", 4, items=((4, 8), (8, 10), (10, 11))),
        Block("heading", 11, "h3", "Dettagli"),
        Block("other", 12),
        Block("list", 14, items=((14, 15),)),
    ]
    assert expected == simple_blocks(body)
    assert expected == markdown_blocks(body)


@pytest.mark.parametrize("body", [
    "Paragrafo\n- voce",                    # a list interrupting a paragraph
    "Paragrafo\n2. voce",                   # ...which an ordered one not from 1 cannot
    "- voce\npigra",                        # a lazy continuation line
    "- voce\n\n  secondo paragrafo",        # a second paragraph in an item
    "- voce\n  1. annidata",                # an ordered list in an item
    "- voce\n* altra",                      # another bullet: another list
    "Titolo\n---",                          # a setext heading
    "- voce\n\tcon tab",
    "    codice",
    "- voce\n   disallineata",
    "-     cinque spazi",
    "## Chiuso ##",
    "[rif]: /indirizzo",
    "- voce\n  ",                           # a line of spaces only
])
def test_simple_blocks_leave_the_subtle_cases_to_markdown_it(body):
    assert simple_blocks(body) is None


_LINES = ["", "", "Testo", "## Problemi", "# Titolo", "### Sotto", "- uno", "- [[Org]] due",
          "* tre", "+ quattro", "1. primo", "2. secondo", "1) alt", "10. dieci", "  continua",
          "   continua", "    continua", "  - sotto", "   - sotto", "  * sotto", "    - sotto",
          "#tag testo", "[[Org]] testo", "2017 anno", "«citazione»", "- #tag", "È ora",
          "1.  due", "-    quattro", "---", "***", "===", "> citazione", "```", "<div>",
          "    codice", " ", "-", "1.", "- - -", "[x]: /u", "1. 2. x", "  1. sotto", "\tx",
          "-     cinque", "## Chiuso ##", "##", "1.testo", "- "]


@settings(max_examples=3000, deadline=None, derandomize=True)
@given(lines=st.lists(st.sampled_from(_LINES), max_size=20), final_break=st.booleans())
def test_simple_blocks_agree_with_markdown_it(lines, final_break):
    body = "\n".join(lines) + ("\n" if final_break else "")
    blocks = simple_blocks(body)
    assert blocks is None or markdown_blocks(body) == blocks
