"""appwright/runtime/docs.py: the platform reference is held to the code it describes.

The agent writes apps from these docs alone, so every name the validator or the
API accepts must be in them, and their examples must pass the real checks.
"""

from __future__ import annotations

import json
import re

import pytest

from appwright.runtime import api
from appwright.runtime.check import check_bundle
from appwright.runtime.docs import EXAMPLE_MANIFEST, EXAMPLE_PAGE, HAND_PAGE, SDK, render_docs
from appwright.runtime.manifest import (
    ACCESS_PRESETS, FIELD_TYPES, PRINCIPALS, SIGNUP_RULES, SYSTEM_FIELDS, parse_manifest,
)

# The REST contract block of DESIGN.md ("these paths are a public contract that outside clients
# and test suites rely on"), copied verbatim: changing it is a breaking change.
CONTRACT = """
POST   /_aw/api/auth/signup        {"email","password","invite"?} -> 201 {"user"}
POST   /_aw/api/auth/login         {"email","password"}           -> 200 {"user"}, sets the session cookie
POST   /_aw/api/auth/logout                                       -> 204
GET    /_aw/api/auth/me                                           -> 200 {"user"} | 401
GET    /_aw/api/entities/{Entity}?sort=-created_at&limit=50&where={json}&cursor=...
                                                                  -> 200 {"items": [...], "next": cursor|null}
POST   /_aw/api/entities/{Entity}                                 -> 201 record
GET    /_aw/api/entities/{Entity}/{id}                            -> 200 record
PATCH  /_aw/api/entities/{Entity}/{id}                            -> 200 record
DELETE /_aw/api/entities/{Entity}/{id}                            -> 204
GET    /_aw/sdk.js
"""


@pytest.fixture(scope="module")
def docs() -> str:
    return render_docs()


def blocks(docs: str) -> list[tuple[str, str]]:
    """Every fenced code block of the docs as (language, text), in order."""
    return re.findall(r"^```(\w*)\n(.*?)\n```$", docs, re.S | re.M)


def block(docs: str, lang: str) -> str:
    """The first fenced code block of `lang` in the docs."""
    found = [text for kind, text in blocks(docs) if kind == lang]
    assert found, f"no ```{lang} block in the docs"
    return found[0]


@pytest.mark.parametrize("table, name", [
    *[("FIELD_TYPES", k) for k in FIELD_TYPES],
    *[("ACCESS_PRESETS", k) for k in ACCESS_PRESETS],
    *[("PRINCIPALS", k) for k in PRINCIPALS],
    *[("SIGNUP_RULES", k) for k in SIGNUP_RULES],
    *[("SYSTEM_FIELDS", k) for k in SYSTEM_FIELDS],
    *[("WHERE_OPS", k) for k in api.WHERE_OPS],
])
def test_every_name_the_code_accepts_is_documented(docs, table, name):
    assert f"`{name}`" in docs, f"{table} key {name!r} is missing from the docs"


def test_descriptions_of_each_table_are_in_the_docs(docs):
    for table in (FIELD_TYPES, PRINCIPALS, SIGNUP_RULES, SYSTEM_FIELDS):
        for key, text in table.items():
            assert f"| `{key}` | {text} |" in docs
    for name, (_, text) in ACCESS_PRESETS.items():
        assert f"| `{name}` | {text}" in docs


def test_limits_are_documented(docs):
    assert f"1 to {api.MAX_LIMIT} per page" in docs
    assert f"at most {api.MAX_BODY // 1024 // 1024} MiB" in docs
    assert "X-AW: 1" in docs


def test_every_sdk_call_is_documented(docs):
    for call, _ in SDK:
        assert f"`{call}`" in docs


def test_the_example_manifest_in_the_docs_is_valid(docs):
    shown = json.loads(block(docs, "json"))
    assert shown == EXAMPLE_MANIFEST
    m = parse_manifest(shown)
    assert list(m.entities) == ["Note"]


@pytest.mark.parametrize("page", [EXAMPLE_PAGE, HAND_PAGE], ids=["records", "by-hand"])
def test_the_example_pages_with_the_example_manifest_pass_check(docs, tmp_path, page):
    assert [text for lang, text in blocks(docs) if lang == "html"] == [HAND_PAGE, EXAMPLE_PAGE]  # the last is whole
    (tmp_path / "app.json").write_text(block(docs, "json"))
    (tmp_path / "index.html").write_text(page)
    report = check_bundle(tmp_path)
    assert report.ok and report.errors == [] and report.warnings == []
    # The page only uses fields the manifest declares.
    fields = set(EXAMPLE_MANIFEST["entities"]["Note"]["fields"])
    used = set(re.findall(r"\b(?:n|note)\.(\w+)", page)) - {"id"}
    assert used <= fields, used - fields


def test_every_contract_path_is_in_the_docs(docs):
    (rest,) = [text for _, text in blocks(docs) if "/_aw/api/auth/signup" in text]
    lines = [line.split() for line in CONTRACT.strip().splitlines() if not line.startswith(" ")]
    assert len(lines) == 10
    for method, path, *_ in lines:
        if path == "/_aw/sdk.js":
            assert path in docs
            continue
        assert re.search(rf"^{method}\s+{re.escape(path)}", rest, re.M), f"{method} {path} is not documented"


def test_contract_lines_are_shown_as_designed(docs):
    (rest,) = [text for _, text in blocks(docs) if "/_aw/api/auth/signup" in text]
    shown = {" ".join(line.split()) for line in rest.splitlines()}
    for line in CONTRACT.strip().splitlines():
        if "sdk.js" not in line:
            assert " ".join(line.split()) in shown, line
