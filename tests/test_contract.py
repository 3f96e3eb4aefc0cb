"""``check`` is the contract: what it accepts, ``build``, ``report`` and ``publish`` accept too;
and random edits of the sample never end in a traceback or a hang.

The property test varies the shape of a data folder (no notes, events only planned, a minimal
project, free text everywhere...) and requires every folder ``check`` accepts to be built,
published and rendered as a report. The mutation fuzzer edits the sample data at random
(seeded) and requires ``check`` to end in exit 0 with every note, organisation and event kept,
or in ``path:line`` diagnostics.
"""

import random
import re
import shutil
import signal
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kb.cli import cli
from kb.pipeline import build, check
from kb.release.publish import publish
from kb.report import write_report
from kb.report.render import render_editions
from kb.report.write import report_data
from kb.store.database import table_counts

from conftest import MINI, SAMPLE

MINIMAL_PROJECT = {
    "title": "Co?Tour", "description": "Prova.", "organisers": ["Kilowatt Soc. Coop"],
    "publisher": {"name": "Confcooperative Emilia Romagna"}, "licence": "CC0-1.0",
    "release_date": "2016-03-31", "base_url": "https://dati.example.org/cotour",
    "eu_theme": "SOCI", "frequency": "IRREG", "illustrative": True,
}

# Free text as staff type it: any letter, accents, punctuation, symbols and spaces.
free_text = st.text(st.characters(categories=("L", "M", "N", "P", "S", "Zs")), min_size=1,
                    max_size=30).map(str.strip).filter(bool)


@st.composite
def data_folders(draw):
    """A description of a data folder: edits applied to the mini fixture."""
    return {
        "notes": draw(st.sampled_from(["all", "none", "empty", "internal"])),
        "statuses": draw(st.lists(st.sampled_from(["svolto", "programmato", "annullato"]),
                                  min_size=3, max_size=3)),
        "drop_dates": draw(st.booleans()),
        "project": draw(st.sampled_from(["mini", "minimal"])),
        "version": draw(st.one_of(st.none(), st.from_regex(r"[0-9A-Za-z][0-9A-Za-z._-]{0,12}",
                                                              fullmatch=True))),
        "keywords": draw(st.lists(free_text, max_size=3)),
        "subtitle": draw(st.one_of(st.none(), free_text)),
        "initiatives": draw(st.sampled_from(["mini", "none", "empty"])),
        "report": draw(st.one_of(st.none(), free_text)),
        "org_description": draw(free_text),
        "note_title": draw(free_text),
        "venue": draw(st.one_of(st.none(), free_text)),
    }


def make_folder(spec: dict, data: Path) -> None:
    shutil.copytree(MINI, data)
    if spec["notes"] == "none":
        shutil.rmtree(data / "notes")
    elif spec["notes"] == "empty":
        shutil.rmtree(data / "notes")
        (data / "notes").mkdir()
    elif spec["notes"] == "internal":
        for note in (data / "notes").rglob("*.md"):
            text = note.read_text().replace("visibility: internal\n", "")
            note.write_text(text.replace("---\n", "---\nvisibility: internal\n", 1))
    note = data / "notes" / "parma-2015" / "tavolo-1.md"
    if note.exists():
        note.write_text(note.read_text().replace("title: Tavolo 1 — Welfare e spazi",
                                                 f"title: {yaml.safe_dump(spec['note_title']).strip().removesuffix('...').strip()}"))
    events = yaml.safe_load((data / "events.yaml").read_text())
    for event, status in zip(events, spec["statuses"]):
        event["status"] = status
        if status == "programmato" and spec["drop_dates"]:
            event.pop("date", None)
        if spec["venue"]:
            event["venue"] = spec["venue"]
    (data / "events.yaml").write_text(yaml.safe_dump(events, allow_unicode=True))
    project = (dict(MINIMAL_PROJECT) if spec["project"] == "minimal"
               else yaml.safe_load((data / "project.yaml").read_text()))
    for key in ("version", "subtitle"):
        if spec[key]:
            project[key] = spec[key]
    if spec["keywords"]:
        project["keywords"] = spec["keywords"]
    (data / "project.yaml").write_text(yaml.safe_dump(project, allow_unicode=True))
    if spec["initiatives"] == "none":
        (data / "initiatives.yaml").unlink()
    elif spec["initiatives"] == "empty":
        (data / "initiatives.yaml").write_text("")
    if spec["report"]:
        (data / "report").mkdir()
        (data / "report" / "conclusioni.md").write_text(spec["report"] + "\n")
    csv = (data / "organisations.csv").read_text()
    quoted = '"' + spec["org_description"].replace('"', '""') + '"'
    (data / "organisations.csv").write_text(csv.replace('"Spazi, servizi e progetti"', quoted))


