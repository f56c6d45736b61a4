"""appwright/agent/loop.py, prompt.py and trajectory.py on the ScriptedBackend.

Fast tests use a checker without a browser (manifest errors only); the full runs with
real Chromium are marked slow.
"""

import dataclasses
import json
import threading
import time

import pytest

from appwright.agent.check_app import check_app
from appwright.agent.config import Budget
from appwright.agent.guided import FILE_END, FILES_PREFIX, PAGE_PREFIX
from appwright.agent.loop import run_agent
from appwright.agent.prompt import system_prompt
from appwright.agent.tools import TOOL_SPECS
from appwright.agent.trajectory import Trajectory, append_jsonl, read_jsonl
from appwright.models.base import GenerationConfig, Message
from appwright.models.scripted import ScriptedBackend
from appwright.runtime.manifest_schema import grammar
from appwright.attempt import keep_version
from appwright.workspace import get, list_versions

MANIFEST = {
    "name": "Private notes",
    "auth": {"signup": "open"},
    "entities": {"Note": {"fields": {"title": {"type": "string", "required": True, "max_length": 200},
                                     "body": {"type": "text"}}, "access": "owner"}},
}
INDEX = """<!doctype html>
<html><head><meta charset="utf-8"><title>Private notes</title><link rel="stylesheet" href="style.css"></head>
<body>
  <div id="auth"></div>
  <form id="new" hidden>
    <input name="title" placeholder="Title" required maxlength="200">
    <textarea name="body" placeholder="Note"></textarea>
    <button>Add</button>
  </form>
  <p id="error"></p>
  <ul id="notes"></ul>
  <script src="/_aw/sdk.js"></script>
  <script src="notes.js"></script>
</body></html>"""
NOTES_JS = """const form = document.getElementById("new");
async function refresh() {
  const notes = await aw.entities.Note.list({sort: "-created_at"});
  document.getElementById("notes").innerHTML = aw.html`${notes.map(n => aw.html`<li>${n.title}</li>`)}`;
}
form.addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    await aw.entities.Note.create({title: form.title.value, body: form.body.value});
    form.reset();
    await refresh();
  } catch (err) { document.getElementById("error").textContent = err.message; }
});
(async () => {
  await aw.ui.authForm("#auth");
  if (await aw.auth.me()) { form.hidden = false; await refresh(); }
})();"""
STYLE = "body { font-family: sans-serif; }"
FILES = {"app.json": json.dumps(MANIFEST, indent=2), "index.html": INDEX, "notes.js": NOTES_JS, "style.css": STYLE}
FILES_REPLY = "".join(f'<file path="{p}">\n{c}\n</file>\n' for p, c in FILES.items()) + \
    "A private notes app: each user signs in and sees only their own notes."


def run_and_save(prompt, folder, *args, **kwargs):
    """run_agent, then the one version its callers save (appwright/attempt.py)."""
    traj = run_agent(prompt, folder, *args, **kwargs)
    keep_version(folder, traj)
    return traj


def manifest_checker(root):
    """check_app without a browser: manifest errors only (the browser half is tested in test_agent_tools)."""
    return check_app(root, browser=False)


def tool_call(name, **args):
    return f"<tool_call>{json.dumps({'name': name, 'arguments': args})}</tool_call>"


def without_prefix(call: list) -> list:
    """`files` runs end each call with the answer's start (FILES_PREFIX, or the first file a repair
    asks for) for the model to continue."""
    return call[:-1] if call and call[-1].role == "assistant" and call[-1].content.startswith("<file path=") else call


