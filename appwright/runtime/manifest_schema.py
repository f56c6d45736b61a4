"""The manifest as a generation target: a JSON schema and a llama.cpp grammar (GBNF), both built
from the tables of manifest.py, so that what a model can write under them is what the validator
accepts.

    schema = json_schema()   # OpenAI structured output; tests sample manifests from it
    gbnf = grammar()         # llama.cpp: the app.json block of a `files` answer is sampled under it

`grammar()` is written from `json_schema()` by a converter for exactly the parts of JSON schema
used here (objects with ordered properties, maps whose keys match a pattern, `oneOf`, `enum`,
`const`, bounded strings and arrays, numbers, booleans), so the two cannot drift apart. Keys come
in the order the schema lists them (`type` first in a field), and whitespace is limited to 24
characters between tokens, so a model cannot run away in indentation.

Both describe a subset of what the validator accepts: a `default` only for text, number and
boolean fields; bounded lengths for names, descriptions and lists. What they cannot express,
cross-field rules, the validator explains in words and the harness partly fixes without a model
call (agent/fixups.py): a `ref` to an entity that is not declared, an enum `default` that is not
one of its `values`, a string `default` longer than `max_length`, `min` above `max`, a role in
an access map that `auth.roles` does not declare, a built-in principal listed in `auth.roles`,
and a field named like a system field (`id`, `owner`, `created_at`, `updated_at`).
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from appwright.runtime.manifest import (
    ACCESS_PRESETS, FIELD_OPTIONS, FIELD_TYPES, NAME_RE, OPERATIONS, PRINCIPALS, REQUIRED_OPTIONS, ROLE_RE,
    SIGNUP_RULES, THEMES,
)

MAX_TEXT = 200  # the longest name, description or default a model may write here
MAX_ITEMS = 30  # the most enum values or roles
WS = 24  # the most whitespace characters between two tokens


def _string(max_length: int = MAX_TEXT, pattern: str | None = None) -> dict[str, Any]:
    return {"type": "string", "pattern": pattern} if pattern else {"type": "string", "maxLength": max_length}


NAME = _string(pattern=NAME_RE.pattern)
ROLE = _string(pattern=ROLE_RE.pattern)
DEFAULTS: dict[str, dict[str, Any]] = {  # the default a field of each type may declare (others: none)
    "string": _string(), "text": _string(), "enum": _string(), "number": {"type": "number"},
    "integer": {"type": "integer"}, "boolean": {"type": "boolean"},
}


def _option(option: str, ftype: str) -> dict[str, Any] | None:
    """The schema of one field option's value for a field of `ftype`; None: not offered."""
    return {
        "required": {"type": "boolean"},
        "default": DEFAULTS.get(ftype),
        "max_length": {"type": "integer", "minimum": 1},
        "min": {"type": "number"},
        "max": {"type": "number"},
        "values": {"type": "array", "items": _string(100), "minItems": 1, "maxItems": MAX_ITEMS},
        "entity": NAME,
        "description": _string(),
    }[option]


def field_schema(ftype: str) -> dict[str, Any]:
    """A field of one type: `type` first, then the options FIELD_OPTIONS allows for that type."""
    props: dict[str, Any] = {"type": {"const": ftype}}
    for option, (types, _) in FIELD_OPTIONS.items():
        value = _option(option, ftype)
        if (types is None or ftype in types) and value is not None:
            props[option] = value
    required = ["type"] + ([REQUIRED_OPTIONS[ftype]] if ftype in REQUIRED_OPTIONS else [])
    return {"type": "object", "properties": props, "required": required, "additionalProperties": False}


def _map(value: dict[str, Any], min_properties: int = 0) -> dict[str, Any]:
    return {"type": "object", "propertyNames": NAME, "additionalProperties": value, "minProperties": min_properties}


@cache
def json_schema() -> dict[str, Any]:
    principal = {"anyOf": [{"enum": list(PRINCIPALS)}, ROLE]}
    who = {"anyOf": [principal, {"type": "array", "items": principal, "minItems": 1, "maxItems": 6}]}
    access = {"anyOf": [{"enum": list(ACCESS_PRESETS)},
                        {"type": "object", "properties": {op: who for op in OPERATIONS}, "additionalProperties": False}]}
    entity = {"type": "object", "required": ["fields"], "additionalProperties": False, "properties": {
        "fields": _map({"oneOf": [field_schema(t) for t in FIELD_TYPES]}, min_properties=1),
        "access": access, "description": _string()}}
    auth = {"type": "object", "additionalProperties": False, "properties": {
        "signup": {"enum": list(SIGNUP_RULES)},
        "roles": {"type": "array", "items": ROLE, "maxItems": MAX_ITEMS}}}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "app.json",
            "type": "object", "required": ["name", "entities"], "additionalProperties": False, "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": MAX_TEXT}, "description": _string(),
                "auth": auth, "entities": _map(entity), "theme": {"enum": list(THEMES)}}}


# -- JSON schema (the subset above) to GBNF --------------------------------------------------------------

