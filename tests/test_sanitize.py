"""The one function that decides what of a server's text a terminal may receive."""

from __future__ import annotations

import json

import pytest

from gemma_mcp_cli.sanitize import json_text, visible


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b]0;title\x07", "\\x1b]0;title\\x07"),
        ("\x1b[6n", "\\x1b[6n"),
        ("a\rb\x08c\x7f", "a\\x0db\\x08c\\x7f"),
        ("\x9b31m", "\\x9b31m"),
        ("\u202eevil\u2066\u2069", "\\u202eevil\\u2066\\u2069"),
        ("line\n\tindented", "line\n\tindented"),
        ("plain ünïcødé ✓", "plain ünïcødé ✓"),
    ],
)
def test_visible_shows_every_control_escape_c1_and_bidi_character(raw: str, shown: str) -> None:
    assert visible(raw) == shown


def test_json_text_escapes_what_json_dumps_leaves_and_keeps_the_value() -> None:
    value = {"text": "\x1b\x9b\u202e\x7fok"}
    dumped = json_text(json.dumps(value, ensure_ascii=False))
    assert all(ch not in dumped for ch in "\x1b\x9b\u202e\x7f")
    assert json.loads(dumped) == value
