"""Write files so that a reader never sees half of one."""

from __future__ import annotations

import contextlib
import glob
import os
import tempfile
import time
from pathlib import Path

_STALE = 60.0  # seconds: a temporary file this old was left by a run that was killed


def write_atomically(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Write `data` to `path` through a temporary file and a rename."""
    path = Path(path)
    remove_stale_temporaries(path)
    descriptor, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    temporary = Path(name)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
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