_PRIMITIVES = {
    "ws": f"[ \\t\\n]{{0,{WS}}}",
    "char": '[^"\\\\\\x7F\\x00-\\x1F] | "\\\\" (["\\\\/bfnrt] | "u" [0-9a-fA-F]{4})',
    "integer": '"-"? ("0" | [1-9] [0-9]{0,15})',
    "number": '"-"? ("0" | [1-9] [0-9]{0,15}) ("." [0-9]{1,15})? ([eE] [-+]? [0-9]{1,3})?',
    "boolean": '"true" | "false"',
}


class _Grammar:
    def __init__(self):
        self.rules: dict[str, str] = dict(_PRIMITIVES)

    def add(self, name: str, body: str) -> str:
        name = re.sub(r"[^A-Za-z0-9-]+", "-", name)  # GBNF rule names: letters, digits, -
        if self.rules.get(name, body) != body:
            raise ValueError(f"two rules named {name}")
        self.rules[name] = body
        return name

    def visit(self, schema: dict[str, Any], name: str) -> str:
        """The name of a rule matching `schema` (made under `name`)."""
        if "const" in schema:
            return self.add(name, _literal(schema["const"]))
        if "enum" in schema:
            return self.add(name, " | ".join(_literal(v) for v in schema["enum"]))
        for key in ("oneOf", "anyOf"):
            if key in schema:
                return self.add(name, " | ".join(self.visit(s, f"{name}-{i}") for i, s in enumerate(schema[key])))
        kind = schema.get("type")
        if kind == "string":
            if "pattern" in schema:
                return self.add(name, _pattern(schema["pattern"]))
            low, high = schema.get("minLength", 0), schema["maxLength"]
            return self.add(name, f'"\\"" char{{{low},{high}}} "\\""')
        if kind == "integer" and schema.get("minimum") == 1:
            return self.add("positive", '[1-9] [0-9]{0,15}')
        if kind in ("integer", "number", "boolean") and "minimum" not in schema:
            return kind
        if kind == "array":
            item = self.visit(schema["items"], f"{name}-item")
            low, high = schema.get("minItems", 0), schema["maxItems"]
            more = f'(ws "," ws {item}){{{max(low - 1, 0)},{high - 1}}}'
            body = f"{item} {more}" if low else f"({item} {more})?"
            return self.add(name, f'"[" ws {body} ws "]"')
        if kind == "object" and "propertyNames" in schema:
            key = self.visit(schema["propertyNames"], f"{name}-key")
            value = self.visit(schema["additionalProperties"], f"{name}-each")
            kv = self.add(f"{name}-entry", f'{key} ws ":" ws {value}')
            body = f'{kv} (ws "," ws {kv})*'
            return self.add(name, f'"{{" ws {body if schema.get("minProperties") else f"({body})?"} ws "}}"')
        if kind == "object":
            return self.add(name, self._object(schema, name))
        raise ValueError(f"manifest_schema: no grammar for {json.dumps(schema)[:80]}")

    def _object(self, schema: dict[str, Any], name: str) -> str:
        """Properties in the schema's order; required ones always, optional ones may be left out."""
        required = set(schema.get("required", []))
        kvs = [(self.add(f"{name}-{key}-prop", f'{_literal(key)} ws ":" ws {self.visit(sub, f"{name}-{key}")}'),
                key in required) for key, sub in schema["properties"].items()]

        def after(i: int) -> str:  # what may follow property i: the later ones, each after a comma
            return " ".join(f'(ws "," ws {kv})' + ("" if req else "?") for kv, req in kvs[i + 1:])

        firsts = []  # each way the object can start: a property, every optional one before it left out
        for i, (kv, req) in enumerate(kvs):
            firsts.append(f"{kv} {after(i)}".strip())
            if req:
                break
        body = " | ".join(f"({f})" for f in firsts)
        if not any(req for _, req in kvs):
            body = f"({body})?"
        return f'"{{" ws {body} ws "}}"'

    def text(self) -> str:
        return "\n".join(f"{name} ::= {body}" for name, body in self.rules.items())


def _literal(value: Any) -> str:
    """A GBNF literal for a JSON value (a string key, a const, an enum member)."""
    return json.dumps(json.dumps(value))


def _pattern(pattern: str) -> str:
    """NAME_RE and ROLE_RE, `^[first][rest]{0,n}$`, as a quoted GBNF string."""
    m = re.fullmatch(r"\^(\[[^\]]+\])(\[[^\]]+\])\{0,(\d+)\}\$", pattern)
    if not m:
        raise ValueError(f"manifest_schema: no grammar for the pattern {pattern}")
    return f'"\\"" {m.group(1)} {m.group(2)}{{0,{m.group(3)}}} "\\""'


@cache
def grammar() -> str:
    """GBNF for a whole app.json (rule `root`), from json_schema()."""
    g = _Grammar()
    g.rules = {"root": ""} | g.rules  # root first, for people reading it
    g.rules["root"] = g.visit(json_schema(), "manifest")
    return g.text()
