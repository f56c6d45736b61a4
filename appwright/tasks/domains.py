"""Domains: the kinds of app the task generator composes tasks from (`domains.yaml`).

    for d in load_domains(): print(d.name, d.entity, d.split, d.features_available())

A domain is data: its entity and fields (the names a prompt gives the user), the access
modes that make sense for it, three sample records, and optional parts that enable
features (an `amount` field for totals and validation, a `category` enum for filtering, a
`sort` order). Adding a domain is adding an entry to the YAML file; a test checks every
domain's reference app grades good.

For prompts in people's words (tasks/phrasing.py) a domain also says how a person names
things: `say` per field ("how many minutes it took"), `people` (the app, the records, the
sort order), and `words`, the other names an app may give the entity and each field, by
which the graders find them in an app that chose its own names (graders/meaning.py). These
phrases never use JARGON.

A domain may have a `part`: a second entity whose records each belong to one of the domain's
by a `ref` field (a recipe's steps), for apps that show the two together (feature `linked`).

"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from appwright.tasks.model import EntityMeaning, FieldMeaning, Meaning, Split

Access = Literal["owner", "shared", "public_read", "submit_only", "admin_write"]
# What a person who does not program would not say: people prompts and the phrases they are made of
# (`say`, `people`, phrasings.yaml) never match it.
JARGON = re.compile(r"`|\b(?:entit(?:y|ies)|fields?|strings?|integers?|booleans?|enums?)\b", re.I)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def plain(texts: list[str], where: str) -> None:
    """Refuse a people phrase with a backtick or a programmer's word (JARGON)."""
    for t in texts:
        found = JARGON.search(t)
        if found:
            raise ValueError(f"{where}: {t!r} says {found.group(0)!r}; people prompts name no entity, field or type")


