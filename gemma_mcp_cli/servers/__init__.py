"""Embedded MCP servers that ship with the CLI, each runnable with `python -m`."""
