"""Prompt-lookup drafts (models/lookup.py): what is proposed, how the length adapts, and (slow)
that the real 0.5B, greedy, copies a page with drafts kept and writes what it writes without."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from appwright.models import GenerationConfig, Message, ModelSpec, get_model
from appwright.models.lookup import PromptLookup, continuation


def ids(*xs: int) -> np.ndarray:
    return np.array(xs, dtype=np.intc)


def test_proposes_what_followed_the_latest_earlier_occurrence():
    #                 0  1  2  3  4  5   6  7  8  9  10 11  12 13 14 15
    context = ids(1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 7, 8, 1, 2, 3, 4)
    assert continuation(context) == 10  # after the second "1 2 3 4", not the first
    draft = PromptLookup(max_tokens=3)(context)
    assert draft.tolist() == [7, 8, 1]


def test_no_draft_without_a_four_token_match():
    assert continuation(ids(1, 2, 3, 9, 1, 2, 3)) is None  # a 3-gram repeats: too short to bet on
    assert PromptLookup()(ids(5, 6, 7)).tolist() == []


def test_length_doubles_after_a_kept_draft_and_shrinks_after_a_refused_one():
    look = PromptLookup(max_tokens=8)
    look.length = 2
    page = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]
    context = page + [0] + page[:4]
    assert look(ids(*context)).tolist() == [14, 15]
    context += [14, 15, 16]  # both kept, then the sampler's own token
    assert look(ids(*context)).tolist() == [17, 18, 19, 0]  # doubled: 2 -> 4 (the copy has only this much left)
    context += [17, 99]  # one kept, the next refused
    assert look(ids(*context)).tolist() == []  # "15 16 17 99" is new
    assert look.length == 2 and (look.proposed, look.kept) == (6, 3)
    look.reset()
    assert (look.length, look.proposed, look.kept) == (8, 0, 0)


def test_registry_turns_it_on_and_bounds_it():
    assert get_model("qwen2.5-coder-0.5b").lookup_tokens == 48
    with pytest.raises(ValidationError, match="lookup_tokens"):
        ModelSpec(name="x", backend="llamacpp", location="x.gguf", context_length=512, lookup_tokens=-1)


@pytest.mark.solo
@pytest.mark.slow
@pytest.mark.timeout(600)
def test_real_model_copies_a_page_with_drafts_and_writes_what_it_writes_without():
    from appwright.models.llamacpp import LlamaCppBackend
    from appwright.models.pull import ensure_model

    spec = get_model("qwen2.5-coder-0.5b")
    page = "\n".join(f'<li id="row{i}">Row {i}: <span class="total">{i * 7}</span> items</li>' for i in range(30))
    ask = [Message("user", f"Send this page back unchanged, inside one ```html block.\n\n```html\n{page}\n```")]
    config = GenerationConfig(max_tokens=160, temperature=0.0, seed=0)
    texts = {}
    for lookup in (0, 48):
        backend = LlamaCppBackend(spec, ensure_model(spec), lookup_tokens=lookup)
        try:
            done = backend.complete(ask, config=config)
            texts[lookup] = done.text
            if lookup:
                assert backend.lookup.kept > 80  # most of the copy came from drafts
        finally:
            backend.close()
    assert texts[0].strip() and texts[48] == texts[0]
