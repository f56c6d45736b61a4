"""appwright/runtime/manifest.py: what app.json may declare, and how each mistake is reported.

Every error line must name the JSON path and say what was expected, because the
person (or model) fixing app.json only sees these lines.
"""

from __future__ import annotations

import json

import pytest

from appwright.runtime.manifest import (
    ACCESS_PRESETS, FIELD_TYPES, OPERATIONS, Manifest, ManifestError, load_manifest, parse_manifest,
)

ALL_TYPES = {
    "title": {"type": "string", "required": True, "max_length": 200, "description": "shown in lists"},
    "body": {"type": "text", "max_length": 5000},
    "price": {"type": "number", "min": 0, "max": 1e6, "default": 1.5},
    "count": {"type": "integer", "min": 0, "default": 3},
    "done": {"type": "boolean", "default": False},
    "day": {"type": "date", "default": "2026-11-25"},
    "at": {"type": "datetime", "default": "2026-11-25T14:30:00Z"},
    "status": {"type": "enum", "values": ["todo", "doing", "done"], "default": "todo"},
    "parent": {"type": "ref", "entity": "Task"},
}


def manifest(fields=None, access=None, **top) -> dict:
    """A small valid manifest; override the Task entity's fields or access, or top-level keys."""
    entity = {"fields": fields or {"title": {"type": "string"}}}
    if access is not None:
        entity["access"] = access
    return {"name": "Tasks", "entities": {"Task": entity}, **top}


def errors_of(data) -> list[str]:
    with pytest.raises(ManifestError) as info:
        parse_manifest(data)
    assert info.value.errors, "a ManifestError must carry at least one line"
    assert str(info.value) == "\n".join(info.value.errors)
    return info.value.errors


def one_error(data) -> str:
    errs = errors_of(data)
    assert len(errs) == 1, errs
    return errs[0]


# -- valid manifests --------------------------------------------------------------------------

def test_every_field_type_is_accepted():
    assert {f["type"] for f in ALL_TYPES.values()} == set(FIELD_TYPES)
    m = parse_manifest(manifest(ALL_TYPES))
    assert isinstance(m, Manifest)
    fields = m.entities["Task"].fields
    assert list(fields) == list(ALL_TYPES)  # declaration order is kept (the API shows fields in it)
    assert fields["title"].required and fields["title"].limit == 200
    assert fields["body"].limit == 5000
    assert fields["status"].values == ["todo", "doing", "done"]
    assert fields["parent"].entity == "Task"


def test_string_and_text_have_default_length_limits():
    m = parse_manifest(manifest({"s": {"type": "string"}, "t": {"type": "text"}, "n": {"type": "integer"}}))
    f = m.entities["Task"].fields
    assert f["s"].limit == 1000 and f["t"].limit == 100_000 and f["n"].limit is None


def test_defaults_of_a_manifest_left_mostly_empty():
    m = parse_manifest({"name": "Empty"})
    assert m.entities == {} and m.auth.signup == "open" and m.auth.roles == []
    m = parse_manifest(manifest())
    assert m.entities["Task"].access == "owner"


@pytest.mark.parametrize("preset", list(ACCESS_PRESETS))
def test_every_access_preset_is_accepted(preset):
    assert parse_manifest(manifest(access=preset)).entities["Task"].access == preset


def test_per_operation_maps_with_names_lists_and_roles():
    data = manifest(access={"read": ["owner", "editor"], "create": "signed_in", "update": ["owner", "admin"],
                            "delete": "nobody"},
                    auth={"signup": "invite", "roles": ["editor", "viewer_2"]})
    m = parse_manifest(data)
    assert m.auth.signup == "invite" and m.auth.roles == ["editor", "viewer_2"]
    assert m.entities["Task"].access.read == ["owner", "editor"]


@pytest.mark.parametrize("signup", ["open", "invite", "closed"])
def test_every_signup_rule_is_accepted(signup):
    assert parse_manifest({"name": "x", "auth": {"signup": signup}}).auth.signup == signup


