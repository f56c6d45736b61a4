"""Edits of a `files` answer's text before it is written: the app.json block repaired
(agent/fixups.py, agent/exposure.py, agent/sharing.py, agent/choices.py, agent/required.py,
agent/measures.py), the page's missing inputs added (agent/pagefix.py) and its list given the
order, menu, total and search box asked for (agent/listing.py), blocks dropped.
Each returns the edited reply and keeps the parsed blocks in step with it."""

from __future__ import annotations

import json
import re

from appwright.agent.choices import fit_choices
from appwright.agent.exposure import narrow_exposure
from appwright.agent.fixups import fix_manifest
from appwright.agent.listing import fit_filter, fit_order, fit_search, fit_total
from appwright.agent.measures import fit_measures
from appwright.agent.pagefix import (add_missing_auth_box, add_missing_inputs, add_missing_outputs, fix_entity_names,
                                     menus)
from appwright.agent.parse import ParsedReply
from appwright.agent.required import fit_required
from appwright.agent.sharing import widen_access
from appwright.runtime.manifest import ManifestError, parse_manifest


def fix_app_json(reply: str, parsed: ParsedReply, on_disk: dict[str, str] | None = None, request: str | None = None,
                 before: str | None = None) -> tuple[str, list[str]]:
    """Apply agent/fixups.py to the answer's app.json block, with the menus of the pages (the
    answer's, else the app's), then, given the person's `request`, agent/exposure.py,
    agent/sharing.py, agent/choices.py, agent/required.py and agent/measures.py (`before`: app.json
    as the app had it before the request): (the reply with the fixed block, fixes)."""
    pages = {p: t for p, t in (on_disk or {}).items() if p.endswith(".html")}
    pages.update({f.path: f.content for f in parsed.files if f.path.endswith(".html")})
    for block in parsed.files:
        if block.path == "app.json":
            fixed, fixes = fix_manifest(block.content, menus(list(pages.values())))
            if request is not None:
                fixed, narrowed = narrow_exposure(fixed, request, before)
                fixed, widened = widen_access(fixed, request, before)
                fixed, fitted = fit_choices(fixed, request, before)
                fixed, optional = fit_required(fixed, request, before)
                fixed, measured = fit_measures(fixed, request, before)
                fixes += narrowed + widened + fitted + optional + measured
            if fixes:
                reply = reply.replace(block.content, fixed.rstrip("\n"), 1)
                block.content = fixed
            return reply, fixes
    return reply, []


def fix_page(reply: str, parsed: ParsedReply, on_disk: dict[str, str], request: str | None = None
             ) -> tuple[str, list[str]]:
    """Apply agent/pagefix.py to the answer's page and script blocks, with the answer's manifest
    (else the app's) and the scripts of both, then, given the person's `request`, agent/listing.py:
    (the reply with the fixed blocks, fixes)."""
    answer = {f.path: f.content for f in parsed.files}
    try:
        manifest = parse_manifest(json.loads(answer.get("app.json") or on_disk.get("app.json") or ""))
    except (ValueError, ManifestError):
        return reply, []
    files, fixes = fix_entity_names(answer, manifest)
    if "index.html" in answer:  # the page is only changed where the answer sends it
        merged, more = add_missing_inputs({**on_disk, **files}, manifest)
        merged, most = add_missing_auth_box(merged)
        merged, last = add_missing_outputs(merged)
        files["index.html"], fixes = merged["index.html"], fixes + more + most + last
    if request is not None:
        files, ordered = fit_order(files, manifest, request)
        files, filtered = fit_filter(files, manifest, request)
        files, totalled = fit_total(files, manifest, request)
        files, searched = fit_search(files, manifest, request)
        fixes += ordered + filtered + totalled + searched
    for block in parsed.files:
        if files.get(block.path, block.content) != block.content:
            reply = reply.replace(block.content.rstrip("\n"), files[block.path].rstrip("\n"), 1)
            block.content = files[block.path]
    return reply, fixes


def drop_blocks(reply: str, paths: list[str]) -> str:
    """The reply without the `<file>` blocks of `paths` (the first block of each)."""
    for path in paths:
        block = re.compile(r"""<file\s+(?:path|name)\s*=\s*["']?""" + re.escape(path) + r"""["']?\s*>.*?(?:</file\s*>\s*|\Z)""",
                           re.S | re.I)
        reply = block.sub("", reply, count=1)
    return reply
