"""The app manifest (`app.json`, bundle format v1): its schema and its validator.

This module is the single source of truth for what a bundle may declare: the
validator below, the access rules in `access.py` and the generated docs in
`docs.py` all read the same tables (`FIELD_TYPES`, `ACCESS_PRESETS`,
`PRINCIPALS`, `SIGNUP_RULES`, `THEMES`, `SYSTEM_FIELDS`).

    from appwright.runtime.manifest import load_manifest
    manifest = load_manifest("examples/notes")   # raises ManifestError

Every error names the JSON path and what was expected, e.g.
`entities.Note.fields.title.type: expected one of string, text, ...; got "str"`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from appwright.runtime.values import check_value  # one rule set for defaults and writes

MANIFEST_FILE = "app.json"

# type -> one-line description for the docs. Order is the order the docs show.
FIELD_TYPES: dict[str, str] = {
    "string": "short text on one line; `max_length` defaults to 1000",
    "text": "long text, many lines; `max_length` defaults to 100000",
    "number": "a JSON number (float)",
    "integer": "a whole number",
    "boolean": "true or false",
    "date": 'a calendar date, `"YYYY-MM-DD"`',
    "datetime": 'a moment, ISO 8601 (`"2026-11-25T14:30:00Z"`); stored in UTC',
    "enum": 'one of `values` (a list of strings)',
    "ref": "the `id` of a record of `entity`, which the writer must be able to read",
}
DEFAULT_MAX_LENGTH = {"string": 1000, "text": 100_000}

# Options a field may carry beside `type`: option -> (the types it is for, None: every type; what
# it means). `REQUIRED_OPTIONS`: the option a type cannot do without. The validator, the docs and
# the generation grammar (manifest_schema.py) read these two tables.
FIELD_OPTIONS: dict[str, tuple[tuple[str, ...] | None, str]] = {
    "required": (None, "true/false"),
    "default": (None, "a value of the field's type"),
    "max_length": (("string", "text"), "the longest value, in characters"),
    "min": (("number", "integer"), "the smallest value"),
    "max": (("number", "integer"), "the largest value"),
    "values": (("enum",), "the allowed values, a non-empty list of strings"),
    "entity": (("ref",), "the name of the entity it points to"),
    "description": (None, "what the field is for, for people"),
}
REQUIRED_OPTIONS: dict[str, str] = {"enum": "values", "ref": "entity"}

# Who may perform an operation. `admin` is a built-in role; apps may name more roles in
# `auth.roles` and use them here too.
PRINCIPALS: dict[str, str] = {
    "public": "anyone, signed in or not",
    "signed_in": "any signed-in user",
    "owner": "the signed-in user who created the record (on `create`: any signed-in user, who becomes the owner)",
    "admin": "users with the `admin` role",
    "nobody": "no one (not even admins)",
}
OPERATIONS = ("read", "create", "update", "delete")

# preset -> (rules per operation, description). Admins are added to every preset.
ACCESS_PRESETS: dict[str, tuple[dict[str, list[str]], str]] = {
    "owner": (
        {"read": ["owner"], "create": ["signed_in"], "update": ["owner"], "delete": ["owner"]},
        "each signed-in user reads and writes only their own records (the default)",
    ),
    "shared": (
        {"read": ["signed_in"], "create": ["signed_in"], "update": ["owner"], "delete": ["owner"]},
        "signed-in users read all records and write their own",
    ),
    "public_read": (
        {"read": ["public"], "create": ["signed_in"], "update": ["owner"], "delete": ["owner"]},
        "anyone reads, even signed out; signed-in users write their own",
    ),
    "public": (
        {"read": ["public"], "create": ["public"], "update": ["public"], "delete": ["public"]},
        "anyone reads and writes, even signed out (rarely what you want)",
    ),
    "submit_only": (
        {"read": ["admin"], "create": ["public"], "update": ["admin"], "delete": ["admin"]},
        "anyone creates; only admins read, change or delete (contact forms, surveys, leads)",
    ),
}
DEFAULT_ACCESS = "owner"
# An entity or field named like this holds a secret (sign-in belongs to aw.auth, which hashes
# passwords): the graders' `no_password_field`, and agent/sharing.py never shares such an entity.
SENSITIVE_NAME = re.compile(r"pass(word|wd)?|pwd|secret|credential|token|api_?key", re.I)

SIGNUP_RULES: dict[str, str] = {
    "open": "anyone may sign up",
    "invite": "signing up needs an invite code issued by an admin (the code may carry a role)",
    "closed": "no one signs up; admins add users",
}

THEMES: dict[str, str] = {
    "default": "the runtime links its theme (/_aw/app.css) as each page's first stylesheet: plain "
               "semantic HTML looks finished, light or dark, on a phone too; the app's own CSS wins",
    "none": "no theme: the page has only its own CSS",
}

# Set by the runtime on every record, never by the client; may be used in `sort` and `where`.
SYSTEM_FIELDS: dict[str, str] = {
    "id": "unique id (a string)",
    "owner": "id of the user who created the record, or null if created signed out",
    "created_at": "when the record was created (ISO 8601, UTC)",
    "updated_at": "when the record was last changed (ISO 8601, UTC)",
}

NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
ROLE_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


class ManifestError(Exception):
    """A bundle's manifest is missing or invalid. `errors` holds one line per problem."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("\n".join(errors))


