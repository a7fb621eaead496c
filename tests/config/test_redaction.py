"""What the configuration models show of themselves: secrets and the environment as `***`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from gemma_mcp_cli.config.models import (
    REDACTED,
    AuthConfig,
    MCPServerConfig,
    MCPSettings,
    looks_secret,
    resolve_cwd,
    strip_credentials,
    transport_problem,
)
from gemma_mcp_cli.enums import MCPTransportType


def server(expanded: set[str] = frozenset(), **keys: object) -> MCPServerConfig:  # type: ignore[assignment]
    keys.setdefault("command", "run")
    return MCPServerConfig.model_validate({"name": "s", **keys}).with_expanded(frozenset(expanded))


@pytest.mark.parametrize(
    "key",
    [
        "API_TOKEN",
        "api_key",
        "Secret",
        "PASSWORD",
        "db_passwd",
        "Authorization",
        "X-Auth",
        "cookie",
        "CREDENTIALS",
    ],
)
def test_names_that_look_secret(key: str) -> None:
    assert looks_secret(key)


@pytest.mark.parametrize("key", ["MODE", "LEVEL", "HOST", "PATH", "region"])
def test_names_that_do_not(key: str) -> None:
    assert not looks_secret(key)


def test_env_values_are_starred_when_secret_by_name_or_from_the_environment() -> None:
    config = server({"env.FROM_ENV"}, env={"API_TOKEN": "t", "FROM_ENV": "e", "MODE": "fast"})
    assert config.redacted()["env"] == {"API_TOKEN": REDACTED, "FROM_ENV": REDACTED, "MODE": "fast"}
    assert REDACTED == "***"


def test_every_header_value_is_starred() -> None:
    config = server(
        transport="http", url="https://h/mcp", command=None, headers={"X-Plain": "p", "Authorization": "a"}
    )
    assert config.redacted()["headers"] == {"X-Plain": REDACTED, "Authorization": REDACTED}


@pytest.mark.parametrize("key", ["command", "cwd", "description"])
def test_a_top_level_value_from_the_environment_is_starred(key: str) -> None:
    values = {"command": "run", "cwd": "/work", "description": "words"}
    shown = server({key}, **values).redacted()
    assert shown[key] == REDACTED
    assert all(shown[other] == value for other, value in values.items() if other != key)


def test_only_the_arguments_from_the_environment_are_starred() -> None:
    config = server({"args.1"}, args=["--db", "postgres://x", "--plain"])
    assert config.redacted()["args"] == ["--db", REDACTED, "--plain"]
    assert config.redacted_target() == "run --db '***' --plain"
    assert config.target == "run --db postgres://x --plain"


def test_a_url_from_the_environment_is_starred_and_a_written_one_loses_its_credentials() -> None:
    written = server(transport="http", command=None, url="https://user:pw@host:8443/mcp")
    assert written.redacted()["url"] == "https://host:8443/mcp"
    assert written.redacted_target() == "https://host:8443/mcp"
    assert written.target == "https://user:pw@host:8443/mcp"
    from_env = server({"url"}, transport="http", command=None, url="https://host/mcp")
    assert (from_env.redacted()["url"], from_env.redacted_target()) == (REDACTED, REDACTED)


def test_auth_secrets_and_auth_values_from_the_environment_are_starred() -> None:
    auth = {"type": "oauth", "client_id": "cid", "client_secret": "cs", "scopes": ["mcp"]}
    config = server({"auth.client_id"}, transport="http", command=None, url="https://h/mcp", auth=auth)
    shown = config.redacted()["auth"]
    assert (shown["client_id"], shown["client_secret"], shown["scopes"]) == (REDACTED, REDACTED, ["mcp"])
    bearer = server(
        transport="http", command=None, url="https://h/mcp", auth={"type": "bearer", "token": "tk"}
    )
    assert bearer.redacted()["auth"]["token"] == REDACTED
    unset = server(transport="http", command=None, url="https://h/mcp", auth={"type": "oauth"})
    assert unset.redacted()["auth"]["client_secret"] is None  # nothing to hide is shown as nothing


def test_the_summary_is_the_servers_list_row_redacted() -> None:
    config = server({"description", "command"}, description="from env", enabled=False)
    assert config.summary() == {
        "name": "s",
        "enabled": False,
        "transport": "stdio",
        "target": "'***'",
        "description": REDACTED,
    }
    assert server(description="written").summary()["description"] == "written"


def test_strip_credentials_keeps_everything_else() -> None:
    assert strip_credentials("https://u:p@h/x?q=1#f") == "https://h/x?q=1#f"
    assert strip_credentials("https://u@h:9/x") == "https://h:9/x"
    assert strip_credentials("https://:p@h/x") == "https://h/x"
    assert strip_credentials("https://h/x") == "https://h/x"


@pytest.mark.parametrize(
    ("keys", "problem"),
    [
        ({"transport": "stdio"}, ("command", "the stdio transport needs a command")),
        ({"transport": "http"}, ("url", "the http transport needs a url")),
        (
            {"transport": "sse", "url": "ftp://h/x"},
            ("url", "the sse transport needs a http:// or https:// url, got 'ftp://h/x'"),
        ),
        (
            {"transport": "websocket", "url": "https://h/x"},
            ("url", "the websocket transport needs a ws:// or wss:// url, got 'https://h/x'"),
        ),
        (
            {"transport": "http", "url": "https:///x"},
            ("url", "the http transport needs a http:// or https:// url, got 'https:///x'"),
        ),
    ],
)
def test_each_transport_names_what_it_lacks(keys: dict[str, object], problem: tuple[str, str]) -> None:
    fields: dict[str, Any] = {"name": "s", "command": None, "url": None} | keys
    config = MCPServerConfig.model_construct(
        **fields | {"transport": MCPTransportType(str(keys["transport"]))}
    )
    assert transport_problem(config) == problem
    with pytest.raises(ValidationError, match=problem[1].split(",")[0]):
        MCPServerConfig.model_validate({"name": "s", **keys})


@pytest.mark.parametrize(
    "keys",
    [
        {"command": "x"},
        {"transport": "http", "url": "HTTPS://h/x"},
        {"transport": "websocket", "url": "wss://h"},
    ],
)
def test_a_complete_transport_has_no_problem(keys: dict[str, object]) -> None:
    assert transport_problem(MCPServerConfig.model_validate({"name": "s", **keys})) is None


def test_auth_requirements() -> None:
    with pytest.raises(ValidationError, match="bearer auth needs a token"):
        AuthConfig.model_validate({"type": "bearer"})
    with pytest.raises(ValidationError, match="needs a client_id"):
        AuthConfig.model_validate({"type": "oauth", "grant": "client_credentials", "issuer": "https://i"})
    ok = AuthConfig.model_validate(
        {"type": "oauth", "grant": "client_credentials", "client_id": "c", "issuer": "i"}
    )
    assert ok.problem() is None
    assert AuthConfig.model_validate({"type": "oauth"}).grant == "authorization_code"


def test_defaults_are_the_documented_ones() -> None:
    config = server()
    assert (config.enabled, config.auto_reconnect, config.max_reconnect_attempts) == (True, True, 5)
    assert (config.reconnect_delay, config.connection_timeout, config.request_timeout) == (1.0, 10.0, 30.0)
    assert (config.health_check_interval, config.tool_cache_ttl, config.transport) == (60.0, None, "stdio")
    settings = MCPSettings()
    assert (settings.enabled, settings.servers_config, settings.tool_cache_ttl) == (True, None, 3600)
    assert (settings.connection_timeout, settings.retry_count) == (10.0, None)


def test_settings_say_where_each_value_came_from() -> None:
    settings = MCPSettings(retry_count=2).with_origins({"retry_count": "GEMMA_MCP_RETRY_COUNT"})
    assert settings.origin("retry_count") == "GEMMA_MCP_RETRY_COUNT"
    assert settings.origin("enabled") == "the default"


def test_resolve_cwd_against_the_files_folder(tmp_path: Path) -> None:
    assert resolve_cwd(None, tmp_path) is None
    assert resolve_cwd("sub", tmp_path) == str((tmp_path / "sub").resolve())
    assert resolve_cwd(str(tmp_path), Path("/elsewhere")) == str(tmp_path.resolve())
    assert resolve_cwd("~", None) == str(Path.home().resolve())


def test_each_auth_problem_names_its_field() -> None:
    def problem(**keys: Any) -> tuple[str, str] | None:
        return AuthConfig.model_construct(**{"grant": "authorization_code"} | keys).problem()

    assert problem(type="bearer") == ("auth.token", "bearer auth needs a token")
    assert problem(type="oauth", grant="client_credentials", issuer="i") == (
        "auth.client_id",
        "the client_credentials grant needs a client_id",
    )


def test_the_redacted_form_is_plain_json_data() -> None:
    shown = server(transport="http", command=None, url="https://h/mcp").redacted()
    assert type(shown["transport"]) is str and shown["transport"] == "http"


def test_strip_credentials_leaves_a_url_without_them_byte_for_byte() -> None:
    assert strip_credentials("https://HOST.Example:443/x") == "https://HOST.Example:443/x"
    assert strip_credentials("https://u:p@/x") == "https:///x"


def test_a_relative_cwd_without_a_file_is_taken_from_the_working_directory(workdir: Path) -> None:
    assert resolve_cwd("sub", None) == str(workdir.resolve() / "sub")


def test_a_stdio_servers_redacted_form_has_no_url_and_is_json() -> None:
    import json

    shown = server(args=["--flag"]).redacted()
    assert shown["url"] is None
    assert json.loads(json.dumps(shown))["url"] is None


def test_a_url_that_cannot_be_parsed_still_loses_its_credentials() -> None:
    # A port that is not a number makes the URL unparsable; what looks like credentials still goes.
    url = "https://ann:hunter2@h:port/x?token=t&q=1#f"
    assert strip_credentials(url) == "https://h:port/x?token=***&q=1#f"
    assert strip_credentials("https://h:port/x") == "https://h:port/x"
    shown = server(transport="http", command=None, url=url).redacted()
    assert shown["url"] == "https://h:port/x?token=***&q=1#f"


@pytest.mark.parametrize(
    ("keys", "problem"),
    [
        (
            {"grant": "jwt_bearer"},
            ("auth.assertion", "the jwt_bearer grant needs the workload token: assertion or assertion_file"),
        ),
        ({"grant": "jwt_bearer", "assertion_file": "/run/token"}, None),
        ({"grant": "jwt_bearer", "assertion": "a.b.c"}, None),
        (
            {"grant": "token_exchange", "idp_token_endpoint": "https://idp/token"},
            ("auth.subject_token", "the token_exchange grant needs subject_token or subject_token_file"),
        ),
        (
            {"grant": "token_exchange", "subject_token_file": "/run/id"},
            ("auth.idp_token_endpoint", "the token_exchange grant needs the idp_token_endpoint URL"),
        ),
        ({"grant": "token_exchange", "subject_token": "t", "idp_token_endpoint": "https://idp/token"}, None),
        ({"signing_alg": "ES256"}, ("auth.signing_alg", "signing_alg applies only with a private_key")),
        ({"signing_alg": "ES256", "private_key": "-----BEGIN"}, None),
    ],
)
def test_each_grant_names_the_field_it_lacks(keys: dict[str, Any], problem: tuple[str, str] | None) -> None:
    auth = AuthConfig.model_construct(
        **{"type": "oauth", "grant": "client_credentials", "client_id": "c"} | keys
    )
    assert auth.problem() == problem


def test_roots_given_as_text_are_resolved_against_the_files_folder(tmp_path: Path) -> None:
    from gemma_mcp_cli.config.models import resolve_roots

    other = {"uri": "file:///elsewhere", "name": "kept as given"}
    assert resolve_roots(["data", other], tmp_path) == [str(tmp_path / "data"), other]


def test_settings_say_which_file_a_value_came_from(tmp_path: Path) -> None:
    settings = MCPSettings().with_origins({"retry_count": "x.toml"}, {"retry_count": tmp_path / "x.toml"})
    assert settings.written_in("retry_count") == tmp_path / "x.toml"
    assert settings.written_in("connection_timeout") is None
    assert MCPSettings().with_origins({}).written_in("retry_count") is None


def test_a_url_that_cannot_be_parsed_keeps_its_second_question_mark_and_hash() -> None:
    url = "https://ann:pw@h:port/x?token=t?b=2&a=1#one#two"
    assert strip_credentials(url) == "https://h:port/x?token=***&a=1#one#two"


def test_query_keys_are_read_case_blind_and_values_may_hold_an_equals_sign() -> None:
    assert strip_credentials("https://h/x?Sig=a=b&Mode=x=y") == "https://h/x?Sig=***&Mode=x=y"
