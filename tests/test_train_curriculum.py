"""The curriculum: tasks passed sometimes come up more often; the layout GRPO groups rely on."""

import random
from collections import Counter

from appwright.train.curriculum import CurriculumSampler, PassRates


def test_pass_rates_weigh_only_tasks_strictly_between_0_and_1(tmp_path):
    rates = PassRates()
    for good in (True, False):
        rates.add("mixed", good)
    rates.add("never", False)
    rates.add("always", True)
    assert rates.rate("mixed") == 0.5 and rates.rate("unseen") is None
    assert [rates.weight(t, 4.0) for t in ("mixed", "never", "always", "unseen")] == [4.0, 1.0, 1.0, 1.0]
    rates.save(tmp_path / "r.json")
    assert PassRates.load(tmp_path / "r.json") == rates


def test_each_task_repeats_in_a_row_and_batches_hold_distinct_tasks():
    sampler = CurriculumSampler([f"t{i}" for i in range(6)], PassRates(), mini_repeat_count=3, batch_size=2,
                                repeat_count=2)
    out = list(sampler)
    assert len(out) == len(sampler) == 3 * 2 * 3 * 2
    groups = [out[i:i + 3] for i in range(0, len(out), 3)]
    assert all(len(set(g)) == 1 for g in groups)  # a GRPO group is one task
    for b in range(0, len(groups), 4):  # batch of 2 tasks, repeated twice
        firsts = [g[0] for g in groups[b:b + 4]]
        assert firsts[:2] == firsts[2:] and firsts[0] != firsts[1]


def test_tasks_passed_sometimes_are_drawn_more_often_and_rates_are_read_per_batch():
    ids = [f"t{i}" for i in range(10)]
    rates = PassRates()
    rates.add("t3", True)
    rates.add("t3", False)
    sampler = CurriculumSampler(ids, rates, mini_repeat_count=1, batch_size=1, boost=4.0, seed=1)
    counts = Counter(ids[sampler.draw(random.Random(i))[0]] for i in range(3000))
    assert counts["t3"] > 2.5 * max(counts[t] for t in ids if t != "t3")  # expected 4x
    off = CurriculumSampler(ids, rates, mini_repeat_count=1, batch_size=1, enabled=False)
    assert set(off.weights()) == {1.0}
    rates.add("t3", True)  # still in between; weights follow the table as it changes
    rates.add("t5", True)
    rates.add("t5", False)
    assert [w for w in sampler.weights() if w > 1] == [4.0, 4.0]