class _Strict(BaseModel):
    # strict: `"required": "true"` or `"max_length": "200"` is a mistake to report, not to coerce.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


FieldType = Literal["string", "text", "number", "integer", "boolean", "date", "datetime", "enum", "ref"]


class FieldSpec(_Strict):
    type: FieldType
    required: bool = False
    default: Any = None
    max_length: int | None = Field(default=None, gt=0)
    min: float | None = None
    max: float | None = None
    values: list[str] | None = None
    entity: str | None = None
    description: str | None = None

    @model_validator(mode="after")
    def _check_kind(self) -> "FieldSpec":  # pydantic reports the ValueError under the field's path
        needed = REQUIRED_OPTIONS.get(self.type)
        if needed and not getattr(self, needed):
            raise ValueError(f'{"an" if self.type[0] in "aeiou" else "a"} {self.type} field needs "{needed}": '
                             f"{FIELD_OPTIONS[needed][1]}")
        for option, (types, _) in FIELD_OPTIONS.items():
            if types and getattr(self, option) is not None and self.type not in types:
                raise ValueError(f'"{option}" is only for {" and ".join(types)} fields, not {self.type}')
        return self

    @property
    def limit(self) -> int | None:
        """The effective maximum length of a string or text field."""
        return self.max_length or DEFAULT_MAX_LENGTH.get(self.type)


class AccessMap(_Strict):
    read: str | list[str] | None = None
    create: str | list[str] | None = None
    update: str | list[str] | None = None
    delete: str | list[str] | None = None


class EntitySpec(_Strict):
    fields: dict[str, FieldSpec]
    access: str | AccessMap = DEFAULT_ACCESS
    description: str | None = None

    @field_validator("access")
    @classmethod
    def _known_preset(cls, value: str | AccessMap) -> str | AccessMap:
        if isinstance(value, str) and value not in ACCESS_PRESETS:
            raise ValueError(f"expected one of {', '.join(ACCESS_PRESETS)} or a map of "
                             f"read/create/update/delete; got {json.dumps(value)}")
        return value

    def rules(self) -> dict[str, frozenset[str]]:
        """Principals allowed per operation, with the preset's admin clause applied."""
        if isinstance(self.access, str):
            ops = ACCESS_PRESETS[self.access][0]
        else:
            given = self.access.model_dump()
            base = ACCESS_PRESETS[DEFAULT_ACCESS][0]
            ops = {}
            for op in OPERATIONS:
                value = given[op]
                if value is None:
                    ops[op] = base[op]  # an operation left out falls back to the safe default
                else:
                    ops[op] = [value] if isinstance(value, str) else value
        out = {}
        for op in OPERATIONS:
            names = set(ops[op])
            # Admins read and change everything, except what is closed to everyone.
            out[op] = frozenset() if names == {"nobody"} else frozenset(names | {"admin"})
        return out


class AuthSpec(_Strict):
    signup: Literal["open", "invite", "closed"] = "open"
    roles: list[str] = []


class Manifest(_Strict):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = None
    auth: AuthSpec = AuthSpec()
    entities: dict[str, EntitySpec] = {}
    theme: Literal["default", "none"] = "default"  # THEMES
    format: Literal[1] = 1  # bundle format version; a newer runtime may accept more


def _loc(loc: tuple) -> str:
    parts = [str(p) for p in loc if not str(p).startswith(("function-", "constrained-"))]
    # pydantic adds the member type for unions (`str`, `AccessMap`, `list[str]`): drop it.
    parts = [p for p in parts if p not in ("str", "AccessMap", "list[str]", "int", "float")]
    return ".".join(parts) or "(top level)"


