"""kb.outputs.AtomicOutputs: the one way every command writes its files, all or nothing."""

import os
from pathlib import Path

import pytest

from kb.outputs import AtomicOutputs, recover
from processes import descendants, still_running


def listing(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def test_commit_puts_files_and_a_folder_over_their_targets_together(tmp_path):
    a, b, d = tmp_path / "a.txt", tmp_path / "b.txt", tmp_path / "release"
    a.write_text("old a")
    d.mkdir()
    (d / "old.csv").write_text("old")
    with AtomicOutputs([a, b, d]) as out:
        out.temporary(a).write_text("new a")
        out.temporary(b).write_text("new b")
        out.temporary(d).mkdir()
        (out.temporary(d) / "new.csv").write_text("new")
        assert "old a" == a.read_text() and not b.exists()  # nothing moves before commit
        out.commit()
    assert ("new a", "new b") == (a.read_text(), b.read_text())
    assert ["a.txt", "b.txt", "release", "release/new.csv"] == listing(tmp_path)


def test_leaving_without_commit_removes_every_temporary_and_keeps_the_previous(tmp_path):
    a = tmp_path / "a.txt"
    a.write_text("old")
    with pytest.raises(OSError):
        with AtomicOutputs([a], scratch=("work",)) as out:
            out.temporary(a).write_text("half")
            out.scratch_path("work").mkdir()
            raise OSError(28, "No space left on device")
    assert ["a.txt"] == listing(tmp_path)
    assert "old" == a.read_text()


def test_every_new_file_is_made_durable_before_any_rename(tmp_path, monkeypatch):
    a, d = tmp_path / "a.txt", tmp_path / "release"
    synced, renamed = [], []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(os.readlink(f"/proc/self/fd/{fd}")),
                                                 real_fsync(fd)))
    monkeypatch.setattr(os, "replace", lambda s, t: (renamed.append((len(synced), str(t))),
                                                     real_replace(s, t)))
    with AtomicOutputs([a, d]) as out:
        out.temporary(a).write_text("a")
        out.temporary(d).mkdir()
        (out.temporary(d) / "x.csv").write_text("x")
        out.commit()
    tmp_a, tmp_d = f".a.txt.{os.getpid()}.tmp", f".release.{os.getpid()}.tmp"
    assert [str(tmp_path / tmp_a), str(tmp_path / tmp_d / "x.csv"), str(tmp_path / tmp_d),
            str(tmp_path)] == synced
    assert [(3, str(a)), (3, str(d))] == renamed  # both after the three files' syncs


def test_recover_puts_back_a_folder_set_aside_by_a_killed_run(tmp_path):
    d = tmp_path / "release"
    aside = tmp_path / ".release.4242.old"
    aside.mkdir()
    (aside / "datapackage.json").write_text("{}")
    (tmp_path / ".release.4242.tmp").mkdir()  # the new release, half written
    recover(d)
    assert ["release", "release/datapackage.json"] == listing(tmp_path)


@pytest.mark.parametrize("method", ["forkserver", "spawn"])
def test_a_killed_runs_workers_end_with_it(tmp_path, method):
    # publish and the REFI-QDA export (forkserver) and the report's volumes (spawn) start their
    # workers with end_with_run: a SIGKILL to the run must not leave them waiting for ever
    import signal
    import subprocess
    import sys

    script = tmp_path / "run.py"
    script.write_text(
        "import time\n"
        "from concurrent.futures import ProcessPoolExecutor\n"
        "from multiprocessing import get_context\n"
        "import os\n"
        "from kb.outputs import end_with_run\n"
        "if __name__ == '__main__':\n"
        f"    pool = ProcessPoolExecutor(2, mp_context=get_context({method!r}),\n"
        "                               initializer=end_with_run, initargs=(os.getpid(),))\n"
        "    list(pool.map(time.sleep, [0.1, 0.1]))\n"
        "    print('ready', flush=True)\n"
        "    time.sleep(60)\n")
    run = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert "ready" == run.stdout.readline().strip()
    workers = descendants(run.pid)
    assert len(workers) >= 2
    run.send_signal(signal.SIGKILL)
    run.wait()
    assert [] == still_running(workers)
