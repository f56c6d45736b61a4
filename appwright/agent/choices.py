"""Menus of the choices a request lists, and no menu where it lists none.

    text, fixes = fit_choices(app_json_text, request, before=start_app_json)

The most common miss of our model on requests in people's words is a field the person named
that the app does not hold (`schema` fails in 18 of the 31 failures of the people 40 at
1e70c49, docs/results/eval-aw05b-share-people40), and half of those are menus:
- the choices made fields: "planning/sewing/finished" became three fields `planning`, `sewing`
  and `finished`; "backpack/daypack/car" a yes/no field `backpack`;
- a menu nobody asked for: "where" (a place, typed) became one of home, office, school;
  "region" one of north, south, east, west.

So, for the fields this answer adds (an app's earlier fields are the person's earlier choice):
- where the request lists choices ("a/b/c", "a, b or c", "easy moderate or hard", "(one of a,
  b, c)", and "(a, b, c)" where the app made yes/no fields of them: "(title, author, pages)"
  lists fields) and an entity declares fields named like them that a model makes of a choice
  (yes/no, text, or a menu of values the request never names), those fields become one `enum`
  field of all the listed choices, where the first of them was. A choice in brackets may be up
  to three words ("(to read, reading, finished)"; with "and" in one, the brackets list fields).
  Two such fields are needed, or one yes/no field named like one of three or more one-word
  choices; a list with "not", or of yes and no only, is a yes/no field ("packed or not"). The
  menu is named as the request names the list ("status: queued/listening/finished", "tank
  (community, shrimp or betta)", "difficulty easy moderate or hard"), else `category`;
- an `enum` none of whose values the request names becomes a `string` field: the person types
  the place, the region, the podcast;
- an `enum` whose values are the choices of one list of the request written otherwise takes the
  request's words: "birthday, wedding or cupcakes" made `birthday cake`, `wedding cake`,
  `cupcakes`; "red, white or sparkling" made `sparking`; "tablets, liquid or cream" made `tablet`.
  The list has as many choices as the menu has values, at least one value is a choice word for
  word, and each other value holds its choice, is held in it, is spelled nearly as it, or, with
  two or more values word for word in the list's order, stands in its place ("low, medium or
  high" made `mid`) (`_as_written`). A value said only as a part of a longer choice is not said:
  "(to read, reading, finished)" made `read`, which means another thing. Records are sent and
  filtered with the words the person used.
Every menu of every reference app of the task bank (all splits) has values its request names,
and neither rule changes any reference app; each reference menu declared as one yes/no field per
choice is put back in all but a request that lists it with "and" (tests/test_choices.py). Of
the 497 app.json files our models wrote in the evals of docs/results, the rules change 60 (the
choices of several words changed none of the 2,647 app.json answers in docs/results on
2026-12-07). Each change is one line in the step's `fixes`.
"""

from __future__ import annotations

import json
import re
from difflib import SequenceMatcher
from typing import Any

from appwright.agent.fixups import entity_fields, read_entities

_W = r"[A-Za-z][A-Za-z'-]*"
_PHRASE = rf"{_W}(?:[ \t]+{_W}){{0,2}}"  # a choice in brackets may be up to three words: "(to read, reading, finished)"
# Lists of choices: "a/b/c"; "a, b or c" and "a or b" (with up to three words before a
# comma-less one: "difficulty easy moderate or hard"); "(one of a, b, c)" and "(a, b, c)".
SLASHED = re.compile(rf"{_W}(?:[ \t]*/[ \t]*{_W})+")
OR_LIST = re.compile(rf"{_W}(?:\s*,\s*{_W})*\s*,?\s+or\s+{_W}")
BRACKETED = re.compile(rf"\(\s*(one of\s+)?{_PHRASE}(?:(?:\s*,\s*(?:or\s+)?|\s+or\s+){_PHRASE})+\s*\)", re.I)
_YES_NO = {"yes", "no", "y", "n"}  # "y/n", "yes or no", "packed or not": one yes/no field
_STOP = {"the", "a", "an", "my", "your", "their", "his", "her", "its", "our", "any", "some", "all", "each", "every",
         "to", "in", "on", "at", "for", "with", "by", "from", "if", "when", "so", "it", "they", "we", "i", "you"}
_LABEL = re.compile(r"(?<![\w'])([A-Za-z]+)`?\s*(\(|:|=|-|–)?\s*(?:one of\s+)?$", re.I)
_NOT_NAMES = {"a", "an", "the", "of", "it", "its", "is", "are", "be", "was", "and", "or", "with", "has", "have", "in",
              "on", "at", "for", "to", "by", "from", "about", "them", "whether", "either", "which", "what", "kept",
              "lives", "goes", "belongs", "stored", "fill", "must", "required", "please"}
DEFAULT_NAME = "category"


