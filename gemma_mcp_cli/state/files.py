"""Write files so that a reader never sees half of one."""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import stat
import tempfile
import time
from pathlib import Path

_STALE = 60.0  # seconds: a temporary file this old was left by a run that was killed


def write_atomically(path: Path, data: bytes, *, mode: int = 0o644, durable: bool = True) -> None:
    """Write `data` to `path` through a temporary file and a rename.

    `durable=False` skips the disk sync, for what can be made again (a cache, a snapshot): the
    rename still never shows a half-written file, and a file lost in a system crash costs only
    the next command its speed, where a sync costs every cold command milliseconds.
    """
    path = Path(path)
    remove_stale_temporaries(path)
    descriptor, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    temporary = Path(name)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        temporary.chmod(mode)
        temporary.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


def remove_stale_temporaries(path: Path) -> None:
    """Delete the temporary files a killed run left beside `path` (never a live writer's)."""
    now = time.time()
    with contextlib.suppress(OSError):
        for temporary in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
            with contextlib.suppress(OSError):
                if now - temporary.lstat().st_mtime > _STALE:
                    temporary.unlink()


class UnsafePathError(OSError):
    """A state file is a symbolic link, or belongs to another user: it is not opened."""


def private_dir(path: Path) -> Path:
    """Create a directory readable by this user alone (0700), or tighten one of ours; return it.

    Every folder this creates on the way is 0700 too (mkdir's `parents` would make them 0755).
    """
    missing = []
    for folder in (path, *path.parents):
        if os.path.lexists(folder):
            break
        missing.append(folder)
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=0o700)
    status = os.lstat(path)
    if not stat.S_ISDIR(status.st_mode):
        raise UnsafePathError(errno.ENOTDIR, f"{path} is not a folder")
    if status.st_uid != os.getuid():
        raise UnsafePathError(errno.EPERM, f"{path} belongs to another user; refusing to use it")
    if status.st_mode & 0o077:
        path.chmod(0o700)
    return path


def open_private(path: Path, flags: int = os.O_RDONLY) -> int:
    """Open a state file without following a symbolic link, refusing one another user owns.

    Creating files gives them mode 0600. Returns the descriptor; the caller closes it.
    """
    try:
        descriptor = os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafePathError(errno.ELOOP, f"{path} is a symbolic link; refusing to follow it") from None
        raise
    if os.fstat(descriptor).st_uid != os.getuid():
        os.close(descriptor)
        raise UnsafePathError(errno.EPERM, f"{path} belongs to another user; refusing to use it")
    return descriptor


def read_private(path: Path) -> bytes | None:
    """Return a state file's bytes, or None when it is missing, a link, someone else's or unreadable."""
    try:
        descriptor = open_private(path)
    except OSError:
        return None
    with os.fdopen(descriptor, "rb") as handle:
        return handle.read()
