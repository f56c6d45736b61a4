"""The `people` split: prompts written by hand in people's words (`people.yaml`), never trained on.

    tasks = people_tasks()            # one build task per prompt: people-<domain>-<suffix>
    d = people_domain("birds")        # its Domain, for reference.render(d, task.features)

Each entry of people.yaml is a domain of the generator's shape (domains.Domain, family
`people`, split `people`) in a kind of app the generator does not cover, plus two or three
prompts typed the way people type: vague, chatty, misspelt, naming no entity, field or type.
A prompt's checks are the generator's (`generate.checks_for(domain, features)`, and the `form`
check of every build in people's words, `generate.form_check`) and its
`meaning` is the domain's, so the graders find what was asked for in the app by meaning
(graders/meaning.py) and grade it like any generated build task.

Never trained on: the train code takes `split == "train"` only (tests/test_train_data.py).

Not done here: no edit, fix or taste tasks. Nothing proves a prompt says everything its
checks test; that is on whoever writes it (people.yaml's header). tests/test_tasks_people.py
checks the cheap signs (no backtick, no snake_case or type name; each enum value, limit,
access mode and extra said in words) and that every reference app grades good.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from appwright.tasks.domains import Domain, load_domains
from appwright.tasks.generate import checks_for, form_check
from appwright.tasks.model import Task
from appwright.tasks.reference import ACCESS


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Prompt(_Strict):
    id_suffix: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    features: list[str] = Field(min_length=1, description="one access mode and any extras the domain supports")
    text: str = Field(min_length=40, description="what the person types")


class PeopleDomain(Domain):
    """A domain of people.yaml: the generator's Domain plus the prompts written for it."""
    prompts: list[Prompt] = Field(min_length=1)

    @model_validator(mode="after")
    def _prompts_fit(self) -> "PeopleDomain":
        extras = set(self.features_available()) | {"invite"}
        suffixes = [p.id_suffix for p in self.prompts]
        if len(set(suffixes)) != len(suffixes):
            raise ValueError(f"{self.name}: prompt id_suffix repeated in {suffixes}")
        for p in self.prompts:
            access = [f for f in p.features if f in ACCESS]
            if len(access) != 1 or access[0] not in self.access:
                raise ValueError(f"{self.name}-{p.id_suffix}: features need exactly one access mode of "
                                 f"{self.access}; got {p.features}")
            unknown = [f for f in p.features if f not in ACCESS and f not in extras]
            if unknown or len(set(p.features)) != len(p.features):
                raise ValueError(f"{self.name}-{p.id_suffix}: {self.name} supports {sorted(extras)}; got "
                                 f"{p.features}")
            if "`" in p.text:
                raise ValueError(f"{self.name}-{p.id_suffix}: a prompt in people's words has no backticks")
        return self

    def domain(self) -> Domain:
        return Domain.model_validate(self.model_dump(exclude={"prompts"}))


class _File(_Strict):
    domains: list[PeopleDomain] = Field(min_length=1)


@cache
def _load() -> tuple[PeopleDomain, ...]:
    text = resources.files("appwright.tasks").joinpath("people.yaml").read_text(encoding="utf-8")
    data = _File.model_validate(yaml.safe_load(text))
    generated, seen = {d.name for d in load_domains()}, set()
    out = []
    for d in data.domains:
        if d.family != "people":
            raise ValueError(f"people.yaml: {d.name} has family {d.family!r}; every people domain is in `people`")
        if d.name in seen or d.name in generated:
            raise ValueError(f"people.yaml: domain {d.name} is " + ("listed twice" if d.name in seen else
                                                                     "a generator domain (domains.yaml)"))
        seen.add(d.name)
        out.append(d.model_copy(update={"split": "people"}))
    return tuple(out)


def people_domain(name: str) -> Domain:
    for d in _load():
        if d.name == name:
            return d.domain()
    raise KeyError(f"no people domain {name!r}; people domains: {', '.join(d.name for d in _load())}")


@cache
def _tasks() -> tuple[Task, ...]:
    out = []
    for entry in _load():
        d = entry.domain()
        out += [Task(id=f"people-{d.name}-{p.id_suffix}", kind="build", split="people", domain=d.name,
                     features=list(p.features), prompt=p.text.strip(),
                     checks=checks_for(d, p.features) + [form_check(p.features)],
                     meaning=d.meaning()) for p in entry.prompts]
    return tuple(out)


def people_tasks() -> list[Task]:
    return list(_tasks())