def singular(word: str) -> str:
    """"bottles" -> "bottle" ("glass", "bus" and "gas" stay): how the request-reading repairs match plurals."""
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _key(name: str) -> str:
    """`is_common`, "Common", `commons` -> "common": how a field's name is matched to a choice."""
    return singular(re.sub(r"[^a-z0-9]", "", re.sub(r"^is_", "", name.lower())))


def _phrases(request: str, start: int, end: int) -> list[tuple[str, int]]:
    """The choices between `start` and `end` of a bracketed list, each with where it starts: the
    words between its commas and its "or"s ("to read, reading or finished": three)."""
    out: list[tuple[str, int]] = []
    for part in re.finditer(r"[^,]+", request[start:end]):
        run: list[re.Match] = []
        for w in [*re.finditer(_W, part.group(0)), None]:
            if w is None or w.group(0).lower() == "or":
                if run:
                    at = start + part.start() + run[0].start()
                    out.append((request[at:start + part.start() + run[-1].end()], at))
                run = []
            else:
                run.append(w)
    return out


def choice_lists(request: str) -> list[tuple[list[tuple[str, int]], str]]:
    """Each list of choices in the request: (its choices as written, each with where it starts;
    its kind: "slashed", "or", "one of" or "bracketed")."""
    out = []
    for pattern in (SLASHED, OR_LIST, BRACKETED):
        for m in pattern.finditer(request):
            kind = {SLASHED: "slashed", OR_LIST: "or"}.get(pattern) or ("one of" if m.group(1) else "bracketed")
            if pattern is BRACKETED:
                items = _phrases(request, m.end(1) if m.group(1) else m.start() + 1, m.end() - 1)
                if any(re.search(r"\band\b", w, re.I) for w, _ in items):
                    continue  # "(community, shrimp and betta)": not a list of choices
            else:
                items = [(w.group(0), m.start() + w.start()) for w in re.finditer(_W, m.group(0))]
                items = [(w, at) for w, at in items if w.lower() not in ("or", "one", "of")]
            out.append((items, kind))
    return out


def _yes_no(spec: dict) -> bool:
    values = spec.get("values")
    return spec.get("type") == "boolean" or (spec.get("type") == "enum" and isinstance(values, list) and bool(values)
                                             and {str(v).lower() for v in values} <= _YES_NO)


def _made_of_a_choice(spec: Any, request: str) -> bool:
    """Whether a field named like a choice is a field a model makes of it: yes/no, text, or a menu
    of values the request never names."""
    return isinstance(spec, dict) and (spec.get("type") in ("string", "text") or _yes_no(spec)
                                       or _invented(spec, request))


def _invented(spec: dict, request: str) -> bool:
    """A menu none of whose values the request names."""
    values = spec.get("values")
    return (spec.get("type") == "enum" and isinstance(values, list) and bool(values)
            and not any(_mentioned(v, request) for v in values))


def _merge(fields: dict[str, Any], new: set[str], request: str) -> tuple[list[str], list[str], int, bool] | None:
    """(the fields to merge, the choices, where the list starts, whether its start is a word before
    a comma-less list) for the list of choices that the most of this entity's new fields made of
    choices are named after; an "or" list starts at the first choice that the app made a field of
    ("which arm, left or right")."""
    made = {_key(n): n for n, f in fields.items() if n in new and _made_of_a_choice(f, request)}
    yes_no = {k for k, n in made.items() if _yes_no(fields[n])}
    best = None
    for items, kind in choice_lists(request):
        keys = [_key(w) for w, _ in items]
        if "not" in keys or set(keys) <= _YES_NO or keys[-1] in _STOP:
            continue
        first = items[0][1]
        if kind == "or" and len(items) == 2:  # "easy moderate or hard": up to 3 words before, no comma
            before = re.search(rf"(?:{_W}[ \t]+){{1,3}}$", request[:first])
            if before:
                items = [(w.group(0), before.start() + w.start()) for w in re.finditer(_W, before.group(0))] + items
                keys = [_key(w) for w, _ in items]
        hits = list(dict.fromkeys(k for k in keys if k in (yes_no if kind == "bracketed" else made)))
        if not hits:
            continue
        if kind == "or":  # "which arm, left or right"
            items = items[keys.index(hits[0]):]
        if len({_key(w) for w, _ in items}) < 2 or (len(hits) < 2 and (
                len(items) < 3 or hits[0] not in yes_no or any(" " in w for w, _ in items))):
            continue  # one yes/no field stands for a list of single words only: "(flavour, colours, writing on top)"
        if best is None or len(hits) > len(best[0]):
            choices: dict[str, str] = {}
            for w, _ in items:
                choices.setdefault(_key(w), w)  # each once
            best = ([made[k] for k in hits], list(choices.values()), items[0][1], items[0][1] < first)
    return best


