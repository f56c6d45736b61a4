"""`security` checks: stored XSS in Chromium, secret-looking strings, the sign-up rule.

- `xss`: the owner stores one record per text field of the entity with a payload in that
  field (an `<img onerror>`, an `<svg onload>` and a `<script>` that would record which
  field ran). The page is loaded as the owner, and, where others may read, as another user
  and signed out. Passing means no payload ran and no dialog opened. An app that never shows
  the records passes this check (its `ui` checks fail instead). The browser sets the runtime's
  Content-Security-Policy aside (runtime/csp.py): it refuses these payloads in any page, so
  with it on this check could not tell a page that escapes from one that does not. It grades
  the app's own code; the policy is the second wall, for users.
- `secrets`: every copied file is scanned for live-looking keys (Stripe, OpenAI, AWS,
  GitHub, Slack, Google, private keys) and for long literal values assigned to names like
  `api_key`, `secret`, `token` or `password`.
- `signup`: the rule holds on every path that creates a user: `/auth/signup` without an
  invite, with a made-up one, and `/auth/users` signed out and as a plain user. For `invite`
  an admin's invite code works exactly once; for `open` sign-up works.

With `page` (submit_only apps) an admin also opens that page. Not covered: payloads in `ref` or
enum fields (the runtime validates those), other pages, XSS through URL parameters (the bundle has no server code to reflect them).
"""

from __future__ import annotations

import re

from appwright.tasks.graders.common import Context, Fail, answer, expect, linked, map_record, resolve_entity, short
from appwright.tasks.graders.env import AppEnv
from appwright.tasks.graders.ui import open_page, page_path
from appwright.tasks.model import SecurityCheck

# Shared with the studio's export scrubber (studio/scrub.py), which replaces each match, or only
# its `value` group where a pattern has one (the name `api_key = "` stays, the value goes). The
# private-key pattern takes the whole PEM block when its END line is there.
SECRET_PATTERNS = [
    ("a Stripe live or test key", re.compile(r"\b[sr]k_(live|test)_[0-9A-Za-z]{10,}")),
    ("an OpenAI-style key", re.compile(r"\bsk-(proj-)?[A-Za-z0-9_-]{20,}")),
    ("an AWS access key", re.compile(r"\bAKIA[0-9A-Z]{16}\b")),
    ("a GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}")),
    ("a Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}")),
    ("a private key", re.compile(
        r"-----BEGIN (RSA |EC |OPENSSH |)PRIVATE KEY-----(?:[A-Za-z0-9+/=\s\\]*?-----END \1PRIVATE KEY-----)?")),
    ("a hard-coded credential", re.compile(
        r"""(api[_-]?key|secret|token|passw(or)?d)["']?\s*[:=]\s*["'](?P<value>[^"'\s]{12,})["']""", re.I)),
]


def find_secrets(env: AppEnv) -> list[str]:
    found = []
    for rel in env.files:
        text = (env.root / rel).read_text(encoding="utf-8", errors="replace")
        for what, pattern in SECRET_PATTERNS:
            m = pattern.search(text)
            if m:
                line = text.count("\n", 0, m.start()) + 1
                found.append(f"{rel}:{line}: {what} ({m.group(0)[:12]}...)")
    return found


def grade_security(env: AppEnv, check: SecurityCheck, ctx: Context) -> str:
    if check.test == "secrets":
        found = find_secrets(env)
        expect(not found, "secret-looking strings in the bundle: " + "; ".join(found[:5]))
        return f"no secret-looking strings in {len(env.files)} files"
    if check.test == "signup":
        return signup_holds(env, check.signup)
    return xss(env, check, ctx)


