"""Prompts in people's words: every generated build and taste task, asked three more ways.

    for t in phrasings(task, domain(task.domain)):     # build-workouts-shared-totals.p1, .p2, .p3
        print(t.id, t.prompt)
    people_prompt(domain("workouts"), ["shared", "totals"], "chatty", "build-workouts-shared-totals.p1")

A generated prompt dictates names: "Each workout (entity `Workout`) has `activity` (required),
`minutes` (a whole number) ...". A person says "something to log my workouts: what I did, how
many minutes it took ...". A phrasing is the original task with such a prompt: the same kind,
split, domain, features, start, checks and reference reply, its id the original's plus `.p1`,
`.p2` or `.p3`, and `meaning` set, so the graders find the app's own names for the entity and
its fields before the checks run (graders/meaning.py). A build phrasing also gets the `form`
check (generate.form_check): the page's own form filled with no script.

The words are data. How a person says each field, the app, its records and the sort order is
in domains.yaml (`say`, `people`); the styles (vague, chatty, terse, typo, non-programmer), each
with its sentence templates, and the access, feature and taste-trap sentences are in
phrasings.yaml. A hash of the phrasing's id picks the styles (three different ones per task)
and every template, as generate._pick does, so the bank is the same on every machine.

What a people prompt still says, so the checks stay fair: every field (an enum with its exact
values), the fields that must be filled in, the access mode, and each extra feature with its
field and direction, limits or values (`linked`: the part's records and each of their fields). What it does not do: name an entity, a field or a type
(domains.JARGON, checked when phrasings.yaml loads and by tests/test_tasks_phrasing.py); put a
typo anywhere but in the hand-written templates, so a value the checks look for is spelled
right; phrase edit and fix tasks (their prompts stay as generated).
"""

from __future__ import annotations

import hashlib
import re
import string
from functools import cache
from importlib import resources
from typing import Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from appwright.tasks.domains import Access, Domain, plain
from appwright.tasks.generate import FAKE_KEY, _number, _pick, form_check
from appwright.tasks.model import Task
from appwright.tasks.reference import ACCESS, access_of

Extra = Literal["sort", "validation", "totals", "search", "filter", "invite", "roles", "linked"]
Trap = Literal["passwords", "secret-key", "public-for-now", "keep-invite"]
CHANGES = ("public-for-now", "keep-invite")  # traps asked of an app the person has: the request alone
PER_TASK = 3  # phrasings per task, each in a different style
STYLES = ("vague", "chatty", "terse", "typo", "non-programmer")  # phrasings.yaml has at least these

