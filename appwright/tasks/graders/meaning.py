"""The app's names for what the person asked for: checks that follow the prompt, not fixed names.

    binding = bind(env.manifest, task.meaning)
    checks = [rename(c, binding) for c in task.checks]
    binding.missing   # ["no field for the due date"]

A prompt in people's words names nothing ("my chores, each with a deadline"), so the model
picks the names (`Chore`, `deadline`) while the task's checks use the domain's (`Task`,
`due_on`). Before the checks run, `bind` finds each entity and field of the task's `Meaning`
in the manifest: a field of a compatible type (FAMILIES) whose name is the checks' name, one
of the task's words for it, or shares a word with them, or an enum of exactly the values
asked for; best match first, each app field used once. An entity is the one whose name matches, else the one that holds most of the
fields; with one entity asked for and one declared, that one. `rename` rewrites a check in
the app's names. What cannot be found is reported in the person's words by the schema check;
the other checks run with what was found. Required fields the person did not ask for get a
plain value in the records the checks create, so an app is not failed for asking more.

Tasks without a `Meaning` (prompts that name their entity and fields) keep exact names, case
ignored; binding them gives the same names back (tests/test_task_meaning.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from appwright.runtime.manifest import FieldSpec, Manifest
from appwright.tasks.graders.common import is_link
from appwright.tasks.model import FieldMeaning, Meaning, UiStep

# Types that stand for one another: what the schema check accepts, and what binding matches.
FAMILIES = {"string": {"string", "text"}, "text": {"string", "text"}, "number": {"number", "integer"},
            "integer": {"integer", "number"}}
_LITTLE = {"a", "an", "the", "of", "on", "at", "in", "to", "for", "is", "it", "my", "its", "by", "and", "or"}


def same_family(asked: str, declared: str) -> bool:
    return declared in FAMILIES.get(asked, {asked})


def words(name: str) -> frozenset[str]:
    """`dueDate`, `due_date`, "due date", "Due dates" -> {due, date}; a name made only of little
    words keeps them: `for` -> {for}, the field a person calls "who it's for"."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    split = [w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w]
    kept = [w for w in split if w not in _LITTLE] or split
    return frozenset(w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in kept)


def _score(app_name: str, own: str, names: list[str]) -> int:
    """4: the checks' own name (`spentOn` for `spent_on`); 3: one of the words, word for word; 2: all
    of the app's words are in one of them or the other way round; 1: a word in common; 0: nothing."""
    mine, best = words(app_name), 0
    if app_name.lower() == own.lower() or (mine and mine == words(own)):
        return 4
    for n in names:
        theirs = words(n)
        if not mine or not theirs:
            continue
        if mine == theirs:
            return 3
        if mine <= theirs or theirs <= mine:
            best = max(best, 2)
        elif mine & theirs:
            best = max(best, 1)
    return best


@dataclass
class Binding:
    entities: dict[str, str] = field(default_factory=dict)  # checks' entity -> the app's
    fields: dict[str, dict[str, str]] = field(default_factory=dict)  # checks' entity -> checks' field -> app's
    missing: list[str] = field(default_factory=list)  # what was asked for and not found, in the person's words
    extra: dict[str, dict[str, Any]] = field(default_factory=dict)  # app entity -> values for required fields
    #                                                                  nobody asked for

    def entity(self, name: str | None) -> str | None:
        return self.entities.get(name, name) if name else name

    def names(self, entity: str | None, data: dict[str, Any], create: bool = False) -> dict[str, Any]:
        """A record in the app's names; `create`: with values for the app's unasked required fields."""
        table = self.fields.get(entity or "", {})
        out = {table.get(k, k): self._link(v) for k, v in data.items()}
        if create:
            out = {**self.extra.get(self.entity(entity) or "", {}), **out}
        return out

    def _link(self, value: Any) -> Any:
        """A link (graders/common.py) to a record of the app's entity, in its names."""
        if is_link(value):
            return {"link": self.entity(value["link"]), "to": self.names(value["link"], value["to"], create=True)}
        return value


def _plain_value(spec: FieldSpec) -> Any:
    """A value a required field accepts, for a field the person never asked for."""
    if spec.values:
        return spec.values[0]
    if spec.type in ("number", "integer"):
        low = spec.min if spec.min is not None else 1
        value = max(low, min(1, spec.max if spec.max is not None else 1))
        return int(value) if spec.type == "integer" else value
    return {"boolean": False, "date": "2026-01-15", "datetime": "2026-01-15T10:00:00Z"}.get(spec.type, "Sample")


def _field_score(app: str, spec: FieldSpec, f: FieldMeaning) -> int:
    score = _score(app, f.name, [f.label, *f.words])
    if f.values and spec.values and {v.lower() for v in spec.values} == {v.lower() for v in f.values}:
        score = max(score, 3)  # a menu of exactly the values asked for (in any case), whatever its name
    return score


