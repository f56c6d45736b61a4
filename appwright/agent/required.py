"""Fields required only where the request asks for it.

    text, fixes = fit_required(app_json_text, request, before=start_app_json)

Seen from our 0.5B on requests in people's words: it marks fields required that the person named
and never asked to be filled in (`pulse` beside "the top and bottom number (both must be filled
in)", `fee` beside "client name and date (both required)", `distance_km` and `time_minutes`
beside "Race name and date are both required"). A person, like the `ui-create` check, fills in
what the request says must be filled in and submits, and the form refuses the record: 8 of the
17 `ui-create` failures of the people 65 at 10e1b91 (docs/results/eval-aw05b-listing-people{40,25}).

The request is read in parts: its sentences cut at `,`, `;`, `:` and ") and", outside brackets
("`day` (a date, required)" is one part). A part *asks* when it has a cue of required ("required",
"must have", "(must)", "must be filled in", "has to be there", "needed", "mandatory", "without",
"can't be empty"; not "not required") that is no limit ("must be from 0.1 to 200 km"). A cue in
brackets or at the end of its part asks for its part; one with words after it asks for the rest of
its sentence ("No saving without the title, the date and the place"); a part that is only its cue
("the name and the date, both required") asks for the part before it. A part *says* a field when it
has every word of its name ("distance km" says `distance_km`; plurals count).

A field that this answer makes required (new, or not required before) loses `required` when a
sentence of the request has a part that asks, no part that asks has any word of the field's name
(nor "date", "day" or "when" for a date), a part of such a sentence says it, it is not its entity's
first field (the record's title, which every request asks for) and not a link (`ref`). Where the
request says nothing of required, or words it so the field cannot be told apart, nothing changes.
No reference app of the task bank changes, and a reference field made required comes back
optional on most people's requests, never taking another field with it (tests/test_required.py).
Each change is a line of the step's fixes.

Not done: `required` added where the request asks and the answer left it out, and the `required`
attribute of inputs in pages written by hand (aw.ui.records forms follow app.json).
"""

from __future__ import annotations

import json
import re

from appwright.agent.choices import singular
from appwright.agent.fixups import entity_fields, read_entities

_ASKS = re.compile(r"(?<!not )\brequired\b|\bmust\b(?! not)|\b(?:has|have) to (?:be (?:there|filled|given|entered|set)|"
                   r"have)\b|\bneeds\b|\bneeded\b|\bmandatory\b|\bcompulsory\b|\bwithout\b|\bleave out\b|"
                   r"\bfill(?:ed)? in\b|\bcan'?t be (?:empty|blank|left)|\bcannot be (?:empty|blank|left)|"
                   r"\bnot optional\b", re.I)
# a limit, not a cue: "must be from 0.1 to 200", "has to be a year between 1900 and 2030"
_LIMIT = re.compile(r"\b(?:must|has to|have to|should|needs? to)\s+(?:only\s+)?be\b(?=[^,.;]*\d)", re.I)
_DATE_WORDS = {"date", "day", "when"}
# what a part that only asks may say besides its cue: it asks for the part before ("..., both required")
_BACK = re.compile(r"\b(?:both|all|each|they|these|those|them|are|is|be|also|too|please|of|two|three)\b|[^\w]", re.I)
_FUNCTION = {"is", "of", "in", "on", "at", "the", "a", "an", "to", "by", "per", "for"}


def _stems(text: str) -> set[str]:
    """Lower-case words, a plural's `s` taken off ("bottles" -> "bottle")."""
    words = re.findall(r"[a-z0-9]+", re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text).lower())
    return {singular(w) for w in words}


def _sentences(request: str) -> list[list[str]]:
    """The request's sentences, each cut into parts at `,`, `;`, `:` and ") and" (a sentence ends,
    and a part is cut, outside brackets only: "(required, e.g. 'after walk')")."""
    out: list[list[str]] = [[]]
    depth, start = 0, 0
    for i, ch in enumerate(request + "\n"):
        depth = max(depth + {"(": 1, ")": -1}.get(ch, 0), 0)
        end = ch == "\n" or (ch in ".!?" and depth == 0 and (i + 1 >= len(request) or request[i + 1].isspace()))
        if end or (ch in ",;:" and depth == 0):
            out[-1].append(request[start:i].strip())
            start = i + 1
            if end:
                out.append([])
                depth = 0
        elif ch == ")" and depth == 0 and re.match(r"\s+(?:and|plus|&)\s", request[i + 1:]):
            out[-1].append(request[start:i + 1].strip())  # "`day` (a date, required) and `notes`"
            start = i + 1
    return [[p for p in s if p] for s in out if any(s)]


def read_parts(request: str) -> list[list[tuple[str, bool]]]:
    """The request's sentences, each a list of (part, whether it asks for what it names to be filled
    in). A cue in brackets or at the end of its part asks for its part ("the bird (required)", "wine
    name is required"); one with words after it for the rest of its sentence too ("No saving without
    the title, the date and the place"). A part that says nothing but its cue ("both required")
    asks for the part before it too. A limit is no cue ("must be from 0.1 to 200 km")."""
    out = []
    for sentence in _sentences(request):
        read, rest = [], False
        for part in sentence:
            cue = _ASKS.search(_LIMIT.sub(lambda m: " " * len(m.group(0)), part))
            if cue and not rest:
                inside = part[:cue.start()].count("(") > part[:cue.start()].count(")")
                rest = not inside and bool(re.search(r"\w", part[cue.end():]))
            if cue and read and not _BACK.sub(" ", _ASKS.sub(" ", part)).strip():
                read[-1] = (read[-1][0], True)  # "the name and the date, both required": the part before
            read.append((part, bool(cue) or rest))
        out.append(read)
    return out


def fit_required(text: str, request: str, before: str | None = None) -> tuple[str, list[str]]:
    """(app.json with `required` kept only on fields the request asks to be filled in, among those
    this answer makes required; what changed). `before`: the app's app.json before this answer."""
    read = read_entities(text, before)
    sentences = [s for s in read_parts(request) if any(a for _, a in s)]
    asks = [_stems(p) for s in sentences for p, a in s if a]
    if read is None or not asks:
        return text, []
    says = [_stems(p) for s in sentences for p, a in s if not a]  # beside a part that asks
    data, entities, old = read
    fixes = []
    for entity_name, _, fields, had in entity_fields(entities, old):
        for i, (name, spec) in enumerate(fields.items()):
            was = had.get(name)
            if (i == 0 or not isinstance(spec, dict) or spec.get("required") is not True or spec.get("type") == "ref"
                    or (isinstance(was, dict) and was.get("required"))):
                continue
            words = _stems(name.replace("_", " ")) - _FUNCTION
            also = _DATE_WORDS if spec.get("type") in ("date", "datetime") else set()  # "name and date (required)"
            if not words or any((words | also) & a for a in asks) or not any(words <= s for s in says):
                continue
            del spec["required"]
            fixes.append(f"entities.{entity_name}.fields.{name}: not required: the request names it and asks "
                         "only for others to be filled in")
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n" if fixes else text), fixes
