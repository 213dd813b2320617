"""Hugging Face chat templates (Jinja) rendered at export time into the container's turn strings.

A board has no Jinja: :func:`render_turns` renders the template of ``tokenizer_config.json``
(in jinja2's sandbox, as transformers does: ``trim_blocks``, ``lstrip_blocks``,
``raise_exception``, ``strftime_now`` fixed to 1 January 2026 so exports are reproducible)
for a few short conversations made of marker words, and cuts the text around the markers into
the pieces of :class:`ChatTurns` (``ChatTurns`` in ``model_manifest.proto``):

    first_prefix U1 user_suffix A1 <stop> user_prefix U2 user_suffix
    system_prefix S system_suffix U1 user_suffix ...

``<stop>`` is the special token the template puts right after an answer (``<|im_end|>``,
``<|eot_id|>``, ``<end_of_turn>``, ``</s>``). A leading BOS text is taken off and recorded
as ``add_bos``. The pieces are then checked: a three-turn conversation rebuilt from them must
equal the template's own rendering, else the template cannot be expressed as turns and
export stops with one line naming the difference (``--chat-template none`` exports the model
without a template). The same check with a system message first decides whether the turns
keep system messages (Mistral's templates put the system text into the last user turn: those
turns have none). Every stop id — that token, the ``eos`` ids of
``generation_config.json``, ``config.json`` and ``tokenizer_config.json`` — is recorded.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from metalchat.errors import MetalchatError

_SYSTEM, _USER1, _ANSWER1, _USER2, _ANSWER2, _USER3 = (
    "Zqsystemqz",
    "Zquseroneqz",
    "Zqansweroneqz",
    "Zqusertwoqz",
    "Zqanswertwoqz",
    "Zquserthreeqz",
)
_FAMILIES = (
    ("<|im_start|>", "chatml"),
    ("<|start_header_id|>", "llama3"),
    ("<start_of_turn>", "gemma"),
    ("[INST]", "mistral"),
)


@dataclass
class ChatTurns:
    """The turn strings of a chat template (the fields of the proto's ``ChatTurns``)."""

    family: str
    add_bos: bool
    first_prefix: str
    system_prefix: str
    system_suffix: str
    user_prefix: str
    user_suffix: str
    stop_ids: list[int] = field(default_factory=list)


def _environment() -> Any:
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message: object) -> None:
        raise jinja2.TemplateError(str(message))

    def strftime_now(fmt: str) -> str:
        import datetime

        return datetime.datetime(2026, 1, 1).strftime(fmt)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


class _Template:
    def __init__(self, text: str, bos: str | None, eos: str | None) -> None:
        # The template is code from the model's files: whatever it raises (a TemplateError, a
        # SecurityError from the sandbox, a ZeroDivisionError of its own arithmetic) is a
        # problem with that input, reported in one line.
        self._errors = (Exception,)
        try:
            self._template = _environment().from_string(text)
        except self._errors as exc:
            raise MetalchatError(f"chat_template is not a valid Jinja template: {exc}") from None
        self._bos, self._eos = bos or "", eos or ""

    def render(self, messages: list[tuple[str, str]], what: str) -> str:
        with _time_limit(RENDER_SECONDS):
            try:
                text = self._template.render(
                    messages=[{"role": r, "content": c} for r, c in messages],
                    add_generation_prompt=True,
                    bos_token=self._bos,
                    eos_token=self._eos,
                    tools=None,
                    documents=None,
                )
            except RecursionError:
                raise MetalchatError(
                    f"chat_template recurses too deeply rendering {what}"
                ) from None
            except self._errors as exc:
                raise MetalchatError(f"chat_template fails to render {what}: {exc}") from None
        return str(text)


RENDER_SECONDS = 10.0  # a template's loops are its own: one that runs longer is refused


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Raise TimeoutError inside the block after ``seconds`` (on the main thread, where
    signals are delivered; elsewhere no limit)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"rendering took over {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _cut(text: str, marker: str, what: str) -> tuple[str, str]:
    if text.count(marker) != 1:
        raise MetalchatError(
            f"chat_template does not show the {what} exactly once (it changes or drops message "
            "text, which turn strings cannot express)"
        )
    before, _, after = text.partition(marker)
    return before, after