def _bind_fields(declared: dict[str, FieldSpec], asked: list[FieldMeaning]) -> dict[str, str]:
    pairs = sorted(((_field_score(app, spec, f), i, app, f.name)
                    for i, f in enumerate(asked) for app, spec in declared.items()
                    if same_family(f.type, spec.type)), reverse=True)
    out, used = {}, set()
    for score, _, app, name in pairs:
        if score and name not in out and app not in used:
            out[name] = app
            used.add(app)
    return out


def bind(manifest: Manifest, meaning: Meaning) -> Binding:
    b = Binding()
    declared = manifest.entities
    for e in meaning.entities:
        candidates = []
        for app_entity, spec in declared.items():
            if app_entity in b.entities.values():
                continue
            found = _bind_fields(spec.fields, e.fields)
            candidates.append((_score(app_entity, e.name, [e.label, *e.words]), len(found), app_entity, found))
        candidates.sort(reverse=True)
        only = len(meaning.entities) == 1 and len(declared) == 1
        if not candidates or not (only or candidates[0][0] or candidates[0][1]):
            b.missing.append(f"no entity for the {e.label} (app.json declares: {', '.join(declared) or 'none'})")
            continue
        _, _, app_entity, found = candidates[0]
        b.entities[e.name], b.fields[e.name] = app_entity, found
        b.missing += [_missing(f, app_entity, declared[app_entity].fields, found) for f in e.fields
                      if f.name not in found]
        asked = set(found.values())
        b.extra[app_entity] = {k: _plain_value(s) for k, s in declared[app_entity].fields.items()
                               if s.required and k not in asked and s.type != "ref" and s.default is None}
    return b


_SAID = {"string": "text", "text": "text", "number": "a number", "integer": "a whole number", "boolean": "yes or no",
         "date": "a date", "datetime": "a date and time", "enum": "one of a list", "ref": "a link to another record"}


def _missing(f: FieldMeaning, entity: str, fields: dict[str, FieldSpec], found: dict[str, str]) -> str:
    """'no field for the tank in Note', or, when a field goes by that name with another type, what
    the person asked for: 'no field for the tank in Note (its `tank` is text; asked: one of reef, pond)'."""
    used = set(found.values())
    named = [k for k in fields if k not in used and _score(k, f.name, [f.label, *f.words]) >= 3]
    if not named:
        return f"no field for the {f.label} in {entity}"
    asked = f"one of {', '.join(f.values)}" if f.values else _SAID.get(f.type, f.type)
    spec = fields[named[0]]
    got = f"one of {', '.join(spec.values)}" if spec.values else _SAID.get(spec.type, spec.type)
    return f"no field for the {f.label} in {entity} (its `{named[0]}` is {got}; asked: {asked})"


_CREATED = ("record", "seed")  # records a check creates: they get the unasked required fields too


def rename(check, b: Binding):
    """The check in the app's names."""
    entity = getattr(check, "entity", None)
    update: dict[str, Any] = {}
    if entity:
        update["entity"] = b.entity(entity)
    if check.kind == "schema":
        table = b.fields.get(entity, {})
        update["fields"] = {table[k]: v for k, v in check.fields.items() if k in table}
        update["refs"] = {table[k]: b.entity(v) for k, v in check.refs.items() if k in table}
    for name in ("record", "change"):
        if getattr(check, name, None):
            update[name] = b.names(entity, getattr(check, name), create=name in _CREATED)
    if getattr(check, "bad", None):
        update["bad"] = [b.names(entity, x) for x in check.bad]
    if getattr(check, "seed", None):
        update["seed"] = [b.names(entity, x, create=True) for x in check.seed]
    if getattr(check, "steps", None):
        update["steps"] = [_step(s, entity, b) for s in check.steps]
    if getattr(check, "order_by", None):
        update["order_by"] = b.fields.get(entity, {}).get(check.order_by, check.order_by)
    return check.model_copy(update=update)


def _step(step: UiStep, entity: str | None, b: Binding) -> UiStep:
    table = b.fields.get(entity or "", {})
    if step.fill and step.fill["field"] != "search":
        return step.model_copy(update={"fill": {**step.fill, "field": table.get(step.fill["field"], step.fill["field"])}})
    if step.select:
        s = dict(step.select)
        for k in ("field", "not"):
            if k in s and s[k] != "*":
                s[k] = table.get(s[k], s[k])
        return step.model_copy(update={"select": s})
    for k in ("expect_saved", "expect_gone"):
        if getattr(step, k):
            return step.model_copy(update={k: b.names(entity, getattr(step, k))})
    return step
