"""Answer a server that asks back: on a terminal ask the user, else follow the answer options."""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING, Any

from gemma_mcp_cli import answers, sanitize
from gemma_mcp_cli.answers import AnswerPolicy, AnswerQueue
from gemma_mcp_cli.cli import render
from gemma_mcp_cli.cli.terminal import in_terminal
from gemma_mcp_cli.errors import MCPError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from gemma_mcp_cli.cli.invocation import AppState

_NO_OPTION_HINT = "answer with --answers JSON|@FILE|-, --accept-defaults, --decline or --cancel"


def answerer_for(options: AppState) -> Answerer:
    """Return the answerer a command runs with, from its answer options (one per command)."""
    if isinstance(options.answerer, Answerer):
        return options.answerer  # `--answers -` is read once, and a list is used up in order
    policy = answers.make_policy(
        options.answers,
        accept_defaults=options.accept_defaults,
        decline=options.decline,
        cancel=options.cancel,
        roots=options.roots,
    )
    options.answerer = Answerer(policy, interactive=not policy.given and in_terminal())
    return options.answerer


def visible(text: object) -> str:
    """Return server text safe for a terminal, on one line (a newline could fake a line of ours)."""
    return sanitize.visible(str(text)).replace("\n", "\\n").replace("\t", "\\t")


class Answerer:
    """Answers every question the servers of one command ask, and remembers what was asked."""

    def __init__(self, policy: AnswerPolicy, *, interactive: bool) -> None:
        self.policy = policy
        self._interactive = interactive
        self._queue = AnswerQueue(policy.answers)
        self._lock = threading.Lock()
        self.records: list[dict[str, Any]] = []

    @property
    def interactive(self) -> bool:
        """Whether the user is asked on the terminal."""
        return self._interactive

    @property
    def roots(self) -> Sequence[str]:
        """The directories given with --root."""
        return self.policy.roots

    def noted(self, record: dict[str, Any]) -> None:
        """Keep a record of a question and its answer (for --json)."""
        self.records.append(record)

    def notice(self, text: str, hint: str | None = None) -> None:
        """Tell the user about a question on stderr."""
        render.message(visible(text))
        if hint:
            render.message(f"Hint: {hint}", style="dim")

    async def elicit(self, server: str, request: dict[str, Any]) -> dict[str, Any]:
        """Answer one elicitation in a thread of its own: a person may take their time."""
        import anyio
        import anyio.from_thread
        import anyio.lowlevel

        done, token, outcome = anyio.Event(), anyio.lowlevel.current_token(), list[Any]()

        def work() -> None:
            try:
                outcome.append(self.answer(server, request))
            except BaseException as exc:  # handed to the waiting task, which raises it
                outcome.append(exc)
            with contextlib.suppress(RuntimeError):  # the command is over and its loop gone
                anyio.from_thread.run_sync(done.set, token=token)

        # A daemon thread: on Ctrl-C the command ends while the thread still waits on the terminal.
        threading.Thread(target=work, name="gemma-mcp-answer", daemon=True).start()
        await done.wait()
        if isinstance(outcome[0], BaseException):
            raise outcome[0]
        return dict(outcome[0])

    def answer(self, server: str, request: dict[str, Any]) -> dict[str, Any]:
        """Answer one elicitation; questions asked at once are answered one after the other."""
        with self._lock:
            record: dict[str, Any] = {"server": server, "type": "elicitation", **request}
            try:
                if request.get("mode") == "url":
                    answer = self._url(server, request)
                else:
                    answer = self._form(server, request)
            except MCPError as error:
                self.noted(record | {"action": "error", "error": error.message})
                raise
            schema = request.get("requestedSchema") or {}
            shown = answers.redacted(schema, answer.get("content"))
            self.noted(record | {"action": answer["action"], "content": shown, "answeredBy": answer["by"]})
            return {"action": answer["action"], "content": answer.get("content")}

    def _form(self, server: str, request: dict[str, Any]) -> dict[str, Any]:
        schema: dict[str, Any] = request.get("requestedSchema") or {}
        message = str(request.get("message", ""))
        policy = self.policy
        if policy.decline or policy.cancel:
            return self._told(server, message, "decline" if policy.decline else "cancel")
        if policy.answers is not None or policy.accept_defaults:
            given = self._queue.next(server) if policy.answers is not None else {}
            by = "--answers" if policy.answers is not None else "--accept-defaults"
            if isinstance(given, str):
                return self._told(server, message, given, by=by)
            content = answers.fill(server, schema, given or {}, accept_defaults=policy.accept_defaults)
            self.notice(f"server '{server}' asked: {message}; answered from {by}")
            return {"action": "accept", "content": content, "by": by}
        if self.interactive:
            action, typed = ask_form(server, message, schema)
            return {"action": action, "content": typed, "by": "terminal"}
        self.notice(f"server '{server}' asked: {message}; declined: no terminal to ask on", _NO_OPTION_HINT)
        return {"action": "decline", "by": "default"}

    def _told(self, server: str, message: str, action: str, *, by: str | None = None) -> dict[str, Any]:
        """Answer as an option says (decline or cancel), and say so."""
        by = by or f"--{action}"
        done = {"decline": "declined", "cancel": "cancelled"}.get(action, action)
        self.notice(f"server '{server}' asked: {message}; {done} ({by})")
        return {"action": action, "by": by}

    def _url(self, server: str, request: dict[str, Any]) -> dict[str, Any]:
        url, message = str(request.get("url", "")), request.get("message", "")
        self.notice(f"server '{server}' asks you to open a link: {message}")
        render.message(f"  {visible(url)}")
        policy = self.policy
        if policy.decline or policy.cancel:
            return self._told(server, message, "decline" if policy.decline else "cancel")
        if policy.answers is not None:
            given = self._queue.next(server)
            if isinstance(given, str):
                return self._told(server, message, given, by="--answers")
        if policy.given:
            return {
                "action": "accept",
                "by": "--answers" if policy.answers is not None else "--accept-defaults",
            }
        if self.interactive:
            return {"action": ask_link(url), "by": "terminal"}
        self.notice(f"server '{server}': the link was declined: no terminal to ask on", _NO_OPTION_HINT)
        return {"action": "decline", "by": "default"}


