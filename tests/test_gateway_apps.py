"""Verify, then escalate (gateway/apps.py): an app task sent with the official `openai` client to
a real gateway on 127.0.0.1. The two rungs are scripted models (the one stand-in: they replay a
generated reference app, one of them with a live-looking key in its script: check_app cannot see it,
the security probe's `secrets` check does); everything else
is real: the agent's harness, check_app in Chromium, the app's own security probe, the log."""

from __future__ import annotations

import json

import openai
import pytest

from appwright.gateway.app import close_gateway, create_gateway
from appwright.gateway.config import load_config
from appwright.gateway.keys import add_key
from appwright.tasks.domains import domain
from appwright.tasks.reference import render
from conftest import serve_asgi

pytestmark = pytest.mark.slow
NOTES = domain("notes")
REQUEST = [{"role": "user", "content": "A private notes app: each signed-in user keeps their own notes."}]


def answer(files: dict[str, str]) -> str:
    return "\n".join(f'<file path="{p}">\n{c}\n</file>' for p, c in files.items()) + "\nYour notes app is ready."


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    root = tmp_path_factory.mktemp("gateway-apps")
    leaky = render(NOTES, ["owner"])
    leaky["app.js"] = 'const api_key = "sk-live-0123456789abcdefghijklmn";\n' + leaky["app.js"]
    (root / "leaky.json").write_text(json.dumps([answer(leaky)] * 20))
    (root / "careful.json").write_text(json.dumps([answer(render(NOTES, ["owner"]))] * 20))
    (root / "models.toml").write_text(f"""
[models.leaky]
backend = "scripted"
location = "{root / 'leaky.json'}"
context_length = 32768
price = {{input_per_m = 0.1, output_per_m = 0.2}}

[models.careful]
backend = "scripted"
location = "{root / 'careful.json'}"
context_length = 32768
price = {{input_per_m = 1.0, output_per_m = 2.0}}
""")
    (root / "gateway.toml").write_text(f'db_url = "sqlite:///{root / "gateway.db"}"\n'
                                       'models = ["leaky", "careful"]\nauto = ["careful", "leaky"]\n')
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("APPWRIGHT_HOME", str(root / "home"))
        mp.setenv("APPWRIGHT_MODELS_TOML", str(root / "models.toml"))
        mp.setenv("APPWRIGHT_GATEWAY_TOML", str(root / "gateway.toml"))
        config = load_config()
        app = create_gateway(config)
        token = add_key(app.state.gateway.db, "ada")
        with serve_asgi(app) as url:
            yield openai.OpenAI(base_url=f"{url}/v1", api_key=token, max_retries=0, timeout=300)
        close_gateway(app)


@pytest.mark.timeout(300)
def test_auto_escalates_past_an_app_that_fails_its_security_probe(client):
    done = client.chat.completions.create(model="auto", messages=REQUEST,
                                          extra_body={"appwright": {"app": {"files": {}}}})
    ext = done.model_extra["appwright"]
    assert done.model == "careful" and ext["app"]["accepted"] and ext["app"]["model"] == "careful"
    assert [t["model"] for t in ext["tried"]] == ["leaky", "careful"] and ext["escalations"] == 1
    leaky = ext["tried"][0]
    assert not leaky["ok"] and any("security probe secrets" in p for p in leaky["problems"]), leaky
    files = ext["app"]["files"]
    assert json.loads(files["app.json"])["entities"]["Note"]["access"] == "owner" and "sk-live" not in files["app.js"]
    assert done.choices[0].message.content.strip() == "Your notes app is ready."

    # A named model is a ladder of one: its bundle comes back, not accepted, with the reasons.
    named = client.chat.completions.create(model="leaky", messages=REQUEST,
                                           extra_body={"appwright": {"app": {"files": {}}}})
    app = named.model_extra["appwright"]["app"]
    assert not app["accepted"] and app["model"] == "leaky" and "app.json" in app["files"] and app["problems"]

    # A budget stops the climb: after the cheap rung, nothing is left for the next.
    capped = client.chat.completions.create(model="auto", messages=REQUEST, extra_body={
        "appwright": {"app": {"files": {}, "max_seconds": 0.001}}})
    app = capped.model_extra["appwright"]["app"]
    assert not app["accepted"] and app["stopped"].startswith("max_seconds") and app["model"] == "leaky"


def test_bad_app_tasks_get_400_before_any_model_runs(client):
    with pytest.raises(openai.BadRequestError, match="answered whole"):
        client.chat.completions.create(model="auto", messages=REQUEST, stream=True,
                                       extra_body={"appwright": {"app": {"files": {}}}})
    with pytest.raises(openai.BadRequestError, match="not a path inside the app"):
        client.chat.completions.create(model="auto", messages=REQUEST,
                                       extra_body={"appwright": {"app": {"files": {"../x.js": ""}}}})
    with pytest.raises(openai.BadRequestError, match="max_usd"):
        client.chat.completions.create(model="auto", messages=REQUEST,
                                       extra_body={"appwright": {"app": {"max_usd": -1}}})