def _allowed_keys(loc: str) -> str:
    """The keys a manifest may have beside the unknown key at `loc` (a dotted path)."""
    parent = loc.split(".")[:-1]
    shape = tuple("*" if (i in (1, 3) and parent[0] == "entities") else p for i, p in enumerate(parent))
    model = {(): Manifest, ("auth",): AuthSpec, ("entities", "*"): EntitySpec,
             ("entities", "*", "access"): AccessMap, ("entities", "*", "fields", "*"): FieldSpec}.get(shape)
    return ", ".join(model.model_fields) if model else ""


def _message(err: dict, loc: str) -> str:
    kind, ctx, got = err["type"], err.get("ctx") or {}, err.get("input")
    if kind == "literal_error":
        return f"expected one of {ctx.get('expected', '').replace(chr(39), '')}; got {json.dumps(got)}"
    if kind == "extra_forbidden":
        allowed, parent, key = _allowed_keys(loc), loc.rpartition(".")[0] or "app.json", loc.rpartition(".")[2]
        return (f"unknown key; {parent} has only {allowed}: remove {key}" if allowed
                else f"unknown key; remove {key}")
    if kind == "missing":
        return "required; missing"
    if kind == "value_error":
        return err["msg"].removeprefix("Value error, ")
    return f"{err['msg'].lower()}; got {json.dumps(got, default=str)[:80]}"


def _errors_from_pydantic(exc: ValidationError) -> list[str]:
    seen, lines = set(), []
    for err in exc.errors():
        # `access` is a preset name or a map: report only the member the input was meant as.
        if "str" in err["loc"] and isinstance(err.get("input"), dict):
            continue
        if "AccessMap" in err["loc"] and err["type"] == "model_type":
            continue
        loc = _loc(err["loc"])
        # A union (preset name or per-operation map) yields one error per member: keep one per path.
        key = (loc, err["type"])
        if key in seen:
            continue
        seen.add(key)
        lines.append(f"{loc}: {_message(err, loc)}")
    return lines


def _check_references(m: Manifest) -> list[str]:
    errors = []
    roles = set(m.auth.roles)
    for role in m.auth.roles:
        if role in PRINCIPALS:
            errors.append(f"auth.roles: {json.dumps(role)} is built in: do not list it in auth.roles")
        elif not ROLE_RE.match(role):
            errors.append(f"auth.roles: {json.dumps(role)} is not a valid role name "
                          "(lowercase letters, digits and _, starting with a letter)")
    known = set(PRINCIPALS) | roles
    for ename, ent in m.entities.items():
        if not NAME_RE.match(ename):
            errors.append(f"entities.{ename}: entity names are letters, digits and _, starting with a letter")
        if not ent.fields:
            errors.append(f"entities.{ename}.fields: an entity needs at least one field")
        for fname, f in ent.fields.items():
            path = f"entities.{ename}.fields.{fname}"
            if fname in SYSTEM_FIELDS:
                errors.append(f"{path}: {fname} is set by the runtime on every record; remove it")
            elif not NAME_RE.match(fname):
                errors.append(f"{path}: field names are letters, digits and _, starting with a letter")
            if f.type == "ref" and f.entity not in m.entities:
                errors.append(f"{path}.entity: expected one of {', '.join(m.entities)}; got {json.dumps(f.entity)}")
            if f.default is not None:
                problem = check_value(f, f.default)
                if problem:
                    errors.append(f"{path}.default: {problem}")
        if not isinstance(ent.access, str):
            for op in OPERATIONS:
                value = getattr(ent.access, op)
                for name in [value] if isinstance(value, str) else (value or []):
                    if name not in known:
                        errors.append(f"entities.{ename}.access.{op}: expected one of "
                                      f"{', '.join(sorted(known))}; got {json.dumps(name)}")
    return errors


def parse_manifest(data: Any) -> Manifest:
    """Validate a decoded app.json. Raises ManifestError listing every problem."""
    if not isinstance(data, dict):
        raise ManifestError([f"(top level): expected a JSON object; got {type(data).__name__}"])
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as exc:
        raise ManifestError(_errors_from_pydantic(exc)) from None
    errors = _check_references(manifest)
    if errors:
        raise ManifestError(errors)
    return manifest


def load_manifest(bundle: str | Path) -> Manifest:
    """Read and validate `BUNDLE/app.json`."""
    path = Path(bundle) / MANIFEST_FILE
    if not Path(bundle).is_dir():
        raise ManifestError([f"{bundle}: not a folder (an app bundle is a folder with app.json)"])
    if not path.is_file():
        raise ManifestError([f"{path}: missing; every bundle needs an app.json manifest"])
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ManifestError([f"{path}: not UTF-8 text"]) from None
    except json.JSONDecodeError as exc:
        raise ManifestError([f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"]) from None
    return parse_manifest(data)
