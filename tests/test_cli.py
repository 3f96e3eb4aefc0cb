"""The cotour command: exact output (every command's --help and its line in the README: test_docs.py)."""

import shutil

import pytest
from click.testing import CliRunner

from kb.cli import cli

from conftest import FIXTURES, MINI


@pytest.fixture
def runner():
    return CliRunner()


def test_check_bad_corpus_reports_every_problem(runner, monkeypatch):
    """One run, every problem, compiler-style, sorted by file and line."""
    monkeypatch.chdir(FIXTURES)
    result = runner.invoke(cli, ["check", "--data", "bad"])
    expected = (FIXTURES / "bad-expected.txt").read_text()
    assert 1 == result.exit_code
    assert expected == result.stderr


@pytest.mark.parametrize("needle", [
    # One diagnostic of each kind the corpus covers, pinned with its line.
    "bad/notes/bologna-2015/sintassi.md:4: error: YAML syntax error:",
    "bad/notes/parma-2015/senza.md:1: error: missing front matter",
    "bad/notes/parma-2015/aperta.md:1: error: unterminated front matter",
    "bad/notes/parma-2015/evento.md:2: error: event 'bologna-2015' differs from the note's folder 'parma-2015'",
    "bad/notes/modena-2015/orfana.md:1: error: the folder 'modena-2015' is not an event id",
    "bad/notes/parma-2015/tavolo.md:12: error: unknown organisation 'Kilowat'; did you mean 'kilowatt'?",
    "bad/notes/parma-2015/tavolo.md:7: error: unknown organisation 'Nessuno'",
    "bad/notes/parma-2015/tavolo.md:13: error: unknown theme '#spazi-condivise'; did you mean 'spazi-condivisi'?",
    "bad/events.yaml:7: error: unknown organisation 'mosaic'; did you mean 'mosaico'?",
    "bad/initiatives.yaml:6: error: unknown event 'bologna-2051'; did you mean 'bologna-2015'?",
    "bad/organisations.csv:5: error: duplicate organisation id 'kilowatt' (first at line 2)",
    "bad/themes.yaml:6: error: duplicate theme id 'spazi-condivisi' (first at line 1)",
    "bad/organisations.csv:4: error: invalid province 'XX'",
    "bad/organisations.csv:4: error: invalid legal_form 'srl'",
    "bad/organisations.csv:5: error: invalid profile 'vecchia'",
    "bad/events.yaml:19: error: invalid status 'finito'",
    "bad/notes/parma-2015/tavolo.md:4: error: invalid kind 'tavola'; did you mean 'tavolo'?",
    "bad/notes/parma-2015/tavolo.md:5: error: invalid visibility 'pubblica'; did you mean 'public'?",
    "bad/events.yaml:11: error: impossible date '2015-12-32'",
    "bad/project.yaml:6: error: impossible date '2016-02-30'",
    "bad/organisations.csv:3: warning: lat and lon go together",
    "bad/organisations.csv:4: warning: coordinates 10.33, 44.8 lie outside Emilia-Romagna",
    "bad/organisations.csv:1: error: unknown column 'colore'",
    "bad/project.yaml:10: error: unknown key 'colour' in project.yaml",
    "bad/notes/bologna-2015/latin1.md:6: error: not UTF-8 (byte 0xe0)",
    "bad/notes/parma-2015/tavolo.md:15: warning: heading 'Minaccie' is not a finding section; did you mean 'Minacce'?",
    "bad/organisations.csv:4: error: name or alias 'Serre S.r.l.' of 'serre-srl' is also a name or alias of 'kilowatt'",
    "bad/events.yaml:14: error: a second finale 'finale-2016'",
    "bad/notes/parma-2015/tavolo.md:3: error: the facilitator 'Maria Rossi' is named in the title of a public note",
    "bad/notes/parma-2015/intervista-mario-rossi.md:1: error: the interviewee 'Mario Rossi' is named in the file name, which becomes the note's public id and path: rename the file, e.g. to 'intervista.md'",
    "bad/notes/parma-2015/intervista-mario-rossi.md:7: error: the interviewee 'Mario Rossi' is named in a public note",
    "bad/report/ringraziamenti.md:1: error: the facilitator 'Maria Rossi' is named in a staff text, which is published",
    "bad/iniziative.yaml:1: error: unknown file in the data folder; did you mean 'initiatives.yaml'?",
    "bad/project.yaml:11: error: 'keywords' must be a list: write it as a list: [mutualita]",
    "bad/themes.yaml:5: error: unknown parent theme 'welfere'; did you mean 'welfare'?",
    "bad/project.yaml:7: error: base_url 'https://dati.example.org/cotour' is an example address",
    "bad/project.yaml:4: error: the publisher has no id",
])
def test_bad_corpus_covers(runner, monkeypatch, needle):
    monkeypatch.chdir(FIXTURES)
    lines = runner.invoke(cli, ["check", "--data", "bad"]).stderr.splitlines()
    assert 1 == sum(line.startswith(needle) for line in lines), needle


def test_check_clean(runner):
    result = runner.invoke(cli, ["check", "--data", str(MINI)])
    assert 0 == result.exit_code
    assert f"{MINI}: 0 errors, 0 warnings — 3 events, 3 organisations, 3 notes, 7 findings\n" == result.output


def test_build_output(runner, tmp_path):
    db = tmp_path / "out" / "cotour.db"
    result = runner.invoke(cli, ["build", "--data", str(MINI), "--db", str(db)])
    assert 0 == result.exit_code, result.output
    lines = result.stdout.splitlines()
    assert [
        f"{db}: knowledge base — 3 events, 3 organisations, 3 notes, 7 findings",
        f"{tmp_path}/out/cotour-public.db: public database — 2 notes, 6 findings "
        "(personal data and internal notes left out)",
    ] == lines[:2]
    assert lines[2].startswith("built in ")


def test_build_error_leaves_nothing(runner, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(MINI, data)
    (data / "notes" / "parma-2015" / "tavolo-1.md").write_text(
        "---\ntitle: x\nkind: tavolo\n---\n## Problemi\n- [[Kilowat]] segnala.\n")
    result = runner.invoke(cli, ["build", "--data", str(data), "--db", str(tmp_path / "k.db")])
    assert 1 == result.exit_code
    assert (f"{data}/notes/parma-2015/tavolo-1.md:6: error: unknown organisation 'Kilowat'; "
            "did you mean 'kilowatt'?\n"
            "Error: 1 error, 0 warnings; nothing was written\n") == result.stderr
    assert [] == list(tmp_path.glob("*.db"))


def test_search_output(runner, mini_build):
    kb, _ = mini_build
    result = runner.invoke(cli, ["search", "bandi", "--db", str(kb)])
    assert (
        "[threat] Parma · Tavolo 1 — Welfare e spazi  (9b3e15974335)\n"
        "    [[!Orti Ribelli APS]] teme che i bandi premino solo chi ha già un bilancio. "
        "#finanza-mutualistica\n"
        "    notes/parma-2015/tavolo-1.md:16\n"
    ) == result.output


def test_search_public_flag_reads_the_public_file(runner, mini_build):
    kb, _ = mini_build
    assert "nessun risultato per «segreto»\n" == runner.invoke(
        cli, ["search", "segreto", "--public", "--db", str(kb)]).output


def test_search_without_database(runner, tmp_path):
    result = runner.invoke(cli, ["search", "x", "--db", str(tmp_path / "none.db")])
    assert 1 == result.exit_code
    assert f"{tmp_path}/none.db: error: knowledge base not found; run 'cotour build' first\n" == result.stderr