def ask_link(url: str) -> str:
    """Ask whether to open a link; open it (http and https only) when the user agrees."""
    import webbrowser
    from urllib.parse import urlsplit

    try:
        choice = _choose("Open it in the browser? [Y]es, [n]o (decline), [c]ancel: ")
    except EOFError:
        return "cancel"
    if choice != "accept":
        return choice
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        render.message("  not opening it: only http and https links are opened; copy it if you trust it")
    elif not webbrowser.open(url):
        render.message("  no browser could be started: open the link yourself")
    return "accept"


def _choose(question: str) -> str:
    while True:
        text = render.ask_line(question).strip().lower()
        if text in ("", "y", "yes", "accept"):
            return "accept"
        if text in ("n", "no", "decline"):
            return "decline"
        if text in ("c", "cancel"):
            return "cancel"
        render.message("  answer y, n or c")


_SKIP = object()


def ask_form(server: str, message: str, schema: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
    """Ask for each field of a form on the terminal; return the action and the content."""
    render.message(f"Server '{server}' asks: {visible(message)}")
    render.message("  (Enter keeps the [default] or skips an optional field; Ctrl-D cancels)", style="dim")
    required = answers.required_of(schema)
    content: dict[str, Any] = {}
    try:
        for name, node in answers.fields_of(schema).items():
            value = _ask_field(name, node, name in required)
            if value is not _SKIP:
                content[name] = value
        action = _choose("Send these answers? [Y]es, [n]o (decline), [c]ancel: ")
    except EOFError:
        render.message("")
        return "cancel", None
    return (action, content) if action == "accept" else (action, None)


def _choices(node: dict[str, Any]) -> list[Any]:
    """Return a field's allowed values (enum, or titled oneOf/anyOf consts), or none."""
    items = node.get("items") if node.get("type") == "array" else None
    source = items if isinstance(items, dict) else node
    if isinstance(source.get("enum"), list):
        return list(source["enum"])
    options = source.get("oneOf") or source.get("anyOf") or []
    return [o["const"] for o in options if isinstance(o, dict) and "const" in o]


def _question(name: str, node: dict[str, Any], required: bool) -> str:
    kind = node.get("type") if isinstance(node.get("type"), str) else "text"
    details = [str(kind)] + (["required"] if required else [])
    line = f"  {visible(node.get('title') or name)} ({', '.join(details)})"
    if node.get("description"):
        line += f" - {visible(node['description'])}"
    choices = _choices(node)
    if choices:
        line += " {" + " | ".join(visible(c) for c in choices) + "}"
    default = node.get("default")
    if "default" in node and not answers.is_secret(name, node):
        line += f" [{visible(default if isinstance(default, str) else render.dumps(default))}]"
    return line + ": "


def _ask_field(name: str, node: dict[str, Any], required: bool) -> Any:
    """Ask for one field until the answer fits its schema."""
    secret = answers.is_secret(name, node)
    question = _question(name, node, required)
    one = {"type": "object", "properties": {name: node}}
    while True:
        text = render.ask_line(question, secret=secret)
        if text == "":
            if "default" in node:
                return node["default"]
            if not required:
                return _SKIP
            render.message("  an answer is required")
            continue
        value = _converted(text, node)
        problems = answers.problems_of(one, {name: value})
        if not problems:
            return value
        render.message(f"  {visible(problems[0])}")


def _converted(text: str, node: dict[str, Any]) -> Any:
    """Turn typed text into the field's type (a choice may also be given by its number)."""
    from gemma_mcp_cli.arguments import convert

    kind = node.get("type")
    choices = _choices(node)
    if kind == "array":
        return [_pick(part.strip(), choices) for part in text.split(",") if part.strip()]
    if choices:
        return _pick(text, choices)
    if kind == "boolean":
        lowered = text.strip().lower()
        return {"y": True, "n": False}.get(lowered, convert(lowered, ["boolean"]))
    return convert(text, [kind] if isinstance(kind, str) else [])


def _pick(text: str, choices: list[Any]) -> Any:
    if text in [str(c) for c in choices]:
        return choices[[str(c) for c in choices].index(text)]
    if text.isdigit() and 1 <= int(text) <= len(choices):
        return choices[int(text) - 1]
    return text
