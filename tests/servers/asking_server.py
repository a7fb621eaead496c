"""MCP test server that asks the client back in the middle of a request.

Built on the SDK's high-level `MCPServer` (mcp 2.3.0) and run as a subprocess by the
client's tests (stdio by default, `--http PORT` for Streamable HTTP on 127.0.0.1).

Every server-to-client question goes through `_ask_rounds`, which follows the
negotiated protocol revision:

* handshake era (<= 2025-11-25, i.e. `Client(mode="legacy")`): each question is a
  standalone server-to-client JSON-RPC request (`elicitation/create`,
  `sampling/createMessage`, `roots/list`) sent mid-call on the request's back-channel;
* 2026-07-28 (the SDK client's default `mode="auto"`): server-to-client requests are
  impossible (`NoBackChannelError`), so the handler returns an `InputRequiredResult`
  (`resultType: "input_required"`) carrying `inputRequests`; the client answers and
  retries the original request with `inputResponses` + the echoed `requestState`.
  Earlier answers ride in `requestState` (sealed by the SDK's `RequestStateBoundary`).

Tools: `register` (form elicitation), `open_link` (URL elicitation), `two_questions`,
`needs_input` (two input-required rounds, the first with two requests at once),
`show_roots`, `ask_model` (sampling), `header_echo` (`x-mcp-header` parameters).
Prompt `interview` and resource template `ask://secret/{label}` also elicit.

`--legacy-only` refuses `server/discover`, so a default client falls back to the handshake era;
`--record FILE` appends one JSON line per request method received (tests count `tools/list`).
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path
from typing import Annotated, Any, Final

import anyio
import mcp_types as types
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer, Message, UserMessage
from mcp.server.runner import serve_loop
from mcp.server.stdio import stdio_server
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError
from mcp.shared.message import ServerMessageMetadata
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import Field

SERVER_NAME: Final = "asking-test"
SERVER_VERSION: Final = "0.1.0"

# --- register (form-mode elicitation) ---
REGISTER_MESSAGE: Final = "Please register."
REGISTER_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "title": "Name", "description": "Your name", "minLength": 1},
        "age": {"type": "integer", "title": "Age", "minimum": 0, "maximum": 150, "default": 30},
        "colour": {
            "type": "string",
            "title": "Favourite colour",
            "enum": ["red", "green", "blue"],
            "default": "green",
        },
        "subscribe": {"type": "boolean", "title": "Subscribe to news", "default": False},
        "password": {"type": "string", "title": "Password", "description": "A secret; do not echo"},
    },
    "required": ["name"],
}
REGISTER_COLOURS: Final = ("red", "green", "blue")

# --- open_link (URL-mode elicitation) ---
LINK_MESSAGE: Final = "Please sign in at the link."
LINK_URL: Final = "https://example.com/login?session=abc123"
LINK_ELICITATION_ID: Final = "elicit-link-1"

# --- preferences: every field has a default ---
PREFERENCES_MESSAGE: Final = "Choose your preferences."
PREFERENCES_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "properties": {
        "theme": {"type": "string", "enum": ["light", "dark"], "default": "dark"},
        "size": {"type": "integer", "minimum": 1, "default": 3},
    },
    "required": ["theme"],
}

# --- hostile_form: terminal escapes (clear screen, OSC 52 clipboard write) and bidi overrides ---
HOSTILE_MESSAGE: Final = "Fine\x1b[2J\x1b]52;c;aGVsbG8=\x07 \u202egnp.exe\u202c"
HOSTILE_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "properties": {
        "answer": {"type": "string", "title": "An\x1b[31mswer", "description": "say\x9b1m \u2066it\u2069"}
    },
}

# --- two_questions ---
QUESTION_1: Final = "First question: what is your quest?"
QUESTION_2: Final = "Second question: what is your favourite colour?"
ANSWER_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "properties": {"answer": {"type": "string", "title": "Answer"}},
    "required": ["answer"],
}

# --- needs_input (multi-round, 2026-07-28) ---
NEEDS_INPUT_ROUND1_MESSAGE: Final = "Round 1: pick a number."
NEEDS_INPUT_ROUND1_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "properties": {"number": {"type": "integer", "title": "Number"}},
    "required": ["number"],
}
NEEDS_INPUT_ROUND2_PROMPT: Final = "Round 2: say something about the number"
NEEDS_INPUT_CAPS_TEXT: Final = "error: needs_input needs the elicitation, roots and sampling capabilities"
NEEDS_INPUT_LEGACY_TEXT: Final = "needs_input requires protocol 2026-07-28 (input_required results)"

# --- show_roots / ask_model ---
NO_ROOTS_TEXT: Final = "error: the client does not support roots"
NO_SAMPLING_TEXT: Final = "error: the client does not support sampling"
NO_ELICITATION_TEXT: Final = "error: the client does not support elicitation"
ASK_MODEL_DEFAULT_PROMPT: Final = "Say hello"
ASK_MODEL_SYSTEM_PROMPT: Final = "You are a test fixture."
ASK_MODEL_MAX_TOKENS: Final = 50

# --- prompt / resource that elicit ---
INTERVIEW_PROMPT: Final = "interview"
INTERVIEW_MESSAGE: Final = "Which topic should the interview be about?"
SECRET_TEMPLATE: Final = "ask://secret/{label}"
SECRET_MESSAGE: Final = "Enter the secret for {label}"

# --- header_echo (SEP-2243 x-mcp-header) ---
HEADER_REGION_TOKEN: Final = "Region"
HEADER_TENANT_TOKEN: Final = "Tenant"

ACTIONS: Final = ("accept", "decline", "cancel")

mcp = MCPServer(SERVER_NAME, version=SERVER_VERSION, instructions="Fixture server that asks the client back.")


def _is_modern(ctx: Context) -> bool:
    """True on a 2026-07-28 (input_required) connection."""
    return ctx.protocol_version in MODERN_PROTOCOL_VERSIONS


def _elicit_form(message: str, schema: dict[str, Any]) -> types.ElicitRequest:
    """Build a form-mode `elicitation/create` request."""
    return types.ElicitRequest(params=types.ElicitRequestFormParams(message=message, requested_schema=schema))


def _result_type(
    request: types.InputRequest,
) -> type[types.ElicitResult | types.CreateMessageResult | types.ListRootsResult]:
    """The result model a client answers `request` with."""
    if isinstance(request, types.ElicitRequest):
        return types.ElicitResult
    if isinstance(request, types.CreateMessageRequest):
        return types.CreateMessageResult
    return types.ListRootsResult


async def _ask_rounds(
    ctx: Context, rounds: list[dict[str, types.InputRequest]]
) -> dict[str, Any] | types.InputRequiredResult:
    """Ask the client every request in `rounds`, round by round, in either protocol era.

    Returns a map key -> typed client result once all are answered, or (2026-07-28
    only) an `InputRequiredResult` for the first round not yet answered; the handler
    must return that as its own result. Legacy connections answer inline.

    Raises:
        MCPError: The client answered a legacy request with a JSON-RPC error.
    """
    answers: dict[str, Any] = {}
    if not _is_modern(ctx):
        meta = ServerMessageMetadata(related_request_id=ctx.request_id)
        for requests in rounds:
            for key, request in requests.items():
                answers[key] = await ctx.session.send_request(request, _result_type(request), metadata=meta)
        return answers
    raw: dict[str, Any] = json.loads(ctx.request_state) if ctx.request_state else {}
    for key, response in (ctx.input_responses or {}).items():
        raw[key] = response.model_dump(by_alias=True, mode="json", exclude_none=True)
    for requests in rounds:
        missing = {key: req for key, req in requests.items() if key not in raw}
        if missing:
            return types.InputRequiredResult(input_requests=missing, request_state=json.dumps(raw))
        for key, request in requests.items():
            answers[key] = _result_type(request).model_validate(raw[key], by_name=False)
    return answers


def _text(text: str, *, error: bool = False) -> types.CallToolResult:
    """A one-text-block tool result."""
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=error)


def describe_elicit(result: types.ElicitResult) -> str:
    """Render an elicitation outcome as `action=<a> content=<sorted json>` (tests compare this).

    A `password` answer is reported by its length only, so a test can tell that it arrived
    and also that the client never printed it.
    """
    content: dict[str, Any] | None = dict(result.content) if result.content is not None else None
    password = (content or {}).get("password")
    if content is not None and isinstance(password, str):
        content["password"] = f"<{len(password)} chars>"
    return f"action={result.action} content={json.dumps(content, sort_keys=True)}"


def _can_elicit(ctx: Context, mode: str = "form") -> bool:
    caps = ctx.client_capabilities
    if caps is None or caps.elicitation is None:
        return False
    if mode == "url":
        return caps.elicitation.url is not None
    return True


@mcp.tool(structured_output=False)
async def register(ctx: Context) -> types.CallToolResult | types.InputRequiredResult:
    """Ask the user to register via a form-mode elicitation; report the action and content."""
    if not _can_elicit(ctx):
        return _text(NO_ELICITATION_TEXT, error=True)
    got = await _ask_rounds(ctx, [{"register": _elicit_form(REGISTER_MESSAGE, REGISTER_SCHEMA)}])
    if isinstance(got, types.InputRequiredResult):
        return got
    return _text(describe_elicit(got["register"]))


@mcp.tool(structured_output=False)
async def open_link(ctx: Context, url: str = LINK_URL) -> types.CallToolResult | types.InputRequiredResult:
    """Ask the user to open a URL (URL-mode elicitation); then send elicitation/complete (legacy only)."""
    if not _can_elicit(ctx, "url"):
        return _text(NO_ELICITATION_TEXT, error=True)
    request = types.ElicitRequest(
        params=types.ElicitRequestURLParams(message=LINK_MESSAGE, url=url, elicitation_id=LINK_ELICITATION_ID)
    )
    got = await _ask_rounds(ctx, [{"link": request}])
    if isinstance(got, types.InputRequiredResult):
        return got
    result: types.ElicitResult = got["link"]
    if result.action == "accept" and not _is_modern(ctx):
        # notifications/elicitation/complete is a standalone notification: handshake era only.
        await ctx.session.send_elicit_complete(LINK_ELICITATION_ID)
    return _text(describe_elicit(result))


@mcp.tool(structured_output=False)
async def preferences(ctx: Context) -> types.CallToolResult | types.InputRequiredResult:
    """Elicit a form whose every field has a default (so --accept-defaults alone can answer it)."""
    got = await _ask_rounds(ctx, [{"prefs": _elicit_form(PREFERENCES_MESSAGE, PREFERENCES_SCHEMA)}])
    if isinstance(got, types.InputRequiredResult):
        return got
    return _text(describe_elicit(got["prefs"]))


@mcp.tool(structured_output=False)
async def hostile_form(ctx: Context) -> types.CallToolResult | types.InputRequiredResult:
    """Elicit with terminal escapes and bidi controls in the message, a title and a description."""
    got = await _ask_rounds(ctx, [{"hostile": _elicit_form(HOSTILE_MESSAGE, HOSTILE_SCHEMA)}])
    if isinstance(got, types.InputRequiredResult):
        return got
    return _text(describe_elicit(got["hostile"]))


@mcp.tool(structured_output=False)
async def two_questions(ctx: Context) -> types.CallToolResult | types.InputRequiredResult:
    """Elicit twice in a row; returns one line per answer, in order."""
    if not _can_elicit(ctx):
        return _text(NO_ELICITATION_TEXT, error=True)
    got = await _ask_rounds(
        ctx,
        [{"q1": _elicit_form(QUESTION_1, ANSWER_SCHEMA)}, {"q2": _elicit_form(QUESTION_2, ANSWER_SCHEMA)}],
    )
    if isinstance(got, types.InputRequiredResult):
        return got
    return _text("\n".join(describe_elicit(got[key]) for key in ("q1", "q2")))


@mcp.tool(structured_output=False)
async def needs_input(ctx: Context) -> types.CallToolResult | types.InputRequiredResult:
    """Return input_required twice (round 1: elicitation + roots together; round 2: sampling), then finish."""
    if not _is_modern(ctx):
        return _text(NEEDS_INPUT_LEGACY_TEXT, error=True)
    caps = ctx.client_capabilities
    if caps is None or caps.elicitation is None or caps.roots is None or caps.sampling is None:
        return _text(NEEDS_INPUT_CAPS_TEXT, error=True)
    round1: dict[str, types.InputRequest] = {
        "number": _elicit_form(NEEDS_INPUT_ROUND1_MESSAGE, NEEDS_INPUT_ROUND1_SCHEMA),
        "roots": types.ListRootsRequest(),
    }
    raw_state: dict[str, Any] = json.loads(ctx.request_state) if ctx.request_state else {}
    number = (raw_state.get("number") or {}).get("content") or {}
    if ctx.input_responses and "number" in ctx.input_responses:
        number = ctx.input_responses["number"].model_dump(mode="json").get("content") or {}
    prompt = f"{NEEDS_INPUT_ROUND2_PROMPT} {number.get('number')}"
    round2: dict[str, types.InputRequest] = {"model": _sampling_request(prompt)}
    got = await _ask_rounds(ctx, [round1, round2])
    if isinstance(got, types.InputRequiredResult):
        return got
    roots: types.ListRootsResult = got["roots"]
    model: types.CreateMessageResult = got["model"]
    model_text = model.content.text if isinstance(model.content, types.TextContent) else ""
    summary = {
        "number": got["number"].content,
        "roots": [str(root.uri) for root in roots.roots],
        "model": model_text,
    }
    return _text(json.dumps(summary, sort_keys=True))


@mcp.tool(structured_output=False)
async def show_roots(ctx: Context) -> types.CallToolResult | types.InputRequiredResult:
    """Ask the client for its roots and return them as JSON text; error text if it has no roots capability."""
    caps = ctx.client_capabilities
    if caps is None or caps.roots is None:
        return _text(NO_ROOTS_TEXT, error=True)
    got = await _ask_rounds(ctx, [{"roots": types.ListRootsRequest()}])
    if isinstance(got, types.InputRequiredResult):
        return got
    roots: types.ListRootsResult = got["roots"]
    return _text(json.dumps([root.model_dump(mode="json", exclude_none=True) for root in roots.roots]))


def _sampling_request(prompt: str) -> types.CreateMessageRequest:
    """Build a `sampling/createMessage` request for one user prompt."""
    return types.CreateMessageRequest(
        params=types.CreateMessageRequestParams(
            messages=[
                types.SamplingMessage(role="user", content=types.TextContent(type="text", text=prompt))
            ],
            max_tokens=ASK_MODEL_MAX_TOKENS,
            system_prompt=ASK_MODEL_SYSTEM_PROMPT,
        )
    )


@mcp.tool(structured_output=False)
async def ask_model(
    ctx: Context, prompt: str = ASK_MODEL_DEFAULT_PROMPT
) -> types.CallToolResult | types.InputRequiredResult:
    """Send a sampling/createMessage request with the prompt and return `model: text`."""
    caps = ctx.client_capabilities
    if caps is None or caps.sampling is None:
        return _text(NO_SAMPLING_TEXT, error=True)
    got = await _ask_rounds(ctx, [{"model": _sampling_request(prompt)}])
    if isinstance(got, types.InputRequiredResult):
        return got
    result: types.CreateMessageResult = got["model"]
    text = result.content.text if isinstance(result.content, types.TextContent) else repr(result.content)
    return _text(f"{result.model}: {text}")


@mcp.tool(structured_output=False)
def header_echo(
    ctx: Context,
    region: Annotated[
        str,
        Field(
            description="Mirrored as Mcp-Param-Region",
            json_schema_extra={"x-mcp-header": HEADER_REGION_TOKEN},
        ),
    ],
    tenant: Annotated[
        int,
        Field(
            description="Mirrored as Mcp-Param-Tenant",
            json_schema_extra={"x-mcp-header": HEADER_TENANT_TOKEN},
        ),
    ] = 0,
    note: str | None = None,
) -> str:
    """Echo the Mcp-* request headers received (lower-cased names; `null` over stdio) and the note."""
    headers = ctx.headers
    seen = (
        None
        if headers is None
        else {k.lower(): v for k, v in headers.items() if k.lower().startswith("mcp-")}
    )
    return json.dumps({"headers": seen, "note": note}, sort_keys=True)


@mcp.prompt(name=INTERVIEW_PROMPT)
async def interview(ctx: Context, style: str = "friendly") -> list[Message] | types.InputRequiredResult:
    """A prompt that elicits its topic from the user before rendering."""
    got = await _ask_rounds(ctx, [{"topic": _elicit_form(INTERVIEW_MESSAGE, ANSWER_SCHEMA)}])
    if isinstance(got, types.InputRequiredResult):
        return got
    result: types.ElicitResult = got["topic"]
    topic = (
        (result.content or {}).get("answer", "nothing") if result.action == "accept" else f"<{result.action}>"
    )
    return [UserMessage(f"Interview me about {topic} in a {style} style.")]


@mcp.resource(
    SECRET_TEMPLATE, name="secret", mime_type="text/plain", description="Elicits a secret when read."
)
async def secret(label: str, ctx: Context) -> str | types.InputRequiredResult:
    """A resource template whose read elicits the secret's value."""
    got = await _ask_rounds(
        ctx, [{"secret": _elicit_form(SECRET_MESSAGE.format(label=label), ANSWER_SCHEMA)}]
    )
    if isinstance(got, types.InputRequiredResult):
        return got
    result: types.ElicitResult = got["secret"]
    return f"{label}: {describe_elicit(result)}"


