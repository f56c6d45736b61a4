"""The studio: the web platform where people build apps by chat (docs/studio.md).

    appwright studio --port 8800          # http://127.0.0.1:8800, previews on :8801

| module | its job |
|---|---|
| `config.py` | `StudioConfig`: every knob, validated once |
| `db.py` | the interaction log: SQLAlchemy tables, Alembic migrations |
| `auth.py` | passwords, sessions, CSRF tokens |
| `app.py` | `create_studio` (the FastAPI app), `serve`, errors, the request guard |
| `web.py` | what routes share: the signed-in person, ownership (404 for others), views |
| `pages.py` | HTML pages and fragments |
| `api.py` | JSON endpoints and the SSE stream of a turn |
| `turns.py` | turns in background threads, live events, the model pool |
| `bundles.py` | the apps' bundles on disk: adopt an answer, snapshot with data |
| `preview.py` | the preview origin: the runtime's Host, capture script, framing |
| `security.py` | the probe of each new version, graded in the background |
"""
