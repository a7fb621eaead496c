"""Option and argument aliases shared by the commands."""

from __future__ import annotations

from typing import Annotated

import typer

from gemma_mcp_cli.cli.completion import complete_prompt, complete_resource, complete_server, complete_tool
from gemma_mcp_cli.cli.quick.call import TIMEOUT_MAX, TIMEOUT_MIN

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]
ServerArg = Annotated[
    str,
    typer.Argument(
        metavar="SERVER", help="A configured server name.", show_default=False, autocompletion=complete_server
    ),
]
ServersArg = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="SERVER",
        help="Server names (default: every enabled server).",
        show_default=False,
        autocompletion=complete_server,
    ),
]
ToolArg = Annotated[
    str, typer.Argument(metavar="TOOL", help="A tool name.", show_default=False, autocompletion=complete_tool)
]
UriArg = Annotated[
    str,
    typer.Argument(
        metavar="URI", help="The resource URI.", show_default=False, autocompletion=complete_resource
    ),
]
PromptArg = Annotated[
    str,
    typer.Argument(
        metavar="PROMPT", help="A prompt name.", show_default=False, autocompletion=complete_prompt
    ),
]
TimeoutOpt = Annotated[
    float | None,
    typer.Option(
        "--timeout",
        min=TIMEOUT_MIN,
        max=TIMEOUT_MAX,
        metavar="SECONDS",
        help="Seconds to wait for the answer (default: request_timeout).",
    ),
]
RefreshOpt = Annotated[bool, typer.Option("--refresh", help="Ask the servers again and rewrite the cache.")]
OfflineOpt = Annotated[
    bool, typer.Option("--offline", help="Never start a server: answer from the cache alone.")
]
FieldsOpt = Annotated[
    str | None,
    typer.Option(
        "--fields",
        metavar="A,B,C",
        help="Only these fields of each item, in this order (e.g. server,name); the table's columns too.",
        show_default=False,
    ),
]
