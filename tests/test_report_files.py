"""The report's files: PDF/UA structure read back from every report written here, the outputs
written all or nothing (faults injected at several moments, a killed run), and every input
that ``cotour check`` accepts reported without error."""

import errno
import hashlib
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pikepdf
import pytest
import yaml

import pdfua
from conftest import MINI, ROOT
from kb.outputs import OutputError
from kb.pipeline import build, check
from kb.report import ReportError, write_report
from kb.report import pdf as report_pdf


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir()) if p.is_file()}


# ---- structure


def test_sample_pdf_structure(sample_report):
    result, _ = sample_report
    assert [] == pdfua.problems(result.pdf_path)


def test_archival_keeps_pdfua_and_lists_each_file_once(mini_build, tmp_path):
    result = write_report(mini_build[0], tmp_path / "archival.pdf", data_dir=MINI, archival=True)
    assert [] == pdfua.problems(result.pdf_path)
    with pikepdf.open(result.pdf_path) as doc:
        names = [str(n) for n in doc.Root.Names.EmbeddedFiles.Names[::2]]
        assert len(result.attachments) == len(names) == len(doc.Root.AF)
        with doc.open_metadata() as meta:
            assert ("3", "A", "1") == (meta["pdfaid:part"], meta["pdfaid:conformance"],
                                       meta["pdfuaid:part"])


def test_colophon_names_the_fonts_the_pdf_embeds(sample_report):
    result, _ = sample_report
    embedded = report_pdf.font_families(result.pdf_path)
    assert ["DejaVu Sans Mono", "Noto Sans", "Noto Serif"] == embedded
    html = result.html_path.read_text(encoding="utf-8")
    assert "Composto in DejaVu Sans Mono, Noto Sans e Noto Serif con WeasyPrint" in html
    assert "matplotlib" not in html


def test_citation_lists_every_author(sample_report):
    result, _ = sample_report
    html = result.html_path.read_text(encoding="utf-8")
    assert ("Confcooperative Emilia Romagna, Irecoop Emilia Romagna e Kilowatt Soc. Coop (2016). "
            "Co?Tour – Viaggio nella nuova mutualità: Rapporto finale dei risultati.") in html


# ---- every input check accepts is reported


def variant(tmp_path, name, change) -> Path:
    data_dir = tmp_path / name
    shutil.copytree(MINI, data_dir)
    change(data_dir)
    return data_dir


def all_scheduled(data_dir):
    events = yaml.safe_load((data_dir / "events.yaml").read_text(encoding="utf-8"))
    for e in events:
        e["status"] = "programmato"
        e.pop("attendance", None)
    (data_dir / "events.yaml").write_text(yaml.safe_dump(events, allow_unicode=True), encoding="utf-8")
    (data_dir / "initiatives.yaml").unlink()


def no_public_notes(data_dir):
    for note in (data_dir / "notes").rglob("*.md"):
        if "visibility: internal" not in note.read_text(encoding="utf-8"):
            note.unlink()


def minimal_project(data_dir):
    # only what check requires: no subtitle, keywords, period, version, contact or sources
    (data_dir / "project.yaml").write_text(textwrap.dedent("""\
        title: Prova
        description: Dati di prova.
        organisers: [Kilowatt Soc. Coop.]
        publisher: {name: Kilowatt Soc. Coop., id: "00000000000"}
        licence: CC0-1.0
        release_date: 2016-03-01
        base_url: https://dati.example.org/prova
        eu_theme: SOCI
        frequency: IRREG
        illustrative: true
        """), encoding="utf-8")


@pytest.mark.parametrize("change", [all_scheduled, no_public_notes, minimal_project])
def test_what_check_accepts_is_reported(change, tmp_path):
    data_dir = variant(tmp_path, change.__name__, change)
    assert [] == [str(d) for d in check(data_dir).diagnostics.errors]
    built = build(data_dir, tmp_path / "build" / "cotour.db")
    result = write_report(built.db_path, tmp_path / "build" / "report.pdf", data_dir=data_dir)
    assert result.pages >= 8
    assert [] == pdfua.problems(result.pdf_path)
    assert [] == [w for w in result.warnings if w.startswith("weasyprint")]


