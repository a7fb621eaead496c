"""Standard-library front ends for the hot commands (call, listings); a second way into cli, no Typer."""