def test_refs_between_entities_and_to_itself():
    data = {"name": "Blog", "entities": {
        "Post": {"fields": {"title": {"type": "string"}, "author": {"type": "ref", "entity": "Person"}}},
        "Person": {"fields": {"name": {"type": "string"}, "mentor": {"type": "ref", "entity": "Person"}}},
    }}
    assert set(parse_manifest(data).entities) == {"Post", "Person"}


# -- errors: each names the JSON path and what was expected ----------------------------------

def test_wrong_type_name():
    err = one_error(manifest({"title": {"type": "str"}}))
    assert err.startswith("entities.Task.fields.title.type: expected one of string, text, ")
    assert err.endswith('; got "str"')
    for t in FIELD_TYPES:
        assert t in err


def test_field_without_type():
    assert one_error(manifest({"title": {"required": True}})).startswith("entities.Task.fields.title.type: ")


@pytest.mark.parametrize("data, path", [
    ({"name": "x", "colour": "red"}, "colour"),
    ({"name": "x", "auth": {"signup": "open", "invites": True}}, "auth.invites"),
    (manifest(permissions="owner"), "permissions"),
    ({"name": "x", "entities": {"Task": {"fields": {"t": {"type": "text"}}, "acces": "owner"}}}, "entities.Task.acces"),
    (manifest({"title": {"type": "string", "maxlen": 3}}), "entities.Task.fields.title.maxlen"),
    (manifest(access={"read": "owner", "write": "owner"}), "entities.Task.access.write"),
])
def test_unknown_keys_at_each_level_are_named(data, path):
    err = one_error(data)
    assert err.startswith(f"{path}: unknown key"), err


@pytest.mark.parametrize("data, expected", [
    ({"name": "x", "colour": "red"}, ["name", "auth", "entities"]),
    ({"name": "x", "auth": {"invites": True}}, ["signup", "roles"]),
    ({"name": "x", "entities": {"Task": {"fields": {"t": {"type": "text"}}, "acces": "owner"}}}, ["fields", "access"]),
    (manifest({"title": {"type": "string", "maxlen": 3}}), ["max_length", "required", "default"]),
    (manifest(access={"read": "owner", "write": "owner"}), ["read", "create", "update", "delete"]),
])
def test_unknown_key_errors_say_which_keys_are_expected(data, expected):
    # "what was expected": `maxlen` should point the writer at `max_length`, not only say "remove it".
    err = one_error(data)
    for key in expected:
        assert key in err.split(":", 1)[1], err


def test_enum_without_values():
    for fields in ({"s": {"type": "enum"}}, {"s": {"type": "enum", "values": []}}):
        err = one_error(manifest(fields))
        assert err.startswith("entities.Task.fields.s: ") and '"values"' in err


def test_ref_without_entity_and_to_an_unknown_entity():
    assert one_error(manifest({"p": {"type": "ref"}})).startswith("entities.Task.fields.p: ")
    err = one_error(manifest({"p": {"type": "ref", "entity": "Project"}}))
    assert err == 'entities.Task.fields.p.entity: expected one of Task; got "Project"'


@pytest.mark.parametrize("options, words", [
    ({"type": "integer", "max_length": 3}, ["max_length", "string", "text"]),
    ({"type": "string", "min": 1}, ["min", "number", "integer"]),
    ({"type": "text", "values": ["a"]}, ["values", "enum"]),
    ({"type": "string", "entity": "Task"}, ["entity", "ref"]),
])
def test_options_that_do_not_fit_the_type(options, words):
    err = one_error(manifest({"f": options}))
    assert err.startswith("entities.Task.fields.f: ")
    for w in words:
        assert w in err


def test_max_length_must_be_positive():
    assert one_error(manifest({"f": {"type": "string", "max_length": 0}})).startswith(
        "entities.Task.fields.f.max_length: ")


@pytest.mark.parametrize("name", ["id", "owner", "created_at", "updated_at"])
def test_system_fields_cannot_be_declared(name):
    err = one_error(manifest({name: {"type": "string"}}))
    assert err.startswith(f"entities.Task.fields.{name}: ") and "runtime" in err and "remove" in err


