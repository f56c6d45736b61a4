"""The task bank's reference solutions as SFT chat rows, each written exactly as the harness
would have recorded a perfect `files` answer to that task (issue 18, "training data").

    rows = reference_rows()                            # every train task with a reference
    picked, dropped = select_rows(rows, max_tokens=250_000, seed=0)
    stats = write_reference_dataset(picked, Path("data/sft-ref"))
    # then `appwright train sft` on data/sft-ref, like any `appwright data sft` dataset
    appwright data references --out data/sft-ref --max-tokens 250000 --tokenizer runs/hf/qwen0.5b

A new app (a build, or a taste task with no start bundle) is written as the platform docs'
example page is: its page calls aw.ui.records (tasks/reference.py `records_render`), which
our own model then writes too, short and working; apps with features it does not cover
(`linked`, `roles`) and every edit and fix (they change a page written by hand) keep the page
by hand.

A row is [system, user, assistant], as `run_agent` sends and records them for the model we
train (agent/loop.py):
- system: `system_prompt("files", TOOL_SPECS, "compact")`;
- user: `start_message(task.prompt, files, "files")`, where `files` is the start bundle as the
  loop reads it from disk (hidden paths left out, long files cut like `read_file` cuts them);
- assistant: the answer in the form the guided answer (agent/guided.py) produces: FILES_PREFIX,
  the manifest, `</file>`, then index.html (it starts with `<!doctype html>`) and each file
  in the order the guided answer opens them (what each written file loads, breadth first),
  each block `<file path="P">\\n` + the file + `</file>\\n`, then one short paragraph to the
  person (`reply_for`): what the app does (build), what changed (edit), what was wrong and
  that it is fixed (fix), or the task's `reference_reply` (taste). Deterministic per task id.

The guard: a row is made only for a task of the train split whose domain's family is a train
family (domains.yaml `splits`); anything else raises `SplitLeak`, and the writer checks every
row again against the bank. `select_rows` takes rows evenly across (kind, domain family), round
robin, shuffled with a seed, up to a token budget (whole rows: system + user + answer), with
duplicates (same messages, `message_key`) dropped. Tokens come from `count` (text -> tokens):
a tokenizer's (`tokenizer_count`) or, by default, characters / 4.

The answer is the reference as the model should write it; the harness's repairs
(agent/answer.py) change nothing in it (a test holds that for every row).

Does not: cover tasks without a generated reference (a hand-written task with `domain: null`,
such as build-pinned-notes, is skipped), the `tools` protocol, repair turns (train/repairs.py), or tasks of the
dev, test and people splits (never).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from appwright.agent.guided import FILES_PREFIX, MAX_EXTRA_FILES
from appwright.agent.junk import named_files
from appwright.agent.loop import start_message
from appwright.agent.prompt import system_prompt
from appwright.agent.sft import SFTDataStats, message_key, sft_row, write_sft_dataset
from appwright.agent.tools import MAX_READ_CHARS, TOOL_SPECS
from appwright.tasks.bank import TaskBank, reference_files, start_files
from appwright.tasks.domains import Domain, load_domains
from appwright.tasks.generate import sort_order
from appwright.tasks.model import Task
from appwright.tasks.reference import FLAWS, access_of
from appwright.train.config import KINDS

MODEL = "reference"  # the rows' `model`
PROMPT_STYLE = "compact"  # the system prompt our own model takes (models registry: `prompt`)
TEMPLATE_TOKENS = 5  # Qwen's chat template around one message: <|im_start|>role\n ... <|im_end|>\n
Count = Callable[[str], int]


class SplitLeak(ValueError):
    """A task that must never be trained on: not train, or its domain's family is held out."""


class AnswerError(ValueError):
    """A reference bundle that cannot be written as a harness answer (a bank bug)."""


