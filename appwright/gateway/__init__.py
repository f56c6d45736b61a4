"""The gateway: one OpenAI-compatible endpoint in front of the local and remote models (docs/gateway.md).

    appwright gateway keys add ada             # a caller's bearer token, printed once
    appwright gateway --port 8900              # http://127.0.0.1:8900/v1
    appwright gateway stats                    # the request log, per model

| module | its job |
|---|---|
| `config.py` | `GatewayConfig` from gateway.toml; the served models; remote API keys (env, keys.toml) |
| `db.py` | the tables (request log, callers' keys), Alembic migrations, WAL SQLite or Postgres |
| `keys.py` | callers' tokens: make, hash, look up, list, remove |
| `log.py` | write a request's row; usage today; per-model stats |
| `schema.py` | OpenAI's request, answer, chunk and error shapes |
| `router.py` | the ladder: a named model, or `auto`'s rule, cheapest first |
| `apps.py` | app tasks: the ladder; each rung runs the agent, its bundle is verified (check_app, security probe) |
| `runner.py` | runs a completion: local models one at a time, remote ones concurrently; scrubs keys |
| `app.py` | the FastAPI app: auth, the three routes, streaming, escalation, errors |
| `cli.py` | `appwright gateway [serve] / keys / stats` |
"""