@pytest.mark.parametrize("field, got", [
    ({"type": "integer", "default": "three"}, "three"),
    ({"type": "integer", "default": 1.5}, "1.5"),
    ({"type": "boolean", "default": "no"}, "no"),
    ({"type": "enum", "values": ["a", "b"], "default": "c"}, "c"),
    ({"type": "date", "default": "25/11/2026"}, "25/11/2026"),
    ({"type": "datetime", "default": "soon"}, "soon"),
    ({"type": "string", "max_length": 3, "default": "toolong"}, "too long"),
    ({"type": "string", "default": "two\nlines"}, "one line"),
    ({"type": "number", "min": 0, "default": -1}, "at least 0"),
])
def test_bad_defaults_are_checked_with_the_write_rules(field, got):
    err = one_error(manifest({"f": field}))
    assert err.startswith("entities.Task.fields.f.default: ") and got in err, err


def test_bad_access_preset():
    err = one_error(manifest(access="private"))
    assert err.startswith("entities.Task.access: expected one of ")
    assert err.endswith('got "private"')
    for preset in ACCESS_PRESETS:
        assert preset in err


def test_access_of_the_wrong_shape():
    assert one_error(manifest(access=5)).startswith("entities.Task.access: ")


@pytest.mark.parametrize("access, op, name", [
    ({"read": "everyone"}, "read", "everyone"),
    ({"update": ["owner", "editors"]}, "update", "editors"),
])
def test_unknown_principal_in_a_map(access, op, name):
    err = one_error(manifest(access=access))
    assert err.startswith(f"entities.Task.access.{op}: expected one of ")
    assert err.endswith(f'got "{name}"')
    for p in ("owner", "signed_in", "admin", "public", "nobody"):
        assert p in err


def test_role_named_in_auth_roles_is_a_known_principal():
    parse_manifest(manifest(access={"read": "editor"}, auth={"roles": ["editor"]}))
    err = one_error(manifest(access={"read": "editor"}, auth={"roles": ["viewer"]}))
    assert "viewer" in err and err.endswith('got "editor"')


@pytest.mark.parametrize("roles, bad", [(["Editor"], "Editor"), (["admin"], "admin"), (["has space"], "has space")])
def test_bad_role_names(roles, bad):
    err = one_error({"name": "x", "auth": {"roles": roles}})
    assert err.startswith("auth.roles: ") and json.dumps(bad) in err


def test_bad_signup_rule():
    err = one_error({"name": "x", "auth": {"signup": "invite-only"}})
    assert err == 'auth.signup: expected one of open, invite or closed; got "invite-only"'


@pytest.mark.parametrize("data, path", [
    ({"name": "x", "entities": {"my notes": {"fields": {"t": {"type": "text"}}}}}, "entities.my notes"),
    ({"name": "x", "entities": {"1Note": {"fields": {"t": {"type": "text"}}}}}, "entities.1Note"),
    (manifest({"due-date": {"type": "date"}}), "entities.Task.fields.due-date"),
    (manifest({"_x": {"type": "date"}}), "entities.Task.fields._x"),
])
def test_bad_names(data, path):
    err = one_error(data)
    assert err.startswith(f"{path}: ") and "letters, digits" in err


def test_missing_and_empty_name_and_fields():
    assert one_error({"entities": {}}) == "name: required; missing"
    assert one_error({"name": ""}).startswith("name: ")
    assert one_error({"name": "x", "entities": {"Task": {}}}) == "entities.Task.fields: required; missing"
    assert one_error({"name": "x", "entities": {"Task": {"fields": {}}}}).startswith("entities.Task.fields: ")


def test_top_level_must_be_an_object():
    assert one_error([]).startswith("(top level): expected a JSON object")
    assert one_error({"name": "x", "entities": []}).startswith("entities: ")


