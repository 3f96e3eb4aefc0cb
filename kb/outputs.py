"""What every stage that writes an output shares: the progress callback, the lock beside an
output, the removal of a killed run's scratch files, and worker processes that end with it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import shutil
import signal
import threading
from pathlib import Path
from typing import Callable

from .diagnostics import CotourError

Progress = Callable[[str, int, int], None]


def _noop(label: str, done: int, total: int) -> None:
    pass


def end_with_run(run: int) -> None:
    """In a worker process (a pool's initializer, with the run's pid): end it when the run
    ends, killed or not. A killed run's workers would otherwise wait on their queue for ever,
    holding their memory (each holds the queue's writing end too, so its reading end never
    closes), and a forkserver's with them. A thread waits on the run's pidfd (Linux)."""
    try:
        run_fd = os.pidfd_open(run)
    except ProcessLookupError:  # it has ended already
        os.kill(os.getpid(), signal.SIGKILL)
    except (AttributeError, OSError):  # no pidfd on this system: the worker ends with its queue
        return

    def wait_for_the_run() -> None:
        select.select([run_fd], [], [])
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=wait_for_the_run, name="end-with-run", daemon=True).start()


class BusyError(CotourError):
    """Another run is writing the same output."""


@contextlib.contextmanager
def output_lock(target: Path | str, message: str):
    """An exclusive lock on ``.<name>.lock`` beside ``target``, for one writer at a time.

    Refused at once with ``message`` when another run holds it (never a silent wait); the
    system releases it when a run dies, so a killed run never blocks the next one. The lock
    file is removed at the end; a run that locked a file already removed tries again.
    """
    target = Path(target)
    lock_path = target.with_name(f".{target.name}.lock")
    while True:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise BusyError(message, target) from None
        try:
            same = os.stat(lock_path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        yield
    finally:
        os.unlink(lock_path)
        os.close(fd)


def remove_scratch(target: Path | str, suffixes: tuple[str, ...] = ("tmp",)) -> None:
    """Remove the scratch files and folders ``.<name>.<anything>.<suffix>`` beside ``target``
    that runs killed before their end left; only under :func:`output_lock`."""
    target = Path(target)
    for suffix in suffixes:
        for stale in target.parent.glob(f".{target.name}.*.{suffix}"):
            if stale.is_dir() and not stale.is_symlink():
                shutil.rmtree(stale, ignore_errors=True)
            else:
                stale.unlink(missing_ok=True)


class OutputError(CotourError):
    """An output cannot be written (no room left, say); the previous one stays as it was."""


def ensure_room(folder: Path | str, needed: int, what: str) -> None:
    """Refuse, before it starts, a step that cannot fail cleanly on a full disk (a library that
    aborts the process instead of raising), when ``folder``'s file system has less than
    ``needed`` bytes free."""
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise OutputError(f"no room left for {what}: {needed / 1e6:,.0f} MB needed, "
                          f"{free / 1e6:,.0f} MB free; free some space and run again", folder)


def _fsync_path(path: Path) -> None:
    """Make a file durable, or a folder with every file in it."""
    if path.is_dir():
        for child in path.rglob("*"):
            if child.is_file() and not child.is_symlink():
                _fsync(child, os.O_RDONLY)
    _fsync(path, os.O_RDONLY)


def _fsync(path: Path, flags: int) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


class AtomicOutputs:
    """Outputs written all or nothing: the one way every command writes its files.

    Each target gets a temporary path beside it, ``.<name>.<pid>.tmp`` (the caller writes a file
    or a folder there). :meth:`commit` makes every temporary durable (fsync of each file, of a
    folder's files), puts each over its target — a folder target's previous version is set
    aside as ``.<name>.<pid>.old`` first and removed after —, and syncs the folders that hold
    them. Leaving the block without a commit (an error, a full disk, Ctrl-C) removes every
    temporary: the previous outputs stay as they were. What a killed run left is for
    :func:`recover`, under :func:`output_lock`.
    """

    def __init__(self, targets: list[Path], scratch: tuple[str, ...] = ()):
        self.targets = [Path(t) for t in targets]
        pid = os.getpid()
        self.temporaries = {t: t.with_name(f".{t.name}.{pid}.tmp") for t in self.targets}
        # Other scratch paths the run needs beside the first target, removed in every case.
        self.scratch = [self.scratch_path(name) for name in scratch]

    def temporary(self, target: Path) -> Path:
        return self.temporaries[Path(target)]

    def scratch_path(self, name: str) -> Path:
        first = self.targets[0]
        return first.with_name(f".{first.name}.{os.getpid()}.{name}.tmp")

    def __enter__(self) -> "AtomicOutputs":
        for path in (*self.temporaries.values(), *self.scratch):
            _remove(path)
        return self

    def commit(self) -> None:
        for tmp in self.temporaries.values():
            _fsync_path(tmp)
        aside = []
        for target, tmp in self.temporaries.items():
            if tmp.is_dir() and target.exists():
                old = target.with_name(f".{target.name}.{os.getpid()}.old")
                _remove(old)
                os.replace(target, old)
                aside.append(old)
            os.replace(tmp, target)
        for folder in {t.parent for t in self.targets}:
            _fsync(folder, os.O_RDONLY)
        for old in aside:
            _remove(old)

    def __exit__(self, *exc) -> None:
        for path in (*self.temporaries.values(), *self.scratch):
            _remove(path)


def recover(target: Path | str, suffixes: tuple[str, ...] = ("tmp",)) -> None:
    """Undo what a killed run left beside ``target``: its scratch files, and a previous folder
    it had set aside (put back when the kill came between the two renames)."""
    target = Path(target)
    remove_scratch(target, suffixes)
    if not target.exists():
        asides = sorted(target.parent.glob(f".{target.name}.*.old"))
        if asides:
            os.replace(asides[-1], target)
    remove_scratch(target, ("old",))
