"""Mistakes in a model's app.json that the harness puts right without another model call.

    text, fixes = fix_manifest(text)   # fixes: one sentence per change, for the trajectory

The grammar (runtime/manifest_schema.py) keeps unknown keys, types and options out of a
manifest sampled by llama.cpp; models behind other backends get no grammar. Either way some
mistakes are cross-field, and a few have one obvious repair:

- a field named like a runtime field (`id`, `owner`, `created_at`, `updated_at`): dropped, the
  runtime sets it on every record anyway;
- a `ref` to an undeclared `User` (or Account, Member, Person, ...): dropped, users are no
  entity and `owner` already says who made a record (seen in 2 of the first 20 samples);
- a `ref` to any other undeclared entity (`"entity": "Note"`, copied from the docs' example,
  on a field called `location`): made a string field, which keeps what the person types (5 of
  200 samples, benchmarks/manifests.py);
- a string or text field with `values`: made an `enum`;
- a string field the app's page offers as a menu (`<select name="FIELD">` with two or more
  options; `menus` of agent/pagefix.py): made an `enum` of the menu's values, so the runtime
  holds the choice the page gives (seen on the train split: 2 of 10 builds of the 0.5B
  declared the "one of ..." field a string and wrote its menu in the page);
- a built-in principal (`admin`, `owner`, ...) listed in `auth.roles`: dropped, it is built in;
- a role used in an access map but missing from `auth.roles`: declared there;
- a `default` the field cannot hold (not one of an enum's `values`, over `max_length`, out of
  `min`..`max`): dropped.

Not fixed, because no repair is obvious: `min` above `max`, names that are not letters,
digits and `_`, an entity left without fields. Text that is not a JSON object is returned unchanged.
"""

from __future__ import annotations

import json
from typing import Any, Iterator

from pydantic import ValidationError

from appwright.runtime.manifest import PRINCIPALS, ROLE_RE, SYSTEM_FIELDS, FieldSpec
from appwright.runtime.values import check_value


def fix_manifest(text: str, menus: dict[str, list[str]] | None = None) -> tuple[str, list[str]]:
    """(the manifest text, fixed and re-indented when anything changed; what was fixed). `menus`:
    the page's `<select>` names and their values."""
    try:
        data = json.loads(text)
    except ValueError:
        return text, []
    if not isinstance(data, dict):
        return text, []
    fixes = _fix(data, menus or {})
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n" if fixes else text), fixes


def read_entities(text: str, before: str | None) -> tuple[dict, dict, dict] | None:
    """(an answer's app.json, its entities, the entities the app had before the answer) for the
    request-reading repairs (agent/sharing.py, agent/choices.py); None where either text is not
    a manifest's JSON."""
    try:
        data = json.loads(text)
        old = json.loads(before or "{}").get("entities") or {}
    except (ValueError, AttributeError):
        return None
    entities = data.get("entities") if isinstance(data, dict) else None
    return (data, entities, old) if isinstance(entities, dict) and isinstance(old, dict) else None


def entity_fields(entities: dict, old: dict) -> Iterator[tuple[str, dict, dict, dict]]:
    """(name, entity, its fields, the fields it had before) for each entity of `read_entities`
    that has fields."""
    for name, entity in entities.items():
        fields = entity.get("fields") if isinstance(entity, dict) else None
        if isinstance(fields, dict):
            had = old.get(name, {}).get("fields", {}) if isinstance(old.get(name), dict) else {}
            yield name, entity, fields, had if isinstance(had, dict) else {}


def _fix(m: dict[str, Any], menus: dict[str, list[str]]) -> list[str]:
    fixes: list[str] = []
    auth = m.get("auth") if isinstance(m.get("auth"), dict) else None
    roles = auth.get("roles") if auth and isinstance(auth.get("roles"), list) else None
    if roles is not None:
        builtin = [r for r in roles if r in PRINCIPALS]
        if builtin:
            auth["roles"] = [r for r in roles if r not in PRINCIPALS]
            fixes.append(f"auth.roles: removed {', '.join(map(str, builtin))}: built in, never declared")
    entities = m.get("entities") if isinstance(m.get("entities"), dict) else {}
    for ename, entity in entities.items():
        if not isinstance(entity, dict):
            continue
        fields = entity.get("fields") if isinstance(entity.get("fields"), dict) else {}
        for fname in [f for f in fields if f in SYSTEM_FIELDS]:
            del fields[fname]
            fixes.append(f"entities.{ename}.fields.{fname}: removed; the runtime sets {fname} on every record")
        for fname in [f for f, spec in fields.items() if _points_at_users(spec, entities)]:
            del fields[fname]
            fixes.append(f"entities.{ename}.fields.{fname}: removed a ref to users, who are no entity; the "
                         "runtime keeps who made each record in `owner`")
        for fname, field in fields.items():
            if isinstance(field, dict):
                fixes += _fix_field(f"entities.{ename}.fields.{fname}", field, entities, menus.get(fname))
        fixes += _declare_roles(f"entities.{ename}.access", entity.get("access"), m)
    return fixes


USER_WORDS = {"user", "users", "account", "accounts", "member", "members", "person", "people", "author", "owner"}


def _points_at_users(spec: Any, entities: dict[str, Any]) -> bool:
    """A ref to an undeclared entity called User (or Account, Member, ...)."""
    return (isinstance(spec, dict) and spec.get("type") == "ref" and isinstance(spec.get("entity"), str)
            and spec["entity"] not in entities and spec["entity"].lower() in USER_WORDS)


def _fix_field(path: str, f: dict[str, Any], entities: dict[str, Any], menu: list[str] | None) -> list[str]:
    fixes = []
    if f.get("type") == "string" and not f.get("values") and menu and len(menu) >= 2:
        f["values"] = menu
        fixes.append(f"{path}: a string the page offers as a menu of {', '.join(menu)[:80]}; made it an enum "
                     "of those")
    if f.get("type") == "ref" and isinstance(f.get("entity"), str) and f["entity"] not in entities:
        fixes.append(f"{path}: made it a string; it pointed at {json.dumps(f.pop('entity'))[:40]}, which is no "
                     f"entity of this app ({', '.join(entities) or 'none'})")
        f["type"] = "string"
    values = f.get("values")
    if f.get("type") in ("string", "text") and isinstance(values, list) and values:
        if not menu or values is not menu:
            fixes.append(f"{path}: a {f['type']} field with values is an enum; made it one")
        f["type"] = "enum"
        f.pop("max_length", None)
    if f.get("default") is not None:
        try:
            problem = check_value(FieldSpec.model_validate(f), f["default"])
        except ValidationError:
            problem = None  # the field itself is wrong: the validator says how
        if problem:
            fixes.append(f"{path}.default: removed {json.dumps(f.pop('default'))[:40]}: {problem}")
    return fixes


def _declare_roles(path: str, access: Any, m: dict[str, Any]) -> list[str]:
    """Roles named in an access map but not in auth.roles get declared there."""
    if not isinstance(access, dict):
        return []
    named = []
    for value in access.values():
        for name in value if isinstance(value, list) else [value]:
            if isinstance(name, str) and name not in PRINCIPALS and ROLE_RE.match(name):
                named.append(name)
    auth = m.get("auth", {})
    roles = auth.get("roles", []) if isinstance(auth, dict) else None
    missing = [r for r in dict.fromkeys(named) if isinstance(roles, list) and r not in roles]
    if not missing:
        return []
    m["auth"] = auth
    auth["roles"] = roles + missing
    return [f"{path}: declared the role{'s' if len(missing) > 1 else ''} {', '.join(missing)} in auth.roles"]
