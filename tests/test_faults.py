"""Faults a user or the machine can cause: bad databases and targets, kills, two runs at once.

Every failure reads ``path[:line]: error: message`` with a non-zero exit and no traceback;
the previous outputs stay byte-identical and no scratch file is left once a run has ended.
"""

import hashlib
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb.cli import cli
from kb.pipeline import build
from kb.store.public import file_digest, sibling_public
from kb.outputs import BusyError, output_lock

from conftest import MINI, ROOT, SAMPLE

COTOUR = [sys.executable, "-c", "from kb.cli import cli; cli()"]
# Root may read and write anything: without these capabilities it meets file permissions as
# any user does (util-linux's setpriv, essential in Debian). Other users need nothing.
AS_USER = (["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]
           if os.geteuid() == 0 else [])


def run(args, cwd=None, preexec_fn=None, timeout=120, as_user=False):
    """The real command in its own process (tracebacks, exit codes and signals as users see)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run((AS_USER if as_user else []) + COTOUR + [str(a) for a in args],
                          capture_output=True, text=True, cwd=cwd, env=env,
                          preexec_fn=preexec_fn, timeout=timeout)


def clean_failure(result, expected_stderr: str) -> None:
    """Exit 1, exactly ``expected_stderr``, no traceback."""
    assert (1, expected_stderr) == (result.exit_code, result.stderr)
    assert result.exception is None or isinstance(result.exception, SystemExit)


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones too) -> its SHA-256."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def runner():
    return CliRunner()


# ---- databases that cannot be used ----------------------------------------------------------

def _damaged(path: Path, public: Path) -> None:
    data = bytearray(public.read_bytes())
    data[4096:4096 * 3] = b"\xff" * (4096 * 2)  # pages 2-3: the schema still reads
    path.write_bytes(bytes(data))


BAD_DATABASES = {
    "missing": (lambda p, pub: None, "public database not found; run 'cotour build' first"),
    "folder": (lambda p, pub: p.mkdir(), "is a folder, not a public database"),
    "text": (lambda p, pub: p.write_text("id,name\n1,x\n"),
             "not a SQLite database (damaged, or another kind of file); run 'cotour build' again"),
    "empty": (lambda p, pub: p.write_bytes(b""),
              "not a SQLite database (damaged, or another kind of file); run 'cotour build' again"),
    "fifo": (lambda p, pub: os.mkfifo(p), "is not a regular file, so not a public database"),
    "dangling symlink": (lambda p, pub: p.symlink_to(p.parent / "gone.db"),
                         "public database not found; run 'cotour build' first"),
}


@pytest.mark.parametrize("command", [
    ["publish", "--out", "{tmp}/opendata"],
    ["report", "--out", "{tmp}/r/report.pdf"],
    ["serve", "--metadata-out", "{tmp}/m.json"],
    ["search", "x", "--public"],
])
@pytest.mark.parametrize("kind", BAD_DATABASES)
def test_a_bad_public_database_is_a_clean_error(runner, mini_build, tmp_path, command, kind):
    make, message = BAD_DATABASES[kind]
    public = tmp_path / "cotour-public.db"
    make(public, mini_build[1])
    args = [a.format(tmp=tmp_path) for a in command] + ["--db", str(tmp_path / "cotour.db")]
    result = runner.invoke(cli, args)
    clean_failure(result, f"{public}: error: {message}\n")
    assert not (tmp_path / "opendata").exists() and not (tmp_path / "r").exists()


def test_a_damaged_database_is_a_clean_error(runner, mini_build, tmp_path):
    public = tmp_path / "cotour-public.db"
    _damaged(public, mini_build[1])
    for args in (["publish", "--out", tmp_path / "o"], ["report", "--out", tmp_path / "r.pdf"],
                 ["search", "x", "--public"], ["serve", "--metadata-out", tmp_path / "m.json"]):
        result = runner.invoke(cli, [str(a) for a in args] + ["--db", str(tmp_path / "cotour.db")])
        assert 1 == result.exit_code, args
        assert result.stderr.startswith(f"{public}: error: damaged public database ("), args
        assert result.stderr.endswith("); run 'cotour build' again\n"), args
        assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("kind", ["folder", "text", "fifo"])
def test_search_in_a_bad_knowledge_base(runner, tmp_path, kind, mini_build):
    make, message = BAD_DATABASES[kind]
    db = tmp_path / "cotour.db"
    make(db, mini_build[1])
    result = runner.invoke(cli, ["search", "x", "--db", str(db)])
    clean_failure(result, f"{db}: error: {message.replace('public database', 'knowledge base')}\n")


def test_a_path_with_uri_characters_opens(mini_build, tmp_path, runner):
    folder = tmp_path / "a?b#c%20"
    folder.mkdir()
    shutil.copy(mini_build[1], folder / "cotour-public.db")
    result = runner.invoke(cli, ["search", "bandi", "--public", "--db",
                                 str(folder / "cotour.db")])
    assert 0 == result.exit_code, result.output
    assert "[threat] Parma" in result.output


# ---- outputs that cannot be written ---------------------------------------------------------

def test_db_naming_a_folder(runner, tmp_path):
    (tmp_path / "kb.db").mkdir()
    result = runner.invoke(cli, ["build", "--data", str(MINI), "--db", str(tmp_path / "kb.db")])
    clean_failure(result, f"{tmp_path}/kb.db: error: is a folder: --db names the knowledge "
                          "base file to write\n")
    assert ["kb.db"] == sorted(p.name for p in tmp_path.iterdir())


@pytest.mark.parametrize("command, name, expected", [
    (["report"], "report.pdf", "is a folder: give the PDF's file name (e.g. report/cotour-report.pdf)"),
    (["export", "qdpx"], "cotour.qdpx", "is a folder; name the file to write"),
])
def test_out_naming_a_folder(runner, tmp_path, mini_build, command, name, expected):
    """The library says it, as for --db: a path: error: line, not click's usage error."""
    out = tmp_path / name
    out.mkdir()
    result = runner.invoke(cli, command + ["--db", str(mini_build[0]), "--out", str(out)])
    clean_failure(result, f"{out}: error: {expected}\n")
    assert [] == list(out.iterdir())


def test_db_under_a_file(runner, tmp_path):
    (tmp_path / "file").write_text("x")
    db = tmp_path / "file" / "kb.db"
    result = runner.invoke(cli, ["build", "--data", str(MINI), "--db", str(db)])
    clean_failure(result, f"{db}: error: cannot write the knowledge base: a folder of its path "
                          "is a file\n")


def test_publish_out_under_a_file(runner, mini_build, tmp_path):
    (tmp_path / "file").write_text("x")
    out = tmp_path / "file" / "opendata"
    result = runner.invoke(cli, ["publish", "--db", str(mini_build[0]), "--out", str(out)])
    assert 1 == result.exit_code
    assert result.stderr.startswith(f"{tmp_path}/file"), result.stderr
    assert ": error: " in result.stderr and "Traceback" not in result.stderr
    assert "x" == (tmp_path / "file").read_text()


def test_read_only_output_folder(tmp_path, mini_build):
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o555)
    result = run(["build", "--data", MINI, "--db", out / "cotour.db"], as_user=True)
    assert (1, "") == (result.returncode, result.stdout)
    assert f"{out}/.cotour.db.lock: error: permission denied: check who may read or write " \
           "it\n" == result.stderr
    assert [] == list(out.iterdir())
    result = run(["publish", "--db", mini_build[0], "--out", out / "opendata"], as_user=True)
    assert (1, f"{out}/.opendata.lock: error: permission denied: check who may read or write "
               "it\n") == (result.returncode, result.stderr)
    assert [] == list(out.iterdir())


