"""The system prompt: the platform reference (`render_docs()`) plus how to answer.

    system_prompt("files", TOOL_SPECS)   # answer once with <file path="..."> blocks
    system_prompt("tools", TOOL_SPECS)   # one <tool_call> per step, end with finish

Size matters: a 0.5B model on 2 CPU cores reads about 100 prompt tokens a second, so
every 1,000 tokens (~4,000 characters) costs ~10 s per run. The docs' "REST API" section
and their page written by hand are left out and the tools are one line each. The docs
already end with a complete example page, and app.json's example sits near the top, so
no further example app is added. `prompt_sizes()` gives the numbers (characters).

Not done: the tools are described in the prompt text, not through a chat template's own
tool block, so every backend sees the same prompt; no per-model wording.
"""

from __future__ import annotations

from typing import Literal

from appwright.models.base import ToolSpec
from appwright.runtime.docs import SDK, render_docs
from appwright.runtime.manifest import (ACCESS_PRESETS, DEFAULT_ACCESS, FIELD_OPTIONS, FIELD_TYPES, OPERATIONS,
                                        PRINCIPALS, REQUIRED_OPTIONS, SIGNUP_RULES, SYSTEM_FIELDS)

Protocol = Literal["files", "tools"]
PromptStyle = Literal["full", "compact"]
# Headings (## ...) of render_docs() the agent does not need: the REST API (pages use the SDK) and the
# page written by hand (the 0.5B copies the example it is shown: shown aw.ui.records, it writes a page
# that works on its own manifest; shown a form by hand, its form did not match its fields)
LEFT_OUT_SECTIONS = ("REST API", "The same page written by hand")

FILES_RULES = """# How to answer

Write the whole app in one answer: every file of the bundle, each in its own block that
starts with <file path="NAME"> and ends with </file>. First the complete manifest for this
app in the app.json block (valid JSON, entities and access chosen for what the user asked),
then the complete page in the index.html block, starting with <!doctype html>. After the
blocks, one short paragraph telling the user what the app does. Nothing else.
"""

TOOLS_RULES = """# How to work

You change the app only with tools. Call exactly one tool per answer, written as
<tool_call>{{"name": "write_file", "arguments": {{"path": "index.html", "content": "..."}}}}</tool_call>
and wait for its result. Paths are relative to the app folder. Write app.json and
index.html, run check_app and fix what it reports, then call finish with a one-paragraph
summary for the user.

Tools:
{tools}
"""


def platform_docs() -> str:
    """render_docs() without the sections in LEFT_OUT_SECTIONS."""
    parts = render_docs().split("\n## ")
    kept = [parts[0]] + [p for p in parts[1:] if not p.startswith(LEFT_OUT_SECTIONS)]
    return "\n## ".join(kept).strip()


def tool_lines(tools: list[ToolSpec]) -> str:
    lines = []
    for t in tools:
        args = ", ".join(t.parameters.get("properties", {}))
        lines.append(f"- {t.name}({args}): {t.description}")
    return "\n".join(lines)


def compact_docs() -> str:
    """The platform in brief, for models that know it (trained on it): the manifest's shape and
    the SDK, from the same tables as the full reference. At most 600 tokens with the rules."""
    types = ", ".join(f"{t} ({REQUIRED_OPTIONS[t]})" if t in REQUIRED_OPTIONS else t for t in FIELD_TYPES)
    sdk = "\n".join(f"- {call}" for call, _ in SDK)
    return f"""# app.json

{{"name": ..., "auth": {{"signup": {" | ".join(SIGNUP_RULES)}, "roles": [...]}}, "entities": {{"Name": {{"fields": {{"name": {{"type": ..., "required": true}}}}, "access": ...}}}}}}

Field types: {types}. Options: {", ".join(FIELD_OPTIONS)}.
Access: a preset ({", ".join(ACCESS_PRESETS)}; default {DEFAULT_ACCESS}) or a map of {", ".join(OPERATIONS)} to {", ".join(PRINCIPALS)} or a role.
Every record has {", ".join(SYSTEM_FIELDS)}, set by the platform: never declare them.

# index.html

Load <script src="/_aw/sdk.js"></script>, then (Note stands for your entity):
{sdk}
Show user data with aw.html or textContent, never raw innerHTML. Failing calls throw an Error with a clear message."""


def system_prompt(protocol: Protocol, tools: list[ToolSpec], style: PromptStyle = "full") -> str:
    """`style`: "full", the platform reference (what a base model needs); "compact", compact_docs()
    (a model trained on the platform; the registry's `prompt` field says which a model takes)."""
    if protocol == "files":
        rules = FILES_RULES
    elif protocol == "tools":
        rules = TOOLS_RULES.format(tools=tool_lines(tools))
    else:
        raise ValueError(f"protocol must be 'files' or 'tools', not {protocol!r}")
    if style not in ("full", "compact"):
        raise ValueError(f"prompt style must be 'full' or 'compact', not {style!r}")
    docs = platform_docs() if style == "full" else compact_docs()
    return f"You build web apps on the Appwright platform.\n\n{docs}\n\n{rules}".strip() + "\n"


def prompt_sizes(tools: list[ToolSpec]) -> dict[str, int]:
    """Characters of each protocol's system prompt (divide by ~4 for tokens)."""
    return {p: len(system_prompt(p, tools)) for p in ("files", "tools")}
