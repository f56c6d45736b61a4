"""The security and isolation probe of any bundle: a Task derived from its own app.json.

    task = probe_task("apps/notes")              # None: no valid manifest, or no entities
    grade = Grader().grade("apps/notes", task)   # what the studio's security panel shows
    probe = probe_manifest(manifest)             # .task and .skipped (why a check was left out)

Generated tasks know what the app *should* be; the probe only knows what the app *says* it is,
so it asks whether the app keeps its own promises:
- `isolation-<Entity>` per entity: another user and a signed-out visitor can read exactly what
  the access rules allow (`others_read`, `anonymous_read`), and nobody but the owner changes,
  deletes or spoofs the owner of a record;
- `xss-<Entity>` per entity with string or text fields: stored payloads never run;
- `secrets`: no secret-looking strings in the bundle;
- `signup`: the app's own sign-up rule holds on every path that creates a user.

Each check carries a valid record built from the field types alone (`probe_record`), with no
randomness, so the same manifest always yields the same task: `appwright data export --tasks`
recomputes the probe of a flagged version and keeps the checks whose names passed there.

Left out, and said so in `Probe.skipped`: isolation of an entity anyone may change (the
`public` preset, or update/delete open to `signed_in`: there is nothing to isolate), of an
entity the owner cannot read back (`submit_only`: records go to admins) or cannot create
(admin- or role-only writes: the grader's plain users cannot make the record), and every check
of an entity with a required `ref` field (a valid record needs the id of another record, which
a static check cannot hold). Not probed at all: access by named roles, admins' powers.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appwright.runtime.manifest import EntitySpec, FieldSpec, Manifest, ManifestError, load_manifest
from appwright.runtime.values import check_value
from appwright.tasks.graders.security import PAYLOADS
from appwright.tasks.model import Check, IsolationCheck, SecurityCheck, Task

# Fixed values, so a probe never changes between two runs on the same manifest. The datetime is
# in the runtime's stored form (values.normalise), so the graders' read-back compares equal.
DATE = "2026-01-15"
DATETIME = "2026-01-15T10:00:00.000000Z"
SIGNED_IN = {"signed_in", "owner"}  # on create, "owner" means any signed-in user
ANYONE = {"public", "signed_in"}


@dataclass(frozen=True)
class Probe:
    task: Task | None
    skipped: list[str] = field(default_factory=list)  # "Entity: why a check was left out"


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:80].strip("-") or "app"


def _value(name: str, f: FieldSpec) -> Any:
    """A valid value for a field, or None when this field gets none (an optional ref)."""
    if f.type in ("string", "text"):
        return f"Probe {name}"[: f.limit]
    if f.type in ("number", "integer"):
        v = 1.0 if f.default is None else float(f.default)
        lo = -math.inf if f.min is None else f.min
        hi = math.inf if f.max is None else f.max
        v = min(max(v, lo), hi)
        if f.type == "integer":
            v = math.ceil(v) if math.ceil(v) <= hi else math.floor(v)
            return int(v)
        return v
    if f.type == "boolean":
        return True if f.default is None else f.default
    if f.type == "date":
        return DATE
    if f.type == "datetime":
        return DATETIME
    if f.type == "enum":
        return f.default if f.default in (f.values or []) else (f.values or [None])[0]
    return None  # ref: see probe_record


def probe_record(spec: EntitySpec) -> dict[str, Any] | None:
    """A valid record of every field that can be filled in without another record, or None when
    no record can be made (a required ref; a required field no value fits, like an integer
    between 1.2 and 1.8). Never empty: the graders need a field to write to."""
    record = {}
    for name, f in spec.fields.items():
        v = _value(name, f)
        if v is None or check_value(f, v) is not None:
            if f.required:
                return None
            continue
        record[name] = v
    return record or None


def _isolation_skip(rules: dict[str, frozenset[str]]) -> str | None:
    """Why isolation means nothing (or cannot be probed) under these rules; None when it can."""
    if (rules["update"] | rules["delete"]) & ANYONE:
        return "anyone may change or delete any record, so there is nothing to isolate"
    if not rules["create"] & (SIGNED_IN | {"public"}):
        return "plain signed-in users cannot create records, so the probe's users cannot make one"
    if not rules["read"] & (SIGNED_IN | {"public"}):
        return "the owner cannot read their own records back (they go to admins), so isolation is not probed"
    return None


def probe_manifest(manifest: Manifest) -> Probe:
    if not manifest.entities:
        return Probe(None, ["the app declares no entities"])
    checks: list[Check] = []
    skipped: list[str] = []
    for name, spec in manifest.entities.items():
        record = probe_record(spec)
        if record is None:
            skipped.append(f"{name}: no valid record can be built from its fields alone (a required ref?)")
            continue
        rules = spec.rules()
        why = _isolation_skip(rules)
        if why:
            skipped.append(f"{name}: {why}")
        else:
            checks.append(IsolationCheck(name=f"isolation-{name}", entity=name, record=record,
                                         others_read=bool(rules["read"] & ANYONE),
                                         anonymous_read="public" in rules["read"]))
        # The xss grader plants each payload in each text field as the owner; a field too short
        # for the shortest payload takes none, and an entity where no field takes one fails.
        takes = [n for n, f in spec.fields.items() if f.type in ("string", "text")
                 and any(len(p.format(f=f"{n}#{i}")) <= f.limit for i, p in enumerate(PAYLOADS))]
        if not takes:
            if any(f.type in ("string", "text") for f in spec.fields.values()):
                skipped.append(f"{name}: its text fields are too short to hold an XSS payload")
            continue
        if not rules["create"] & (SIGNED_IN | {"public"}):
            skipped.append(f"{name}: plain signed-in users cannot create records, so no payloads can be planted")
            continue
        checks.append(SecurityCheck(name=f"xss-{name}", test="xss", entity=name, record=record))
    checks.append(SecurityCheck(name="secrets", test="secrets"))
    checks.append(SecurityCheck(name="signup", test="signup", signup=manifest.auth.signup))
    task = Task(id=f"probe-{slug(manifest.name)}", kind="build", split="train",
                prompt=f"Security and isolation probe of {manifest.name}", checks=checks)
    return Probe(task, skipped)


def probe(bundle: str | Path) -> Probe:
    try:
        manifest = load_manifest(bundle)
    except ManifestError as exc:
        return Probe(None, [f"no valid manifest: {exc.errors[0]}"])
    return probe_manifest(manifest)


def probe_task(bundle: str | Path) -> Task | None:
    """The probe of a bundle; None when its manifest is missing or invalid or it has no entities."""
    return probe(bundle).task