@dataclass(frozen=True)
class ReferenceRow:
    task_id: str
    kind: str
    domain: str
    family: str
    system: str
    user: str
    answer: str  # the assistant message
    reply: str  # the paragraph the answer ends with

    def messages(self) -> list[dict]:
        """JSON at the edge: the chat as `datasets` stores it."""
        return [{"role": "system", "content": self.system}, {"role": "user", "content": self.user},
                {"role": "assistant", "content": self.answer}]

    def sft_row(self) -> dict:
        return sft_row(self.messages(), self.task_id, f"reference:{self.task_id}", MODEL, 1.0)


# 1. The guard ---------------------------------------------------------------------------------

def check_train(task: Task) -> Domain:
    """The task's domain when the task may be trained on; else SplitLeak says why."""
    if task.split != "train":
        raise SplitLeak(f"{task.id} is a {task.split} task: only train tasks are trained on")
    by_name = {d.name: d for d in load_domains()}  # people.yaml's domains are not in it, on purpose
    d = by_name.get(task.domain or "")
    if d is None:
        raise SplitLeak(f"{task.id}: domain {task.domain!r} is not a domain of domains.yaml, so its family "
                        "cannot be checked; only generated train tasks have reference rows")
    if d.split != "train":
        raise SplitLeak(f"{task.id}: its domain {d.name} is of the family {d.family!r}, held out for {d.split}")
    return d


# 2. The answer --------------------------------------------------------------------------------

def answer_order(files: dict[str, str]) -> list[str]:
    """The order the guided answer writes the files in: app.json, index.html, then each file a
    written file loads and nobody wrote yet, in the order it is named (agent/guided.py)."""
    order, queue = ["app.json"], ["index.html"]
    while queue:
        path = queue.pop(0)
        if path not in files:
            raise AnswerError(f"the reference loads {path!r}, which it does not have")
        order.append(path)
        queue += [p for p in named_files(files[path]) if p not in order and p not in queue][:MAX_EXTRA_FILES]
    left = sorted(set(files) - set(order))
    if left:
        raise AnswerError(f"nothing in the reference loads {', '.join(left)}: the harness would drop them")
    return order


def answer_text(files: dict[str, str], reply: str) -> str:
    """`files` and `reply` as one `files` answer, byte for byte as constrained_answer lays it out:
    the manifest stripped, every other file as written up to its `</file>`."""
    if not files.get("index.html", "").startswith("<!doctype html>\n"):
        raise AnswerError("index.html must start with '<!doctype html>' and a newline (guided.PAGE_PREFIX)")
    text = FILES_PREFIX + files["app.json"].strip() + "\n</file>\n"
    for path in answer_order(files)[1:]:
        body = files[path]
        text += f'<file path="{path}">\n{body}' + ("" if body.endswith("\n") else "\n") + "</file>\n"
    return text + reply


def on_disk(files: dict[str, str]) -> dict[str, str]:
    """A start bundle as the loop reads it from the workspace (`_on_disk`): hidden paths left
    out, each file as `read_file` returns it."""
    out = {}
    for path, text in files.items():
        if any(part.startswith(".") for part in path.split("/")):
            continue
        if len(text) > MAX_READ_CHARS:
            text = text[:MAX_READ_CHARS] + f"\n... ({len(text) - MAX_READ_CHARS} more characters not shown)"
        out[path] = text
    return out


# 3. The reply to the person ---------------------------------------------------------------------

