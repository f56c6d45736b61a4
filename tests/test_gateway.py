"""The gateway (appwright/gateway): the official `openai` client against a real uvicorn server on
127.0.0.1, with a scripted local model and, standing in for frontier models, a real local
OpenAI-compatible HTTP server started here (one route answers, one answers 500 and echoes the key
it got, one sleeps past the timeout). No network, no real model; the last test (slow) streams
from the real embedded 0.5B.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import openai
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy import create_engine, inspect, select, text
from typer.testing import CliRunner

from appwright.cli import app as cli_app
from appwright.gateway.app import close_gateway, create_gateway
from appwright.gateway.config import RouterConfig, auto_models, load_config, served_models
from appwright.gateway.db import VERSION_TABLE, Base, Database, RequestRow
from appwright.gateway.keys import add_key
from appwright.gateway.router import read_signs, route_request
from appwright.models.base import Completion, GenerationConfig, Message, Price
from appwright.models.registry import ModelSpec
from conftest import free_port, new_database, serve_asgi

KEY = "sk-test-FRONTIER-secret-0123456789"  # the frontier's API key: must never come back out
CHEAP_REPLY = "Cheap says hi."
FRONTIER_WORDS = ["Frontier ", "says ", "hello."]
CLI = Path(sys.executable).parent / "appwright"


# -- the stand-in frontier: a real OpenAI-compatible server ----------------------------------------------------

def frontier_app(seen: list[str]) -> FastAPI:
    app = FastAPI()

    @app.post("/{kind}/v1/chat/completions")
    async def chat(kind: str, request: Request):
        auth = request.headers.get("authorization", "")
        seen.append(auth)
        await request.json()
        if kind == "fail":  # a careless server that echoes what it was sent
            return JSONResponse({"error": {"message": f"overloaded; your header was {auth}"}}, status_code=500)
        if kind == "slow":
            await asyncio.sleep(2.5)

        async def events():
            for word in FRONTIER_WORDS:
                yield "data: " + json.dumps({"choices": [{"index": 0, "delta": {"content": word}}]}) + "\n\n"
            yield "data: " + json.dumps({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}) + "\n\n"
            yield "data: " + json.dumps({"choices": [], "usage": {"prompt_tokens": 11, "completion_tokens": 3}}) + "\n\n"
            yield "data: [DONE]\n\n"
        return StreamingResponse(events(), media_type="text/event-stream")

    return app


@pytest.fixture(scope="module")
def frontier():
    seen: list[str] = []
    with serve_asgi(frontier_app(seen)) as url:
        yield url, seen


def write_settings(root: Path, frontier_url: str) -> None:
    """models.toml (a scripted local model), gateway.toml (three remotes), keys.toml (their key)."""
    (root / "cheap.json").write_text(json.dumps([CHEAP_REPLY] * 500))
    (root / "models.toml").write_text(f"""
