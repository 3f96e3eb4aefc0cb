import os
from pathlib import Path

import pytest

from kb.pipeline import build

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
MINI = FIXTURES / "mini"
SAMPLE = ROOT / "data"


# One-word canaries the Italian stemmer leaves alone, so they would show in the FTS index too.
CANARIES = {
    "facilitator": "zqfacilzq", "rapporteur": "zqrappzq", "interviewee": "zqintervzq",
    "internal_title": "zqintitlezq", "internal_text": "zqintextzq",
    "internal_finding": "zqinfindzq",
}


def plant_canaries(data: Path) -> None:
    """A public interview whose personal fields are canaries, and an internal note whose
    every field and text is one (its finding names Kilowatt as its source)."""
    c = CANARIES
    (data / "notes" / "parma-2015" / "intervista-canary.md").write_text(
        "---\nevent: parma-2015\ntitle: Intervista pubblica\nkind: intervista\n"
        f"facilitator: Anna {c['facilitator'].title()}\n"
        f"rapporteur: Bruno {c['rapporteur'].title()}\n"
        f"interviewees: [Carla {c['interviewee'].title()}]\nparticipants: [kilowatt]\n---\n"
        "Un'intervista sulla mutualità.\n\n## Opportunità\n"
        "- Nuovi spazi in comune. #spazi-condivisi\n",
        encoding="utf-8")
    (data / "notes" / "bologna-2015" / "interna-canary.md").write_text(
        f"---\nevent: bologna-2015\ntitle: Nota {c['internal_title']}\nkind: sintesi\n"
        f"visibility: internal\nfacilitator: Dario {c['facilitator'].title()}\n"
        f"rapporteur: Elena {c['rapporteur'].title()}\n"
        f"interviewees: [Franco {c['interviewee'].title()}]\n---\n"
        f"Testo interno {c['internal_text']}.\n\n## Problemi\n"
        f"- Un problema interno {c['internal_finding']}. [[!kilowatt]] #spazi-condivisi\n",
        encoding="utf-8")


@pytest.fixture(scope="session")
def mini_build(tmp_path_factory):
    """The small hand-written fixture, built once: (kb path, public path)."""
    out = tmp_path_factory.mktemp("mini") / "cotour.db"
    result = build(MINI, out)
    return result.db_path, result.public_path


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory):
    """The shipped sample data, built once: (kb path, public path)."""
    out = tmp_path_factory.mktemp("sample") / "cotour.db"
    result = build(SAMPLE, out)
    return result.db_path, result.public_path


# ---- a skipped test fails the run in CI (COTOUR_FAIL_ON_SKIP=1, set by .ci/run): a test that
# skips because a part is missing (Chromium, pandoc, LibreOffice) would otherwise vanish quietly.
_skipped = []


def pytest_runtest_logreport(report):
    if report.skipped and not hasattr(report, "wasxfail"):
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    if _skipped and os.environ.get("COTOUR_FAIL_ON_SKIP") and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    if _skipped and os.environ.get("COTOUR_FAIL_ON_SKIP"):
        terminalreporter.write_line(
            f"FAILED: {len(_skipped)} test(s) skipped, and COTOUR_FAIL_ON_SKIP is set: "
            + ", ".join(_skipped), red=True)


@pytest.fixture(scope="session")
def sample_report(sample_build, tmp_path_factory):
    """The sample's report, written once: (ReportResult, public path)."""
    from kb.report import write_report

    kb_path, public_path = sample_build
    out = tmp_path_factory.mktemp("sample-report") / "cotour-report.pdf"
    return write_report(kb_path, out, data_dir=SAMPLE), public_path
