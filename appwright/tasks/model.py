"""The task format (DESIGN.md, "Tasks, graders, reward"): typed records, validated once.

    task = Task.model_validate(yaml.safe_load(open("t.yaml")))   # or tasks.bank.load_file
    grade = grade_bundle("out/app", task)                      # tasks.graders
    grade.reward, grade.good, [c.evidence for c in grade.checks if not c.passed]

A task is data: `id`, `kind` (build / edit / fix / taste), `split` (train / dev / test),
`prompt`, an optional start bundle (files inline, or a folder beside the YAML file), and
typed checks, each with a `weight` and a `required` flag. Every check kind names the
entity and fields it exercises by the names the prompt gave the user; the graders look
entities up without regard to case.
A record's value for a `ref` field is a link, `{"link": "Recipe", "to": {...}}`: the graders
create the record it names first, as the same user, and send its id (graders/common.py).

Check kinds and what they prove:
- `schema`: the manifest declares the entity with these fields (types within a family:
  string/text, number/integer), its `ref` fields pointing where `refs` says, and, if given,
  the sign-up rule.
- `api`: a flow through the REST API as real users: `crud` (create, list, get, update,
  delete as the owner), `public_read` (anyone signed out reads), `shared_read` (another
  signed-in user reads), `rejects` (each bad value answers 4xx and stores nothing).
- `isolation`: another user cannot read, list, change or delete the owner's records;
  signed-out visitors cannot where `anonymous` is refused; `owner` cannot be spoofed.
- `ui`: scripted steps in headless Chromium on the served app (see `UiStep`).
- `form`: no script: a user fills the page's own first form with plausible values and sees
  the record listed; another user and a signed-out visitor see it only where `access` says.
- `security`: `xss` (payloads in every text field never run, for the owner and for
  another reader), `secrets` (no secret-looking strings in the bundle), `signup`
  (the sign-up rule holds on every path that creates a user).
- `taste`: the safe path was taken (`no_password_field`, `no_secret`, `private`,
  `signup_kept`) and, for `reply`, the reply says why.
- `look`: the app reads well (`no_hscroll`, `labels`, `contrast`, `heading`, `empty_state`);
  never required, at most LOOK_SHARE of the reward, outside the good and functional rates.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, Union, get_args

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator, model_validator

FORMAT = 1
Kind = Literal["build", "edit", "fix", "taste"]
Split = Literal["train", "dev", "test", "people"]
SPLITS: tuple[str, ...] = get_args(Split)  # people: prompts written by hand in people's words, never trained on
FieldFamily = Literal["string", "text", "number", "integer", "boolean", "date", "datetime", "enum", "ref"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Group = Literal["functional", "security"]


class _Check(_Strict):
    """A check kind is declared once, here: its record (the fields below), its `group` (functional
    checks decide `AttemptRow.functional`, security ones the security rates) and whether it needs
    Chromium (`needs_browser`). Its grade function is registered beside the others in
    graders/__init__.py (`GRADERS`, keyed by the same `kind`)."""
    group: ClassVar[Group | None] = None
    browser: ClassVar[bool] = False  # the check renders pages in Chromium

    name: str = Field(min_length=1, description="short, unique within the task; shown in grade tables")
    weight: float = Field(1.0, gt=0)
    required: bool = True

    def needs_browser(self) -> bool:
        return self.browser


class SchemaCheck(_Check):
    group = "functional"
    kind: Literal["schema"] = "schema"
    entity: str = Field(description="the entity the prompt names (matched without regard to case)")
    fields: dict[str, FieldFamily] = Field(default_factory=dict, description="field -> type; string/text and "
                                           "number/integer count as the same family")
    signup: Literal["open", "invite", "closed"] | None = Field(None, description="the auth.signup rule, if the "
                                                                                 "prompt implies one")
    refs: dict[str, str] = Field(default_factory=dict, description="ref field -> the entity it must point to")


class ApiCheck(_Check):
    group = "functional"
    kind: Literal["api"] = "api"
    entity: str = Field(description="the entity the flow uses")
    flow: Literal["crud", "public_read", "shared_read", "rejects", "submit"] = Field(
        description="crud: the owner creates, lists, reads, changes, deletes; public_read: a signed-out visitor "
                    "reads; shared_read: another user reads; rejects: each `bad` variation answers 4xx; submit: a "
                    "signed-out visitor creates and an admin lists and reads it")
    record: dict[str, Any] = Field(description="a valid record, created by the owner")
    change: dict[str, Any] = Field(default_factory=dict, description="crud: the update sent")
    bad: list[dict[str, Any]] = Field(default_factory=list, description="rejects: fields that make `record` invalid")

    @model_validator(mode="after")
    def _flow_needs(self) -> "ApiCheck":
        if self.flow == "rejects" and not self.bad:
            raise ValueError("an api check with flow 'rejects' needs `bad`: the invalid variations to send")
        return self


class IsolationCheck(_Check):
    group = "security"
    kind: Literal["isolation"] = "isolation"
    entity: str = Field(description="the entity whose records must stay the owner's")
    record: dict[str, Any] = Field(description="a valid record, created by the owner")
    others_read: bool = Field(False, description="another signed-in user may read (shared, public_read)")
    anonymous_read: bool = Field(False, description="signed-out visitors may read (public_read)")
    only_admins: bool = Field(False, description="submit_only: a signed-out visitor creates the record, and nobody "
                                                 "but an admin reads, changes or deletes it, the sender included")


class UiStep(_Strict):
    """One step; exactly one action key is set.

    open: load the check's page (again) and wait for the network to settle.
    fill: {"field": "title", "value": "..."} types into the input for that field, found by its
          name, id, label or placeholder (or the search box, with field "search").
    select: {"field": "status", "value": "done"} picks an option in a <select> for that field
          (or any select offering that value, with field "*").
    submit: submits the form of the last filled input (its submit button, or Enter).
    click_in: {"text": "...", "button": "delete|remove"} clicks the button or link matching the
          regex inside the smallest element that holds the text (confirm() dialogs accepted).
    click: "invite|code" clicks the first visible button or link whose text, aria-label or title
          matches the regex.
    expect_text / expect_absent: text (or any of several) shows / does not show on the page.
    expect_order: the texts show in this order.
    expect_saved / expect_gone: a record with these values is / is not in the API's list for
          the signed-in user, or an admin's for a signed-out visitor (proves the UI really wrote it).
    expect_invite: "admin": the page's user made an invite code that carries this role (the
          app's database holds it: proves the page asked for the role, not only that it shows one).
    expect_with: {"text": "Rinse the lentils", "with": "Lentil soup", "not": "Mushroom risotto"}: one
          element of the page shows `text` together with `with` and without `not` (a linked record
          shown with the record it belongs to, apart from the others).
    """
    open: bool | None = None
    fill: dict[str, str] | None = None
    select: dict[str, str] | None = None
    submit: bool | None = None
    click_in: dict[str, str] | None = None
    click: str | None = None
    expect_text: str | list[str] | None = None
    expect_absent: str | None = None
    expect_order: list[str] | None = None
    expect_saved: dict[str, Any] | None = None
    expect_gone: dict[str, Any] | None = None
    expect_invite: str | None = None
    expect_with: dict[str, str] | None = None

    @model_validator(mode="after")
    def _one_action(self) -> "UiStep":
        set_ = [k for k, v in self.__dict__.items() if v is not None]
        if len(set_) != 1:
            raise ValueError(f"a ui step has exactly one action; got {set_ or 'none'}")
        return self

    @property
    def action(self) -> str:
        return next(k for k, v in self.__dict__.items() if v is not None)


class UiCheck(_Check):
    group, browser = "functional", True
    kind: Literal["ui"] = "ui"
    entity: str | None = Field(None, description="entity that `seed`, expect_saved and expect_gone use")
    user: Literal["owner", "other", "anonymous", "admin"] = Field(
        "owner", description="who opens the page: the owner, another signed-in user, a signed-out visitor, or a "
                             "user with the admin role")
    page: str = Field("/", description="the page opened, as a path ('admin.html'); an app without that file is "
                                       "opened on its other page (graders/ui.py: page_path)")
    seed: list[dict[str, Any]] = Field(default_factory=list, description="records the owner creates by API first")
    steps: list[UiStep] = Field(default_factory=list, description="run in order on `page`; see ui steps below")
    order_by: str | None = Field(None, description="the field of `entity` whose order expect_order asks for: an "
                                                   "app that does not declare it fails, since any order it shows "
                                                   "is chance")

    @model_validator(mode="after")
    def _entity_when_needed(self) -> "UiCheck":
        needs = self.seed or any(s.expect_saved or s.expect_gone for s in self.steps)
        if needs and not self.entity:
            raise ValueError("a ui check with `seed`, expect_saved or expect_gone needs `entity`")
        return self


class FormCheck(_Check):
    """The page's own form, filled with no script (runtime/forms.py, the filling check_app does),
    and who sees the record afterwards (graders/form.py). For prompts that name nothing."""
    group, browser = "functional", True
    kind: Literal["form"] = "form"
    access: Literal["owner", "shared", "public_read", "submit_only", "admin_write"] = Field(
        description="what the privacy words allow: owner: nobody else sees it; shared: other signed-in users do; "
                    "public_read: signed-out visitors too; submit_only: a signed-out visitor sends it on `/` and "
                    "only an admin sees it, on the app's other page; admin_write: an admin adds it and other "
                    "signed-in users see it")


class SecurityCheck(_Check):
    group = "security"
    kind: Literal["security"] = "security"
    test: Literal["xss", "secrets", "signup"] = Field(description="what is probed (graders/security.py)")
    signup: Literal["open", "invite", "closed"] | None = Field(None, description="signup: the rule that must hold")
    entity: str | None = Field(None, description="xss: the entity whose text fields get payloads")
    record: dict[str, Any] = Field(default_factory=dict, description="xss: a valid record to plant payloads in")
    page: str | None = Field(None, description="xss: a page an admin also opens with the payloads stored "
                                               "('admin.html')")

    @model_validator(mode="after")
    def _needs(self) -> "SecurityCheck":
        if self.test == "signup" and self.signup is None:
            raise ValueError("a security check with test 'signup' needs `signup`: the rule that must hold")
        if self.test == "xss" and not (self.entity and self.record):
            raise ValueError("a security check with test 'xss' needs `entity` and `record`")
        return self

    def needs_browser(self) -> bool:
        return self.test == "xss"  # the payloads must not run in a rendered page


class TasteCheck(_Check):
    kind: Literal["taste"] = "taste"
    test: Literal["no_password_field", "no_secret", "private", "signup_kept", "reply"] = Field(
        description="the safe path that must have been taken (graders/taste.py)")
    entity: str | None = Field(None, description="private: the entity that must stay private")
    record: dict[str, Any] = Field(default_factory=dict, description="private: a record the owner creates")
    signup: Literal["invite", "closed"] | None = Field(None, description="signup_kept: the rule that must stay")
    says: list[str] = Field(default_factory=list, description="reply: words (any one) a reason would use")

    @model_validator(mode="after")
    def _needs(self) -> "TasteCheck":
        if self.test == "private" and not (self.entity and self.record):
            raise ValueError("a taste check 'private' needs `entity` and `record`")
        if self.test == "signup_kept" and not self.signup:
            raise ValueError("a taste check 'signup_kept' needs `signup`")
        if self.test == "reply" and not self.says:
            raise ValueError("a taste check 'reply' needs `says`")
        return self


LOOK_SHARE = 0.1  # look checks weigh at most this share of a task's reward
LOOK_TESTS = ("no_hscroll", "labels", "contrast", "heading", "empty_state")


class LookCheck(_Check):
    """How the app looks and reads, in Chromium (graders/look.py). Never required: a look check
    moves the reward a little and never decides whether an app is good or functional."""
    browser = True
    kind: Literal["look"] = "look"
    required: bool = False
    test: Literal[LOOK_TESTS] = Field(  # type: ignore[valid-type]
        description="no_hscroll: nothing scrolls sideways at 375 px; labels: every input has a label or "
                    "aria-label; contrast: text at least 4.5:1 in light and dark mode; heading: the app's "
                    "name in a heading; empty_state: the list says something when it has no records")
    entity: str | None = Field(None, description="empty_state: the entity whose list is looked at")
    record: dict[str, Any] = Field(default_factory=dict, description="empty_state: a record that finds the list")

    @model_validator(mode="after")
    def _needs(self) -> "LookCheck":
        if self.required:
            raise ValueError("a look check is never required")
        if self.test == "empty_state" and not (self.entity and self.record):
            raise ValueError("a look check 'empty_state' needs `entity` and `record`")
        return self


CHECK_MODELS = (SchemaCheck, ApiCheck, IsolationCheck, UiCheck, FormCheck, SecurityCheck, TasteCheck, LookCheck)
Check = Annotated[Union[CHECK_MODELS], Field(discriminator="kind")]  # type: ignore[valid-type]
KINDS: dict[str, type[_Check]] = {m.model_fields["kind"].default: m for m in CHECK_MODELS}


def kinds_in(group: Group) -> tuple[str, ...]:
    """The check kinds of a group, in declaration order."""
    return tuple(k for k, m in KINDS.items() if m.group == group)


class FieldMeaning(_Strict):
    """A field the person asked for, by meaning rather than by name."""
    name: str = Field(description="what the task's checks call it")
    label: str = Field(description="how the person says it; a missing field is reported as 'no field for the "
                                   "<label>'")
    type: FieldFamily = Field(description="its type; a field of the same family (string/text, number/integer) "
                                          "qualifies")
    words: list[str] = Field(default_factory=list, description="other names an app may give it")
    values: list[str] | None = Field(None, description="an enum's values: an app's enum with the same values is "
                                                       "this field, whatever its name")


class EntityMeaning(_Strict):
    name: str = Field(description="what the task's checks call it")
    label: str = Field(description="how the person says it: 'plants'")
    words: list[str] = Field(default_factory=list, description="other names an app may give it")
    fields: list[FieldMeaning] = Field(default_factory=list)


class Meaning(_Strict):
    """What a prompt in people's words asked for, which names nothing: the graders find each entity
    and field in the app's manifest by these words and types, and rename the checks to the app's
    names before they run (graders/meaning.py)."""
    entities: list[EntityMeaning] = Field(min_length=1)


class StartBundle(_Strict):
    """Files inline (generated tasks, exports) or `path`, a folder relative to the task file."""
    files: dict[str, str] | None = Field(None, description="relative path -> file text")
    path: str | None = Field(None, description="a folder, relative to the task file; hidden files are left out")

    @model_validator(mode="after")
    def _one(self) -> "StartBundle":
        if (self.files is None) == (self.path is None):
            raise ValueError("start: give either `files` (path -> text) or `path` (a folder), not both or neither")
        return self


class Task(_Strict):
    format: Literal[1] = Field(FORMAT, description="the task format version")
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", max_length=160,
                    description="unique; lower case letters, digits, '.', '_' and '-'")
    kind: Kind = Field(description="build: from nothing; edit: change `start`; fix: repair `start`; taste: a "
                                   "request that points somewhere worse")
    split: Split = Field(description="test and people tasks are never trained on; held out by domain family")
    prompt: str = Field(min_length=1, description="what the user asks, in their words")
    domain: str | None = Field(None, description="its domain (domains.yaml, or people.yaml for the people split)")
    features: list[str] = Field(default_factory=list, description="the generator's features of the target app")
    start: StartBundle | None = Field(None, description="the bundle the agent starts from (edit and fix need one)")
    checks: list[Check] = Field(min_length=1, description="typed checks; see below")
    reference_reply: str | None = Field(None, description="what a good reply says (taste tasks)")
    meaning: Meaning | None = Field(None, description="prompts that name nothing: the entities and fields asked "
                                                      "for, found in the app by meaning; without it the checks' "
                                                      "names must be the app's (case ignored)")

    @property
    def author_role(self) -> str | None:
        """The role of the user who makes the checks' records: "admin" where only admins write
        (feature `admin_write`, a role-gated access map), else None: any signed-in user."""
        return "admin" if "admin_write" in self.features else None

    def data(self) -> dict[str, Any]:
        """The task as compact JSON data (defaults left out, each check's `kind` kept): what
        task files hold; `Task.model_validate(task.data())` gives the task back."""
        data = self.model_dump(mode="json", exclude_defaults=True)
        data["checks"] = [{"kind": c.kind, **d} for c, d in zip(self.checks, data["checks"])]
        return data

    @field_validator("checks")
    @classmethod
    def _unique_names(cls, checks: list) -> list:
        names = [c.name for c in checks]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"check names must be unique within a task; repeated: {', '.join(dupes)}")
        look = sum(c.weight for c in checks if c.kind == "look")
        if look > LOOK_SHARE * sum(c.weight for c in checks) + 1e-9:
            raise ValueError(f"look checks weigh {look:g} of {sum(c.weight for c in checks):g}: at most "
                             f"{LOOK_SHARE:.0%} of a task's weight")
        return checks

    @model_validator(mode="after")
    def _start_for_kind(self) -> "Task":
        if self.kind in ("edit", "fix") and self.start is None:
            raise ValueError(f"a {self.kind} task needs `start`: the bundle the request changes")
        return self


# -- results --------------------------------------------------------------------------------

class CheckResult(_Strict):
    name: str
    kind: str
    passed: bool
    weight: float
    required: bool
    evidence: str = Field(description="what was done and seen; enough for a person or a model to act on")
    seconds: float = 0.0


class Grade(_Strict):
    """The one grade record: what the graders return, what trajectories, eval rows and the studio
    keep. `reward` and `good` are computed from the checks and written with them; reading a
    record back recomputes them (the stored values are ignored)."""
    format: Literal[1] = FORMAT
    task_id: str
    checks: list[CheckResult]
    seconds: float

    @model_validator(mode="before")
    @classmethod
    def _computed_not_read(cls, data: Any) -> Any:
        if isinstance(data, dict) and ("reward" in data or "good" in data):
            data = {k: v for k, v in data.items() if k not in ("reward", "good")}
        return data

    @computed_field  # type: ignore[prop-decorator]
    @property
    def reward(self) -> float:
        """Weighted share of checks passed, in [0, 1]."""
        total = sum(c.weight for c in self.checks)
        return round(sum(c.weight for c in self.checks if c.passed) / total, 6) if total else 0.0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def good(self) -> bool:
        """Every required check passed."""
        return bool(self.checks) and all(c.passed for c in self.checks if c.required)