def test_all_problems_are_reported_together():
    # Shape problems in different places come back in one go...
    errs = errors_of({"name": "x", "colour": 1, "auth": {"signup": "maybe"}, "entities": {
        "Task": {"fields": {"a": {"type": "str"}, "b": {"type": "enum"}}, "access": "private"}}})
    paths = sorted(e.split(":")[0] for e in errs)
    assert paths == ["auth.signup", "colour", "entities.Task.access", "entities.Task.fields.a.type",
                     "entities.Task.fields.b"]
    # ...and so do problems found across entities once the shapes are right.
    errs = errors_of({"name": "x", "auth": {"roles": ["Bad"]}, "entities": {
        "Task": {"fields": {"created_at": {"type": "string"}, "n": {"type": "integer", "default": "x"},
                            "p": {"type": "ref", "entity": "Nope"}},
                 "access": {"read": "everyone"}},
        "bad name": {"fields": {"t": {"type": "text"}}},
    }})
    paths = sorted(e.split(":")[0] for e in errs)
    assert paths == ["auth.roles", "entities.Task.access.read", "entities.Task.fields.created_at",
                     "entities.Task.fields.n.default", "entities.Task.fields.p.entity", "entities.bad name"]


# -- load_manifest: the file itself -----------------------------------------------------------

def test_load_a_valid_bundle(tmp_path):
    (tmp_path / "app.json").write_text(json.dumps(manifest(ALL_TYPES)))
    assert load_manifest(tmp_path).name == "Tasks"
    assert load_manifest(str(tmp_path)).entities["Task"].fields["count"].default == 3


def test_invalid_json_names_line_and_column(tmp_path):
    (tmp_path / "app.json").write_text('{\n  "name": "x",\n  "entities": {,}\n}')
    with pytest.raises(ManifestError) as info:
        load_manifest(tmp_path)
    (err,) = info.value.errors
    assert "app.json" in err and "invalid JSON at line 3 column 16" in err


def test_not_utf8(tmp_path):
    (tmp_path / "app.json").write_bytes(b'{"name": "caf\xe9"}')
    with pytest.raises(ManifestError) as info:
        load_manifest(tmp_path)
    assert "UTF-8" in info.value.errors[0]


def test_missing_app_json(tmp_path):
    with pytest.raises(ManifestError) as info:
        load_manifest(tmp_path)
    (err,) = info.value.errors
    assert str(tmp_path / "app.json") in err and "missing" in err


def test_not_a_folder(tmp_path):
    file = tmp_path / "app.json"
    file.write_text(json.dumps(manifest()))
    for target in (file, tmp_path / "nope"):
        with pytest.raises(ManifestError) as info:
            load_manifest(target)
        (err,) = info.value.errors
        assert str(target) in err and "not a folder" in err


# -- EntitySpec.rules(): who may do what -------------------------------------------------------

def rules(access) -> dict[str, set[str]]:
    spec = parse_manifest(manifest(access=access, auth={"roles": ["editor"]})).entities["Task"]
    out = spec.rules()
    assert set(out) == set(OPERATIONS)
    return {op: set(v) for op, v in out.items()}


def test_rules_of_presets_always_include_admin():
    assert rules("owner") == {"read": {"owner", "admin"}, "create": {"signed_in", "admin"},
                              "update": {"owner", "admin"}, "delete": {"owner", "admin"}}
    assert rules("shared")["read"] == {"signed_in", "admin"}
    assert rules("shared")["update"] == {"owner", "admin"}
    assert rules("public_read")["read"] == {"public", "admin"}
    assert rules("public_read")["create"] == {"signed_in", "admin"}
    assert rules("public") == {op: {"public", "admin"} for op in OPERATIONS}
    assert rules("submit_only") == {"read": {"admin"}, "create": {"public", "admin"},
                                    "update": {"admin"}, "delete": {"admin"}}


def test_leaving_access_out_is_the_owner_preset():
    spec = parse_manifest(manifest()).entities["Task"]
    assert spec.rules() == parse_manifest(manifest(access="owner")).entities["Task"].rules()


def test_rules_of_a_map_with_nobody_and_lists():
    r = rules({"read": ["owner", "editor"], "update": "signed_in", "delete": "nobody"})
    assert r["read"] == {"owner", "editor", "admin"}
    assert r["update"] == {"signed_in", "admin"}
    assert r["delete"] == set()  # nobody means nobody, admins included
    assert r["create"] == {"signed_in", "admin"}  # left out: as in `owner`


def test_missing_operations_fall_back_to_owner():
    assert rules({"read": "public"}) == {"read": {"public", "admin"}, "create": {"signed_in", "admin"},
                                         "update": {"owner", "admin"}, "delete": {"owner", "admin"}}
    assert rules({}) == rules("owner")