def test_unreadable_and_special_input_files(tmp_path):
    """A note nobody may read, a FIFO and a dangling link among the notes: diagnostics, no
    block, no traceback."""
    data = tmp_path / "data"
    shutil.copytree(MINI, data)
    notes = data / "notes" / "parma-2015"
    (notes / "tavolo-1.md").chmod(0o000)
    os.mkfifo(notes / "tubo.md")
    (notes / "link.md").symlink_to(data / "nowhere.md")
    (notes / "cartella.md").mkdir()
    (notes / "giro.md").symlink_to(notes / "giro.md")
    (notes / "su").symlink_to(notes)  # a loop of folders: walked one level, never for ever
    (data / "themes.yaml").unlink()
    (data / "themes.yaml").mkdir()
    for command in (["check", "--data", data], ["build", "--data", data, "--db", tmp_path / "k.db"]):
        result = run(command, as_user=True, timeout=60)
        assert 1 == result.returncode
        assert [
            f"{notes}/cartella.md:1: error: a folder inside an event's folder: a note lives in "
            "data/notes/<event-id>/<name>.md",
            f"{notes}/giro.md:1: error: a link that points to itself (a loop of links)",
            f"{notes}/link.md:1: error: a broken link: it points to a file that does not exist",
            f"{notes}/su:1: error: a folder inside an event's folder: a note lives in "
            "data/notes/<event-id>/<name>.md",
            f"{notes}/tavolo-1.md:1: error: cannot read the file: permission denied",
            f"{notes}/tubo.md:1: error: not a regular file (a pipe or a device): it cannot be "
            "read as input",
            f"{data}/themes.yaml:1: error: a folder where a file is expected",
        ] == [line for line in result.stderr.splitlines() if ": error: " in line
              and "unknown theme" not in line]
        assert "Traceback" not in result.stderr