def assert_messages_match(traj: Trajectory, backend: ScriptedBackend):
    """The record holds exactly what was sent, in order, plus the replies; counts equal each call's."""
    sent = backend.calls
    last = without_prefix(sent[-1])
    assert [m.model_dump() for m in traj.messages[:len(last)]] == [m.to_dict() for m in last]
    for i, call in enumerate(sent):
        reply = traj.messages[len(without_prefix(call))]
        assert reply.role == "assistant"
        assert reply.content == traj.steps[i].prefix + traj.steps[i].raw_text
        assert traj.steps[i].prompt_tokens == sum(len(m.content) for m in call) // 4
        assert traj.steps[i].completion_tokens == max(1, len(traj.steps[i].raw_text) // 4)
    assert traj.prompt_tokens == sum(s.prompt_tokens for s in traj.steps)
    assert traj.completion_tokens == sum(s.completion_tokens for s in traj.steps)


# 1. The system prompt -------------------------------------------------------------------


def test_system_prompts_are_compact_and_say_how_to_answer():
    files, tools = system_prompt("files", TOOL_SPECS), system_prompt("tools", TOOL_SPECS)
    assert '<file path="NAME">' in files and "the app.json block" in files and "<tool_call>" not in files
    assert "<tool_call>" in tools and all(f"- {s.name}(" in tools for s in TOOL_SPECS)
    for p in (files, tools):
        assert "aw.entities.Note.list" in p and "## A complete example page" in p
        assert "## REST API" not in p
        assert len(p) < 10_000  # ~2,500 tokens: ~25 s of prompt reading for a 0.5B model on 2 cores
    with pytest.raises(ValueError):
        system_prompt("xml", TOOL_SPECS)


def test_the_compact_prompt_names_every_type_preset_and_sdk_call_in_600_tokens(tmp_path):
    from appwright.runtime.docs import SDK
    from appwright.runtime.manifest import ACCESS_PRESETS, FIELD_TYPES, SYSTEM_FIELDS

    compact = system_prompt("files", TOOL_SPECS, "compact")
    assert compact.count("\n") < system_prompt("files", TOOL_SPECS).count("\n") / 3
    for word in [*FIELD_TYPES, *ACCESS_PRESETS, *SYSTEM_FIELDS, *(call for call, _ in SDK), '<file path="NAME">']:
        assert word in compact, word
    assert len(compact) < 2_400  # ~4 characters a token; the real count is checked below (slow)
    # the registry says which prompt a model takes, and the run uses it
    backend = ScriptedBackend([FILES_REPLY])
    run_agent("notes", tmp_path / "app", backend, checker=manifest_checker, prompt_style="compact")
    assert backend.calls[0][0].content == compact
    with pytest.raises(ValueError):
        system_prompt("files", TOOL_SPECS, "tiny")


@pytest.mark.slow
def test_the_compact_prompt_is_at_most_600_tokens_of_qwen():
    import llama_cpp

    from appwright.models import get_model
    from appwright.models.pull import ensure_model

    path = ensure_model(get_model("qwen2.5-coder-0.5b"))
    vocab = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)
    tokens = len(vocab.tokenize(system_prompt("files", TOOL_SPECS, "compact").encode(), add_bos=False))
    full = len(vocab.tokenize(system_prompt("files", TOOL_SPECS).encode(), add_bos=False))
    assert tokens <= 600 < full, (tokens, full)


# 2. The files protocol ------------------------------------------------------------------


def test_files_run_writes_checks_saves_and_records(tmp_path):
    backend = ScriptedBackend([FILES_REPLY])
    events = []
    traj = run_and_save("Build a private notes app.", tmp_path / "app", backend, protocol="files",
                        checker=manifest_checker, on_event=events.append, task_id="notes-1")
    assert traj.stop_reason == "answered"
    for path, content in FILES.items():
        assert (tmp_path / "app" / path).read_text() == content + "\n"
    assert traj.summary.startswith("A private notes app")
    assert traj.check.ok and traj.steps[0].check.ok
    assert [c.call.arguments["path"] for c in traj.steps[0].tool_calls] == list(FILES)
    assert get(tmp_path / "app", traj.version_id).files.keys() == FILES.keys()
    assert traj.messages[0].content == system_prompt("files", TOOL_SPECS)
    assert traj.messages[1].content == "Build a private notes app."
    assert len(traj.messages) == 3 and len(backend.calls) == 1
    assert_messages_match(traj, backend)
    assert [e.kind for e in events] == ["step_started", "token"] + ["tool_result"] * 4 + ["check", "finished"]
    assert events[-1].text == "answered" and events[-1].tokens_used == traj.prompt_tokens + traj.completion_tokens
    assert traj.task_id == "notes-1" and traj.model == "scripted" and traj.grade is None


def test_files_run_gets_one_repair_turn(tmp_path):
    broken = FILES_REPLY.replace('"type": "text"', '"type": "txt"')
    backend = ScriptedBackend([broken, FILES_REPLY])
    traj = run_and_save("notes", tmp_path / "app", backend, checker=manifest_checker)
    assert traj.stop_reason == "answered" and len(traj.steps) == 2
    assert not traj.steps[0].check.ok and traj.steps[1].check.ok
    repair = without_prefix(backend.calls[1])[-1]
    assert repair.role == "user" and "txt" in repair.content and "corrected app.json only" in repair.content
    assert traj.version_id is not None
    assert_messages_match(traj, backend)