def render_turns(
    template: str,
    *,
    bos: str | None,
    eos: str | None,
    specials: dict[str, int],
    eos_ids: Iterable[int],
) -> tuple[ChatTurns, str]:
    """The turn strings of ``template`` and the text of its stop token.

    ``specials`` maps special-token texts to ids (the stop token is the longest of them the
    text after an answer starts with); ``eos_ids`` are the model's own end ids.
    """
    jinja = _Template(template, bos, eos)
    one = jinja.render([("user", _USER1)], "one user message")
    first_prefix, user_suffix = _cut(one, _USER1, "user message")
    if not user_suffix:
        raise MetalchatError(
            "chat_template adds nothing after a user message (no generation prompt)"
        )
    two = jinja.render(
        [("user", _USER1), ("assistant", _ANSWER1), ("user", _USER2)], "two user messages"
    )
    head = first_prefix + _USER1 + user_suffix + _ANSWER1
    if not two.startswith(head):
        raise MetalchatError(
            "chat_template renders an answer differently from its generation prompt: "
            f"{two[: len(head) + 40]!r}"
        )
    tail = two[len(head) :]
    stop = max((t for t in specials if tail.startswith(t)), key=len, default=None)
    if stop is None:
        raise MetalchatError(
            f"chat_template ends an answer with {tail[:24]!r}, which is no special token: no "
            "stop token to end a turn on"
        )
    user_prefix, rest = _cut(tail[len(stop) :], _USER2, "second user message")
    if rest != user_suffix:
        raise MetalchatError(
            f"chat_template ends the second user message with {rest!r}, the first with "
            f"{user_suffix!r}"
        )
    add_bos = bool(bos) and first_prefix.startswith(str(bos))
    if add_bos:
        first_prefix = first_prefix[len(str(bos)) :]
    try:
        sys_text = jinja.render([("system", _SYSTEM), ("user", _USER1)], "a system message")
        system_prefix, after = _cut(sys_text, _SYSTEM, "system message")
        system_suffix, rest = _cut(after, _USER1, "user message after a system message")
        if rest != user_suffix:
            raise MetalchatError("chat_template ends a user message differently after a system one")
        if add_bos != (bool(bos) and system_prefix.startswith(str(bos))):
            raise MetalchatError("chat_template starts with BOS only without a system message")
        if add_bos:
            system_prefix = system_prefix[len(str(bos)) :]
    except MetalchatError:
        # templates that refuse system messages (or mangle them) get none
        system_prefix = system_suffix = ""
    family = next(
        (name for mark, name in _FAMILIES if mark in first_prefix + user_suffix), "custom"
    )
    stop_ids = [specials[stop]]
    stop_ids += [i for i in eos_ids if i not in stop_ids]
    turns = ChatTurns(
        family, add_bos, first_prefix, system_prefix, system_suffix, user_prefix, user_suffix,
        stop_ids,
    )  # fmt: skip
    bos_text = str(bos) if add_bos else ""
    _check(jinja, turns, stop, bos_text, None)
    if turns.system_prefix or turns.system_suffix:
        try:
            _check(jinja, turns, stop, bos_text, _SYSTEM)
        except MetalchatError:  # e.g. Mistral's: the system text goes to the last user turn
            turns.system_prefix = turns.system_suffix = ""
    return turns, stop


def conversation(
    turns: ChatTurns, stop: str, system: str | None, exchanges: list[tuple[str, str]], user: str
) -> str:
    """The text (without BOS) ``turns`` give a conversation: optional ``system``, (user,
    answer) ``exchanges``, each answer ended by ``stop``, then ``user`` awaiting an answer."""
    if system is not None:
        if not turns.system_prefix and not turns.system_suffix:
            raise MetalchatError("this chat template has no system messages")
        parts = [turns.system_prefix, system, turns.system_suffix]
    else:
        parts = [turns.first_prefix]
    for question, answer in exchanges:
        parts += [question, turns.user_suffix, answer, stop, turns.user_prefix]
    parts += [user, turns.user_suffix]
    return "".join(parts)


def _check(jinja: _Template, turns: ChatTurns, stop: str, bos: str, system: str | None) -> None:
    """The template's own rendering of a three-turn chat (with ``system`` first, if given)
    must equal what the turns make of it. A template whose system message does not fit the
    turns keeps its chats and loses system messages (``render_turns``)."""
    exchanges = [(_USER1, _ANSWER1), (_USER2, _ANSWER2)]
    chat = [m for q, a in exchanges for m in (("user", q), ("assistant", a))]
    chat.append(("user", _USER3))
    if system is not None:
        chat.insert(0, ("system", system))
    want = jinja.render(chat, "a three-turn chat")
    got = bos + conversation(turns, stop, system, exchanges, _USER3)
    if want != got:
        where = next(
            (i for i, (a, b) in enumerate(zip(want, got, strict=False)) if a != b),
            min(len(want), len(got)),
        )
        raise MetalchatError(
            "chat_template cannot be expressed as turn strings: a three-turn chat renders "
            f"{want[where : where + 40]!r} where the turns give {got[where : where + 40]!r}"
        )


def read_chat_template(tokenizer_config: dict[str, Any]) -> str | None:
    """The Jinja chat template of a parsed ``tokenizer_config.json`` (a string, or the
    ``default`` of a list of named templates), or None."""
    value = tokenizer_config.get("chat_template")
    if value is None:
        return None
    if isinstance(value, list):
        named = {t.get("name"): t.get("template") for t in value if isinstance(t, dict)}
        value = named.get("default")
    if not isinstance(value, str) or not value:
        raise MetalchatError("chat_template is neither a string nor a list with a 'default'")
    return value


def token_text(value: Any) -> str | None:
    """A special token of ``tokenizer_config.json``: text, or an AddedToken object
    ({"content": text, ...})."""
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) and value else None