def _fsize_limit(limit: int):
    def apply():
        # A file system that fills up: writes past the limit fail (EFBIG) instead of the
        # process being killed; needs no privilege, so it runs in CI.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_full_disk_during_build_and_publish(tmp_path):
    db = tmp_path / "build" / "cotour.db"
    assert 0 == run(["build", "--data", MINI, "--db", db]).returncode
    assert 0 == run(["publish", "--db", db, "--out", tmp_path / "build" / "opendata"]).returncode
    before = snapshot(tmp_path / "build")
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    result = run(["build", "--data", data, "--db", db], preexec_fn=_fsize_limit(200_000))
    assert (1, f"{db}: error: writing failed (disk I/O error): is the disk full? free some "
               "space and run the command again; the previous outputs are unchanged\n"
            ) == (result.returncode, result.stderr)
    out = tmp_path / "build" / "opendata"
    publish = run(["publish", "--db", db, "--out", out], preexec_fn=_fsize_limit(20_000))
    assert (1, f"{out}: error: the file is larger than the file system allows (or the disk is "
               "full); the previous outputs are unchanged\n") == (publish.returncode,
                                                                    publish.stderr)
    assert before == snapshot(tmp_path / "build")


# ---- one build at a time --------------------------------------------------------------------

def test_a_second_build_is_refused_while_one_runs(tmp_path, runner):
    db = tmp_path / "cotour.db"
    with output_lock(db, "busy"):
        result = runner.invoke(cli, ["build", "--data", str(MINI), "--db", str(db)])
    clean_failure(result, f"{db}: error: another 'cotour build' is writing this knowledge "
                          "base; run this one when it has finished\n")
    assert [] == list(tmp_path.iterdir())
    with pytest.raises(BusyError):
        with output_lock(db, "busy"):
            with output_lock(db, "busy"):
                pass