def test_files_run_stops_after_one_failed_repair(tmp_path):
    broken = FILES_REPLY.replace('"type": "text"', '"type": "txt"')
    backend = ScriptedBackend([broken, broken.replace("txt", "texts"), FILES_REPLY])
    traj = run_and_save("notes", tmp_path / "app", backend, checker=manifest_checker)
    assert traj.stop_reason == "check_failed" and len(traj.steps) == 2 and len(backend.replies) == 1
    assert not traj.check.ok and traj.version_id is None and list_versions(tmp_path / "app") == []


def test_a_repair_that_repeats_the_files_on_disk_is_sampled_again_hotter(tmp_path):
    broken = FILES_REPLY.replace('"type": "text"', '"type": "txt"')
    backend = Recording([broken, broken, FILES_REPLY])
    traj = run_agent("notes", tmp_path / "app", backend, checker=manifest_checker,
                     config=GenerationConfig(temperature=0.2))
    assert traj.stop_reason == "answered" and len(traj.steps) == 2 and traj.steps[1].resampled
    assert [round(c.temperature, 1) for c in backend.configs] == [0.2, 0.2, 0.8]
    assert traj.prompt_tokens + traj.completion_tokens == sum(c.prompt_tokens + c.completion_tokens
                                                               for c in backend.completions)  # the repeat counts


class Recording(ScriptedBackend):
    def __init__(self, replies):
        super().__init__(replies)
        self.configs, self.completions = [], []

    def complete(self, messages, tools=None, config=GenerationConfig(), on_token=None):
        self.configs.append(config)
        self.completions.append(super().complete(messages, tools, config, on_token))
        return self.completions[-1]


def test_files_run_without_blocks_and_with_escaping_paths(tmp_path):
    reply = '<file path="../evil.js">x</file>\nI made it.'
    backend = ScriptedBackend([reply, "no files at all"])
    traj = run_agent("notes", tmp_path / "app", backend, checker=manifest_checker)
    assert not (tmp_path / "evil.js").exists()
    assert not traj.steps[0].tool_calls[0].result.ok
    repair = without_prefix(backend.calls[1])[-1].content
    assert "../evil.js: paths must stay inside the app folder" in repair
    assert "app.json: missing" in repair and str(tmp_path) not in repair  # paths relative to the app
    assert traj.stop_reason == "check_failed"


def test_files_run_without_blocks_is_told_so(tmp_path):
    backend = ScriptedBackend(["Here is your app!", FILES_REPLY])
    traj = run_agent("notes", tmp_path / "app", backend, checker=manifest_checker)
    assert 'no <file path="..."> blocks found' in without_prefix(backend.calls[1])[-1].content
    assert traj.stop_reason == "answered"


class GrammarBackend(ScriptedBackend):
    """A scripted backend that says it samples under a grammar, as llama.cpp does, and stops at
    stop strings as real backends do; it records the grammar and stop strings of each call."""
    constrains = True

    def __init__(self, replies):
        super().__init__(replies)
        self.grammars, self.stops = [], []

    def complete(self, messages, tools=None, config=GenerationConfig(), on_token=None):
        self.grammars.append(config.grammar)
        self.stops.append(config.stop)
        c = super().complete(messages, tools, config, None)
        cuts = [c.text.find(s) for s in config.stop if s in c.text]
        text = c.text[:min(cuts)] if cuts else c.text
        if on_token:
            on_token(text)
        return dataclasses.replace(c, text=text)


def test_a_constraining_backend_is_guided_file_by_file(tmp_path):
    sloppy = {**MANIFEST, "entities": {"Note": {**MANIFEST["entities"]["Note"], "fields": {
        **MANIFEST["entities"]["Note"]["fields"], "created_at": {"type": "datetime"}}}}}
    page = INDEX.removeprefix("<!doctype html>\n")  # PAGE_PREFIX writes the doctype
    # each reply runs on past its file, as a small model does: the guide stops it at </file>
    backend = GrammarBackend([json.dumps(sloppy, indent=2), page + "\n</file>\n<file path=\"junk.html\">",
                              STYLE + "\n</file>", NOTES_JS + "\n</file>\n",
                              "A private notes app.\n<file path=\"more.html\">never written</file>"])
    events = []
    traj = run_agent("notes", tmp_path / "app", backend, checker=manifest_checker, on_event=events.append)
    assert traj.stop_reason == "answered" and traj.summary == "A private notes app."
    # 1. the manifest under the grammar; 2. the page; 3. what it loads, in its order; 4. the reply
    assert backend.grammars == [grammar(), None, None, None, None]
    assert backend.stops == [(), FILE_END, FILE_END, FILE_END, ("<file",)]
    calls = [c[-1].content for c in backend.calls]
    assert calls[0] == FILES_PREFIX
    assert calls[1] == FILES_PREFIX + json.dumps(sloppy, indent=2) + PAGE_PREFIX
    assert calls[2].endswith('</html>\n</file>\n<file path="style.css">\n')
    assert calls[3].endswith('</file>\n<file path="notes.js">\n') and calls[4].endswith("</file>\n")
    step = traj.steps[0]
    assert step.grammar == "manifest" and step.dropped == [] and step.fixes == [
        "entities.Note.fields.created_at: removed; the runtime sets created_at on every record"]
    assert json.loads((tmp_path / "app" / "app.json").read_text()) == MANIFEST
    assert sorted(p.name for p in (tmp_path / "app").iterdir() if not p.name.startswith(".")) == sorted(FILES)
    assert (tmp_path / "app" / "index.html").read_text().strip() == INDEX.strip()
    answer = traj.messages[2].content  # as written to disk, in the files format
    assert answer.startswith(FILES_PREFIX) and '"created_at"' not in answer.split("</file>")[0]
    assert answer.rstrip().endswith("A private notes app.") and "junk.html" not in answer and "more.html" not in answer
    assert '"created_at"' in step.raw_text.split("</file>")[0]  # the model's own text is kept
    assert "".join(e.text for e in events if e.kind == "token") == step.raw_text  # streamed as recorded


