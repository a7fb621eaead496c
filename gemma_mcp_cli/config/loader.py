"""Find, read, expand and validate the server configuration file."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from gemma_mcp_cli.config.checks import check_document
from gemma_mcp_cli.config.discovery import CONFIG_ENV, ConfigSource
from gemma_mcp_cli.config.discovery import find_config as _find
from gemma_mcp_cli.config.lines import LineIndex
from gemma_mcp_cli.config.models import MCPServerConfig, MCPSettings, resolve_cwd, strip_credentials
from gemma_mcp_cli.config.plain import builtin_servers
from gemma_mcp_cli.config.reports import ConfigReport, Problem, ServerReport
from gemma_mcp_cli.config.settings import load_settings
from gemma_mcp_cli.errors import MCPConfigError, program

_SETTINGS_DEFAULTS = ("connection_timeout", "tool_cache_ttl")


def find_config(explicit: str | Path | None = None, settings: MCPSettings | None = None) -> ConfigSource:
    """Return the first configuration found, in the documented order."""
    if settings is None:
        return _find(explicit)
    return _find(explicit, settings.servers_config, settings.written_in("servers_config"))


def check_config(
    path: str | Path | None = None, settings: MCPSettings | None = None, *, source: ConfigSource | None = None
) -> ConfigReport:
    """Check a configuration and report every problem at once, with files, keys and lines."""
    settings = settings or MCPSettings()
    source = source or find_config(path, settings)
    if source.path is None:
        return check_document(source, builtin_servers(), None, settings)
    try:
        text = source.path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return ConfigReport(source, errors=[Problem(f"cannot read the file: {reason}")])
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return ConfigReport(source, errors=[_syntax_problem(exc, text)])
    return check_document(source, document, LineIndex(text), settings)


def _syntax_problem(exc: tomllib.TOMLDecodeError, text: str) -> Problem:
    """Turn a TOML decode error into a problem with line and column."""
    found = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
    if found:
        line, column = int(found.group(1)), int(found.group(2))
    else:  # "(at end of document)"
        line, column = text.count("\n") + 1, len(text.rsplit("\n", 1)[-1]) + 1
    message = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", str(exc))
    return Problem(f"invalid TOML: {message}", line=line, column=column)


def validate_mcp_config(
    path: str | Path | None = None, settings: MCPSettings | None = None
) -> tuple[bool, list[str]]:
    """Check a configuration; return whether it is valid and one line per problem (the original design).

    A missing file is a problem like any other, not an exception. `check_config` returns the
    whole report (servers, keys, lines, warnings) instead.
    """
    if path is not None and not Path(path).expanduser().exists():
        return False, [f"Configuration file not found: {path}"]
    try:
        report = check_config(path, settings)
    except MCPConfigError as error:
        return False, [error.message]
    return report.is_valid(), [report.describe(server, problem) for server, problem in report.problems()]


def load_mcp_servers(
    path: str | Path | None = None, settings: MCPSettings | None = None, *, include_disabled: bool = False
) -> dict[str, MCPServerConfig]:
    """Load the enabled servers of the configuration (every one with `include_disabled`).

    Raise MCPConfigError naming the first problem, if there is any.
    """
    report = check_config(path, settings)
    raise_for_report(report)
    return {
        s.name: s.config for s in report.servers if s.config is not None and (s.enabled or include_disabled)
    }


def raise_for_report(report: ConfigReport) -> None:
    """Raise MCPConfigError for the first error of a report, if any."""
    problems = report.problems()
    if not problems:
        return
    server, first = problems[0]
    more = len(problems) - 1
    hint = f"{more} more problem(s); run '{program()} validate {report.source}' to see all" if more else None
    raise MCPConfigError(report.describe(server, first), server=server, hint=hint)


__all__ = [
    "CONFIG_ENV",
    "ConfigReport",
    "ConfigSource",
    "LoadedConfig",
    "MCPServerConfig",
    "MCPSettings",
    "Problem",
    "ServerReport",
    "builtin_servers",
    "check_config",
    "find_config",
    "load_config",
    "load_mcp_servers",
    "load_settings",
    "resolve_cwd",
    "validate_mcp_config",
]


@dataclass(frozen=True)
class LoadedConfig:
    """The configuration a command runs with."""

    source: ConfigSource
    servers: dict[str, MCPServerConfig]
    settings: MCPSettings
    url_transport: str | None = None
    url_headers: dict[str, str] = field(default_factory=dict)
    # Enabled servers whose own configuration is broken: using them fails, the rest still work.
    problems: dict[str, MCPConfigError] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    # Disabled servers whose configuration is broken: shown by `servers list --all`, never run.
    disabled_problems: dict[str, MCPConfigError] = field(default_factory=dict)

    def enabled(self) -> list[MCPServerConfig]:
        """Return the enabled servers that are valid, in file order."""
        return [s for s in self.servers.values() if s.enabled]

    def enabled_names(self) -> list[str]:
        """Return every enabled server's name (broken ones too), in file order."""
        return [
            name
            for name in self.order
            if name in self.problems or (name in self.servers and self.servers[name].enabled)
        ]

    def server(self, name: str, *, allow_disabled: bool = False) -> MCPServerConfig:
        """Return one server by name (or an ad-hoc one for a URL), or raise MCPConfigError saying why not."""
        if "://" in name:
            return self._adhoc(name)
        if name in self.problems:
            raise self.problems[name]
        if name in self.disabled_problems:
            raise self._disabled_and_broken(name, allow_disabled)
        found = self.servers.get(name)
        if found is None:
            import difflib  # only for a name that is not there

            close = difflib.get_close_matches(name, list(self.servers), n=1)
            maybe = f"; did you mean '{close[0]}'?" if close else ""
            raise MCPConfigError(
                f"unknown server '{name}' in {self.source}{maybe}",
                server=name,
                hint=f"'{program()} servers list --all' shows the configured servers",
            )
        if not found.enabled and not allow_disabled:
            raise MCPConfigError(
                f"server '{name}' is disabled in {self.source}",
                server=name,
                hint=f"set enabled = true in [{name}] to use it",
            )
        return found

    def _disabled_and_broken(self, name: str, allow_disabled: bool) -> MCPConfigError:
        """Say that a server is disabled (or, where disabled ones may be used, what is wrong with it)."""
        problem = self.disabled_problems[name]
        if allow_disabled:
            return problem
        return MCPConfigError(
            f"server '{name}' is disabled in {self.source}, and its configuration is invalid",
            server=name,
            hint=f"fix it ({problem.message}), then set enabled = true",
        )

    def _adhoc(self, url: str) -> MCPServerConfig:
        """Describe the server at a URL given where a server name goes (and remember it)."""
        from pydantic import ValidationError

        scheme = url.split("://", 1)[0].lower()
        transport = self.url_transport or ("websocket" if scheme in ("ws", "wss") else "http")
        data = {
            "name": strip_credentials(url),
            "transport": transport,
            "url": url,
            "headers": self.url_headers,
        }
        try:
            config = MCPServerConfig.model_validate(
                data | {"connection_timeout": self.settings.connection_timeout}
            )
        except ValidationError as exc:
            raise MCPConfigError(f"cannot use {strip_credentials(url)}: {exc.errors()[0]['msg']}") from None
        self.servers[config.name] = config
        return config


