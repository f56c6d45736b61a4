"""Training data: only train tasks, only good runs, no duplicates, the harness's own messages."""

import json

import pytest

from appwright.agent.trajectory import MessageRecord, Trajectory, append_jsonl, read_jsonl
from appwright.models import ScriptedBackend
from appwright.tasks.bank import TaskBank, reference_files
from appwright.tasks.model import CheckResult, Grade
from appwright.train.data import DataError, build_sft_dataset, read_stats, sample, sft_messages

BANK = TaskBank.default()
TRAIN = BANK.select(split="train", kind="build")[0]
DEV = BANK.select(split="dev")[0]
TEST = BANK.select(split="test")[0]
PEOPLE = BANK.select(split="people")  # prompts in people's words (tasks/people.py): never trained on


def traj(task, answer="<file path=\"app.json\">{}</file>", good=True, protocol="files", repair=False, tid=None):
    msgs = [MessageRecord(role="system", content="docs"), MessageRecord(role="user", content=task.prompt if task
                                                                        else "x")]
    if repair:
        msgs += [MessageRecord(role="assistant", content="broken"), MessageRecord(role="user", content="fix it")]
    msgs.append(MessageRecord(role="assistant", content=answer))
    return Trajectory(id=tid or answer[-8:] + str(good), created_at="2026-11-25T00:00:00+00:00",
                      task_id=task.id if task else None, prompt="p", model="m", protocol=protocol, budget={},
                      messages=msgs, grade=None if good is None else graded(good))


def graded(good: bool) -> Grade:
    """A grade that is good with reward 1.0, or not good with reward 0.3."""
    checks = [CheckResult(name="a", kind="schema", passed=True, weight=1.0 if good else 0.3, required=True,
                          evidence="seen")]
    if not good:
        checks.append(CheckResult(name="b", kind="api", passed=False, weight=0.7, required=True, evidence="404"))
    return Grade(task_id="t", checks=checks, seconds=1.0)


def test_only_good_runs_of_train_tasks_are_kept_once(tmp_path):
    src = tmp_path / "runs.jsonl"
    for t in [traj(TRAIN, "a"), traj(TRAIN, "a", tid="again"), traj(TRAIN, "b", good=False), traj(TRAIN, "c", None),
              traj(DEV, "d"), traj(TEST, "e"), traj(None, "f"), traj(TRAIN, "g", repair=True)]:
        append_jsonl(src, t)
    stats = build_sft_dataset([src], tmp_path / "sft")
    from datasets import load_from_disk

    ds = load_from_disk(str(tmp_path / "sft"))
    assert set(ds["task_id"]) == {TRAIN.id}  # no dev, no test, no task-less run
    assert {s for s in ds["task_id"]} & {t.id for t in BANK.tasks if t.split != "train"} == set()
    assert [m[-1]["content"] for m in ds["messages"]] == ["a", "g"]
    assert (stats.read, stats.rows, stats.dropped_split, stats.dropped_not_good, stats.dropped_ungraded,
            stats.dropped_duplicate, stats.repaired_trimmed) == (8, 2, 3, 1, 1, 1, 1)
    assert ds["messages"][1] == [{"role": "system", "content": "docs"}, {"role": "user", "content": TRAIN.prompt},
                                 {"role": "assistant", "content": "g"}]  # the repaired run: its final answer only
    assert read_stats(tmp_path / "sft") == stats
    assert len(build_sft_dataset([src], tmp_path / "all", keep="all").__dict__) and \
        load_from_disk(str(tmp_path / "all")).num_rows == 3


def test_a_file_with_nothing_to_keep_is_an_error(tmp_path):
    src = tmp_path / "runs.jsonl"
    append_jsonl(src, traj(TEST, "x"))
    with pytest.raises(DataError, match="no trajectory was kept"):
        build_sft_dataset([src], tmp_path / "sft")


def test_a_repair_of_one_file_trains_as_the_first_answer_with_that_file_put_in():
    first = '<file path="app.json">\n{"name": "x"}\n</file>\n<file path="index.html">\n<p>old</p>\n</file>\nA page.'
    t = traj(TRAIN, "unused")
    t.messages = [MessageRecord(role="system", content="docs"), MessageRecord(role="user", content=TRAIN.prompt),
                  MessageRecord(role="assistant", content=first), MessageRecord(role="user", content="fix index.html"),
                  MessageRecord(role="assistant", content='<file path="index.html">\n<p>new</p>\n</file>\nFixed.')]
    merged = sft_messages(t)[-1].content
    assert merged == first.replace("<p>old</p>", "<p>new</p>") and len(sft_messages(t)) == 3