def test_a_manifest_cut_off_under_the_grammar_ends_the_answer(tmp_path):
    backend = GrammarBackend(['{"name": "Notes", "entities": {"No'])
    traj = run_agent("notes", tmp_path / "app", backend, checker=manifest_checker,
                     config=GenerationConfig(max_tokens=5), budget=Budget(max_steps=1))
    assert len(backend.calls) == 1 and traj.stop_reason == "max_steps" and not traj.check.ok


def test_files_nothing_loads_are_not_written_and_the_start_bundles_are_kept(tmp_path):
    junk = {"authForm.html": "<form>sign in</form>", "auth.js": "aw.ui.authForm('#a')", "notes.html": "<ul></ul>"}
    reply = "".join(f'<file path="{p}">\n{c}\n</file>\n' for p, c in {**FILES, **junk}.items()) + "Notes."
    traj = run_agent("notes", tmp_path / "app", ScriptedBackend([reply]), checker=manifest_checker)
    step = traj.steps[0]
    assert traj.stop_reason == "answered" and step.dropped == ["authForm.html", "auth.js", "notes.html"]
    written = sorted(p.name for p in (tmp_path / "app").iterdir() if not p.name.startswith("."))
    assert written == sorted(FILES)  # notes.js and style.css are loaded by index.html: kept
    assert all(name not in traj.messages[2].content for name in junk)  # the answer as written
    assert all(name in step.raw_text for name in junk)
    # an edit: a file of the start bundle stays even when the answer no longer names it
    start = tmp_path / "start"
    start.mkdir()
    for path, content in {**FILES, "extra.css": "p {}"}.items():
        (start / path).write_text(content)
    edited = run_agent("rename it", tmp_path / "edit", ScriptedBackend([reply]), checker=manifest_checker,
                       start_bundle=start)
    assert (tmp_path / "edit" / "extra.css").is_file() and "auth.js" in edited.steps[0].dropped


class CutOff(ScriptedBackend):
    def complete(self, messages, tools=None, config=GenerationConfig(), on_token=None):
        c = super().complete(messages, tools, config, on_token)
        return dataclasses.replace(c, finish_reason="length")


def test_an_answer_cut_off_at_max_tokens_is_never_answered(tmp_path):
    cut = FILES_REPLY.rsplit("</file>", 1)[0] + "</file>\n<file path=\""  # ends inside a block's start tag
    traj = run_and_save("notes", tmp_path / "app", CutOff([cut]), checker=manifest_checker)
    assert traj.check.ok and traj.stop_reason == "cut_off" and traj.version_id is not None
    assert traj.summary is None  # no fragment of a block as the reply


def test_files_run_edits_a_start_bundle(tmp_path):
    start = tmp_path / "start"
    start.mkdir()
    for p, c in FILES.items():
        (start / p).write_text(c)
    (start / ".aw").mkdir()
    (start / ".aw" / "app.db").write_text("not copied")
    backend = ScriptedBackend([FILES_REPLY.replace("Private notes", "My notes")])
    traj = run_agent("Rename the app to My notes.", tmp_path / "app", backend, start_bundle=start,
                     checker=manifest_checker)
    assert traj.stop_reason == "answered"
    first = backend.calls[0][1].content
    assert '<file path="notes.js">' in first and first.index("<file") < first.index("Rename the app")
    assert json.loads((tmp_path / "app" / "app.json").read_text())["name"] == "My notes"
    assert not (tmp_path / "app" / ".aw" / "app.db").exists()


