"""The gateway's web app: OpenAI's chat completions API in front of the served models.

    app = create_gateway(load_config())     # opens (and migrates) the log; loads no model yet
    uvicorn.run(app, host="127.0.0.1", port=8900)

Routes, each behind a caller's bearer token (keys.py):

    POST /v1/chat/completions    JSON, or server-sent events with "stream": true
    GET  /v1/models              the served models and "auto"; /v1/models/{id} one of them
    GET  /v1/usage               the caller's requests, tokens and dollars today (UTC)

Every error is OpenAI's shape, `{"error": {"message", "type", "code", "param"}}`, never a
traceback: 400 a malformed request, 401 no or a bad token, 404 an unknown model (the message
lists the models), 413 a body over max_body_bytes, 429 a spent daily budget (the message says
what was spent), 502 every model on the ladder failed (each failure named), 503 too many
requests wait for the local model or `auto` has no model. Answers carry an "appwright" object:
the model that answered, the route, every rung tried with its error and cost.

A request is logged (log.py, committed) before it is acknowledged: before the JSON answer, or
before the last events of a stream (the finish chunk, the usage chunk, `[DONE]`). A stream
whose caller goes away is logged with status 499 once its generation stops.

An app task (`appwright.app`, gateway/apps.py) climbs the ladder until a rung's bundle passes
check_app and its security probe. Does not: judge plain chat answers, call tools, serve
embeddings or the legacy completions API, or speak https (put it behind a proxy).
"""

from __future__ import annotations

import asyncio
import difflib
import json
import logging
import secrets
import threading
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, AsyncIterator

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException

from appwright.gateway.config import AUTO, GatewayConfig, auto_models, provider_keys, served_models
from appwright.gateway.db import Database
from appwright.gateway.keys import Caller, find_caller
from appwright.gateway.log import Attempt, LogEntry, usage_today, write
from appwright.gateway.apps import AppAnswer, AppTask, app_ladder, request_text, try_rung
from appwright.gateway.router import Route, capped, route_request
from appwright.gateway.runner import Busy, Cancelled, Runner
from appwright.gateway.schema import ChatRequest, chunk_body, completion_body, error_body, usage_body
from appwright.models.base import Completion, GenerationConfig, Message, ModelError
from appwright.models.registry import ModelSpec

log = logging.getLogger("appwright.gateway")


class GatewayError(Exception):
    """An answer in OpenAI's error shape."""

    def __init__(self, status: int, message: str, type_: str, code: str, param: str | None = None):
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.param = status, message, type_, code, param