def _name(request: str, at: int, bare: bool, fields: dict[str, Any], merged: list[str]) -> str | None:
    """The name the request gives the list ("status: ...", "tank (...", "site = ...", and before a
    comma-less list, `bare`: "difficulty easy moderate or hard"), else DEFAULT_NAME; None where the
    app has another field by that name."""
    m = _LABEL.search(request[:at])
    label = m.group(1).lower() if m and (m.group(2) or bare) and m.group(1).lower() not in _NOT_NAMES else None
    for name in (label, DEFAULT_NAME):
        if name and (name not in fields or name in merged):
            return name
    return None


def _mentioned(value: Any, request: str) -> bool:
    """Whether the request says the value, case aside; a one-letter value as written ("grade A", not "a log")."""
    said = str(value).replace("_", " ").strip()
    flags = re.I if len(said) > 1 else 0
    return bool(said) and re.search(rf"(?<![A-Za-z0-9]){re.escape(said)}(?![A-Za-z0-9])", request, flags) is not None


def _close(value: str, choice: str) -> bool:
    """`birthday cake` ~ "birthday", `tablet` ~ "tablets", `sparking` ~ "sparkling"."""
    v, c = value.lower().replace("_", " ").strip(), choice.lower()
    held = re.search(rf"\b{re.escape(c)}\b", v) or re.search(rf"\b{re.escape(v)}\b", c)
    return bool(held) or _key(v) == _key(c) or (len(c) > 4 and SequenceMatcher(None, v, c).ratio() >= 0.85)


def _as_written(values: list, request: str) -> list[str] | None:
    """The request's words for a menu's values (see the module's docstring), or None."""
    if not values or not all(isinstance(v, str) for v in values):
        return None
    longer = [w for items, _ in choice_lists(request) for w, _ in items if " " in w.strip()]
    if all(_mentioned(v, request) and not any(v.lower() != w.lower() and _mentioned(v, w) for w in longer)
           for v in values):
        return None  # every value is said as such, not only as a part of a longer choice ("read" of "to read")
    # a bracketed list first: its choices are whole ("(want to go, been or skip it)"), an "or" list's first may be cut
    for items, _ in sorted(choice_lists(request), key=lambda found: found[1] not in ("bracketed", "one of")):
        words = list(dict.fromkeys(w for w, _ in items))
        if len(words) != len(values) or {_key(w) for w in words} & _YES_NO:
            continue
        exact = [v for v in values if any(v.lower() == w.lower() for w in words)]
        if not exact:
            continue
        left = [w for w in words if w.lower() not in {v.lower() for v in exact}]
        in_place = len(exact) >= 2 and all(v.lower() == w.lower() for v, w in zip(values, words) if v in exact)
        out = []
        for i, v in enumerate(values):
            match = next((w for w in words if w.lower() == v.lower()), None) or next(
                (w for w in left if _close(v, w)), None) or (words[i] if in_place and words[i] in left else None)
            if match is None or match in out:
                break
            out.append(match)
        else:
            return out
    return None


def fit_choices(text: str, request: str, before: str | None = None) -> tuple[str, list[str]]:
    """(app.json, with the menus of the choices the request lists and none it does not list, for
    the fields new in this answer; what changed). `before`: the app's app.json before this answer."""
    read = read_entities(text, before)
    if read is None:
        return text, []
    data, entities, old = read
    fixes = []
    for entity_name, entity, fields, had in entity_fields(entities, old):
        new = {n for n in fields if n not in had}
        found = _merge(fields, new, request)
        name = _name(request, found[2], found[3], fields, found[0]) if found else None
        if found and name:
            merged, items = found[0], found[1]
            spec = {"type": "enum", "values": items}
            if any(isinstance(fields[n], dict) and fields[n].get("required") for n in merged):
                spec["required"] = True
            fields = {name if n == merged[0] else n: spec if n == merged[0] else f for n, f in fields.items()
                      if n == merged[0] or n not in merged}
            entity["fields"] = fields
            new.add(name)
            fixes.append(f"entities.{entity_name}: {', '.join(merged)} -> {name}, one of {', '.join(items)}: the "
                         "request lists these as choices")
        for n, f in fields.items():
            if n in new and isinstance(f, dict) and f.get("type") == "enum" and (said := _as_written(
                    f.get("values"), request)):
                fixes.append(f"entities.{entity_name}.fields.{n}: one of {', '.join(f['values'])} -> one of "
                             f"{', '.join(said)}: the request's words")
                if f.get("default") in f["values"]:
                    f["default"] = said[f["values"].index(f["default"])]
                f["values"] = said
            if n in new and isinstance(f, dict) and _invented(f, request):
                fields[n] = {"type": "string", **({"required": True} if f.get("required") else {})}
                values = ", ".join(map(str, f["values"][:5])) + (", ..." if len(f["values"]) > 5 else "")
                fixes.append(f"entities.{entity_name}.fields.{n}: one of {values} -> text: the request names none "
                             "of these")
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n" if fixes else text), fixes