def test_two_builds_at_once_leave_one_consistent_pair(tmp_path):
    db = tmp_path / "cotour.db"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen(COTOUR + ["build", "--data", str(data), "--db", str(db)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for data in (MINI, SAMPLE)]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    assert any(code == 0 for code, _ in results), results
    for code, err in results:
        assert code == 0 or err == (f"{db}: error: another 'cotour build' is writing this "
                                    "knowledge base; run this one when it has finished\n"), err
    # Whichever won, the public database was derived from the knowledge base beside it.
    conn = sqlite3.connect(sibling_public(db))
    recorded = dict(conn.execute("select key, value from cotour_build"))["source_digest"]
    conn.close()
    assert file_digest(db) == recorded
    assert ["cotour-public.db", "cotour.db"] == sorted(p.name for p in tmp_path.iterdir())


def disk_full_after(stage: int):
    """A progress callback that records the stages it is told of and, after ``stage`` of them,
    fails as a full disk would: (the list of stages, the callback)."""
    calls = []

    def fail(label, done, total):
        calls.append(label)
        if len(calls) > stage:
            raise OSError(28, "No space left on device")

    return calls, fail


# ---- killed runs ----------------------------------------------------------------------------

def _kill_after(args, seconds: float) -> int | None:
    """Start the command, SIGKILL it after ``seconds``; its exit code if it ended first."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(COTOUR + [str(a) for a in args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env)
    try:
        return proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return None


def _consistent_pair(db: Path) -> bool:
    conn = sqlite3.connect(sibling_public(db))
    try:
        recorded = dict(conn.execute("select key, value from cotour_build"))["source_digest"]
        whole = conn.execute("pragma integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    return whole and file_digest(db) == recorded


def test_killed_builds_and_publishes_leave_the_previous_outputs(tmp_path):
    build_dir = tmp_path / "build"
    db = build_dir / "cotour.db"
    out = build_dir / "opendata"
    assert 0 == run(["build", "--data", MINI, "--db", db]).returncode
    assert 0 == run(["publish", "--db", db, "--out", out]).returncode
    before = snapshot(build_dir)
    killed = 0
    for seconds in (0.6, 1.0, 1.4, 1.8, 2.4):
        if _kill_after(["build", "--data", SAMPLE, "--db", db], seconds) is None:
            killed += 1
            after = {k: v for k, v in snapshot(build_dir).items() if not k.startswith(".")}
            if after != before:
                # Killed after its last rename, while it was exiting: the new pair is whole,
                # the public database derived from the knowledge base beside it, and nothing
                # else was touched.
                assert _consistent_pair(db), seconds
                assert ({k: v for k, v in before.items() if not k.startswith("cotour")}
                        == {k: v for k, v in after.items() if not k.startswith("cotour")})
                assert 0 == run(["build", "--data", MINI, "--db", db]).returncode
        else:  # it finished first: start again from the mini build
            assert 0 == run(["build", "--data", MINI, "--db", db]).returncode
    assert killed >= 3
    for seconds in (0.8, 1.3, 1.8):
        if _kill_after(["publish", "--db", db, "--out", out], seconds) is None:
            killed += 1
            assert before == {k: v for k, v in snapshot(build_dir).items()
                              if not k.startswith(".")}, seconds
    # The next runs succeed and clear what the killed ones left.
    assert 0 == run(["build", "--data", MINI, "--db", db]).returncode
    assert 0 == run(["publish", "--db", db, "--out", out]).returncode
    assert before == snapshot(build_dir)


@pytest.mark.parametrize("stage", range(0, 40, 3))
def test_a_build_that_fails_at_any_stage_keeps_the_old_files(tmp_path, stage):
    """An exception injected at the n-th progress report: every stage boundary of a build."""
    db = tmp_path / "cotour.db"
    build(MINI, db)
    before = snapshot(tmp_path)
    calls, fail = disk_full_after(stage)
    try:
        build(SAMPLE, db, progress=fail)
    except OSError:
        assert before == snapshot(tmp_path)
    else:
        assert len(calls) <= stage


# ---- Word documents: bounded conversion -----------------------------------------------------

def _docx_with_text(path: Path, paragraphs: int) -> Path:
    import docx
    doc = docx.Document()
    doc.core_properties.title = "Tavolo grande"
    for n in range(paragraphs):
        doc.add_paragraph(f"Paragrafo {n}: " + "parola " * 40)
    doc.save(path)
    return path


def test_a_docx_zip_bomb_is_refused_before_pandoc(tmp_path, monkeypatch):
    import zipfile

    import kb.importer as importer
    from kb.importer import DocxError, convert

    source = _docx_with_text(tmp_path / "ok.docx", 1)
    bomb = tmp_path / "bomba.docx"
    with zipfile.ZipFile(source) as good, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        for item in good.infolist():
            data = good.read(item)
            if item.filename == "word/document.xml":
                # 80 MB of spaces inside the body: a few hundred KB once compressed.
                data = data.replace(b"<w:body>", b"<w:body>" + b" " * (80 << 20), 1)
            out.writestr(item, data)
    assert bomb.stat().st_size < 1 << 20
    ran = []
    monkeypatch.setattr(importer.subprocess, "run", lambda *a, **k: ran.append(a))
    with pytest.raises(DocxError) as caught:
        convert(bomb)
    assert [] == ran  # pandoc never started
    message = str(caught.value)
    assert message.startswith(f"{bomb}: not a readable Word document (the archive unpacks to ")
    assert message.endswith(f" bytes (at most {importer.MAX_DOCX_UNPACKED:,}): refused, it may "
                            "be a zip bomb); save it from Word as .docx ('Word Document'), not "
                            ".doc or .odt")


def test_pandoc_runs_with_a_heap_cap(tmp_path, monkeypatch):
    """Real pandoc, with a cap small enough for a 3,000-paragraph document to exceed it."""
    import kb.importer as importer
    from kb.importer import DocxError, convert

    big = _docx_with_text(tmp_path / "grande.docx", 3000)
    assert "Tavolo grande" == convert(big).title  # within the real cap
    monkeypatch.setattr(importer, "PANDOC_HEAP_MB", 8)
    with pytest.raises(DocxError) as caught:
        convert(big)
    assert (f"{big}: pandoc needed more than 8 MB of memory to read it; is it really a note?"
            == str(caught.value))


def test_import_of_a_fifo_does_not_block(tmp_path, runner):
    shutil.copytree(MINI, tmp_path / "data")
    os.mkfifo(tmp_path / "tubo.docx")
    result = runner.invoke(cli, ["import", "docx", str(tmp_path / "tubo.docx"), "--event",
                                 "parma-2015", "--data", str(tmp_path / "data")])
    assert 1 == result.exit_code
    assert result.stderr.startswith(f"{tmp_path}/tubo.docx: error: not a regular file (a pipe "
                                    "or a device)"), result.stderr


def test_serve_staff_with_a_damaged_knowledge_base(runner, mini_build, tmp_path):
    shutil.copy(mini_build[1], tmp_path / "cotour-public.db")
    (tmp_path / "cotour.db").write_text("not a database")
    result = runner.invoke(cli, ["serve", "--staff", "--db", str(tmp_path / "cotour.db"),
                                 "--metadata-out", str(tmp_path / "m.json")])
    clean_failure(result, f"{tmp_path}/cotour.db: error: not a SQLite database (damaged, or "
                          "another kind of file); run 'cotour build' again\n")


@pytest.mark.parametrize("stage", range(0, 9, 2))
def test_a_publish_that_fails_at_any_stage_keeps_the_old_release(mini_build, tmp_path, stage):
    from kb.release.publish import publish
    out = tmp_path / "opendata"
    publish(mini_build[0], out)
    before = snapshot(tmp_path)
    calls, fail = disk_full_after(stage)
    try:
        publish(mini_build[0], out, progress=fail)
    except OSError:
        assert before == snapshot(tmp_path)  # and no scratch folder beside it
    else:
        assert len(calls) <= stage
