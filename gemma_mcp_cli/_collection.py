"""Hold the cyclic garbage collector off while a command loads its modules.

Loading pydantic and the SDK makes a few hundred thousand objects that live as long as the
process, and the collector walks them over and over while they are being made: about a tenth
of a cold `call`. `gemma-mcp` pauses it as it starts; once the SDK is loaded (or the full
command line is about to run), `resume` moves everything made so far out of the collector's
sight (`gc.freeze`) and turns it back on, so that a long `watch` or `wait` collects as usual.
A library user's process is never touched.
"""

from __future__ import annotations

import gc

_paused: list[bool] = []  # non-empty while this module holds the collector off


def pause() -> None:
    """Hold the collector off until `resume` (if it is on now)."""
    if gc.isenabled() and not _paused:
        gc.disable()
        _paused.append(True)


def resume() -> None:
    """Turn the collector back on, past what was loaded while it was held off (if `pause` did that)."""
    if _paused:
        _paused.clear()
        gc.freeze()
        gc.enable()