@dataclass
class Gateway:
    """What the routes share (app.state.gateway)."""
    config: GatewayConfig
    db: Database
    served: dict[str, ModelSpec]
    auto: list[str]
    runner: Runner
    background: set[asyncio.Task] = field(default_factory=set)

    def spawn(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def record(self, entry: LogEntry) -> int:
        """Write and commit the row; its id."""
        return await asyncio.to_thread(write, self.db, entry)


NO_AUTO = ("auto has no model to choose: no llama.cpp model was installed when the gateway started and no remote "
           "model has a key; pull one (appwright models pull NAME) and start the gateway again, or list models under "
           "`auto` in gateway.toml (docs/gateway.md)")


def create_gateway(config: GatewayConfig, *, served: dict[str, ModelSpec] | None = None,
                   keys: dict[str, str] | None = None, load_local=None) -> FastAPI:
    """The app. `served`, `keys`, `load_local(name) -> Backend`: defaults from the config, keys.toml
    and `load_backend` (tests pass their own). A ModelError names a bad model setting."""
    # 1. The models, the keys of the remote ones, the log.
    served = served_models(config) if served is None else served
    keys = provider_keys() if keys is None else keys
    runner_options: dict[str, Any] = {"load_local": load_local} if load_local else {}
    runner = Runner(served, keys, timeout_s=config.remote_timeout_s, max_queue=config.max_queue, **runner_options)
    gateway = Gateway(config, Database.open(config.log_url()), served, auto_models(config, served, keys), runner)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        await asyncio.gather(*gateway.background, return_exceptions=True)
        close_gateway(_app)

    # 2. The web app.
    app = FastAPI(title="Appwright gateway", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.gateway = gateway
    app.add_api_route("/v1/chat/completions", chat_completions, methods=["POST"])
    app.add_api_route("/v1/models", list_models, methods=["GET"])
    app.add_api_route("/v1/models/{model_id:path}", retrieve_model, methods=["GET"])
    app.add_api_route("/v1/usage", usage, methods=["GET"])
    app.add_exception_handler(GatewayError, _gateway_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(Exception, _crash)
    return app


def close_gateway(app: FastAPI) -> None:
    """Let running generations end, unload the models, close the log. Idempotent."""
    gateway: Gateway = app.state.gateway
    if getattr(app.state, "closed", False):
        return
    app.state.closed = True
    gateway.runner.close()
    gateway.db.close()


# -- who is calling ------------------------------------------------------------------------------------------

async def authenticate(request: Request) -> Caller:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise GatewayError(401, "no API key: send 'Authorization: Bearer TOKEN' with a token from "
                                "`appwright gateway keys add NAME`", "invalid_request_error", "missing_api_key")
    caller = await asyncio.to_thread(find_caller, request.app.state.gateway.db, token.strip())
    if caller is None:  # the token is not echoed, not even in part
        raise GatewayError(401, "invalid API key", "invalid_request_error", "invalid_api_key")
    return caller


# -- the routes ----------------------------------------------------------------------------------------------

async def list_models(request: Request, caller: Caller = Depends(authenticate)) -> dict[str, Any]:
    gateway: Gateway = request.app.state.gateway
    return {"object": "list", "data": [_model_object(gateway, name) for name in [AUTO, *gateway.served]]}


async def retrieve_model(model_id: str, request: Request, caller: Caller = Depends(authenticate)) -> dict[str, Any]:
    gateway: Gateway = request.app.state.gateway
    if model_id != AUTO and model_id not in gateway.served:
        raise _unknown_model(gateway, model_id)
    return _model_object(gateway, model_id)


def _model_object(gateway: Gateway, name: str) -> dict[str, Any]:
    if name == AUTO:
        extension = {"backend": "router", "chooses_among": gateway.auto}
        return {"id": AUTO, "object": "model", "created": 0, "owned_by": "appwright", "appwright": extension}
    spec = gateway.served[name]
    extension = {"backend": spec.backend, "context_length": spec.context_length, "description": spec.description,
                 "price_usd_per_m": {"input": spec.price.input_per_m, "output": spec.price.output_per_m}}
    return {"id": name, "object": "model", "created": 0,
            "owned_by": "remote" if spec.backend == "openai" else "appwright", "appwright": extension}


async def usage(request: Request, caller: Caller = Depends(authenticate)) -> dict[str, Any]:
    gateway: Gateway = request.app.state.gateway
    used = await asyncio.to_thread(usage_today, gateway.db, caller.name)
    budget = caller.budget_usd_per_day or gateway.config.budget_usd_per_day
    return {"object": "usage", **used.model_dump(), "budget_usd_per_day": budget,
            "remaining_usd": None if budget is None else max(0.0, budget - used.cost_usd)}


async def chat_completions(request: Request, caller: Caller = Depends(authenticate)) -> Response:
    gateway: Gateway = request.app.state.gateway
    config = gateway.config
    t0 = time.perf_counter()

    # 1. The request: JSON, OpenAI's fields, a model this gateway serves.
    body = await _read_json(request, config.max_body_bytes)
    try:
        req = ChatRequest.model_validate(body)
    except ValidationError as e:
        raise GatewayError(400, _explain(e), "invalid_request_error", "invalid_request", _first_loc(e)) from None
    if req.model != AUTO and req.model not in gateway.served:
        raise _unknown_model(gateway, req.model)

    # 2. The caller's budget for today.
    entry = LogEntry(caller=caller.name, requested=req.model, stream=req.stream, status=0)
    budget = caller.budget_usd_per_day or config.budget_usd_per_day
    if budget is not None:
        spent = await asyncio.to_thread(usage_today, gateway.db, caller.name)
        if spent.cost_usd >= budget:
            message = (f"daily budget spent: ${spent.cost_usd:.6f} of ${budget:.6f} on {spent.date} (UTC) over "
                       f"{spent.requests} requests; it starts again at 00:00 UTC")
            await gateway.record(entry.model_copy(update={"status": 429, "error": message}))
            raise GatewayError(429, message, "insufficient_quota", "budget_exceeded")

    # 3. An app task: verify, then escalate (gateway/apps.py).
    if (task := _app_task(req)) is not None:
        return await _app_answer(gateway, req, task, entry, t0)

    # 3. The ladder.
    messages = req.to_messages()
    defaults = GenerationConfig()
    gen = GenerationConfig(max_tokens=req.max_completion_tokens or req.max_tokens or config.max_tokens,
                           temperature=defaults.temperature if req.temperature is None else req.temperature,
                           top_p=defaults.top_p if req.top_p is None else req.top_p, seed=req.seed,
                           stop=req.stop_list())
    route = route_request(req.model, messages, gateway.served, gateway.auto, config.router, gen.max_tokens)
    if (max_usd := _max_usd(req)) is not None:
        every = route.ladder
        route = capped(route, gateway.served, sum(len(m.content) for m in messages), gen.max_tokens, max_usd)
        if every and not route.ladder:
            message = (f"max_usd: no model fits ${max_usd:.6f} for this request ({route.reason.split('; ')[-1]}); "
                       f"raise appwright.max_usd or lower max_tokens ({gen.max_tokens})")
            await gateway.record(entry.model_copy(update={"route": route.reason, "status": 429, "error": message}))
            raise GatewayError(429, message, "insufficient_quota", "request_budget_exceeded", "appwright.max_usd")
    entry = entry.model_copy(update={"route": route.reason})
    if not route.ladder:
        message = NO_AUTO
        await gateway.record(entry.model_copy(update={"status": 503, "error": message}))
        raise GatewayError(503, message, "server_error", "no_models")

    # 4. The rungs, cheapest first, until one answers; then log, then answer.
    if req.stream:
        return await _stream(gateway, req, route, messages, gen, entry, t0)
    attempts: list[Attempt] = []
    busy = True  # every rung was busy (503), rather than failed (502)
    for name in route.ladder:
        started = time.perf_counter()
        try:
            done = await gateway.runner.complete(name, messages, gen)
        except (ModelError, Busy) as e:
            attempts.append(_failed(name, e, started))
            busy = busy and isinstance(e, Busy)
            continue
        attempts.append(_answered(gateway, name, done))
        final = entry.model_copy(update={"model": name, "attempts": attempts, "status": 200,
                                         "latency_s": time.perf_counter() - t0})
        log_id = await gateway.record(final)
        return JSONResponse(completion_body(_new_id(), int(time.time()), name, done.text, done.finish_reason,
                                            done.prompt_tokens, done.completion_tokens, _extension(final, log_id)))
    raise await _all_failed(gateway, entry, attempts, t0, busy)


# -- app tasks -------------------------------------------------------------------------------------------------

def _max_usd(req: ChatRequest) -> float | None:
    """A plain request's `appwright.max_usd`: the most its answer may cost (router.py `capped`)."""
    ext = (req.model_extra or {}).get("appwright")
    value = ext.get("max_usd") if isinstance(ext, dict) else None
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise GatewayError(400, f"appwright.max_usd: expected a number of dollars above 0; got {value!r}",
                           "invalid_request_error", "invalid_request", "appwright.max_usd")
    return float(value)


def _app_task(req: ChatRequest) -> AppTask | None:
    ext = (req.model_extra or {}).get("appwright")
    if not isinstance(ext, dict) or ext.get("app") is None:
        return None
    try:
        task = AppTask.model_validate(ext["app"])
    except ValidationError as e:
        raise GatewayError(400, "appwright.app: " + _explain(e), "invalid_request_error", "invalid_request",
                           "appwright.app") from None
    if req.stream:
        raise GatewayError(400, "an app task is answered whole: send stream false", "invalid_request_error",
                           "invalid_request", "stream")
    if not request_text(req.to_messages()):
        raise GatewayError(400, "an app task needs a user message saying what to build or change",
                           "invalid_request_error", "invalid_request", "messages")
    return task


async def _app_answer(gateway: Gateway, req: ChatRequest, task: AppTask, entry: LogEntry, t0: float) -> Response:
    prompt = request_text(req.to_messages())
    if req.model == AUTO:  # verified, so every rung from the cheapest: no guessing which to skip
        ladder = [s.name for s in app_ladder(gateway.served, gateway.auto, prompt, gateway.config.max_tokens)]
        reason = "app task: auto, cheapest first until a bundle passes check_app and its security probe"
    else:
        ladder, reason = [req.model], "app task: named"
    entry = entry.model_copy(update={"route": reason})
    if not ladder:
        message = NO_AUTO
        await gateway.record(entry.model_copy(update={"status": 503, "error": message}))
        raise GatewayError(503, message, "server_error", "no_models")
    answer, attempts, busy = AppAnswer(), [], True
    for name in ladder:
        if attempts and (stopped := _spent(task, attempts, t0, name)):  # the first rung always runs
            answer.stopped = stopped
            break
        spec, started = gateway.served[name], time.perf_counter()
        try:
            rung = await gateway.runner.run_with(name, lambda backend, spec=spec: try_rung(spec, backend, prompt,
                                                                                           task.files))
        except (ModelError, Busy) as e:
            attempts.append(_failed(name, e, started))
            busy = busy and isinstance(e, Busy)
            continue
        busy = False
        answer.rungs.append(rung)
        attempts.append(Attempt(model=name, ok=rung.accepted, error=None if rung.accepted else "failed its checks",
                                prompt_tokens=rung.prompt_tokens, completion_tokens=rung.completion_tokens,
                                cost_usd=rung.cost_usd, latency_s=rung.seconds,
                                problems=[gateway.runner.scrub(p)[:500] for p in rung.problems[:10]]))
        if rung.accepted:
            break
    final = answer.final
    if final is None:  # every rung errored before it made a bundle
        raise await _all_failed(gateway, entry, attempts, t0, busy)
    done = entry.model_copy(update={"model": final.model, "attempts": attempts, "status": 200,
                                    "latency_s": time.perf_counter() - t0,
                                    "error": None if final.accepted else "no rung passed its checks"})
    log_id = await gateway.record(done)
    extension = {**_extension(done, log_id), "app": {"accepted": final.accepted, "model": final.model,
                                                     "files": final.files, "problems": final.problems,
                                                     "stopped": answer.stopped}}
    return JSONResponse(completion_body(_new_id(), int(time.time()), final.model, final.reply, "stop",
                                        sum(a.prompt_tokens for a in attempts),
                                        sum(a.completion_tokens for a in attempts), extension))


def _spent(task: AppTask, attempts: list[Attempt], t0: float, name: str) -> str | None:
    """Why the climb stops before `name`: a request budget spent; None while there is some left."""
    spent, took = sum(a.cost_usd for a in attempts), time.perf_counter() - t0
    if task.max_usd is not None and spent >= task.max_usd:
        return f"max_usd: ${spent:.6f} of ${task.max_usd:.6f} spent before {name}"
    if task.max_seconds is not None and took >= task.max_seconds:
        return f"max_seconds: {took:.0f} s of {task.max_seconds:.0f} taken before {name}"
    return None


# -- streaming -------------------------------------------------------------------------------------------------

class _Live:
    """One generation running on the runner, its text arriving on a queue; None marks the end."""

    def __init__(self, runner: Runner, name: str, messages: list[Message], gen: GenerationConfig):
        loop = asyncio.get_running_loop()
        self.name = name
        self.started = time.perf_counter()
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.stopped = threading.Event()

        def on_token(text: str) -> None:  # on the runner's thread
            if self.stopped.is_set():
                raise Cancelled()
            if text:
                loop.call_soon_threadsafe(self.queue.put_nowait, text)

        self.task = asyncio.ensure_future(runner.complete(name, messages, gen, on_token))
        self.task.add_done_callback(lambda _: self.queue.put_nowait(None))

    async def next(self) -> str | None:
        return await self.queue.get()

    def error(self) -> BaseException | None:
        """The failure of a finished generation, or None."""
        return None if self.task.cancelled() else self.task.exception()


async def _stream(gateway: Gateway, req: ChatRequest, route: Route, messages: list[Message],
                  gen: GenerationConfig, entry: LogEntry, t0: float) -> Response:
    # A rung is chosen once its first text arrives (or it finishes without any): until then a
    # failure can still go up the ladder, and an all-failed request still gets a plain 502.
    attempts: list[Attempt] = []
    busy = True
    for name in route.ladder:
        live = _Live(gateway.runner, name, messages, gen)
        first = await live.next()
        if first is None and (error := live.error()) is not None:
            if not isinstance(error, (ModelError, Busy)):
                raise error  # a bug: answered as 500 by _crash
            attempts.append(_failed(name, error, live.started))
            busy = busy and isinstance(error, Busy)
            continue
        events = _events(gateway, req, entry, attempts, live, first, t0)
        return StreamingResponse(events, media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    raise await _all_failed(gateway, entry, attempts, t0, busy)


def _sse(data: dict[str, Any] | str) -> str:
    return f"data: {data if isinstance(data, str) else json.dumps(data)}\n\n"


async def _events(gateway: Gateway, req: ChatRequest, entry: LogEntry, attempts: list[Attempt], live: _Live,
                  first: str | None, t0: float) -> AsyncIterator[str]:
    id_, created, name = _new_id(), int(time.time()), live.name
    logged = False
    try:
        yield _sse(chunk_body(id_, created, name, {"role": "assistant", "content": ""}))
        text = first
        while text is not None:
            yield _sse(chunk_body(id_, created, name, {"content": text}))
            text = await live.next()
        if (error := live.error()) is not None:  # failed after its first text: too late to escalate
            attempts.append(_failed(name, error, live.started))
            message = f"{name} failed mid-answer: {attempts[-1].error}"
            logged = True
            await gateway.record(entry.model_copy(update={"attempts": attempts, "status": 502, "error": message,
                                                          "latency_s": time.perf_counter() - t0}))
            yield _sse(error_body(message, "upstream_error", "model_failed"))
            return
        done: Completion = live.task.result()
        attempts.append(_answered(gateway, name, done))
        final = entry.model_copy(update={"model": name, "attempts": attempts, "status": 200,
                                         "latency_s": time.perf_counter() - t0})
        logged = True  # (a write under way finishes even if the caller leaves now)
        log_id = await gateway.record(final)  # committed before anything below acknowledges the request
        yield _sse(chunk_body(id_, created, name, {}, done.finish_reason, extension=_extension(final, log_id)))
        if req.include_usage:
            yield _sse(chunk_body(id_, created, name, None, usage=usage_body(done.prompt_tokens,
                                                                             done.completion_tokens)))
        yield _sse("[DONE]")
    finally:
        if not logged:  # the caller went away: stop generating, log once the generation ends
            live.stopped.set()
            gateway.spawn(_log_cut_off(gateway, entry, attempts, live, t0))


async def _log_cut_off(gateway: Gateway, entry: LogEntry, attempts: list[Attempt], live: _Live, t0: float) -> None:
    try:
        done = await live.task
        attempts.append(_answered(gateway, live.name, done))
    except (ModelError, Busy, Cancelled) as e:  # a cut-off generation's tokens are not known: not counted
        attempts.append(_failed(live.name, e, live.started))
    await gateway.record(entry.model_copy(update={
        "model": live.name, "attempts": attempts, "status": 499, "latency_s": time.perf_counter() - t0,
        "error": "the caller closed the connection before the answer ended"}))


# -- records and errors ------------------------------------------------------------------------------------------

def _answered(gateway: Gateway, name: str, done: Completion) -> Attempt:
    # The cost from the registry's price, whatever the backend says (scripted replies say 0).
    cost = gateway.served[name].price.cost(done.prompt_tokens, done.completion_tokens)
    return Attempt(model=name, ok=True, prompt_tokens=done.prompt_tokens, completion_tokens=done.completion_tokens,
                   cost_usd=cost, latency_s=done.latency_s)


def _failed(name: str, error: BaseException | None, started: float) -> Attempt:
    why = "stopped: the caller went away" if isinstance(error, Cancelled) else str(error)
    log.warning("model %s failed: %s", name, why)  # ModelErrors come scrubbed of keys (runner.py)
    return Attempt(model=name, ok=False, error=why, latency_s=time.perf_counter() - started)


async def _all_failed(gateway: Gateway, entry: LogEntry, attempts: list[Attempt], t0: float,
                      busy: bool) -> GatewayError:
    status = 503 if busy else 502
    if len(attempts) == 1:
        message = f"model {attempts[0].model} failed: {attempts[0].error}"
    else:
        message = "every model on the ladder failed: " + "; ".join(f"{a.model}: {a.error}" for a in attempts)
    await gateway.record(entry.model_copy(update={"attempts": attempts, "status": status, "error": message,
                                                  "latency_s": time.perf_counter() - t0}))
    return GatewayError(status, message, "server_error" if busy else "upstream_error",
                        "server_busy" if busy else "model_failed")


def _extension(entry: LogEntry, log_id: int) -> dict[str, Any]:
    """The "appwright" object of an answer: which model made it, what was tried, what it cost, its log row."""
    return {"log_id": log_id, "model": entry.model, "requested": entry.requested, "route": entry.route,
            "tried": [a.model_dump() for a in entry.attempts], "escalations": entry.escalations,
            "cost_usd": sum(a.cost_usd for a in entry.attempts)}


def _new_id() -> str:
    return "chatcmpl-" + secrets.token_hex(12)


def _unknown_model(gateway: Gateway, name: str) -> GatewayError:
    known = [AUTO, *gateway.served]
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return GatewayError(404, f"unknown model {name!r}.{hint} Models: {', '.join(known)}", "invalid_request_error",
                        "model_not_found", "model")


async def _read_json(request: Request, limit: int) -> Any:
    too_large = GatewayError(413, f"the request body is over {limit:,} bytes", "invalid_request_error",
                             "request_too_large")
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > limit):
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise GatewayError(400, f"the body is not JSON: {e}", "invalid_request_error", "invalid_json") from None


def _first_loc(e: ValidationError) -> str | None:
    errors = e.errors()
    return ".".join(map(str, errors[0]["loc"])) or None if errors else None


def _explain(e: ValidationError) -> str:
    problems = []
    for err in e.errors()[:5]:
        where = ".".join(map(str, err["loc"]))
        problems.append(f"{where}: {err['msg']}" if where else err["msg"].removeprefix("Value error, "))
    return "invalid request: " + "; ".join(problems)


async def _gateway_error(request: Request, exc: GatewayError) -> Response:
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return JSONResponse(error_body(exc.message, exc.type, exc.code, exc.param), status_code=exc.status,
                        headers=headers)


async def _http_error(request: Request, exc: HTTPException) -> Response:
    messages = {404: f"no such endpoint: {request.url.path} (the gateway serves /v1/chat/completions, /v1/models "
                     "and /v1/usage)", 405: f"{request.method} is not allowed on {request.url.path}"}
    return JSONResponse(error_body(messages.get(exc.status_code, str(exc.detail)), "invalid_request_error",
                                   "not_found" if exc.status_code == 404 else "invalid_request"),
                        status_code=exc.status_code)


async def _invalid(request: Request, exc: RequestValidationError) -> Response:
    return JSONResponse(error_body("invalid request", "invalid_request_error", "invalid_request"), status_code=400)


async def _crash(request: Request, exc: Exception) -> Response:
    log.exception("gateway error on %s %s", request.method, request.url.path)
    return JSONResponse(error_body("the gateway failed on this request; it is logged and is a bug in Appwright",
                                  "server_error", "internal_error"), status_code=500)