def load_config(
    path: str | Path | None = None,
    settings: MCPSettings | None = None,
    *,
    url_transport: str | None = None,
    url_headers: dict[str, str] | None = None,
) -> LoadedConfig:
    """Load the configuration for running commands; one server's problems stop only its own use."""
    settings = settings or load_settings()
    if not settings.enabled:
        raise MCPConfigError(
            f"MCP is disabled by gemma-cli's settings ({settings.origin('enabled')})",
            hint="set enabled = true in the [mcp] section (or GEMMA_MCP_ENABLED=1) to use MCP servers",
        )
    report = check_config(path, settings)
    raise_for_report(ConfigReport(report.source, [], report.errors))
    problems: dict[str, MCPConfigError] = {}
    disabled: dict[str, MCPConfigError] = {}
    for server in report.servers:
        if server.errors:
            (problems if server.enabled else disabled)[server.name] = MCPConfigError(
                report.describe(server.name, server.errors[0]),
                server=server.name,
                hint=f"run '{program()} validate {report.source}' to see every problem",
            )
    # A broken server is never half-used: only a valid one has a config to run with.
    servers = {s.name: s.config for s in report.servers if s.config is not None and not s.errors}
    order = [s.name for s in report.servers]
    return LoadedConfig(
        report.source, servers, settings, url_transport, url_headers or {}, problems, order, disabled
    )


class MCPConfigLoader:
    """Load and validate one configuration; the class form of `load_mcp_servers`."""

    def __init__(self, path: str | Path | None = None, settings: MCPSettings | None = None) -> None:
        self.path = path
        self.settings = settings or load_settings()

    @property
    def source(self) -> ConfigSource:
        """Return the file this loader reads (or the built-in default); raise if it is missing."""
        return find_config(self.path, self.settings)

    def load(self, *, include_disabled: bool = True) -> dict[str, MCPServerConfig]:
        """Return every server, or raise MCPConfigError naming the first problem."""
        return load_mcp_servers(self.path, self.settings, include_disabled=include_disabled)

    def load_servers(self) -> dict[str, MCPServerConfig]:
        """Return the enabled servers, or raise MCPConfigError naming the first problem."""
        return self.load(include_disabled=False)

    def load_server(self, name: str) -> MCPServerConfig | None:
        """Return one server by name (enabled or not), or None if there is no such server."""
        return self.load().get(name)

    def get_enabled_servers(self) -> list[str]:
        """Return the names of the enabled servers, in file order."""
        return list(self.load_servers())

    def validate(self) -> ConfigReport:
        """Return every problem of the configuration."""
        return check_config(settings=self.settings, source=self.source)

    def validate_config(self) -> tuple[bool, list[str]]:
        """Return whether the configuration is valid, and one line per problem."""
        return validate_mcp_config(self.path, self.settings)