@settings(max_examples=10, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(spec=data_folders())
def test_what_check_accepts_is_built_published_and_reported(spec):
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        make_folder(spec, tmp / "data")
        result = check(tmp / "data")
        if result.diagnostics.errors:
            return  # refused with reasons: the contract says nothing more
        built = build(tmp / "data", tmp / "build" / "cotour.db")
        publish(built.db_path, tmp / "build" / "opendata")
        data, _ = report_data(built.db_path, tmp / "data")
        html, screen = render_editions(data)
        assert "<html" in html and "<html" in screen


@pytest.mark.parametrize("spec", [
    {"notes": "none", "statuses": ["programmato"] * 3, "drop_dates": True},
    {"notes": "all", "statuses": ["programmato"] * 3, "drop_dates": True},
    {"notes": "internal", "statuses": ["annullato", "svolto", "programmato"],
     "project": "minimal", "initiatives": "none"},
], ids=["no notes, nothing held yet", "all events planned", "only internal notes"])
def test_edge_folders_make_a_whole_report(spec, tmp_path):
    """The slow part of the contract, the PDF, on the folders most unlike the sample."""
    full = {"drop_dates": False, "project": "mini", "version": None, "keywords": [],
            "subtitle": None, "initiatives": "mini", "report": None,
            "org_description": "Spazi", "note_title": "Tavolo 1", "venue": None, **spec}
    make_folder(full, tmp_path / "data")
    assert [] == check(tmp_path / "data").diagnostics.errors
    built = build(tmp_path / "data", tmp_path / "build" / "cotour.db")
    result = write_report(built.db_path, tmp_path / "build" / "report" / "r.pdf",
                          data_dir=tmp_path / "data")
    assert result.pages > 0 and result.pdf_path.stat().st_size > 0
    publish(built.db_path, tmp_path / "build" / "opendata")


# ---- the mutation fuzzer --------------------------------------------------------------------

TROUBLE = [
    "", " ", "\t", "nan", "inf", "-inf", "1e400", "yes", "no", "null", "~", "1.10", "[", "]",
    "{", "}", "&a", "*a", "<<: *a", "!!set", "!!binary", "---", "...", ":", ": ", "- ", "# ",
    "[[", "]]", "[[!", "#", "##", "## Minacce", "\x00", "\x1b", "\u00ad", "\u200b", "\ufeff",
    "\u00a0", "\r", "\r\n", '"', "'", '"""', ",", ";", "=cmd|' /C calc'!A0", "@SUM(1)",
    "99999999999999999999999", "-1", "0", "2015-02-30", "2015-13-01", "x" * 5000,
    "è", "Maria Rossi", "../../etc/passwd", "%s%n", "\\", "|", "`", "<script>",
]


def mutate(data: Path, rng: random.Random) -> str:
    """One random edit of a file of ``data``; says what it did."""
    files = sorted(p for p in data.rglob("*") if p.is_file())
    path = rng.choice(files)
    rel = path.relative_to(data).as_posix()
    raw = path.read_bytes()
    lines = raw.split(b"\n")
    n = rng.randrange(len(lines))
    op = rng.choice(["delete", "duplicate", "swap", "insert", "replace", "truncate",
                     "splice", "indent", "remove", "bytes"])
    token = rng.choice(TROUBLE).encode()
    if op == "delete":
        del lines[n]
    elif op == "duplicate":
        lines.insert(n, lines[n])
    elif op == "swap":
        m = rng.randrange(len(lines))
        lines[n], lines[m] = lines[m], lines[n]
    elif op == "insert":
        lines.insert(n, token)
    elif op == "replace":  # a value: what follows ': ' or ',' on the line
        line = lines[n]
        cut = max(line.find(b": ") + 2, line.rfind(b",") + 1, 0)
        lines[n] = line[:cut] + token
    elif op == "truncate":
        raw = raw[:rng.randrange(len(raw) + 1)]
    elif op == "splice":
        at = rng.randrange(len(lines[n]) + 1)
        lines[n] = lines[n][:at] + token + lines[n][at:]
    elif op == "indent":
        lines[n] = b" " * rng.choice([1, 2, 3, 4, 8]) + lines[n]
    elif op == "remove":
        path.unlink()
        return f"{op} {rel}"
    elif op == "bytes":
        at = rng.randrange(len(raw) + 1)
        raw = raw[:at] + bytes(rng.randrange(256) for _ in range(3)) + raw[at:]
    if op not in ("truncate", "bytes"):
        raw = b"\n".join(lines)
    path.write_bytes(raw)
    return f"{op} {rel}:{n + 1} {token[:20]!r}"


@contextmanager
def deadline(seconds: int, what: str):
    def expired(signum, frame):
        raise TimeoutError(f"{what}: no answer in {seconds} s")
    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


DIAGNOSTIC = re.compile(r"^\S.*?:\d+: (error|warning): .+$")
SUMMARY = re.compile(r"^Error: .+: \d+ errors?, \d+ warnings? — ")


@pytest.mark.parametrize("seed", range(40))
def test_random_edits_of_the_sample_end_in_diagnostics_or_a_whole_build(seed, tmp_path):
    rng = random.Random(seed)
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    edits = [mutate(data, rng) for _ in range(rng.choice([1, 1, 2, 3]))]
    with deadline(60, f"seed {seed}: {edits}"):
        result = CliRunner().invoke(cli, ["check", "--data", str(data)])
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        edits, result.exception)
    if result.exit_code:
        lines = result.stderr.splitlines()
        assert lines and SUMMARY.match(lines[-1]), (edits, lines[-3:])
        assert all(DIAGNOSTIC.match(line) for line in lines[:-1]), (edits, lines)
        assert any(": error: " in line for line in lines), edits
        return
    # Accepted: built whole, nothing of the input missing.
    with deadline(120, f"seed {seed}: build after {edits}"):
        built = build(data, tmp_path / "cotour.db")
    counts = table_counts(built.db_path)
    notes = [p for p in (data / "notes").glob("*/*.md")] if (data / "notes").is_dir() else []
    assert len(notes) == counts["notes"], edits
    events = yaml.safe_load((data / "events.yaml").read_text())
    assert len(events) == counts["events"], edits
    rows = [line for line in (data / "organisations.csv").read_text().splitlines()[1:]
            if line.strip(", ")]
    assert len(rows) <= counts["organisations"] <= len(rows) + 5, edits  # quoted line breaks
