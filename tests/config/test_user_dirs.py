"""The user folders computed without platformdirs are exactly platformdirs' own."""

from __future__ import annotations

from pathlib import Path

import platformdirs
import pytest

from gemma_mcp_cli.config.discovery import ConfigSource, user_dir

KINDS = ["user_config_dir", "user_cache_dir", "user_state_dir"]
VARIABLES = {
    "user_config_dir": "XDG_CONFIG_HOME",
    "user_cache_dir": "XDG_CACHE_HOME",
    "user_state_dir": "XDG_STATE_HOME",
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("home", "xdg"),
    [
        ("/home/someone", None),  # the plain case
        ("/home/someone/", None),  # a trailing slash
        ("/home/someone", "/srv/xdg"),  # an absolute XDG folder wins
        ("/home/someone", "relative/xdg"),  # a relative one is ignored
        ("/home/someone", ""),  # so is an empty one
        ("relative-home", None),  # an odd HOME: left to platformdirs itself
    ],
)
def test_a_user_folder_is_the_one_platformdirs_names(
    kind: str, home: str, xdg: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", home)
    for variable in VARIABLES.values():
        monkeypatch.delenv(variable, raising=False)
    if xdg is not None:
        monkeypatch.setenv(VARIABLES[kind], xdg)
    expected = Path(getattr(platformdirs, kind)("gemma-mcp"))
    assert user_dir(kind) == expected


def test_a_config_source_is_an_immutable_value(tmp_path: Path) -> None:
    source = ConfigSource(tmp_path, "--config")
    assert source == ConfigSource(tmp_path, "--config") and source != ConfigSource(tmp_path, "project")
    assert hash(source) == hash(ConfigSource(tmp_path, "--config"))
    assert str(source) == str(tmp_path) and str(ConfigSource(None, "built-in")) == "<built-in default>"
    with pytest.raises(AttributeError):
        source.origin = "project"
