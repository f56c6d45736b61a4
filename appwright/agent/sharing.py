"""Records shared as widely as the request plainly asks.

    text, fixes = widen_access(app_json_text, request, before=start_app_json)

The mirror of agent/exposure.py. The most common miss of our model is access narrower than
asked: told that signed-in users see everyone's records, it keeps each person's records to
themselves (`owner`) in 6 of its 10 dev 40 failures at 34d0305 (docs/results/eval-cascade3-dev40),
and a model asked about access on its own does not read it either (docs/LOG.md, 2026-12-04/05).

Sharing words alone would be a bad guide: "everyone", "other users", "each other's" are in 38% of
the private builds of the train split ("everyone has their own ...", "nobody can see anyone
else's"). So the rule wants two things of a request:
- a phrase that says who reads: a verb of seeing followed by "all", "everyone's", "every ...",
  "everything" (`SHARED`), or people without an account reading (`PUBLIC`);
- none of the words that a private, admin-only or not-yet-public request uses (`PRIVATE`,
  `NOT_PUBLIC`): "private", "only I", "nobody", "no one", "sees only", "can't ... see",
  "admins", "for now", "demo".
On the task bank (tests/test_sharing.py holds it) no private request of any split, people's
included, is read as asking to share, and no request for signed-in readers as asking for public
records; most requests for shared records are read as asking (the vetoes miss the rest).

An entity that this answer adds with `owner` access (written or by default) then becomes
`shared` (signed-in users read every record, each writes their own), or `public_read` where the
request asks for readers without an account, as does a `shared` one. Where people without an
account send and only admins read (a contact form), the app's one entity becomes `submit_only`;
where they write and nobody says only admins read (a guestbook), `OPEN_FORM`: anyone reads and
adds, only admins change or delete. Access maps, `submit_only`
and the presets that are already as wide are left as they are, and so is an entity the app had
before this answer (the person chose its access earlier) and one named like a secret or with
such a field (`SENSITIVE_NAME`: asked to keep everyone's passwords, the 0.5B adds a
`Credential` entity, which must not become readable by every user). Each change is one line
in the step's `fixes`.
"""

from __future__ import annotations

import json
import re

from appwright.agent.fixups import read_entities
from appwright.runtime.manifest import DEFAULT_ACCESS, SENSITIVE_NAME

_SEE = r"(?:see|sees|seeing|read|reads|look at|looks at|view|views|browse|browses)"
_NOT = r"(?:can't|cant|cannot|can not|shouldn't|should not|mustn't|must not|don't|dont|doesn't|never|not)"
SHARED = re.compile(rf"\b{_SEE}(?:\s+\w+)?\s+(?:all|everyone'?s|everybody'?s|every\s+\w+|everything|each\s+other'?s)\b",
                    re.I)
PRIVATE = re.compile(
    rf"\b(?:private|privately|personal|hidden|nobody|no ?one|no-one|only (?:ever )?{_SEE}|{_SEE} only|"
    rf"only (?:i|me|they|you|he|she|us)|just (?:me|mine|for me)|only for me|admins?|"
    rf"{_NOT}(?:\W+\w+){{0,5}}?\W+{_SEE})\b", re.I)
PUBLIC = re.compile(
    r"\b(?:without (?:an? )?(?:account|log ?in|logging in|loging in|signing in|signing up|sign[- ]?up)|"
    r"no (?:log ?in|login|account|sign[- ]?in) (?:needed|required)|"
    r"public(?:ly)?(?!\s+(?:sign[- ]?ups?|signing up|registration|registering))|signed[- ]out|"  # "no public sign up"
    r"any ?(?:one|body) (?:can|may|should be able to) (?:read|see|look|view|browse))\b", re.I)
MINE = re.compile(r"\b(?:private(?:ly)?|just (?:for )?me|only (?:for )?me|only i|for my eyes only)\b", re.I)
_NO_ACCOUNT = r"without (?:an? )?(?:account|log ?in|logging in|signing (?:in|up))"
SENDS = re.compile(rf"\b(?:{_NO_ACCOUNT}|no (?:account|log ?in|sign[- ]?up) (?:needed|required)|"
                   r"anyone can (?:send|submit|fill|leave))\b", re.I)