# 3. The tools protocol ------------------------------------------------------------------


def test_tools_run_writes_files_recovers_from_a_malformed_call_and_finishes(tmp_path):
    replies = [
        "Let me start.\n" + tool_call("write_file", path="app.json", content=FILES["app.json"]),
        '<tool_call>{"name": "write_file", "arguments": {"path": "index.html", "content": "<p>cut',  # cut off
        tool_call("write_file", path="index.html", content=INDEX),
        tool_call("write_file", path="notes.js", content=NOTES_JS.replace("refresh();\n}", "refresh(;\n}")),
        tool_call("edit_file", path="notes.js", search="refresh(;", replace="refresh();"),
        tool_call("check_app"),
        tool_call("finish", summary="Notes, private to each user."),
    ]
    backend = ScriptedBackend(replies)
    events = []
    traj = run_and_save("Build a notes app.", tmp_path / "app", backend, protocol="tools",
                        budget=Budget(max_steps=12), checker=manifest_checker, on_event=events.append)
    assert traj.stop_reason == "finish" and traj.summary == "Notes, private to each user."
    assert len(traj.steps) == 7 and backend.replies == []
    malformed = traj.steps[1]
    assert malformed.tool_calls == [] and "not closed" in malformed.problems[0]
    assert backend.calls[2][-1].role == "user" and "not closed" in backend.calls[2][-1].content
    assert backend.calls[1][-1] == Message("tool", "write_file: ok\nwrote app.json (%d bytes)" % len(FILES["app.json"]))
    assert (tmp_path / "app" / "index.html").read_text() == INDEX
    assert "refresh(;" not in (tmp_path / "app" / "notes.js").read_text()
    assert traj.steps[5].tool_calls[0].result.ok  # check_app
    assert traj.check.ok and traj.version_id is not None
    assert traj.messages[0].content == system_prompt("tools", TOOL_SPECS)
    assert_messages_match(traj, backend)
    assert sum(e.kind == "tool_result" for e in events) == 6
    assert [e.kind for e in events][-2:] == ["check", "finished"]


def test_tools_run_reports_tool_errors_back(tmp_path):
    backend = ScriptedBackend([tool_call("read_file", path="/etc/passwd"), tool_call("finish", summary="x")])
    traj = run_and_save("x", tmp_path / "app", backend, protocol="tools", checker=manifest_checker)
    obs = backend.calls[1][-1]
    assert obs.role == "tool" and obs.content.startswith("read_file: error") and "absolute" in obs.content
    assert traj.stop_reason == "finish" and traj.check is None and traj.version_id is None  # no files


# 4. Budgets and failures ----------------------------------------------------------------


def test_step_budget(tmp_path):
    backend = ScriptedBackend([tool_call("list_files")] * 5)
    traj = run_agent("x", tmp_path / "app", backend, protocol="tools", budget=Budget(max_steps=2),
                     checker=manifest_checker)
    assert traj.stop_reason == "max_steps" and len(traj.steps) == 2 and len(backend.replies) == 3


def test_files_run_with_one_step_cannot_repair(tmp_path):
    backend = ScriptedBackend(["nothing", FILES_REPLY])
    traj = run_agent("x", tmp_path / "app", backend, budget=Budget(max_steps=1), checker=manifest_checker)
    assert traj.stop_reason == "max_steps" and len(traj.steps) == 1


def test_token_budget(tmp_path):
    backend = ScriptedBackend([tool_call("list_files")] * 5)
    first_prompt = len(system_prompt("tools", TOOL_SPECS)) // 4
    traj = run_agent("x", tmp_path / "app", backend, protocol="tools",
                     budget=Budget(max_tokens=2 * first_prompt + 20), checker=manifest_checker)
    assert traj.stop_reason == "max_tokens" and len(traj.steps) == 2
    assert traj.prompt_tokens + traj.completion_tokens >= 2 * first_prompt + 20


class SlowBackend(ScriptedBackend):
    def complete(self, *args, **kwargs):
        time.sleep(0.3)
        return super().complete(*args, **kwargs)


def test_time_budget(tmp_path):
    backend = SlowBackend([tool_call("list_files")] * 5)
    traj = run_agent("x", tmp_path / "app", backend, protocol="tools", budget=Budget(max_seconds=0.5),
                     checker=manifest_checker)
    assert traj.stop_reason == "max_seconds" and len(traj.steps) == 2 and traj.elapsed_s >= 0.5


