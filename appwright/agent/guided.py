"""Guided `files` answers: the harness writes the answer's frame, the model fills each file.

    c = constrained_answer(backend, messages, config, on_token)   # llama.cpp: a GBNF grammar
    c = structured_answer(backend, messages, config, on_token)    # OpenAI-compatible: a JSON schema

Both return one Completion of the text after FILES_PREFIX, so the loop (agent/loop.py) treats
a guided answer like a free one. DESIGN.md, "The harness": format is the harness's job.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from appwright.agent.answer import drop_blocks
from appwright.agent.junk import named_files
from appwright.models.base import Backend, Completion, GenerationConfig, Message
from appwright.runtime.manifest_schema import grammar, json_schema

FILES_PREFIX = '<file path="app.json">\n'
# After a manifest sampled under the grammar, the harness closes its block and opens the page's,
# with its first line: given only the open tag, the 0.5B went on copying the words that follow
# that tag in the system prompt's rules ("with the complete page. After the blocks, ...").
PAGE_PREFIX = '\n</file>\n<file path="index.html">\n<!doctype html>\n'
MANIFEST_MAX_TOKENS = 1500  # a manifest is 100 to 500 tokens; the grammar bounds every string
REPLY_MAX_TOKENS = 300  # the paragraph to the person after the files
MAX_EXTRA_FILES = 6  # files a guided answer writes besides app.json and index.html
# Where a file of a guided answer ends: its closing tag, or (seen from the 0.5B) a fence or the next
# file's tag written without closing this one.
FILE_END = ("</file>", "<file", "\n```")

def constrained_answer(backend: Backend, messages: list[Message], config: GenerationConfig,
                       on_token: Callable[[str], None] | None, manifest_only: bool = False) -> Completion:
    """A `files` answer guided file by file, for a backend that samples under a grammar, as one
    Completion of the text after FILES_PREFIX:
      1. app.json under the manifest grammar (`manifest_only`, a repair of app.json: just that);
      2. index.html: the harness opens its block (PAGE_PREFIX), the model writes it up to </file>;
      3. each file a written file loads and nobody wrote yet (a script, a stylesheet, a linked
         page), the harness opening its block, up to </file>;
      4. the reply to the person, cut where the model starts another block.
    So the answer holds the files the app needs and ends there: a small model otherwise goes on
    writing pages nothing loads until max_tokens (agent/junk.py, docs/LOG.md). Token ids are not
    kept (the answer is several completions); counts, time and cost are summed."""
    parts: list[Completion] = []
    left = config.max_tokens

    def more(text: str, **change) -> Completion:
        nonlocal left
        c = backend.complete(messages + [Message("assistant", FILES_PREFIX + text)], None,
                             replace(config, max_tokens=max(1, min(left, change.pop("cap", left))), **change), on_token)
        parts.append(c)
        left -= c.completion_tokens
        return c

    def emit(inserted: str) -> str:
        if on_token:
            on_token(inserted)
        return inserted

    # 1. The manifest.
    first = more("", grammar=grammar(), cap=MANIFEST_MAX_TOKENS)
    text = first.text.strip()
    if first.finish_reason != "stop" or left <= 0:
        return _merged(parts, text)  # cut off inside the manifest: the answer ends there
    if manifest_only:
        return _merged(parts, text + emit("\n</file>\n"))
    # 2-3. The page, then what it loads.
    text += emit(PAGE_PREFIX)
    queue, written = ["index.html"], {"app.json"}
    while queue and left > 0:
        path = queue.pop(0)
        c = more(text, stop=FILE_END)
        body = c.text
        if path == "index.html" and body.lstrip().lower().startswith("<!doctype"):  # again, after PAGE_PREFIX's
            body = body.lstrip().split("\n", 1)[1] if "\n" in body.lstrip() else ""
        text += body
        if c.finish_reason != "stop":
            return _merged(parts, text)  # cut off inside a file
        written.add(path)
        queue += [p for p in named_files(body) if p not in written and p not in queue][:MAX_EXTRA_FILES]
        text += emit(("" if body.endswith("\n") else "\n") + "</file>\n" + (f'<file path="{queue[0]}">\n' if queue else ""))
    # 4. The reply; asked for in words when the model went straight on to another block.
    if left > 0:
        c = more(text, stop=("<file",), cap=REPLY_MAX_TOKENS)
        text += c.text
        if not c.text.strip() and left > 0:
            text += _ask_reply(backend, messages, text, config, left, on_token, parts)
    return _merged(parts, text)


# The paragraph after the files, asked for when an answer ends without one (the 0.5B went
# straight on to another block in every taste task of the dev40 run, docs/results.md).
ASK_REPLY = "Now the short paragraph telling the user what the app does."


def _ask_reply(backend: Backend, messages: list[Message], text: str, config: GenerationConfig, left: int,
               on_token: Callable[[str], None] | None, parts: list[Completion]) -> str:
    """The reply, asked for in a new turn after the answer so far (its Completion joins `parts`)."""
    ask = messages + [Message("assistant", FILES_PREFIX + text), Message("user", ASK_REPLY)]
    c = backend.complete(ask, None, replace(config, max_tokens=min(left, REPLY_MAX_TOKENS), stop=("<file",),
                                            grammar=None), on_token)
    parts.append(c)
    return ("" if text.endswith("\n") else "\n") + c.text.strip()


# A backend that answers in a JSON schema (`structured`, e.g. OpenAI's API) cannot continue a
# prefix, so its guided answer is two requests: the manifest under the schema, then the other files.
MANIFEST_FIRST = "First app.json: answer with the manifest's JSON only."
THEN_THE_FILES = ("Now the other files: index.html and each file it loads, each in a <file path=\"...\"> block, "
                  "then one sentence to the person. app.json stays as it is.")


def structured_answer(backend: Backend, messages: list[Message], config: GenerationConfig,
                      on_token: Callable[[str], None] | None, manifest_only: bool = False) -> Completion:
    """A `files` answer from a backend that answers in a JSON schema, as one Completion of the text
    after FILES_PREFIX, the same answer format as constrained_answer's: app.json under the manifest's
    schema (`manifest_only`: just that), then, asked again with the manifest as its answer, the other
    files and the reply (an app.json block there is dropped: the schema's manifest stands)."""
    ask = messages + [Message("user", MANIFEST_FIRST)]
    first = backend.complete(ask, None, replace(config, json_schema=json_schema(),
                                                max_tokens=min(config.max_tokens, MANIFEST_MAX_TOKENS)), on_token)
    text = first.text.strip() + "\n</file>\n"
    if on_token:
        on_token("\n</file>\n")
    left = config.max_tokens - first.completion_tokens
    if first.finish_reason != "stop" or manifest_only or left <= 0:
        return _merged([first], text)
    ask += [Message("assistant", FILES_PREFIX + text), Message("user", THEN_THE_FILES)]
    rest = backend.complete(ask, None, replace(config, max_tokens=left), on_token)
    return _merged([first, rest], text + drop_blocks(rest.text, ["app.json"]).lstrip("\n"))


def _merged(parts: list[Completion], text: str) -> Completion:
    cut = any(c.finish_reason == "length" for c in parts)
    return Completion(text=text, model=parts[-1].model, prompt_tokens=sum(c.prompt_tokens for c in parts),
                      completion_tokens=sum(c.completion_tokens for c in parts),
                      latency_s=sum(c.latency_s for c in parts), first_token_s=parts[0].first_token_s,
                      cost_usd=sum(c.cost_usd for c in parts), finish_reason="length" if cut else "stop",
                      cached_prompt_tokens=sum(c.cached_prompt_tokens for c in parts), continued_prefix=True,
                      usage_missing=any(c.usage_missing for c in parts))
