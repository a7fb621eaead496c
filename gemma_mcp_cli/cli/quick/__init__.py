"""Standard-library front ends for the hot commands (call, listings); a second way into cli, no Typer."""


def leading_config(argv: list[str]) -> tuple[str | None, int] | None:
    """Read the global options before the command: `--config PATH` (or `-c`) alone.

    Return the path given (None if none) and where the command starts; None for any other
    option, which belongs to the full command line.
    """
    config, i = None, 0
    while i < len(argv) and argv[i].startswith("-"):
        if argv[i] not in ("--config", "-c") or i + 1 >= len(argv):
            return None
        config, i = argv[i + 1], i + 2
    return config, i