def test_model_error_is_a_stop_reason(tmp_path):
    backend = ScriptedBackend([tool_call("list_files")])
    traj = run_agent("x", tmp_path / "app", backend, protocol="tools", checker=manifest_checker)
    assert traj.stop_reason == "model_error" and "no replies left" in traj.error and len(traj.steps) == 1


class StreamingBackend(ScriptedBackend):
    """Streams each reply in 10-character tokens, calling `after_token` after each one."""

    def __init__(self, replies, after_token):
        super().__init__(replies)
        self.after_token = after_token

    def complete(self, messages, tools=None, config=None, on_token=None):
        text = self.replies[0]
        for i in range(0, len(text), 10):
            on_token(text[i:i + 10])
            self.after_token(i // 10 + 1)
        return super().complete(messages, tools, config, None)


def test_stop_set_before_the_run_starts_makes_no_step(tmp_path):
    stop = threading.Event()
    stop.set()
    backend = ScriptedBackend([FILES_REPLY])
    events = []
    traj = run_and_save("notes", tmp_path / "app", backend, checker=manifest_checker, stop=stop, on_event=events.append)
    assert traj.stop_reason == "stopped" and traj.steps == [] and backend.calls == []
    assert traj.version_id is None and traj.error is None
    assert [e.kind for e in events] == ["finished"] and events[0].text == "stopped"


def test_stop_set_while_tokens_stream_breaks_off_the_completion(tmp_path):
    stop = threading.Event()
    seen = []
    backend = StreamingBackend([FILES_REPLY], after_token=lambda n: n == 3 and stop.set())
    traj = run_and_save("notes", tmp_path / "app", backend, checker=manifest_checker, stop=stop,
                        on_event=lambda e: e.kind == "token" and seen.append(e.text))
    assert traj.stop_reason == "stopped" and traj.error is None
    assert traj.steps == [] and len(seen) == 3 and "".join(seen) == FILES_REPLY[:30]  # cut off, not recorded
    assert not (tmp_path / "app" / "app.json").exists() and traj.version_id is None
    assert backend.replies == [FILES_REPLY]  # the reply was never completed


def test_stop_between_steps_keeps_the_steps_done(tmp_path):
    stop = threading.Event()
    broken = FILES_REPLY.replace('"type": "text"', '"type": "txt"')
    backend = ScriptedBackend([broken, FILES_REPLY])
    traj = run_agent("notes", tmp_path / "app", backend, checker=lambda root: (stop.set(), manifest_checker(root))[1],
                     stop=stop)
    assert traj.stop_reason == "stopped" and len(traj.steps) == 1 and not traj.steps[0].check.ok
    assert backend.replies == [FILES_REPLY]


def test_budget_rejects_nonsense():
    with pytest.raises(ValueError):
        Budget(max_steps=0)


# 5. Trajectory records --------------------------------------------------------------------


def test_jsonl_round_trip(tmp_path):
    traj = run_agent("notes", tmp_path / "app", ScriptedBackend([FILES_REPLY]), checker=manifest_checker)
    path = tmp_path / "runs.jsonl"
    append_jsonl(path, traj)
    append_jsonl(path, traj)
    lines = path.read_text().splitlines()
    assert len(lines) == 2 and json.loads(lines[0])["format"] == 2
    back = list(read_jsonl(path))
    assert back == [traj, traj]
    # format 1, written before steps recorded their grammar and fixes, still reads
    old = json.loads(lines[0])
    for step in old["steps"]:
        del step["grammar"], step["fixes"], step["dropped"], step["resampled"]
    path.write_text(json.dumps({**old, "format": 1}) + "\n")
    assert list(read_jsonl(path)) == [traj]
    path.write_text(lines[0].replace('"format":2', '"format":99') + "\n")
    with pytest.raises(ValueError, match="format 99"):
        list(read_jsonl(path))


# 6. With the real browser -------------------------------------------------------------------


@pytest.mark.slow
def test_full_files_run_with_real_check_app(tmp_path):
    backend = ScriptedBackend([FILES_REPLY])
    traj = run_and_save("Build a private notes app.", tmp_path / "app", backend, protocol="files")
    assert traj.stop_reason == "answered", traj.check
    assert traj.check.ok and "OK" in traj.check.text
    assert traj.version_id and get(tmp_path / "app", traj.version_id).id == traj.version_id
    assert_messages_match(traj, backend)


@pytest.mark.slow
def test_files_run_repairs_a_js_error_found_by_the_browser(tmp_path):
    broken = FILES_REPLY.replace("(async () => {", "undefinedHelper();\n(async () => {")
    backend = ScriptedBackend([broken, FILES_REPLY])
    traj = run_agent("notes", tmp_path / "app", backend)
    assert traj.stop_reason == "answered" and len(traj.steps) == 2
    feedback = [m for m in backend.calls[1] if m.role == "user"][-1]  # the last message is the answer's prefix
    assert "undefinedHelper is not defined (at notes.js:" in feedback.content


class Continuing(Recording):
    """Continues the answer's start and stops at GenerationConfig.stop, as llama.cpp does."""

    def complete(self, messages, tools=None, config=GenerationConfig(), on_token=None):
        c = super().complete(messages, tools, config, on_token)
        text, reason = c.text, c.finish_reason
        for s in config.stop or ():
            if s in text:
                text, reason = text[:text.index(s)], "stop"
        return dataclasses.replace(c, text=text, finish_reason=reason,
                                   continued_prefix=messages[-1].role == "assistant")


@pytest.mark.slow
def test_a_repair_of_one_script_ends_with_that_file_and_keeps_the_others(tmp_path):
    broken = FILES_REPLY.replace("(async () => {", "undefinedHelper();\n(async () => {")
    fixed_js = NOTES_JS + "\n</file>\nSome prose the model adds\n<file path=\"index.html\">\nnothing\n</file>"
    backend = Continuing([broken.removeprefix(FILES_PREFIX), fixed_js])
    traj = run_agent("notes", tmp_path / "app", backend)
    assert backend.configs[1].stop == FILE_END
    assert traj.stop_reason == "answered" and traj.check.ok
    assert (tmp_path / "app" / "notes.js").read_text().strip() == NOTES_JS
    assert "<form" in (tmp_path / "app" / "index.html").read_text()  # not replaced by the prose after the block
    assert traj.messages[-1].content.endswith(NOTES_JS + "\n</file>\n")


@pytest.mark.slow
def test_a_repair_that_asks_for_a_missing_script_writes_it(tmp_path):
    without_js = "".join(f'<file path="{p}">\n{c}\n</file>\n' for p, c in FILES.items() if p != "notes.js")
    backend = Continuing([without_js.removeprefix(FILES_PREFIX), NOTES_JS + "\n</file>\nDone."])
    traj = run_agent("notes", tmp_path / "app", backend)
    assert "notes.js" in traj.steps[0].check.text, traj.steps[0].check.text
    assert traj.stop_reason == "answered" and traj.steps[1].dropped == []
    assert (tmp_path / "app" / "notes.js").read_text().strip() == NOTES_JS


def test_a_structured_output_server_writes_the_manifest_under_its_schema_then_the_files(tmp_path):
    import httpx

    from appwright.agent.guided import THEN_THE_FILES
    from appwright.models.openai_backend import OpenAIBackend
    from appwright.models.registry import ModelSpec
    from appwright.runtime.manifest_schema import json_schema

    bodies = []

    def handler(request):
        body = json.loads(request.content)
        bodies.append(body)
        text = (json.dumps(MANIFEST) if "response_format" in body else
                '<file path="app.json">\n{"name": "ignored"}\n</file>\n' + FILES_REPLY.split("</file>\n", 1)[1])
        chunks = [{"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": "stop"}]},
                  {"choices": [], "usage": {"prompt_tokens": 100, "completion_tokens": 50}}]
        return httpx.Response(200, content=b"".join(f"data: {json.dumps(c)}\n\n".encode() for c in chunks))

    spec = ModelSpec(name="local", backend="openai", base_url="http://127.0.0.1:9/v1", model="m",
                     context_length=32768, structured_output=True)
    traj = run_agent("notes", tmp_path / "app", OpenAIBackend(spec, transport=httpx.MockTransport(handler)),
                     checker=manifest_checker)
    assert traj.stop_reason == "answered" and traj.steps[0].grammar == "manifest_schema"
    assert bodies[0]["response_format"]["json_schema"]["schema"] == json_schema()
    assert "response_format" not in bodies[1] and bodies[1]["messages"][-1]["content"] == THEN_THE_FILES
    assert bodies[1]["messages"][-2]["content"].startswith(FILES_PREFIX + "{")
    assert json.loads((tmp_path / "app" / "app.json").read_text()) == MANIFEST  # not the second answer's
    assert (tmp_path / "app" / "notes.js").read_text().strip() == NOTES_JS
    assert traj.messages[-1].content.count('<file path="app.json">') == 1
    # a server without structured output gets one request, no response_format
    bodies.clear()
    plain = OpenAIBackend(spec.model_copy(update={"structured_output": False}),
                          transport=httpx.MockTransport(handler))
    run_agent("notes", tmp_path / "plain", plain, checker=manifest_checker)
    assert "response_format" not in bodies[0] and bodies[0]["messages"][-1]["role"] == "user"


