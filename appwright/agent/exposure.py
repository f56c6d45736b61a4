"""Records open to signed-out visitors only when the request asks for it.

    text, fixes = narrow_exposure(app_json_text, request, before=start_app_json)

A small model does not read access from a request: asked for records that signed-in users
share, the shipped 0.5B wrote `public_read` (docs/LOG.md, 2026-12-04: each local model gives one
preset whatever the request says). Of all the ways to be wrong, opening the records to anyone on
the web is the costly one, and it is the one a request always names: every request of the
task bank that asks for records read without an account (all 516 such builds of the train
split, and of dev, test and people) says so in words like "anyone", "public", "without an
account", "signed out", "visitors".

So when the request has none of those words (`asks_public`), an entity that the answer opens
to `public` is narrowed to signed-in users, with writes kept to each record's author:
`public_read` and `public` become `shared`, or `owner` where the request says the records are
the person's own (`sharing.asks_private`: "private", "just for me", and no phrase that says
signed-in people see all of them; tests/test_exposure.py: the bank's build and taste apps of
every split, answered with `public_read`, narrow none of 1,658 shared entities to `owner`, and
862 of the 1,561 private ones to `owner`, not `shared`); in an access map (and `submit_only`,
expanded to one), `public` becomes `signed_in` for read and create and `owner` for update and
delete. An entity that the app already opened to anyone before this answer (an edit of a public guestbook
that does not talk about access) is left as the answer has it: the person chose that earlier.
Each change is one line in the step's `fixes`.

Not done: access wider than asked among signed-in users (`shared` where each person should see
only their own) is left to the model and the graders; words can ask for that in too many ways.
"""

from __future__ import annotations

import json
import re
from typing import Any

from appwright.agent.sharing import asks_private
from appwright.runtime.manifest import ACCESS_PRESETS, DEFAULT_ACCESS, OPERATIONS

PUBLIC_WORDS = re.compile(
    r"\b(any ?one|any ?body|every ?one can|public(ly)?|without (an? )?(account|log ?in|logging in|signing in|"
    r"sign(ing)? ?up|password)|signed[- ]out|not signed in|no (log ?in|account|sign[- ]?in|password)|visitors?|"
    r"guests?|strangers?|the world|web ?site|open to all)\b", re.I)


def asks_public(request: str) -> bool:
    """Whether the request has words that ask for records open to people without an account."""
    return PUBLIC_WORDS.search(request) is not None


def _rules(access: Any) -> dict[str, list[str]] | None:
    """An access value as a map of operation -> principals (None for one the validator refuses)."""
    if isinstance(access, str):
        return {op: list(who) for op, who in ACCESS_PRESETS[access][0].items()} if access in ACCESS_PRESETS else None
    if isinstance(access, dict):
        return {op: [w] if isinstance(w, str) else list(w) if isinstance(w, list) else [] for op, w in access.items()}
    return None


def _narrowed(access: Any, private: bool) -> Any:
    """The access with `public` taken out (see the module's docstring)."""
    if access in ("public_read", "public"):
        return "owner" if private else "shared"
    rules = _rules(access) or {}
    out: dict[str, Any] = {}
    for op in OPERATIONS:
        if op not in rules:
            continue
        who = [("signed_in" if op in ("read", "create") else "owner") if w == "public" else w for w in rules[op]]
        who = list(dict.fromkeys(who))
        out[op] = who[0] if len(who) == 1 else who
    return out


def _opens(access: Any) -> bool:
    rules = _rules(access)
    return rules is not None and any("public" in who for who in rules.values())


def narrow_exposure(text: str, request: str, before: str | None = None) -> tuple[str, list[str]]:
    """(app.json, narrowed and re-indented where an entity was opened to anyone unasked; what changed).
    `before`: the app's app.json before this answer, if it had one."""
    if asks_public(request):
        return text, []
    try:
        data = json.loads(text)
    except ValueError:
        return text, []
    entities = data.get("entities") if isinstance(data, dict) else None
    if not isinstance(entities, dict):
        return text, []
    try:
        old = json.loads(before or "{}").get("entities") or {}
    except (ValueError, AttributeError):
        old = {}
    fixes, private = [], asks_private(request)
    for name, entity in entities.items():
        if not isinstance(entity, dict):
            continue
        access = entity.get("access", DEFAULT_ACCESS)
        had = old[name].get("access", DEFAULT_ACCESS) if isinstance(old.get(name), dict) else None
        if not _opens(access) or _opens(had):
            continue
        entity["access"] = _narrowed(access, private)
        fixes.append(f"entities.{name}.access: {json.dumps(access)} -> {json.dumps(entity['access'])}: the request "
                     f"never asks for records that people without an account can see or change"
                     + (", and says they are the person's own" if entity["access"] == "owner" else ""))
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n" if fixes else text), fixes