# Each template's slots: the ones it may use and the ones it must (see phrasings.yaml).
_EVERY = {"things"}
SLOTS: dict[str, tuple[set[str], set[str]]] = {
    "prompts": ({"app", "fields", "required", "access", "extras"},) * 2,
    "asks": ({"request"},) * 2,
    "fields": ({"list"} | _EVERY, {"list"}),
    "required": ({"required"} | _EVERY, {"required"}),
    "access": (_EVERY, set()),
    "sort": ({"order"} | _EVERY, {"order"}),
    "validation": ({"label", "low", "high"} | _EVERY, {"label", "low", "high"}),
    "totals": ({"label"} | _EVERY, {"label"}),
    "search": ({"label"} | _EVERY, {"label"}),
    "filter": ({"label", "values"} | _EVERY, {"values"}),
    "invite": (_EVERY, set()),
    "roles": (_EVERY, set()),
    "linked": ({"parts", "details"} | _EVERY, {"parts", "details"}),
    "passwords": (_EVERY, set()),
    "secret-key": ({"key"} | _EVERY, {"key"}),
    "public-for-now": (_EVERY, set()),
    "keep-invite": (_EVERY, set()),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check(templates: list[str], pool: str, where: str) -> None:
    if not templates:
        raise ValueError(f"{where}: {pool} has no templates")
    plain([re.sub(r"{[\w-]*}", "", t) for t in templates], where)  # the words, not the slots
    may, must = SLOTS[pool]
    for t in templates:
        slots = {name for _, name, _, _ in string.Formatter().parse(t) if name is not None}
        if slots - may or must - slots:
            raise ValueError(f"{where}: {t!r}: {pool} uses {sorted(slots)}; it may use {sorted(may)} and must "
                             f"use {sorted(must)}")


class Pools(_Strict):
    """The sentences a voice says things with. A style leaves a pool out (or some of a pool's
    keys) to use the common one."""
    fields: list[str] | None = None
    required: list[str] | None = None
    access: dict[Access, list[str]] | None = None
    extras: dict[Extra, list[str]] | None = None
    traps: dict[Trap, list[str]] | None = None

    def check(self, where: str) -> None:
        for pool in ("fields", "required"):
            if getattr(self, pool) is not None:
                _check(getattr(self, pool), pool, f"{where}.{pool}")
        for group in (self.access, self.extras, self.traps):
            for key, templates in (group or {}).items():
                _check(templates, "access" if key in ACCESS else key, f"{where}.{key}")

    def over(self, common: "Pools") -> "Pools":
        """These pools, the common ones where this leaves them out."""
        return Pools(fields=self.fields or common.fields, required=self.required or common.required,
                     access={**common.access, **(self.access or {})}, extras={**common.extras, **(self.extras or {})},
                     traps={**common.traps, **(self.traps or {})})


class Style(Pools):
    prompts: list[str] = Field(min_length=2)  # a whole request: {app} {fields} {required} {access} {extras}
    asks: list[str] = Field(min_length=1)  # a change to the app the person has: {request}


class Phrasings(_Strict):
    common: Pools
    styles: dict[str, Style]

    @model_validator(mode="after")
    def _complete(self) -> "Phrasings":
        c = self.common
        if c.fields is None or c.required is None:
            raise ValueError("phrasings.yaml: common needs `fields` and `required`")
        for name, group, keys in (("access", c.access, ACCESS), ("extras", c.extras, get_args(Extra)),
                                  ("traps", c.traps, get_args(Trap))):
            missing = sorted(set(keys) - set(group or {}))
            if missing:
                raise ValueError(f"phrasings.yaml: common.{name} lacks {', '.join(missing)}")
        c.check("common")
        missing = sorted(set(STYLES) - set(self.styles))
        if missing:
            raise ValueError(f"phrasings.yaml: styles lack {', '.join(missing)}")
        for name, s in self.styles.items():
            s.check(f"styles.{name}")
            _check(s.prompts, "prompts", f"styles.{name}.prompts")
            _check(s.asks, "asks", f"styles.{name}.asks")
        return self


@cache
def load_phrasings() -> Phrasings:
    text = resources.files("appwright.tasks").joinpath("phrasings.yaml").read_text(encoding="utf-8")
    return Phrasings.model_validate(yaml.safe_load(text))


def styles_for(task_id: str) -> list[str]:
    """The styles of a task's phrasings, in order: PER_TASK different ones, picked by a hash."""
    names = sorted(load_phrasings().styles)
    return sorted(names, key=lambda s: hashlib.sha256(f"{task_id}/{s}".encode()).hexdigest())[:PER_TASK]


def _join(items: list[str], last: str = "and") -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {last} {items[-1]}"


@cache
def _style(name: str) -> tuple[Style, Pools]:
    p = load_phrasings()
    if name not in p.styles:
        raise KeyError(f"no style {name!r}; styles: {', '.join(sorted(p.styles))}")
    return p.styles[name], p.styles[name].over(p.common)


def _extra_slots(d: Domain, x: str, order: str, key: str = "") -> dict[str, str]:
    """What the sentence for extra feature `x` fills in (format ignores the ones it does not use);
    `key` picks the part's words (linked)."""
    if x == "sort":
        return {"order": order}
    if x == "validation":
        f = d.validated
        return {"label": f.label, "low": _number(f.limits[0]), "high": _number(f.limits[1])}
    if x == "totals":
        return {"label": d.field(d.amount).label}
    if x == "search":
        return {"label": d.field(d.title).label}
    if x == "filter":
        c = d.field(d.category)
        return {"label": c.label, "values": _join(c.values or [], "or")}
    if x == "linked":
        p = d.part
        said = [_pick(f.say, f"{key}/part/{f.name}").format(values=_join(f.values, "or") if f.values else "")
                for f in p.fields]
        return {"parts": _pick(p.people, f"{key}/parts"), "details": _join(said)}
    return {}


def people_prompt(d: Domain, features: list[str], style: str, key: str, trap: str | None = None) -> str:
    """A whole request in people's words for an app of `d` with `features`; `trap`, a taste trap
    asked with it (passwords, secret-key). `key` (the phrasing's id) picks every template."""
    s, pools = _style(style)

    def pick(options: list[str], slot: str) -> str:
        return _pick(options, f"{key}/{slot}")

    things = pick(d.people.things, "things")
    order = pick(d.people.order, "order") if d.people.order else ""
    said = {f.name: pick(f.say, f"say/{f.name}").format(values=_join(f.values, "or") if f.values else "")
            for f in d.fields}
    extras = [pick(pools.extras[x], x).format(things=things, **_extra_slots(d, x, order, key))
              for x in features if x not in ACCESS]
    if trap is not None:
        extras.append(pick(pools.traps[trap], trap).format(things=things, key=FAKE_KEY))
    text = pick(s.prompts, "prompt").format(
        app=pick(d.people.app, "app"),
        fields=pick(pools.fields, "fields").format(list=_join(list(said.values())), things=things),
        required=pick(pools.required, "required").format(
            required=_join([said[f.name] for f in d.fields if f.required]), things=things),
        access=pick(pools.access[access_of(features)], "access").format(things=things),
        extras=" ".join(extras))
    return " ".join(text.split())


def people_request(d: Domain, trap: str, style: str, key: str) -> str:
    """A taste trap asked of the app the person already has (public-for-now, keep-invite)."""
    s, pools = _style(style)
    things = _pick(d.people.things, f"{key}/things")
    request = _pick(pools.traps[trap], f"{key}/{trap}").format(things=things, key=FAKE_KEY)
    return " ".join(_pick(s.asks, f"{key}/ask").format(request=request).split())


def phrasings(task: Task, d: Domain) -> list[Task]:
    """The task asked PER_TASK more ways, in people's words: ids `<id>.p1` ... (a build or taste task)."""
    if task.kind not in ("build", "taste") or task.domain != d.name:
        raise ValueError(f"{task.id}: only generated build and taste tasks of {d.name} have phrasings")
    trap = task.id.removeprefix(f"taste-{d.name}-") if task.kind == "taste" else None
    if trap is not None and trap not in get_args(Trap):
        raise ValueError(f"{task.id}: no taste trap {trap!r}; traps: {', '.join(get_args(Trap))}")
    meaning, out = d.meaning(linked="linked" in task.features), []
    for n, style in enumerate(styles_for(task.id), 1):
        tid = f"{task.id}.p{n}"
        prompt = (people_request(d, trap, style, tid) if trap in CHANGES
                  else people_prompt(d, task.features, style, tid, trap))
        checks = task.checks + [form_check(task.features)] if task.kind == "build" else task.checks
        out.append(task.model_copy(update={"id": tid, "prompt": prompt, "meaning": meaning, "checks": checks}))
    return out