def test_a_guided_answer_without_a_reply_is_asked_for_one(tmp_path):
    from appwright.agent.guided import ASK_REPLY

    page = INDEX.removeprefix("<!doctype html>\n")
    backend = GrammarBackend([json.dumps(MANIFEST), page + "\n</file>", STYLE + "\n</file>", NOTES_JS + "\n</file>\n",
                              '<file path="more.css">', "  A private notes app: only you see your notes.\n"])
    traj = run_agent("notes", tmp_path / "app", backend, checker=manifest_checker)
    assert traj.stop_reason == "answered" and traj.summary == "A private notes app: only you see your notes."
    asked = backend.calls[-1]
    assert asked[-1].role == "user" and asked[-1].content == ASK_REPLY
    assert asked[-2].role == "assistant" and asked[-2].content.endswith(NOTES_JS + "\n</file>\n")
    assert traj.messages[-1].content.endswith("</file>\nA private notes app: only you see your notes.")


def test_an_input_the_script_reads_but_the_form_lacks_is_added_and_recorded(tmp_path):
    short_form = FILES_REPLY.replace('    <textarea name="body" placeholder="Note"></textarea>\n', "")
    traj = run_agent("notes", tmp_path / "app", ScriptedBackend([short_form]), checker=manifest_checker)
    page = (tmp_path / "app" / "index.html").read_text()
    assert '<label>Body <textarea name="body"></textarea></label>' in page
    assert page.index('name="body"') < page.index("<button>Add</button>")
    assert traj.steps[0].fixes == ["index.html: added an input for body to the form (the script reads it; "
                                   "the form had none)"]
    assert '<textarea name="body">' in traj.messages[-1].content  # the answer as written to disk