class _Options:
    """What the command line asked for, read by the middleware."""

    legacy_only = False
    record: Path | None = None


async def _middleware(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    """Record each request's method; with --legacy-only, refuse the 2026 discovery probe."""
    if _Options.record is not None and ctx.request_id is not None:
        with _Options.record.open("a", encoding="utf-8") as record:
            record.write(json.dumps({"method": ctx.method, "time": time.time()}) + "\n")
    if _Options.legacy_only and ctx.method == "server/discover":
        raise MCPError(types.METHOD_NOT_FOUND, "Method not found")
    return await call_next(ctx)


mcp.middleware.append(_middleware)


async def _serve_handshake_era_stdio() -> None:
    """Serve stdio in the handshake era only (the SDK's default loop would take a 2026 client too)."""
    low = mcp._lowlevel_server
    async with stdio_server() as (read, write), low.lifespan(low) as state:
        await serve_loop(
            low, read, write, lifespan_state=state, init_options=low.create_initialization_options()
        )


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--http", type=int, metavar="PORT", help="serve Streamable HTTP on 127.0.0.1:PORT/mcp"
    )
    parser.add_argument("--port", type=int, help="the same as --http (the tests' network-server convention)")
    parser.add_argument("--legacy-only", action="store_true", help="refuse server/discover (2025-11-25 only)")
    parser.add_argument("--record", type=Path, metavar="FILE", help="append each request's method to FILE")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Run the server on stdio, or Streamable HTTP with --http PORT."""
    args = _parse_args(argv)
    _Options.legacy_only, _Options.record = args.legacy_only, args.record
    args.http = args.http if args.http is not None else args.port
    warnings.simplefilter("ignore", MCPDeprecationWarning)
    if args.http is None and args.legacy_only:
        anyio.run(_serve_handshake_era_stdio)
    elif args.http is None:
        mcp.run("stdio")
    else:
        mcp.run("streamable-http", host="127.0.0.1", port=args.http)


if __name__ == "__main__":
    main()