[models.cheap]
backend = "scripted"
location = "{root / 'cheap.json'}"
context_length = 4096
price = {{input_per_m = 1.0, output_per_m = 2.0}}
""")

    def remote(name: str, kind: str, price_in: float, price_out: float) -> str:
        return (f'[remotes.{name}]\nbase_url = "{frontier_url}/{kind}/v1"\nmodel = "big"\n'
                f'api_key_env = "AW_TEST_FRONTIER_KEY"\ncontext_length = 100000\n'
                f'price = {{input_per_m = {price_in}, output_per_m = {price_out}, as_of = "2026-01-01"}}\n')
    (root / "gateway.toml").write_text(
        f'db_url = "sqlite:///{root / "gateway.db"}"\nmodels = ["cheap", "frontier", "broken", "slow"]\n'
        'auto = ["frontier", "broken", "cheap"]\nremote_timeout_s = 1.0\n[router]\nlong_chars = 2000\nthreshold = 2\n'
        + remote("frontier", "ok", 3.0, 15.0) + remote("broken", "fail", 1.5, 5.0) + remote("slow", "slow", 0.5, 1.0))
    (root / "keys.toml").write_text(f'AW_TEST_FRONTIER_KEY = "{KEY}"\n')


@pytest.fixture(scope="module")
def settings(tmp_path_factory, frontier):
    root = tmp_path_factory.mktemp("gateway")
    write_settings(root, frontier[0])
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("APPWRIGHT_HOME", str(root / "home"))
        mp.setenv("APPWRIGHT_MODELS_TOML", str(root / "models.toml"))
        mp.setenv("APPWRIGHT_GATEWAY_TOML", str(root / "gateway.toml"))
        mp.setenv("APPWRIGHT_KEYS_TOML", str(root / "keys.toml"))
        mp.delenv("AW_TEST_FRONTIER_KEY", raising=False)  # the key comes from keys.toml
        yield root


@pytest.fixture(scope="module")
def gateway(settings):
    app = create_gateway(load_config())
    with serve_asgi(app) as url:
        yield url, app
    close_gateway(app)


def client(gateway, name: str, **kw) -> openai.OpenAI:
    """An openai client with a fresh key for `name` (so each test reads only its own log rows)."""
    url, app = gateway
    token = add_key(app.state.gateway.db, name, **kw)
    return openai.OpenAI(base_url=f"{url}/v1", api_key=token, max_retries=0, timeout=20)


def usage(gateway, c: openai.OpenAI) -> dict:
    return httpx.get(f"{gateway[0]}/v1/usage", headers={"Authorization": f"Bearer {c.api_key}"}).json()


def rows(gateway, caller: str) -> list[RequestRow]:
    with gateway[1].state.gateway.db.session() as s:
        return list(s.scalars(select(RequestRow).where(RequestRow.caller == caller).order_by(RequestRow.id)))


# -- answers -------------------------------------------------------------------------------------------------

def test_the_openai_client_streams_a_completion(gateway):
    c = client(gateway, "streamer")
    chunks = list(c.chat.completions.create(model="cheap", messages=[{"role": "user", "content": "Say hi"}],
                                            stream=True, stream_options={"include_usage": True}))
    text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    assert text == CHEAP_REPLY
    assert {ch.model for ch in chunks} == {"cheap"}
    finish = [ch.choices[0].finish_reason for ch in chunks if ch.choices and ch.choices[0].finish_reason]
    assert finish == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == len(CHEAP_REPLY) // 4
    row, = rows(gateway, "streamer")
    assert (row.model, row.stream, row.status, row.escalations) == ("cheap", True, 200, 0)
    assert row.cost_usd == pytest.approx(Price(1.0, 2.0).cost(row.prompt_tokens, row.completion_tokens))


def test_a_named_remote_model_passes_straight_through(gateway, frontier):
    c = client(gateway, "plain")
    before = len(frontier[1])
    answer = c.chat.completions.create(model="frontier", messages=[{"role": "user", "content": "Hello"}])
    assert answer.choices[0].message.content == "".join(FRONTIER_WORDS)
    assert answer.model == "frontier" and answer.choices[0].finish_reason == "stop"
    assert (answer.usage.prompt_tokens, answer.usage.completion_tokens) == (11, 3)  # the server's own counts
    ext = answer.model_extra["appwright"]
    assert ext["model"] == "frontier" and ext["route"] == "named" and ext["escalations"] == 0
    assert ext["cost_usd"] == pytest.approx((11 * 3.0 + 3 * 15.0) / 1e6)
    assert frontier[1][before:] == [f"Bearer {KEY}"]  # keys.toml's key was sent upstream
    row, = rows(gateway, "plain")
    assert row.id == ext["log_id"] and row.requested == "frontier" and row.cost_usd == pytest.approx(ext["cost_usd"])


def test_models_lists_auto_and_the_served_models(gateway):
    c = client(gateway, "lister")
    ids = [m.id for m in c.models.list()]
    assert ids == ["auto", "cheap", "frontier", "broken", "slow"]
    assert c.models.retrieve("frontier").model_extra["appwright"]["price_usd_per_m"] == {"input": 3.0, "output": 15.0}


# -- auto ----------------------------------------------------------------------------------------------------

def test_the_router_rule():
    cfg = RouterConfig(long_chars=100, threshold=2)
    specs = {n: ModelSpec(name=n, backend="scripted", location="x", context_length=10, price=Price(p, p))
             for n, p in (("mid", 2.0), ("cheap", 1.0), ("dear", 9.0))}
    auto = ["dear", "mid", "cheap"]
    easy = route_request("auto", [Message("user", "What is the capital of France?")], specs, auto, cfg, 100)
    assert easy.ladder == ["cheap", "mid", "dear"] and easy.signs.score == 0  # cheapest first, by price
    code = read_signs([Message("user", "Fix this Python function")], cfg)
    assert (code.code, code.app, code.long) == (True, False, False)
    hard = route_request("auto", [Message("user", "Write the code for a todo app")], specs, auto, cfg, 100)
    assert hard.signs.score == 2 and hard.ladder == ["mid", "dear"]  # two signs: the cheapest is skipped
    long = route_request("auto", [Message("system", "x" * 200), Message("user", "Build me a website")], specs,
                         auto, cfg, 100)
    assert long.ladder == ["mid", "dear"] and "skipped the cheapest, cheap" in long.reason
    assert route_request("dear", [Message("user", "hi")], specs, auto, cfg, 100).ladder == ["dear"]


def test_a_trained_model_takes_its_bases_place_on_the_default_ladder(monkeypatch, tmp_path):
    """No `auto` list: appwright-0.5b (a LoRA on the 0.5B) climbs first and the base is left off; an
    `auto` list that names the base keeps it."""
    import appwright.models.pull as pull

    local = ["qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b", "appwright-0.5b"]
    config = load_config(tmp_path / "none.toml", models=local)
    served = served_models(config)
    monkeypatch.setattr(pull, "is_installed", lambda spec: True)
    assert sorted(auto_models(config, served, {})) == ["appwright-0.5b", "qwen2.5-coder-1.5b"]
    monkeypatch.setattr(pull, "is_installed", lambda spec: spec.name != "appwright-0.5b")
    assert sorted(auto_models(config, served, {})) == ["qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"]
    listed = load_config(tmp_path / "none.toml", models=local, auto=local)
    assert auto_models(listed, served, {}) == local


def test_auto_takes_the_cheapest_and_escalates_past_a_failing_remote(gateway):
    c = client(gateway, "auto-user")
    easy = c.chat.completions.create(model="auto", messages=[{"role": "user", "content": "Hello there"}])
    assert easy.model == "cheap" and easy.choices[0].message.content == CHEAP_REPLY
    # code + app: two signs, so the scripted model is skipped; `broken` (cheaper) answers 500 first.
    hard = c.chat.completions.create(model="auto", messages=[{"role": "user",
                                                              "content": "Write the code for a todo app"}])
    assert hard.model == "frontier" and hard.choices[0].message.content == "".join(FRONTIER_WORDS)
    ext = hard.model_extra["appwright"]
    assert [(t["model"], t["ok"]) for t in ext["tried"]] == [("broken", False), ("frontier", True)]
    assert "HTTP 500" in ext["tried"][0]["error"] and ext["escalations"] == 1
    # streamed: the failed rung fails before its first token, so the stream comes from the next one
    chunks = list(c.chat.completions.create(model="auto", stream=True, messages=[
        {"role": "user", "content": "Write the code for a todo app"}]))
    assert "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices) == "".join(FRONTIER_WORDS)
    assert chunks[0].model == "frontier"
    log = rows(gateway, "auto-user")
    assert [(r.model, r.escalations, r.status) for r in log] == [("cheap", 0, 200), ("frontier", 1, 200),
                                                                  ("frontier", 1, 200)]
    assert [a["model"] for a in log[1].attempts] == ["broken", "frontier"] and "skipped" in log[1].route


# -- errors ----------------------------------------------------------------------------------------------------

def test_no_or_a_bad_token_gets_401_in_openais_shape(gateway):
    url, _ = gateway
    for headers in ({}, {"Authorization": "Bearer awg-not-a-real-token"}, {"Authorization": "Basic x"}):
        r = httpx.post(f"{url}/v1/chat/completions", headers=headers,
                       json={"model": "cheap", "messages": [{"role": "user", "content": "hi"}]})
        assert r.status_code == 401, r.text
        assert set(r.json()["error"]) == {"message", "type", "code", "param"}
        assert "not-a-real-token" not in r.text
    assert httpx.get(f"{url}/v1/models").status_code == 401
    bad = openai.OpenAI(base_url=f"{url}/v1", api_key="awg-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.models.list()


def test_a_malformed_request_gets_400(gateway):
    c = client(gateway, "clumsy")
    url, headers = gateway[0], {"Authorization": f"Bearer {c.api_key}"}
    cases = {b"{not json": "not JSON",
             json.dumps({"model": "cheap"}).encode(): "messages",
             json.dumps({"model": "cheap", "messages": []}).encode(): "messages",
             json.dumps({"model": "cheap", "messages": [{"role": "wizard", "content": "x"}]}).encode(): "role",
             json.dumps({"model": "cheap", "messages": [{"role": "user", "content": "x"}],
                         "tools": [{"type": "function"}]}).encode(): "tools",
             json.dumps({"model": "cheap", "messages": [{"role": "user", "content": "x"}], "n": 3}).encode(): "n",
             json.dumps({"model": "cheap", "messages": [{"role": "user", "content": "x"}],
                         "temperature": 9}).encode(): "temperature"}
    for body, word in cases.items():
        r = httpx.post(f"{url}/v1/chat/completions", headers=headers, content=body)
        assert r.status_code == 400, (body, r.text)
        error = r.json()["error"]
        assert error["type"] == "invalid_request_error" and word in error["message"], error
    with pytest.raises(openai.BadRequestError):
        c.chat.completions.create(model="cheap", messages=[{"role": "user", "content": "x"}], max_tokens=0)
    r = httpx.post(f"{url}/v1/chat/completions", headers=headers, content=b"x" * (2 * 1024 * 1024))
    assert r.status_code == 413 and r.json()["error"]["code"] == "request_too_large"
    assert rows(gateway, "clumsy") == []  # nothing was tried


def test_an_unknown_model_gets_404_listing_the_models(gateway):
    c = client(gateway, "lost")
    with pytest.raises(openai.NotFoundError) as e:
        c.chat.completions.create(model="frontiers", messages=[{"role": "user", "content": "x"}])
    message = e.value.message
    assert "'frontiers'" in message and "Did you mean 'frontier'" in message
    assert all(name in message for name in ("auto", "cheap", "frontier", "broken", "slow"))
    assert e.value.code == "model_not_found"


def test_a_spent_daily_budget_gets_429_saying_what_was_spent(gateway):
    c = client(gateway, "spender", budget_usd_per_day=1e-6)
    c.chat.completions.create(model="cheap", messages=[{"role": "user", "content": "Say hi please"}])  # under budget
    spent = usage(gateway, c)
    assert spent["requests"] == 1 and spent["cost_usd"] > 1e-6 and spent["remaining_usd"] == 0.0
    with pytest.raises(openai.RateLimitError) as e:
        c.chat.completions.create(model="cheap", messages=[{"role": "user", "content": "again"}])
    assert f"${spent['cost_usd']:.6f} of $0.000001" in e.value.message and e.value.code == "budget_exceeded"
    assert [r.status for r in rows(gateway, "spender")] == [200, 429]


def test_max_usd_leaves_out_the_models_that_could_cost_more(gateway):
    c = client(gateway, "frugal")
    hard = [{"role": "user", "content": "Write the code for a todo app"}]  # auto skips cheap: broken, frontier
    # frontier's answer could cost 1,000 x $15/M = $0.015; broken's $0.005: only broken fits, and it fails
    with pytest.raises(openai.InternalServerError) as failed:
        c.chat.completions.create(model="auto", messages=hard, max_tokens=1000,
                                  extra_body={"appwright": {"max_usd": 0.01}})
    assert "broken" in str(failed.value) and "frontier" not in str(failed.value)
    with pytest.raises(openai.RateLimitError) as spent:  # nothing fits: 429 saying what it would cost
        c.chat.completions.create(model="frontier", messages=hard, max_tokens=1000,
                                  extra_body={"appwright": {"max_usd": 0.001}})
    assert spent.value.status_code == 429 and "frontier (up to $0.015" in str(spent.value)
    assert spent.value.body["code"] == "request_budget_exceeded"
    ok = c.chat.completions.create(model="auto", messages=hard, max_tokens=1000, extra_body={"appwright": {"max_usd": 1}})
    assert ok.model == "frontier"  # room for both: as without a cap
    with pytest.raises(openai.BadRequestError, match="max_usd"):
        c.chat.completions.create(model="auto", messages=hard, extra_body={"appwright": {"max_usd": "lots"}})
    log = rows(gateway, "frugal")
    assert [r.status for r in log] == [502, 429, 200] and "over max_usd $0.010000: frontier" in log[0].route


@pytest.mark.solo
def test_a_named_remote_that_fails_or_times_out_gets_502(gateway):
    c = client(gateway, "unlucky")
    with pytest.raises(openai.InternalServerError) as e:
        c.chat.completions.create(model="broken", messages=[{"role": "user", "content": "x"}])
    assert e.value.status_code == 502 and "broken" in e.value.message and "HTTP 500" in e.value.message
    t = time.perf_counter()
    with pytest.raises(openai.InternalServerError) as e:
        c.chat.completions.create(model="slow", messages=[{"role": "user", "content": "x"}], stream=True)
    assert e.value.status_code == 502 and "ReadTimeout" in e.value.message and time.perf_counter() - t < 2.4
    assert [(r.status, r.model, r.escalations) for r in rows(gateway, "unlucky")] == [(502, None, 1), (502, None, 1)]


def test_the_key_is_never_logged_or_echoed(gateway, frontier, caplog):
    caplog.set_level(logging.DEBUG)
    c = client(gateway, "snoop")
    before = len(frontier[1])
    with pytest.raises(openai.InternalServerError) as e:
        c.chat.completions.create(model="broken", messages=[{"role": "user", "content": "x"}])
    assert "[key hidden]" in e.value.message and KEY not in e.value.message and KEY not in str(e.value.body)
    hard = c.chat.completions.create(model="auto", messages=[{"role": "user", "content": "Write code for an app"}])
    assert KEY not in hard.model_dump_json()
    with pytest.raises(openai.InternalServerError):
        c.chat.completions.create(model="slow", messages=[{"role": "user", "content": "x"}])
    assert frontier[1][before:] == [f"Bearer {KEY}"] * 4  # the key was really sent (and echoed back by `broken`)
    assert KEY not in caplog.text and "[key hidden]" in caplog.text
    with gateway[1].state.gateway.db.engine.connect() as conn:
        dump = json.dumps([list(map(str, r)) for r in conn.execute(text("SELECT * FROM gateway_requests"))])
    assert KEY not in dump and "[key hidden]" in dump


# -- the local model: one at a time, a queue, a caller who leaves ------------------------------------------------

class Ticker:
    """A local backend that writes one token every 20 ms and notes how many generations overlap."""
    constrains = structured = False

    def __init__(self):
        self.name, self.active, self.most_active, self.sent = "tick", 0, 0, 0
        self.lock = threading.Lock()

    def complete(self, messages, tools=None, config=GenerationConfig(), on_token=None):
        with self.lock:
            self.active += 1
            self.most_active = max(self.most_active, self.active)
        try:
            words = []
            for i in range(config.max_tokens):
                time.sleep(0.02)
                words.append(f"t{i} ")
                if on_token:
                    on_token(words[-1])
                self.sent += 1
            return Completion(text="".join(words), model=self.name, prompt_tokens=1, completion_tokens=len(words),
                              latency_s=0.0, first_token_s=0.0, cost_usd=0.0, finish_reason="length")
        finally:
            with self.lock:
                self.active -= 1

    def close(self):
        """Holds nothing to release: the Backend protocol asks for close()."""


def test_auto_with_no_ready_model_gets_503_saying_how_to_get_one(tmp_path):
    """A llama.cpp model not pulled and a remote without a key: nothing for `auto` (the start line
    says so), a named model still answers, and `auto` gets 503 naming the two ways out."""
    from appwright.gateway.config import GatewayConfig
    served = {"absent": ModelSpec(name="absent", backend="llamacpp", location="nowhere/absent.gguf",
                                  context_length=4096),
              "keyless": ModelSpec(name="keyless", backend="openai", base_url="http://127.0.0.1:9/v1", model="m",
                                   api_key_env="NO_SUCH_KEY", context_length=4096)}
    app = create_gateway(GatewayConfig(db_url=f"sqlite:///{tmp_path}/g.db"), served=served, keys={})
    assert app.state.gateway.auto == []
    token = add_key(app.state.gateway.db, "nobody-ready")
    try:
        with serve_asgi(app) as url:
            c = openai.OpenAI(base_url=f"{url}/v1", api_key=token, max_retries=0, timeout=20)
            for extra in ({}, {"appwright": {"app": {"files": {}}}}):
                with pytest.raises(openai.InternalServerError) as err:
                    c.chat.completions.create(model="auto", messages=[{"role": "user", "content": "a notes app"}],
                                              extra_body=extra)
                assert err.value.status_code == 503 and err.value.code == "no_models"
                assert "appwright models pull NAME" in err.value.message
                assert "`auto` in gateway.toml" in err.value.message
    finally:
        close_gateway(app)


def test_the_local_model_runs_one_at_a_time_and_stops_for_a_caller_who_left(tmp_path):
    from appwright.gateway.config import GatewayConfig
    ticker = Ticker()
    spec = ModelSpec(name="tick", backend="scripted", location="unused", context_length=4096)
    app = create_gateway(GatewayConfig(db_url=f"sqlite:///{tmp_path}/g.db", max_queue=2), served={"tick": spec},
                         keys={}, load_local=lambda name: ticker)
    token = add_key(app.state.gateway.db, "queued")
    try:
        with serve_asgi(app) as url:
            c = openai.OpenAI(base_url=f"{url}/v1", api_key=token, max_retries=0, timeout=20)
            statuses: list[int] = []

            def ask():
                try:
                    c.chat.completions.create(model="tick", max_tokens=15, messages=[{"role": "user", "content": "x"}])
                    statuses.append(200)
                except openai.APIStatusError as e:
                    statuses.append(e.status_code)
            threads = [threading.Thread(target=ask) for _ in range(3)]
            for t in threads:
                t.start()
                time.sleep(0.05)
            for t in threads:
                t.join()
            assert sorted(statuses) == [200, 200, 503] and ticker.most_active == 1  # two ran in turn, one refused

            before = ticker.sent
            stream = c.chat.completions.create(model="tick", max_tokens=400, stream=True,
                                               messages=[{"role": "user", "content": "x"}])
            got = [ch for _, ch in zip(range(3), stream)]
            stream.close()  # the caller leaves after a few tokens of 400
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and not [r for r in rows((url, app), "queued") if r.status == 499]:
                time.sleep(0.05)
            cut, = [r for r in rows((url, app), "queued") if r.status == 499]
            assert got and cut.stream and "closed the connection" in cut.error
            sent = ticker.sent
            time.sleep(0.2)
            assert ticker.sent == sent and sent - before < 100  # the generation stopped, long before 400 tokens
    finally:
        close_gateway(app)


# -- the log ---------------------------------------------------------------------------------------------------

def test_log_rows_and_stats(gateway, settings):
    c = client(gateway, "counted")
    for _ in range(2):
        c.chat.completions.create(model="cheap", messages=[{"role": "user", "content": "Hello"}])
    log = rows(gateway, "counted")
    assert len(log) == 2 and all(r.format_version == 1 and r.latency_s > 0 and r.created_at for r in log)
    used = usage(gateway, c)
    assert used["requests"] == 2 and used["prompt_tokens"] == sum(r.prompt_tokens for r in log)
    result = CliRunner().invoke(cli_app, ["gateway", "stats"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if " cheap " in line)
    with gateway[1].state.gateway.db.session() as s:  # a failed request counts under the model it asked for
        cheap = [r for r in s.scalars(select(RequestRow)) if (r.model or r.requested) == "cheap"]
    cells = [c for c in line.split() if c != "│"]
    assert cells[:3] == ["cheap", str(len(cheap)), str(sum(r.status >= 400 for r in cheap))]
    assert "frontier" in result.output and "broken" in result.output


def test_the_migrations_build_exactly_the_tables(tmp_path):
    db = Database.open(f"sqlite:///{tmp_path}/g.db")
    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}),
                                Base.metadata) == []  # a model change without a new revision shows here
        assert conn.execute(text("SELECT version_num FROM gateway_alembic_version")).scalar() == "0001"
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    assert set(inspect(db.engine).get_table_names()) == {"gateway_keys", "gateway_requests",
                                                           "gateway_alembic_version"}
    db.close()


def test_the_log_sits_beside_the_studios_tables_in_postgres(settings, postgres_server):
    from appwright.studio.db import Database as StudioDatabase

    url = new_database(postgres_server)
    StudioDatabase.open(url).close()  # the studio's log first, as when the gateway is pointed at it
    app = create_gateway(load_config(db_url=url))
    token = add_key(app.state.gateway.db, "pg")
    with serve_asgi(app) as base:
        c = openai.OpenAI(base_url=f"{base}/v1", api_key=token, max_retries=0, timeout=20)
        assert c.chat.completions.create(model="cheap", messages=[{"role": "user", "content": "Hi"}]
                                         ).choices[0].message.content == CHEAP_REPLY
    close_gateway(app)
    db = Database.open(url)  # reopened: the migrations have nothing to do
    with db.session() as s:
        [row] = s.scalars(select(RequestRow))
    assert (row.caller, row.model, row.status) == ("pg", "cheap", 200) and row.completion_tokens > 0
    ours = {"include_name": lambda name, kind, _parent: kind != "table" or name.startswith("gateway_")}
    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE, **ours}),
                                Base.metadata) == []
    tables = set(inspect(db.engine).get_table_names())
    assert {"gateway_keys", "gateway_requests", "gateway_alembic_version", "apps", "turns"} <= tables
    db.close()


# -- the command -------------------------------------------------------------------------------------------------

def test_keys_add_list_remove(gateway, settings):
    runner = CliRunner()
    added = runner.invoke(cli_app, ["gateway", "keys", "add", "cli-user", "--budget", "2.5"])
    assert added.exit_code == 0, added.output
    token = next(w for w in added.stdout.split() if w.startswith("awg-"))
    with gateway[1].state.gateway.db.engine.connect() as conn:
        assert token not in json.dumps([list(map(str, r)) for r in conn.execute(text("SELECT * FROM gateway_keys"))])
    listed = runner.invoke(cli_app, ["gateway", "keys", "list"], env={"COLUMNS": "200"})
    assert "cli-user" in listed.output and "2.5" in listed.output and token not in listed.output
    assert runner.invoke(cli_app, ["gateway", "keys", "add", "cli-user"]).exit_code == 2  # taken
    assert runner.invoke(cli_app, ["gateway", "keys", "add", "bad name!"]).exit_code == 2
    c = openai.OpenAI(base_url=f"{gateway[0]}/v1", api_key=token, max_retries=0)
    assert c.models.list().data
    removed = runner.invoke(cli_app, ["gateway", "keys", "remove", "cli-user"])
    assert removed.exit_code == 0
    with pytest.raises(openai.AuthenticationError):
        c.models.list()
    gone = runner.invoke(cli_app, ["gateway", "keys", "remove", "cli-user"])
    assert gone.exit_code == 2 and "no key named" in gone.output


def test_gateway_port_serves_on_loopback_by_default(settings, monkeypatch):
    import uvicorn
    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append(kw))
    for args in (["gateway", "--port", "8911"], ["gateway", "serve", "--port", "8911"]):
        result = CliRunner().invoke(cli_app, args)
        assert result.exit_code == 0, result.output
    assert [(kw["host"], kw["port"]) for kw in calls] == [("127.0.0.1", 8911)] * 2


def test_a_bad_gateway_toml_is_one_clear_line(settings, tmp_path, monkeypatch):
    bad = tmp_path / "gateway.toml"
    bad.write_text('models = ["cheap", "nonesuch"]\n')
    monkeypatch.setenv("APPWRIGHT_GATEWAY_TOML", str(bad))
    result = CliRunner().invoke(cli_app, ["gateway", "--port", "8912"])
    assert result.exit_code == 2 and "nonesuch" in result.output and "Traceback" not in result.output
    bad.write_text("budget_usd_per_day = -1\n")
    result = CliRunner().invoke(cli_app, ["gateway", "stats"])
    assert result.exit_code == 2 and "budget_usd_per_day" in result.output


def test_kill_9_loses_no_acknowledged_request(settings, tmp_path):
    """The real command in a subprocess; requests from three threads; SIGKILL mid-burst; every
    acknowledged request's row (by the log_id its answer carried) is in the log."""
    from appwright.gateway.keys import add_key as add
    db_url = f"sqlite:///{tmp_path / 'killed.db'}"
    (tmp_path / "gateway.toml").write_text(f'db_url = "{db_url}"\nmodels = ["cheap"]\n')
    env = {**os.environ, "APPWRIGHT_GATEWAY_TOML": str(tmp_path / "gateway.toml")}
    db = Database.open(db_url)
    token = add(db, "burst")
    db.close()
    port = free_port()
    proc = subprocess.Popen([str(CLI), "gateway", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    url, acked, lock, stop = f"http://127.0.0.1:{port}/v1", [], threading.Lock(), threading.Event()
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                up = httpx.get(f"{url}/models", headers={"Authorization": f"Bearer {token}"}).status_code == 200
            except httpx.TransportError:
                up = False  # not listening yet
            if up:
                break
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read().decode()[-2000:]
            time.sleep(0.1)

        def send():
            with httpx.Client(timeout=10) as h:
                while not stop.is_set():
                    try:
                        r = h.post(f"{url}/chat/completions", headers={"Authorization": f"Bearer {token}"},
                                   json={"model": "cheap", "messages": [{"role": "user", "content": "hi"}]})
                    except httpx.TransportError:
                        return
                    if r.status_code == 200:
                        with lock:
                            acked.append(r.json()["appwright"]["log_id"])
        threads = [threading.Thread(target=send) for _ in range(3)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 30
        while len(acked) < 60 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        stop.set()
        for t in threads:
            t.join(timeout=10)
    finally:
        proc.kill()
    engine = create_engine(db_url)
    with engine.connect() as conn:
        logged = {r[0] for r in conn.execute(text("SELECT id FROM gateway_requests WHERE status = 200"))}
        assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    engine.dispose()
    assert len(acked) >= 60 and set(acked) <= logged


# -- the real model (slow) -----------------------------------------------------------------------------------------

@pytest.mark.solo
@pytest.mark.slow
@pytest.mark.timeout(600)
def test_real_embedded_model_streams_through_the_gateway(tmp_path, monkeypatch):
    """Default model cache (as tests/test_models.py), so CI pulls it once."""
    from appwright.gateway.config import GatewayConfig
    from appwright.models import DEFAULT_MODEL, get_model

    monkeypatch.setenv("APPWRIGHT_GATEWAY_TOML", str(tmp_path / "none.toml"))
    app = create_gateway(GatewayConfig(db_url=f"sqlite:///{tmp_path}/g.db", models=[DEFAULT_MODEL]),
                         served={DEFAULT_MODEL: get_model(DEFAULT_MODEL)}, keys={})
    token = add_key(app.state.gateway.db, "real")
    try:
        with serve_asgi(app) as url:
            c = openai.OpenAI(base_url=f"{url}/v1", api_key=token, max_retries=0, timeout=300)
            chunks = list(c.chat.completions.create(model=DEFAULT_MODEL, max_tokens=16, temperature=0, stream=True,
                                                    messages=[{"role": "user", "content": "Say hello."}],
                                                    stream_options={"include_usage": True}))
    finally:
        close_gateway(app)
    text_out = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    assert text_out.strip() and 0 < chunks[-1].usage.completion_tokens <= 17