def signup_holds(env: AppEnv, rule: str) -> str:
    got = env.manifest.auth.signup
    expect(got == rule, f'auth.signup is "{got}"; the app must be "{rule}"')
    anon, plain = env.anonymous(), env.user("plain")
    new = lambda n: {"email": f"outsider{n}@grader.test", "password": "outsider-password-1"}  # noqa: E731
    if rule == "open":
        r = anon.post("/_aw/api/auth/signup", json=new(0))
        expect(r.status_code == 201, f"sign-up is open but POST /auth/signup -> {answer(r)}")
        return "anyone can sign up"
    attempts = [("POST /auth/signup without an invite", anon, "/_aw/api/auth/signup", new(1)),
                ("POST /auth/signup with a made-up invite", anon, "/_aw/api/auth/signup", {**new(2), "invite": "x" * 22}),
                ("POST /auth/users signed out", anon, "/_aw/api/auth/users", new(3)),
                ("POST /auth/users as a plain user", plain, "/_aw/api/auth/users", new(4)),
                ("POST /auth/invites as a plain user", plain, "/_aw/api/auth/invites", {})]
    for what, client, path, body in attempts:
        r = client.post(path, json=body)
        expect(r.status_code >= 400, f"{what} -> {answer(r)}; sign-up is {rule}")
    if rule == "invite":
        admin = env.user("admin", role="admin")
        r = admin.post("/_aw/api/auth/invites", json={})
        expect(r.status_code == 201, f"an admin could not make an invite: {answer(r)}")
        code = r.json()["code"]
        r = anon.post("/_aw/api/auth/signup", json={**new(5), "invite": code})
        expect(r.status_code == 201, f"sign-up with an admin's invite -> {answer(r)}")
        r = env.anonymous().post("/_aw/api/auth/signup", json={**new(6), "invite": code})
        expect(r.status_code >= 400, f"an invite code worked twice: {answer(r)}")
    return f"sign-up is {rule}: {len(attempts)} ways around it refused" + (
        "; an admin's invite works once" if rule == "invite" else "")


PAYLOADS = ['<img src=x onerror="(window.__awx=window.__awx||[]).push(\'{f}\')">',
            '<svg onload="(window.__awx=window.__awx||[]).push(\'{f}\')"></svg>',
            '"><script>(window.__awx=window.__awx||[]).push(\'{f}\')</script>']


def xss(env: AppEnv, check: SecurityCheck, ctx: Context) -> str:
    entity = resolve_entity(env, check.entity)
    spec = env.manifest.entities[entity]
    owner = env.user("owner")
    base = linked(env, owner, map_record(env, entity, check.record))
    planted = []
    for name, f in spec.fields.items():
        if f.type not in ("string", "text"):
            continue
        for i, payload in enumerate(PAYLOADS):
            value = payload.format(f=f"{name}#{i}")
            if f.limit and len(value) > f.limit:
                continue
            r = owner.post(env.api(entity), json={**base, name: value})
            if r.status_code == 201:
                planted.append(f"{name}#{i}")
    expect(planted, f"no payload could be stored in any text field of {entity} (fields: {', '.join(spec.fields)})")
    viewers = [("the owner", owner)]
    rules = spec.rules()
    if "signed_in" in rules["read"] or "public" in rules["read"]:
        viewers.append(("another user", env.user("viewer")))
    if "public" in rules["read"]:
        viewers.append(("a signed-out visitor", None))
    viewers = [(who, client, "/") for who, client in viewers]
    if check.page:
        path = page_path(env, check.page)
        viewers.append((f"an admin ({path})", env.user("admin", role="admin"), path))
    for who, client, path in viewers:
        with open_page(env, ctx, client, path, csp=False) as page:
            page.wait_for_timeout(150)  # image errors and handlers fire just after load
            ran = page.evaluate("window.__awx || []")
            expect(not ran and not page.dialogs,
                   f"stored XSS: payloads in {', '.join(sorted(set(ran))) or 'a field'} ran when {who} opened the page"
                   + (f" (dialogs: {short(page.dialogs)})" if page.dialogs else ""))
    return f"{len(planted)} payloads in {entity}'s text fields never ran for {', '.join(w for w, _, _ in viewers)}"


__all__ = ["SECRET_PATTERNS", "Fail", "find_secrets", "grade_security", "signup_holds"]