# ---- all or nothing


@pytest.fixture
def previous(mini_build, tmp_path):
    """A report already written, and the digests of its folder."""
    out = tmp_path / "report" / "cotour-report.pdf"
    write_report(mini_build[0], out, data_dir=MINI)
    return out, digests(out.parent)


def disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("where", [
    "weasyprint.document.Document.write_pdf",   # the PDF half written
    "kb.report.pdf.finish",                     # the PDF written, not completed
    "pathlib.Path.write_text",                  # the HTML edition
    "os.fsync",                                 # making the new files durable
])
def test_a_full_disk_leaves_the_previous_report(previous, mini_build, monkeypatch, where):
    out, before = previous
    monkeypatch.setattr(where, disk_full)
    with pytest.raises(OSError):
        write_report(mini_build[0], out, data_dir=MINI)
    assert before == digests(out.parent)  # the same files, the same bytes, no scratch


KILLER = textwrap.dedent("""
    import os, signal, sys
    sys.path.insert(0, {root!r})
    import kb.report.write as write
    from kb.report import write_report

    def killed(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    target, attribute = {where!r}.rsplit(".", 1)
    owner = {{"write": write, "render": write, "pdf": write.pdf, "Outputs": write.AtomicOutputs}}[target]
    setattr(owner, attribute, killed)
    write_report({db!r}, {out!r}, data_dir={data!r})
""")


@pytest.mark.parametrize("where", [
    "render.render_editions",   # after the data, before any file
    "pdf.finish",               # the PDF written to its temporary file
    "Outputs.commit",           # every temporary file complete, none renamed yet
])
def test_a_killed_run_leaves_the_previous_report(previous, mini_build, where):
    out, before = previous
    script = KILLER.format(root=str(ROOT), where=where, db=str(mini_build[0]), out=str(out),
                           data=str(MINI))
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=300)
    assert -signal.SIGKILL == run.returncode, run.stderr.decode()[-2000:]
    left = digests(out.parent)
    assert {k: v for k, v in left.items() if not k.startswith(".")} == before
    # the next run cleans what the killed one left, and succeeds
    write_report(mini_build[0], out, data_dir=MINI)
    assert sorted(before) == sorted(digests(out.parent))


def test_one_run_at_a_time(previous, mini_build):
    from kb.outputs import BusyError, output_lock

    out, before = previous
    with output_lock(out, "held by the test"):
        with pytest.raises(BusyError, match="another 'cotour report'"):
            write_report(mini_build[0], out, data_dir=MINI)
    assert before == digests(out.parent)


@pytest.mark.parametrize("make, message", [
    (lambda out: out.mkdir(parents=True), "is a folder"),
    (lambda out: out.parent.write_text("x"), "is a file"),
])
def test_bad_output_paths(mini_build, tmp_path, make, message):
    out = tmp_path / "sub" / "cotour-report.pdf"
    make(out)
    with pytest.raises(ReportError, match=message):
        write_report(mini_build[0], out, data_dir=MINI)


def test_too_little_room_stops_before_qpdf_and_leaves_the_previous_report(previous, mini_build,
                                                                           monkeypatch):
    # qpdf would abort the whole process on a full disk; the room is checked before it starts.
    out, before = previous
    real = shutil.disk_usage
    monkeypatch.setattr("kb.outputs.shutil.disk_usage",
                        lambda path: real(path)._replace(free=1 << 20))
    with pytest.raises(OutputError) as raised:
        write_report(mini_build[0], out, data_dir=MINI)
    assert "no room left for completing the PDF" in str(raised.value)
    assert before == digests(out.parent)
