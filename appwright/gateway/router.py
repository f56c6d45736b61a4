"""Which models a request goes to, in order: the ladder.

    route = route_request("auto", messages, served, auto_names, RouterConfig(), max_tokens=512)
    route.ladder      # ["qwen2.5-coder-0.5b", "gpt-4.1-mini"]: try in order, the next one when one fails
    route.reason      # one line for the log

A named model is a ladder of one. For `auto` the rule is a hand-written heuristic, not a
learned or measured one:

1. The candidates are the `auto` models, ranked cheapest first by the registry's prices applied
   to this request (its characters / 4 as input tokens, its max_tokens as output tokens).
2. Three signs are read from the request: long (all messages together hold at least
   `router.long_chars` characters), code (the last user message asks for code: a code fence
   or words such as function, bug, SQL, Python), app (it asks to build an app or a site).
3. A request with at least `router.threshold` signs (default 2) skips the cheapest rung when
   there are two or more; any other request starts at the cheapest.
4. A rung that fails (a timeout, a 5xx, a model that cannot load) passes the request to the
   next; the ladder never goes back down.

5. With `appwright.max_usd` on the request, a rung is left out when its most expensive answer
   would cost more (`capped`): the request's characters / 2 as input tokens (more than the
   models' tokenizers make of text), its max_tokens as output tokens, at the rung's price.

What it does not do: judge the answer. An app task does not use this rule: it climbs every
`auto` model cheapest first (`rank`), each rung's bundle verified (gateway/apps.py).
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

from appwright.gateway.config import AUTO, RouterConfig
from appwright.models.base import Message
from appwright.models.registry import ModelSpec

CODE = re.compile(r"```|\b(code|function|class|method|script|program|bug|error|exception|traceback|stack trace|"
                  r"regex|sql|python|javascript|typescript|html|css|java|rust|golang|bash|compile|refactor|"
                  r"implement|debug|unit test|api endpoint)\b", re.IGNORECASE)
APP = re.compile(r"\b(build|make|create|write|generate|code)\b[^.?!\n]{0,60}\b(app|application|website|web site|"
                 r"web page|site|dashboard|tool)\b", re.IGNORECASE)


class Signs(BaseModel):
    model_config = ConfigDict(frozen=True)
    chars: int
    long: bool
    code: bool
    app: bool

    @property
    def score(self) -> int:
        return self.long + self.code + self.app


class Route(BaseModel):
    model_config = ConfigDict(frozen=True)
    ladder: list[str]
    reason: str
    signs: Signs | None = None  # None for a named model


def read_signs(messages: list[Message], config: RouterConfig) -> Signs:
    chars = sum(len(m.content) for m in messages)
    last_user = next((m.content for m in reversed(messages) if m.role == "user"), "")
    return Signs(chars=chars, long=chars >= config.long_chars, code=bool(CODE.search(last_user)),
                 app=bool(APP.search(last_user)))


def rank(specs: list[ModelSpec], prompt_tokens: int, completion_tokens: int) -> list[ModelSpec]:
    """Cheapest first for this request's size; equal prices keep their given order."""
    return sorted(specs, key=lambda s: s.price.cost(prompt_tokens, completion_tokens))


def route_request(requested: str, messages: list[Message], served: dict[str, ModelSpec], auto: list[str],
                  config: RouterConfig, max_tokens: int) -> Route:
    """The ladder for a request; `requested` is a served name or AUTO (the caller checked which)."""
    if requested != AUTO:
        return Route(ladder=[requested], reason="named")
    signs = read_signs(messages, config)
    ranked = [s.name for s in rank([served[n] for n in auto], signs.chars // 4, max_tokens)]
    said = " ".join(name for name, on in (("long", signs.long), ("code", signs.code), ("app", signs.app)) if on)
    head = f"auto: {signs.score} signs ({said or 'none'}), threshold {config.threshold}"
    if signs.score >= config.threshold and len(ranked) > 1:
        return Route(ladder=ranked[1:], signs=signs, reason=f"{head}: skipped the cheapest, {ranked[0]}")
    return Route(ladder=ranked, signs=signs, reason=f"{head}: cheapest first")


def most_cost(spec: ModelSpec, chars: int, max_tokens: int) -> float:
    """An upper bound on what one answer of `spec` to a request of `chars` characters can cost."""
    return spec.price.cost(chars // 2 + 1, max_tokens)


def capped(route: Route, served: dict[str, ModelSpec], chars: int, max_tokens: int, max_usd: float) -> Route:
    """`route` without the rungs whose most expensive answer costs more than `max_usd`."""
    over = [n for n in route.ladder if most_cost(served[n], chars, max_tokens) > max_usd]
    if not over:
        return route
    left_out = ", ".join(f"{n} (up to ${most_cost(served[n], chars, max_tokens):.6f})" for n in over)
    return route.model_copy(update={"ladder": [n for n in route.ladder if n not in over],
                                    "reason": f"{route.reason}; over max_usd ${max_usd:.6f}: {left_out}"})