ADMINS_READ = re.compile(r"\bonly (?:i|me|the admins?|admins?|staff|the owner|we)\b[^.]{0,30}?\b"
                         r"(?:read|see|view|look at)\b|\b(?:read|see|view)\w* (?:only )?by (?:the )?admins?\b|"
                         r"\bonly (?:the )?admins? (?:can|may|should)\b", re.I)
VISITORS_WRITE = re.compile(rf"\b(?:leaves?|posts?|writes?|signs?|adds?|submits?|sends?)\b[^.;]{{0,40}}?"
                            rf"\b{_NO_ACCOUNT}", re.I)
OPEN_FORM = {"read": "public", "create": "public", "update": "admin", "delete": "admin"}  # a guestbook's access
NOT_PUBLIC = re.compile(rf"{PRIVATE.pattern}|\b(?:for now|demo|testing|temporar\w*|until)\b", re.I)


def asked_access(request: str) -> str | None:
    """The access the request's words plainly ask for: "submit_only" (people without an account
    send, only admins read: `SENDS` and `ADMINS_READ`; all 12 such builds and taste tasks of the
    bank and none of its 5,249 others), "open_form" (people without an account write, "visitors
    leave a message without an account": `OPEN_FORM`, everyone reads and writes, only admins
    change or delete; no request of the bank), "public_read", "shared", or None (no such words,
    or words that a private, admin-only or not-yet-public request uses)."""
    if SENDS.search(request) and ADMINS_READ.search(request):
        return "submit_only"
    if VISITORS_WRITE.search(request):
        return "open_form"
    if PUBLIC.search(request) and not NOT_PUBLIC.search(request):
        return "public_read"
    if SHARED.search(request) and not PRIVATE.search(request):
        return "shared"
    return None


def asks_private(request: str) -> bool:
    """Whether the request says the records are the person's own ("my running log, private", "just
    for me") and has no phrase that says signed-in people see all of them (agent/exposure.py)."""
    return MINE.search(request) is not None and SHARED.search(request) is None


WIDER = {"shared": ("owner",), "public_read": ("owner", "shared"),  # what each asked access widens
         "submit_only": ("owner", "shared", "public_read", "public"), "open_form": ("owner", "shared", "public_read")}
ACCESS = {"open_form": OPEN_FORM}  # an asked access that is a map, not a preset
WHY = {"shared": "records every signed-in user can see", "public_read": "records anyone can read without an account",
       "submit_only": "a form anyone can send without an account, read only by admins",
       "open_form": "records anyone can read and add without an account"}
ONE_FORM = ("submit_only", "open_form")  # a form anyone sends: asked of an app of one entity only


def _secret(name: str, entity: dict) -> bool:
    fields = entity.get("fields")
    return any(SENSITIVE_NAME.search(n) for n in [name, *(fields if isinstance(fields, dict) else [])])


def widen_access(text: str, request: str, before: str | None = None) -> tuple[str, list[str]]:
    """(app.json, widened and re-indented where an entity new in this answer is narrower than the
    request plainly asks; what changed). `before`: the app's app.json before this answer, if any."""
    asked = asked_access(request)
    if asked is None:
        return text, []
    read = read_entities(text, before)
    if read is None:
        return text, []
    data, entities, old = read
    if asked in ONE_FORM and len(entities) > 1:
        return text, []
    fixes = []
    for name, entity in entities.items():
        access = entity.get("access", DEFAULT_ACCESS) if isinstance(entity, dict) else None
        if name in old or access not in WIDER[asked] or _secret(name, entity):
            continue
        entity["access"] = ACCESS.get(asked, asked)
        fixes.append(f"entities.{name}.access: {json.dumps(access)} -> {json.dumps(entity['access'])}: the request "
                     f"asks for {WHY[asked]}")
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n" if fixes else text), fixes
