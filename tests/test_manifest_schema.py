"""The manifest's generation schema and grammar (runtime/manifest_schema.py) against the validator
(runtime/manifest.py): the same tables, and what the schema admits validates, or fails only on the
cross-field rules the module lists, each explained in words. A real model samples under the grammar
in tests/test_agent_loop.py (slow)."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appwright.agent.fixups import fix_manifest
from appwright.runtime.manifest import (ACCESS_PRESETS, FIELD_OPTIONS, FIELD_TYPES, OPERATIONS, PRINCIPALS,
                                        REQUIRED_OPTIONS, SIGNUP_RULES, THEMES, ManifestError, parse_manifest)
from appwright.runtime.manifest_schema import field_schema, grammar, json_schema

# What the validator may still say about a manifest the schema admits, once agent/fixups.py ran.
CROSS_FIELD = [r"\.fields: an entity needs at least one field"]


def test_every_type_option_preset_rule_and_principal_is_in_schema_and_grammar():
    schema, gbnf = json.dumps(json_schema()), grammar()
    for ftype in FIELD_TYPES:
        props = field_schema(ftype)["properties"]
        assert props["type"] == {"const": ftype}
        allowed = {o for o, (types, _) in FIELD_OPTIONS.items() if types is None or ftype in types}
        assert set(props) - {"type"} <= allowed, ftype  # never an option the validator refuses
        assert set(props) - {"type"} >= allowed - {"default"}, ftype  # every other one is offered
        if ftype in REQUIRED_OPTIONS:
            assert REQUIRED_OPTIONS[ftype] in field_schema(ftype)["required"]
        assert json.dumps(json.dumps(ftype)) in gbnf
    for name in [*ACCESS_PRESETS, *SIGNUP_RULES, *PRINCIPALS, *OPERATIONS, *FIELD_OPTIONS, *THEMES]:
        assert json.dumps(name) in schema and json.dumps(json.dumps(name)) in gbnf, name
    assert re.search(r"^root ::= manifest$", gbnf, re.M)


def test_the_docs_example_and_the_examples_fit_the_schema():
    import jsonschema

    from conftest import EXAMPLES
    from appwright.runtime.docs import EXAMPLE_MANIFEST

    bundles = [p for p in EXAMPLES.iterdir() if (p / "app.json").is_file()]
    assert len(bundles) >= 3
    for manifest in [EXAMPLE_MANIFEST] + [json.loads((p / "app.json").read_text()) for p in bundles]:
        manifest = {k: v for k, v in manifest.items() if k != "format"}
        jsonschema.validate(manifest, json_schema())


def instances(schema: dict) -> st.SearchStrategy:
    """Values the schema admits, for exactly the parts of JSON schema manifest_schema.py uses
    (strings and lists kept short, so a run stays fast)."""
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return st.one_of([instances(s) for s in schema[key]])
    kind = schema["type"]
    if kind == "string":
        if "pattern" in schema:
            return st.from_regex(schema["pattern"].replace("{0,63}", "{0,8}").replace("{0,31}", "{0,8}"),
                                 fullmatch=True)
        return st.text(min_size=schema.get("minLength", 0), max_size=min(schema["maxLength"], 12))
    if kind == "integer":
        return st.integers(schema.get("minimum", -10**6), 10**6)
    if kind == "number":
        return st.one_of(st.integers(-10**6, 10**6), st.floats(-1e6, 1e6, allow_nan=False))
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        return st.lists(instances(schema["items"]), min_size=schema.get("minItems", 0),
                        max_size=min(schema["maxItems"], 4))
    if "propertyNames" in schema:
        return st.dictionaries(instances(schema["propertyNames"]), instances(schema["additionalProperties"]),
                               min_size=schema.get("minProperties", 0), max_size=3)
    required = set(schema.get("required", []))
    props = {k: instances(s) for k, s in schema["properties"].items()}
    return st.fixed_dictionaries({k: v for k, v in props.items() if k in required},
                                 optional={k: v for k, v in props.items() if k not in required})


@settings(max_examples=400, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(instances(json_schema()))
def test_what_the_schema_admits_validates_or_fails_only_on_cross_field_rules(manifest):
    text, _ = fix_manifest(json.dumps(manifest))
    try:
        parse_manifest(json.loads(text))
    except ManifestError as exc:
        unexplained = [e for e in exc.errors if not any(re.search(p, e) for p in CROSS_FIELD)]
        assert not unexplained, (unexplained, manifest)


@pytest.mark.parametrize("bad, message", [
    ({"type": "string", "values": ["a"]}, "made it one"),
    ({"type": "enum", "values": ["a"], "default": "b"}, "default: removed"),
    ({"type": "string", "max_length": 2, "default": "abc"}, "default: removed"),
    ({"type": "integer", "min": 1, "default": 0}, "default: removed"),
    ({"type": "ref", "entity": "User"}, "removed a ref to users"),
    ({"type": "ref", "entity": "Note"}, "made it a string"),  # seen: a `location` pointing at the docs' Note
])
def test_fixes_make_a_field_valid(bad, message):
    text, fixes = fix_manifest(json.dumps({"name": "x", "entities": {"T": {"fields": {"f": bad, "g": {"type": "text"}}}}}))
    assert any(message in f for f in fixes)
    parse_manifest(json.loads(text))


@pytest.mark.solo
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_six_manifests_from_the_real_model_under_the_grammar_all_validate():
    """The CI size of benchmarks/manifests.py (200 there): the embedded 0.5B at temperature 1.0."""
    import importlib.util
    import sys

    from conftest import ROOT
    from appwright.models import load_backend

    spec = importlib.util.spec_from_file_location("bench_manifests", ROOT / "benchmarks" / "manifests.py")
    bench = sys.modules["bench_manifests"] = importlib.util.module_from_spec(spec)  # dataclasses need it there
    spec.loader.exec_module(bench)
    backend = load_backend("qwen2.5-coder-0.5b")
    try:
        tally = bench.sample_manifests(backend, 6)
    finally:
        backend.close()
    assert tally.valid_fixed == tally.samples == 6, tally.failures
