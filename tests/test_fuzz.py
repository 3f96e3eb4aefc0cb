"""Random Markdown notes never crash the reader: they give findings or diagnostics."""


from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kb.diagnostics import Diagnostic, Diagnostics
from kb.domain.syntax import heading_kind
from kb.normalise import normalise
from kb.ingest.records import RawNote
from kb.ingest.files import decode
from kb.ingest.source import read_source
from kb.ingest.notes import split_front_matter

from conftest import MINI

FRAGMENTS = [
    "## Buone pratiche\n", "## Minacce\n", "## Minaccie\n", "## Clima\n", "# Titolo\n",
    "### Sotto\n", "- ", "* ", "1. ", "  - ", "    ", "\n", "\n\n", "[[kilowatt]]", "[[!Mosaico]]",
    "[[nessuno]]", "[[a|b]]", "[[", "]]", "#spazi-condivisi", "#sconosciuto", "Tavolo #2",
    "https://x.org/#a", "`code`", "```\n", "> ", "<script>alert(1)</script>", "---\n", "**",
    "Maria Rossi", "è", "\t", "|a|b|\n", "testo libero ",
]

markdown = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)), max_size=40).map("".join)

SOURCE = read_source(MINI, Diagnostics())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=markdown, front=st.sampled_from([
    "---\nevent: parma-2015\ntitle: T\nkind: tavolo\nfacilitator: Maria Rossi\n---\n",
    "---\ntitle: [T\n---\n",
    "---\n",
    "",
]))
def test_random_notes_give_findings_or_diagnostics(body, front):
    diags = Diagnostics()
    # As read_notes does: bytes decoded, line endings made \n.
    text = decode((front + body).encode(), "notes/parma-2015/x.md", diags)
    split = split_front_matter(text, "notes/parma-2015/x.md", diags)
    if split is None:
        assert diags.errors  # refused with a reason, never silently
        return
    meta, note_body, body_line = split
    SOURCE.notes = [RawNote("notes/parma-2015/x.md", "notes/parma-2015/x.md", "parma-2015",
                            meta, note_body, body_line)]
    model = normalise(SOURCE, diags)
    assert all(isinstance(d, Diagnostic) and d.line >= 1 for d in diags.items)
    n_lines = text.count("\n") + 1
    for finding in model["findings"]:
        assert finding["text"].strip()
        assert body_line <= finding["source_line"] <= n_lines
    # Nothing is lost: every non-blank body line is in the narrative or in a finding.
    kept = model["notes"][0]["text"] + "\n" + "\n".join(f["text"] for f in model["findings"])
    for line in note_body.split("\n"):
        if heading_kind(line):
            continue  # a kind heading (ATX or setext) is structure, not content
        word = line.strip(" \t-*+>#0123456789.)")
        assert word.strip() in kept or not word.strip(), line