INTROS = ["Here is your {app} app", "Your {app} app is ready", "I built your {app} app"]
ALSO = ["It also ", "The app also ", "On top of that, it "]
CHANGED = ["Done: the app now {}.", "The app now {}.", "I changed the app: it now {}."]
SAME = ["Everything else works as before.", "The rest of the app is unchanged.", "Nothing else changed."]
FIXED = ["I fixed it: ", "That is fixed now: ", "Fixed: "]
ACCESS_USE = {
    "owner": "each person signs in, adds {plural} with a form and sees, changes and deletes only their own",
    "shared": "people sign in, add {plural} with a form and see everyone's, but only the person who added "
              "{a_noun} can change or delete it",
    "public_read": "anyone can read the {plural} without signing in, and people who sign in add their own and "
                   "only they can change or delete them",
    "submit_only": "anyone can send {a_noun} with the form, no account needed, and only admins read them on a "
                   "second page, admin.html, where they can delete one",
    "admin_write": "everyone who signs in sees the {plural}, and only admins see the form to add {a_noun} and can "
                   "delete one",
}
ACCESS_FIXED = {
    "owner": "now each person sees and changes only their own {plural}",
    "shared": "now only signed-in people see the {plural}, and only the person who added {a_noun} can change or "
              "delete it",
    "public_read": "anyone can still read the {plural}, but now only the author can change or delete one",
    "submit_only": "now only admins can read what people send",
    "admin_write": "now only signed-in people see the {plural}, and only admins can add, change or delete them",
}
FLAW_WRONG = {  # what the person saw, in their words; FLAWS (tasks/reference.py) says it for programmers
    "wrong_access": "The app let anyone, even without signing in, read and change every {noun}.",
    "innerhtml": "The page showed what people typed as part of the page itself, so {a_noun} with a script in it "
                 "ran that script for everyone who looked.",
    "missing_sdk_method": "The page asked for the {plural} in a way the platform does not offer, so the list never "
                          "loaded.",
    "await_outside_async": "A mistake in the page's code stopped the whole page from running.",
    "missing_form_field": "The form had no box for the {title}, so adding {a_noun} failed.",
    "wrong_entity_name": "The page called your {plural} by a name the app does not know, so adding and listing "
                         "them failed.",
    "string_to_number": "The form sent the {number} as text instead of as a number, so saving {a_noun} was "
                        "refused.",
    "no_refresh": "After you added {a_noun} the list was not loaded again, so it only showed up after a reload.",
    "admin_open": "The admin page let any signed-in person read every {noun} people sent.",
    "members_write": "Only the form was hidden from people who are not admins: the app itself let anyone signed in "
                     "add {a_noun}.",
    "ref_leak": "The {parts} were open to more people than the {plural} they belong to.",
}
FLAW_FIXED = {
    "innerhtml": "now {plural} are shown as plain text, so nothing typed into one can run",
    "missing_sdk_method": "the page now loads them the right way and the list shows up",
    "await_outside_async": "the code is corrected and the page works again",
    "missing_form_field": "the box is back and adding {a_noun} works",
    "wrong_entity_name": "the page now uses the right name",
    "string_to_number": "it now sends a number and saving works",
    "no_refresh": "now the list updates as soon as you add one",
    "admin_open": "now only admins can open it and read them",
    "members_write": "now the app itself lets only admins add, change or delete {plural}",
    "ref_leak": "now the {parts} are exactly as private as their {plural}",
}


def _pick(options: list[str], key: str) -> str:
    return options[int(hashlib.sha256(key.encode()).hexdigest(), 16) % len(options)]


def _number(x: float) -> str:
    return f"{x:,.2f}".rstrip("0").rstrip(".")


