"""Where a run may write, and the lock that makes a run directory one run's own.

**Places.** Inside the project's checkout, runs and sweeps write only under ``results/``
(and not into its published, tracked folders ``results/headline`` etc.): a directory in the
source tree (``configs/``, ``sim/``, ``tests/``, ``.git``, ...) or the checkout's root is
refused, so a run can never replace ``configs/config.yaml``. Anywhere outside the checkout is
allowed, but only when given explicitly as ``hydra.run.dir`` / ``hydra.sweep.dir``: the
default directories are made under ``results/`` from names that are checked to be plain
labels (``check_label``), so ``world.name=../../x`` cannot move them elsewhere.

**Ownership.** ``claim(dir)`` takes an exclusive ``fcntl.flock`` on ``dir/.run.lock`` for
the life of the process (the kernel drops it when the process ends, however it ends): a
second run into the same directory, on this machine or a host sharing the filesystem through
a lock-aware mount, is refused at once instead of mixing its files with the first one's.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import socket
from pathlib import Path, PurePosixPath

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RESULTS = PROJECT_ROOT / "results"
# Tracked under results/ (curated outputs that `make publish` and friends regenerate).
PUBLISHED = ("README.md", "headline", "calibration", "validation", "uncertainty", "sensitivity")
LOCK = ".run.lock"
# Preset names become parts of directory names (the default run directory).
LABEL_FIELDS = ("world.name", "policy.name", "shock.name")
LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}")

# Locks this process holds: resolved directory -> file descriptor of its lock file.
_held: dict[Path, int] = {}


class OutputDirError(Exception):
    """A run or sweep directory that may not or cannot be used; the message is one line."""


def _is_checkout() -> bool:
    """True when ``sim`` runs from the project's source tree (not an installed copy)."""
    return (PROJECT_ROOT / "pyproject.toml").is_file() and (PROJECT_ROOT / "configs").is_dir()


def absolute(path: Path | str) -> Path:
    """``path`` made absolute against the working directory, symbolic links resolved."""
    return Path(os.path.abspath(os.path.expanduser(str(path)))).resolve()


def check_output_dir(path: Path | str, option: str) -> Path:
    """The absolute form of a run or sweep directory, if runs may write there.

    Args:
        path: the directory (relative to the working directory, or absolute).
        option: what set it (e.g. ``hydra.run.dir``), for the message.

    Raises:
        OutputDirError: empty, the checkout's root, inside its source tree or a published
            folder of ``results/``.
    """
    if not str(path).strip():
        raise OutputDirError(f"{option} is empty; give a directory under results/ or "
                             "outside the project")
    target = absolute(path)
    if not _is_checkout() or (target != PROJECT_ROOT and PROJECT_ROOT not in target.parents):
        return target
    if target == PROJECT_ROOT:
        where = "is the project's root"
    elif RESULTS in target.parents:
        top = target.relative_to(RESULTS).parts[0]
        if top not in PUBLISHED:
            return target
        where = f"is inside results/{top}, which holds published results"
    elif target == RESULTS:
        where = "is results/ itself"
    else:
        where = (f"is inside the project's source tree "
                 f"({target.relative_to(PROJECT_ROOT).parts[0]}/)")
    raise OutputDirError(f"{option}={path} {where}; runs write under results/ (the default) "
                         "or outside the project")


def check_label(field: str, value) -> None:
    """Refuse a name that is not a plain label (it becomes part of a directory name).

    Raises:
        OutputDirError: naming the field and the allowed form.
    """
    if not isinstance(value, str) or not LABEL.fullmatch(value):
        raise OutputDirError(f"{field} = {value!r} cannot be used: names become part of "
                             "directory names; use 1-64 letters, digits, '_', '-', '.' or '+', "
                             "starting with a letter or digit")


def check_job_override(item: str) -> None:
    """Refuse a sweep override whose text would lead its job directory out of the sweep
    directory (``${hydra.job.override_dirname}`` puts ``key=value`` into the path).

    Raises:
        OutputDirError: when a path component of ``item`` is ``..``.
    """
    if ".." in PurePosixPath(item.replace("\\", "/")).parts:
        raise OutputDirError(f"{item}: a value in a sweep must not contain '..' as a path "
                             "part (it becomes the job's directory name)")


def claim(directory: Path | str) -> Path:
    """Create ``directory`` if needed and lock it for this process (until ``release`` or
    the end of the process); a directory this process holds already is returned as is.

    Raises:
        OutputDirError: a file is in the way, it cannot be created or written, or another
            process holds it (naming that process).
    """
    target = absolute(directory)
    if target in _held:
        return target
    if target.exists() and not target.is_dir():
        raise OutputDirError(f"{target} is a file, not a directory")
    try:
        target.mkdir(parents=True, exist_ok=True)
        fd = os.open(target / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise OutputDirError(f"cannot write in {target}: {exc.strerror or exc}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
        os.close(fd)
        raise OutputDirError(f"{target} is in use by another run ({holder}); wait for it to "
                             "finish or choose another directory") from None
    except OSError as exc:  # e.g. a filesystem without locks
        os.close(fd)
        raise OutputDirError(f"cannot lock {target}: {exc.strerror or exc}") from None
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode(), 0)
    except OSError:  # a full disk: the lock holds without the note of who holds it
        pass
    _held[target] = fd
    return target


def release(directory: Path | str) -> None:
    """Drop this process's lock on ``directory`` (the lock file stays; it is harmless)."""
    fd = _held.pop(absolute(directory), None)
    if fd is not None:
        os.close(fd)


@contextlib.contextmanager
def claimed(directory: Path | str):
    """``claim`` for the duration of a block; a lock held before the block is kept after it."""
    held_before = absolute(directory) in _held
    target = claim(directory)
    try:
        yield target
    finally:
        if not held_before:
            release(target)