class DomainField(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    type: Literal["string", "text", "number", "integer", "boolean", "date", "enum"]
    label: str
    required: bool = False
    max_length: int | None = None
    limits: tuple[float, float] | None = None  # min, max for number and integer
    values: list[str] | None = None
    words: list[str] = []  # other names an app may give it, for prompts that name nothing (graders/meaning.py)
    say: list[str] = Field(default_factory=list, max_length=3)  # how a person says it: "how many minutes it
    #   took"; an enum's phrases give its values with {values}. Every generator domain gives 1-3 (load_domains)

    @model_validator(mode="after")
    def _say(self) -> "DomainField":
        plain(self.say, f"field {self.name}: say")
        for s in self.say:
            slots = set(re.findall(r"{(\w*)}", s))
            if self.type == "enum" and slots != {"values"}:
                raise ValueError(f"field {self.name}: say {s!r}: an enum's phrase gives its values with {{values}}")
            if self.type != "enum" and slots:
                raise ValueError(f"field {self.name}: say {s!r}: only an enum's phrase has a slot ({{values}})")
        return self

    def manifest(self, validation: bool = True) -> dict[str, Any]:
        """This field in app.json (the reference solution's manifest)."""
        out: dict[str, Any] = {"type": self.type}
        if self.required:
            out["required"] = True
        if self.max_length:
            out["max_length"] = self.max_length
        if self.values:
            out["values"] = list(self.values)
        if self.limits and validation:
            out["min"], out["max"] = self.limits
        return out

    def phrase(self) -> str:
        """How a prompt names it: `minutes (a whole number, required)`."""
        kind = {"string": "", "text": "longer text", "number": "a number", "integer": "a whole number",
                "boolean": "yes or no", "date": "a date", "enum": f"one of {', '.join(self.values or [])}"}[self.type]
        notes = [n for n in (kind, "required" if self.required else "") if n]
        return f"`{self.name}`" + (f" ({', '.join(notes)})" if notes else "")


class SortSpec(_Strict):
    field: str
    desc: bool = False


class People(_Strict):
    """How a person names the app and its records, in a prompt that names nothing (tasks/phrasing.py)."""
    app: list[str] = Field(min_length=1)  # what they ask for, article included: "a workout diary"
    things: list[str] = Field(min_length=1)  # the records, plural: "workouts", "sessions"
    order: list[str] = []  # the sort order, after "put", "show" or "I'd like": "the longest workouts first"

    @model_validator(mode="after")
    def _plain(self) -> "People":
        plain([*self.app, *self.things, *self.order], "people")
        bad = [t for t in (*self.app, *self.things, *self.order) if "{" in t or "}" in t]
        if bad:
            raise ValueError(f"people: {bad[0]!r} has a brace; people phrases have no slots")
        return self


class Part(_Strict):
    """A second entity whose records each belong to one of the domain's, by a `ref` field (a recipe's
    steps, a pet's vet visits): the feature `linked`. It takes the domain's access mode."""
    entity: str = Field(pattern=r"^[A-Z][A-Za-z0-9]*$")
    noun: str
    plural: str
    link: str = Field(pattern=r"^[a-z][a-z0-9_]*$")  # the ref field's name: "recipe"
    link_words: list[str] = []  # other names an app may give the ref field
    fields: list[DomainField] = Field(min_length=1)  # its own fields, the title first; the ref is added
    words: list[str] = []
    people: list[str] = Field(min_length=1)  # how a person says them, plural: "the steps", "the method"
    records: list[dict[str, Any]] = Field(min_length=3, max_length=3)  # each with `of`: its domain record's title

    @model_validator(mode="after")
    def _consistent(self) -> "Part":
        plain(self.people, f"part {self.entity}: people")
        if self.fields[0].type != "string" or not self.fields[0].required:
            raise ValueError(f"part {self.entity}: the first field is the title: a required string")
        if self.link in {f.name for f in self.fields}:
            raise ValueError(f"part {self.entity}: {self.link!r} is the link; it is not one of its own fields")
        names = {f.name for f in self.fields} | {"of"}
        for r in self.records:
            if set(r) - names or "of" not in r or not r.get(self.title):
                raise ValueError(f"part {self.entity}: a record needs `of`, its title and only its fields: {r}")
        if len({r[self.title] for r in self.records}) != 3:
            raise ValueError(f"part {self.entity}: the three records need distinct titles")
        return self

    @property
    def title(self) -> str:
        return self.fields[0].name


class Domain(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9]*$")
    family: str
    app: str  # "recipe box": how a person names the app
    entity: str = Field(pattern=r"^[A-Z][A-Za-z0-9]*$")
    noun: str
    plural: str
    access: list[Access] = Field(min_length=1)
    fields: list[DomainField] = Field(min_length=1)
    amount: str | None = None
    category: str | None = None
    sort: SortSpec | None = None
    records: list[dict[str, Any]] = Field(min_length=3, max_length=3)
    words: list[str] = []  # other names an app may give the entity
    people: People | None = None  # every generator domain has it (load_domains); phrasing.py speaks with it
    part: Part | None = None  # a second entity linked to this one (feature `linked`)
    split: Split = "train"  # set from the family by load_domains

    @model_validator(mode="after")
    def _consistent(self) -> "Domain":
        names = {f.name for f in self.fields}
        for part, value in (("amount", self.amount), ("category", self.category),
                            ("sort.field", self.sort.field if self.sort else None)):
            if value is not None and value not in names:
                raise ValueError(f"{self.name}: {part} names {value!r}, which is not one of its fields")
        if self.category and self.field(self.category).type != "enum":
            raise ValueError(f"{self.name}: category {self.category!r} must be an enum field")
        if self.amount and self.field(self.amount).type not in ("number", "integer"):
            raise ValueError(f"{self.name}: amount {self.amount!r} must be a number or integer field")
        if self.fields[0].type != "string" or not self.fields[0].required:
            raise ValueError(f"{self.name}: the first field is the title: a required string")
        titles = [r.get(self.title) for r in self.records]
        if len(set(titles)) != 3 or not all(titles):
            raise ValueError(f"{self.name}: the three records need distinct titles")
        for r in self.records:
            unknown = set(r) - names
            if unknown:
                raise ValueError(f"{self.name}: a record has unknown fields {sorted(unknown)}")
        if self.part:
            parents = [r["of"] for r in self.part.records]
            if not set(parents) <= set(titles) or len(set(parents)) != 2:
                raise ValueError(f"{self.name}: the part's records belong to two of the domain's records, by title "
                                 f"(`of`); got {parents}")
            clash = [(a, b) for a in titles for b in (r[self.part.title] for r in self.part.records)
                     if a.lower() in b.lower() or b.lower() in a.lower()]
            if clash:
                raise ValueError(f"{self.name}: {clash[0][0]!r} and {clash[0][1]!r}: a part's title and a record's "
                                 "title must not contain each other (the graders look for both on the page)")
        if self.people and bool(self.sort) != bool(self.people.order):
            raise ValueError(f"{self.name}: people.order says the sort order in words; give it exactly when the "
                             "domain has `sort`")
        return self

    @property
    def title(self) -> str:
        return self.fields[0].name

    def field(self, name: str) -> DomainField:
        return next(f for f in self.fields if f.name == name)

    @property
    def validated(self) -> DomainField | None:
        """The field a `validation` feature limits: the first with limits."""
        return next((f for f in self.fields if f.limits), None)

    def meaning(self, linked: bool = False) -> Meaning:
        """What a prompt in people's words asks for: the entity and fields, by meaning (`linked`: the
        part too, with its link to the entity)."""
        def said(fields: list[DomainField]) -> list[FieldMeaning]:
            return [FieldMeaning(name=f.name, label=f.label, type=f.type, words=f.words, values=f.values) for f in fields]
        out = [EntityMeaning(name=self.entity, label=self.plural, words=[self.noun, *self.words], fields=said(self.fields))]
        if linked:
            p = self.part
            link = FieldMeaning(name=p.link, label=f"{self.noun} it belongs to", type="ref",
                                words=[self.noun, self.entity, *self.words, *p.link_words])
            out.append(EntityMeaning(name=p.entity, label=p.plural, words=[p.noun, *p.words],
                                     fields=[*said(p.fields), link]))
        return Meaning(entities=out)

    def part_record(self, i: int) -> dict[str, Any]:
        """The part's record `i` as a check's record: its link names the domain record it belongs to
        (graders/common.py `linked` creates that one first)."""
        r = dict(self.part.records[i])
        of = r.pop("of")
        parent = next(x for x in self.records if x[self.title] == of)
        return {**r, self.part.link: {"link": self.entity, "to": parent}}

    def features_available(self) -> list[str]:
        out = ["sort"] if self.sort else []
        out += ["validation"] if self.validated else []
        out += ["totals"] if self.amount else []
        out += ["search"]
        out += ["filter"] if self.category else []
        return out


class _File(_Strict):
    splits: dict[Split, list[str]]
    domains: list[Domain]


@cache
def load_domains() -> tuple[Domain, ...]:
    text = resources.files("appwright.tasks").joinpath("domains.yaml").read_text(encoding="utf-8")
    data = _File.model_validate(yaml.safe_load(text))
    split_of = {fam: split for split, fams in data.splits.items() for fam in fams}
    out, seen = [], set()
    for d in data.domains:
        if d.family not in split_of:
            raise ValueError(f"domains.yaml: family {d.family!r} of {d.name} is in no split")
        if d.name in seen:
            raise ValueError(f"domains.yaml: domain {d.name} twice")
        seen.add(d.name)
        unsaid = [f.name for f in [*d.fields, *(d.part.fields if d.part else [])] if not f.say]
        if d.people is None or unsaid:
            raise ValueError(f"domains.yaml: {d.name} needs `people` and a `say` for every field (lacking: "
                             f"{', '.join(unsaid) or 'people'}); tasks/phrasing.py asks for the app with them")
        out.append(d.model_copy(update={"split": split_of[d.family]}))
    return tuple(out)


def domain(name: str) -> Domain:
    for d in load_domains():
        if d.name == name:
            return d
    raise KeyError(f"no domain {name!r}; domains: {', '.join(d.name for d in load_domains())}")