def _a(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _label(d: Domain, name: str) -> str:
    return d.field(name).label


def _extra(d: Domain, x: str) -> str:
    """What an extra feature does, as a clause after "It also "."""
    if x == "sort":
        return f"lists the {d.plural} by {_label(d, d.sort.field)} ({sort_order(d)})"
    if x == "validation":
        f = d.validated
        return f"accepts {f.label} only from {_number(f.limits[0])} to {_number(f.limits[1])}"
    if x == "totals":
        return f"shows the total {_label(d, d.amount)} of the {d.plural} in the list"
    if x == "search":
        return f"has a search box that keeps only the {d.plural} whose {_label(d, d.title)} matches what you type"
    if x == "filter":
        return f"has a menu to show only the {d.plural} of one {_label(d, d.category)}"
    if x == "invite":
        return "lets people sign up only with an invite code that an admin hands out"
    if x == "roles":
        return ("lets people sign up only with an invite code, which an admin makes on the page as a member's or "
                "an admin's")
    if x == "linked":
        return (f"shows each {d.noun}'s {d.part.plural} under it, with a second form to add one to the {d.noun} "
                f"you pick, and keeps them as private as the {d.plural}")
    raise ValueError(f"no words for the feature {x!r}")


def _build_reply(task: Task, d: Domain) -> str:
    access = access_of(task.features)
    first = (_pick(INTROS, f"{task.id}/intro").format(app=d.app) + ": "
             + ACCESS_USE[access].format(plural=d.plural, a_noun=_a(d.noun)) + ".")
    extras = [_extra(d, x) for x in task.features if x != access]
    return first + (f" {_pick(ALSO, f'{task.id}/also')}{_join(extras)}." if extras else "")


def _edit_reply(task: Task, d: Domain) -> str:
    access = access_of(task.features)
    added = [x for x in task.features if x != access]
    if not added:  # submit_only: its edit adds the admins' page
        change = (f"I added a second page, admin.html, where admins sign in to read every {d.noun} people send "
                  "and can delete one; anyone else sees none of them there.")
    else:
        change = _pick(CHANGED, f"{task.id}/changed").format(_join([_extra(d, x) for x in added]))
    return f"{change} {_pick(SAME, f'{task.id}/same')}"


def flaw_of(task: Task) -> str:
    """The planted flaw of a fix task, from its id: fix-<domain>-<access>-<flaw-with-dashes>."""
    access = access_of(task.features).replace("_", "")
    name = task.id.removeprefix(f"fix-{task.domain}-{access}-").replace("-", "_")
    if not task.id.startswith(f"fix-{task.domain}-{access}-") or name not in FLAWS:
        raise AnswerError(f"{task.id}: cannot tell its flaw (fix-<domain>-<access>-<flaw>; flaws: "
                          f"{', '.join(FLAWS)})")
    return name


def _fix_reply(task: Task, d: Domain) -> str:
    flaw = flaw_of(task)
    number = next((f.label for f in d.fields if f.type in ("number", "integer")), "number")
    words = {"noun": d.noun, "a_noun": _a(d.noun), "plural": d.plural, "title": _label(d, d.title), "number": number,
             "parts": d.part.plural if d.part else ""}
    fixed = ACCESS_FIXED[access_of(task.features)] if flaw == "wrong_access" else FLAW_FIXED[flaw]
    return f"{FLAW_WRONG[flaw].format(**words)} {_pick(FIXED, f'{task.id}/fixed')}{fixed.format(**words)}."


def reply_for(task: Task, d: Domain) -> str:
    """The paragraph to the person after the files: plain words, deterministic per task id."""
    if task.kind == "taste":
        if not task.reference_reply:
            raise AnswerError(f"{task.id}: a taste task without reference_reply")
        return task.reference_reply
    return {"build": _build_reply, "edit": _edit_reply, "fix": _fix_reply}[task.kind](task, d)


# 4. Rows ---------------------------------------------------------------------------------------

def reference_row(task: Task) -> ReferenceRow:
    """The SFT row of one train task (SplitLeak for any other)."""
    d = check_train(task)
    reply = reply_for(task, d)
    start = on_disk(start_files(task))
    return ReferenceRow(task_id=task.id, kind=task.kind, domain=d.name, family=d.family,
                        system=system_prompt("files", TOOL_SPECS, PROMPT_STYLE),
                        user=start_message(task.prompt, start, "files"),
                        answer=answer_text(reference_files(task, records=True), reply), reply=reply)


def reference_rows(bank: TaskBank | None = None, kinds: tuple[str, ...] = ("build", "edit", "fix", "taste")
                   ) -> list[ReferenceRow]:
    """A row for every train task of these kinds that has a generated reference (a domain)."""
    bank = bank or TaskBank.default()
    return [reference_row(t) for t in bank.select(split="train") if t.kind in kinds and t.domain is not None]


def estimate_tokens(text: str) -> int:
    """Characters / 4, no tokenizer needed: about 10% under Qwen2.5's count for these rows."""
    return (len(text) + 3) // 4


def tokenizer_count(tokenizer) -> Count:
    """A `count` from a HF tokenizer (no special tokens; TEMPLATE_TOKENS adds the template's)."""
    return lambda text: len(tokenizer.encode(text, add_special_tokens=False))


def row_tokens(row: ReferenceRow, count: Count = estimate_tokens) -> tuple[int, int]:
    """(prompt tokens: system + user, answer tokens), each message with its template tokens."""
    return (count(row.system) + count(row.user) + 2 * TEMPLATE_TOKENS, count(row.answer) + TEMPLATE_TOKENS)


def check_weights(weights: dict) -> dict[str, int]:
    """`weights` for `select_rows`, or ValueError naming the bad entry."""
    for kind, weight in weights.items():
        if kind not in KINDS or not isinstance(weight, int) or isinstance(weight, bool) or weight < 1:
            raise ValueError(f"kind weights: a whole number of 1 or more for each of {', '.join(KINDS)}; "
                             f"got {kind}: {weight!r}")
    return dict(weights)


def select_rows(rows: list[ReferenceRow], max_tokens: int = 250_000, seed: int = 0,
                count: Count = estimate_tokens, weights: dict[str, int] | None = None
                ) -> tuple[list[ReferenceRow], int]:
    """(rows taken evenly across (kind, family) up to `max_tokens` in all, duplicates dropped).

    Each (kind, family) group is shuffled with `seed`; rounds take the next row of every group
    that has one left, in a shuffled group order, until a row does not fit in what the budget
    has left: so two groups' counts differ by at most one, unless one ran out of rows.
    `weights` (kind -> rows per round, 1 for a kind not named) tilts the mix: {"build": 3} takes
    three builds of each family for every edit, fix or taste row."""
    # 1. Duplicates (the same messages) out, first kept.
    seen, unique = set(), []
    for r in rows:
        key = message_key(r.messages())
        if key not in seen:
            seen.add(key)
            unique.append(r)
    # 2. Groups, each in its own seeded order.
    groups: dict[tuple[str, str], list[ReferenceRow]] = {}
    for r in unique:
        groups.setdefault((r.kind, r.family), []).append(r)
    for (kind, family), group in groups.items():
        random.Random(f"{seed}/{kind}/{family}").shuffle(group)
    order = sorted(groups)
    random.Random(seed).shuffle(order)
    # 3. Round robin under the budget (the system prompt is the same text in every row: counted once).
    counted: dict[str, int] = {}

    def tokens(r: ReferenceRow) -> int:
        if r.system not in counted:
            counted[r.system] = count(r.system)
        return counted[r.system] + count(r.user) + count(r.answer) + 3 * TEMPLATE_TOKENS

    weights = weights or {}
    picked, used, depth = [], 0, 0
    while any(len(g) > depth * weights.get(kind, 1) for (kind, _), g in groups.items()):
        for key in order:
            take = weights.get(key[0], 1)
            for row in groups[key][depth * take:(depth + 1) * take]:
                n = tokens(row)
                if used + n > max_tokens:
                    return picked, len(rows) - len(unique)
                picked.append(row)
                used += n
        depth += 1
    return picked, len(rows) - len(unique)


def write_reference_dataset(rows: list, out: Path, bank: TaskBank | None = None,
                            read: int | None = None, duplicates: int = 0) -> SFTDataStats:
    """Write the rows (ReferenceRow, and repairs.RepairRow) as an SFT dataset (agent/sft.py), each
    row's task checked again first."""
    bank = bank or TaskBank.default()
    for r in rows:
        if check_train(bank.get(r.task_id)).family != r.family:
            raise SplitLeak(f"{r.task_id}: the row says family {r.family!r}, the bank another")
    sources = []
    if any(isinstance(r, ReferenceRow) for r in rows):
        sources.append("task bank reference solutions (appwright/train/references.py)")
    if not all(isinstance(r, ReferenceRow) for r in rows):
        sources.append("repair turns of train tasks (appwright/train/repairs.py)")
    stats = SFTDataStats(sources=sources,
                         read=len(rows) if read is None else read, rows=len(rows),
                         tasks=len({r.task_id for r in rows}), dropped_duplicate=duplicates)
    write_sft_dataset([r.sft_row() for r in rows], stats, out)
    return stats