def test_tools_runs_keep_every_message():
    t = traj(TRAIN, "done", protocol="tools", repair=True)
    assert sft_messages(t) == t.messages


def test_sampling_refuses_held_out_tasks(tmp_path):
    with pytest.raises(DataError, match="only train tasks"):
        sample([TRAIN, DEV], ScriptedBackend([]), tmp_path / "x.jsonl", samples=1)


def test_people_tasks_are_never_picked_or_kept_for_training(tmp_path):
    from typer.testing import CliRunner

    from appwright import cli
    from appwright.studio.export import _held_out_prompts, _norm
    from appwright.train.config import RLConfig
    from appwright.train.rl import TrainError as RLTrainError, train_tasks
    from appwright.train.sft import TrainError, check_splits

    ids, domains = {t.id for t in PEOPLE}, {t.domain for t in PEOPLE}
    assert len(ids) >= 60
    # 1. What the selectors pick: the RL run's tasks and `appwright data sample`'s (split train).
    for picked in (train_tasks(RLConfig(model="m", out="o")), BANK.select(split="train")):
        assert not {t.id for t in picked} & ids and not {t.domain for t in picked} & domains
    r = CliRunner().invoke(cli.app, ["data", "sample", "--model", "m", "--out", str(tmp_path / "x.jsonl"),
                                     "--split", "people"])
    assert r.exit_code == 2 and not (tmp_path / "x.jsonl").exists()
    # 2. Named outright, they are refused.
    with pytest.raises(DataError, match="only train tasks"):
        sample([TRAIN, PEOPLE[0]], ScriptedBackend([]), tmp_path / "x.jsonl", samples=1)
    with pytest.raises(RLTrainError, match="not train tasks"):
        train_tasks(RLConfig(model="m", out="o", task_ids=(TRAIN.id, PEOPLE[0].id)))
    with pytest.raises(TrainError, match=PEOPLE[0].id):
        check_splits([TRAIN.id, PEOPLE[0].id], BANK)
    # 3. Their trajectories never become SFT rows, and a studio turn asking one of their prompts
    #    is not exported for training.
    src = tmp_path / "runs.jsonl"
    for t in [traj(TRAIN, "a"), *(traj(p, f"answer {i}", tid=p.id) for i, p in enumerate(PEOPLE[:3]))]:
        append_jsonl(src, t)
    stats = build_sft_dataset([src], tmp_path / "sft")
    assert (stats.rows, stats.dropped_split) == (1, 3)
    assert {_norm(t.prompt) for t in PEOPLE} <= _held_out_prompts()


@pytest.mark.slow
def test_rejection_sampling_keeps_the_good_attempt_with_its_grade_and_resumes(tmp_path):
    good = "\n".join(f'<file path="{p}">\n{c}\n</file>' for p, c in reference_files(TRAIN).items())
    other = BANK.select(split="train", kind="build")[1]
    out = tmp_path / "good.jsonl"
    stats = sample([TRAIN, other], ScriptedBackend([good, "I cannot build that.", "still no"]), out, samples=1,
                   browser=False)
    kept = list(read_jsonl(out))
    assert (stats.attempts, stats.good, stats.kept) == (2, 1, 1)
    assert kept[0].task_id == TRAIN.id and kept[0].grade.good and kept[0].grade.reward == 1.0
    assert kept[0].messages[-1].content == good  # exactly what the harness received
    again = sample([TRAIN], ScriptedBackend([]), out, samples=1)  # nothing left to do for TRAIN
    assert (again.attempts, again.skipped) == (0, 1)
    assert json.loads(out.read_text().splitlines()[0])["format"] == 2


def test_training_refuses_held_out_rows_but_takes_studio_turns():
    from appwright.train.sft import TrainError, check_splits

    bank = TaskBank.default()
    train = next(t.id for t in bank.tasks if t.split == "train")
    dev = next(t.id for t in bank.tasks if t.split == "dev")
    check_splits([train, "studio:turn-7"], bank)
    with pytest.raises(TrainError, match=dev):
        check_splits([train, dev, "studio:turn-7"], bank)
    with pytest.raises(TrainError, match="not-a-task"):
        check_splits(["not-a-task"], bank)