def by_script(root):
    """A check that reads notes.js: a script that throws, a form that does not work, or all well
    (the loop's unit tests need both failures without a browser)."""
    from appwright.agent.check_app import CheckReport

    script = (root / "notes.js").read_text()
    if "BROKEN" in script:
        return CheckReport(js_errors=["SyntaxError: Unexpected token ')' (at notes.js:3:1)"])
    if "NO_REFRESH" in script:
        return CheckReport(form_errors=["submitting the form saved a record, but the page does not show 'x' "
                                        "afterwards: list the records again after creating one"])
    return CheckReport()


def test_a_repair_that_breaks_the_script_gives_way_to_the_first_answer(tmp_path):
    first = FILES_REPLY.replace("await refresh();", "// NO_REFRESH")
    repair = f'<file path="notes.js">\n{NOTES_JS.replace("await refresh();", "BROKEN)")}\n</file>\n'
    traj = run_and_save("notes", tmp_path / "app", ScriptedBackend([first, repair]), checker=by_script)
    assert traj.stop_reason == "check_failed" and len(traj.steps) == 2
    assert traj.steps[1].kept_first and not traj.steps[0].kept_first
    assert "Unexpected token" in traj.steps[1].check.text
    assert "list the records again" in traj.check.text  # the run's check is the first answer's
    assert "// NO_REFRESH" in (tmp_path / "app" / "notes.js").read_text()
    assert traj.version_id is not None  # the first answer's bundle is servable, so it is saved


def test_a_repair_that_gets_as_far_stands(tmp_path):
    first = FILES_REPLY.replace("await refresh();", "// NO_REFRESH")
    repair = f'<file path="notes.js">\n{NOTES_JS.replace("await refresh();", "// NO_REFRESH again")}\n</file>\n'
    traj = run_and_save("notes", tmp_path / "app", ScriptedBackend([first, repair]), checker=by_script)
    assert traj.stop_reason == "check_failed" and not traj.steps[1].kept_first
    assert "NO_REFRESH again" in (tmp_path / "app" / "notes.js").read_text()


def test_restore_puts_back_every_byte_and_deletes_what_was_added(tmp_path):
    from appwright.agent.loop import _restore, _snapshot
    from appwright.agent.tools import Toolbox

    ws = Toolbox(tmp_path)
    long_script = "x = 1;\n" * 5000  # longer than read_file shows the model
    ws.write_file("app.js", long_script)
    ws.write_file("index.html", "<p>first</p>")
    saved = _snapshot(ws)
    ws.write_file("app.js", "broken(")
    ws.write_file("more/extra.js", "1")
    _restore(ws, saved)
    assert sorted(ws.files()) == ["app.js", "index.html"]
    assert (tmp_path / "app.js").read_text() == long_script
