"""`check_app`: validate the manifest, serve the bundle, open it in headless Chromium, report.

    with Checker() as checker:          # one browser for a whole harness run
        report = checker("out/notes")   # = check_app("out/notes", checker)
        print(report.ok, report.text())

Phases: (1) `check_bundle` (manifest errors stop here; warnings are kept); (2) the bundle is
served by `create_app` with uvicorn on 127.0.0.1 and a temporary data folder, so the
bundle's own database is never touched; (3) Chromium loads `/` signed out; then signs up a
throwaway user, through the page's own sign-in form when the app has open sign-up and shows
one (else through the API), visits every `.html` page signed in, and fills the first form
of `index.html` with plausible values and submits it (runtime/forms.py): it must send a
write that succeeds, and the page must show what was typed. A write refused because only
admins (or a named role) make that entity's records is what the plain user should see: the
user gets that role and the form is tried again. A record the form saved is saved again with
an `<i>` tag in each text field, and the page reloaded: a tag that became an element is saved
text put into innerHTML unescaped (stored XSS), reported with the line that writes it. JS
exceptions, console errors, failed requests, responses >= 400 and what went wrong using the
page are collected; (4) a short text report.

Chromium is Debian's `/usr/bin/chromium` driven by Playwright (never `playwright install`).

Not done: only the first form is used, and buttons outside forms are not clicked (the `ui`
graders do that); a page that keeps the network busy is cut off at the time limit and
reported as such. A missing browser is reported as an error of the check.
Playwright's sync API is used, so a `Checker` cannot be called from inside a running
asyncio event loop (run it in a worker thread there).
"""

from __future__ import annotations

import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from appwright.runtime.app import ServedApp, create_app
from appwright.runtime.check import check_bundle
from appwright.runtime.forms import FormResult, sign_up_in_page, submit_first_form
from appwright.runtime.local import CHROMIUM, Chromium, LocalServer, settle, track_requests
from appwright.runtime.api import SESSION_COOKIE
from appwright.runtime.auth import hash_password

MAX_LINES = 8  # per kind of problem; a small model acts on the first few anyway


@dataclass
class CheckReport:
    manifest_errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    js_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    http_errors: list[str] = field(default_factory=list)
    form_errors: list[str] = field(default_factory=list)  # signing up through the page, its first form
    markup_errors: list[str] = field(default_factory=list)  # saved text that the page shows as HTML
    browser_error: str | None = None  # the check itself could not run (no browser, server did not start)
    timed_out: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not (self.manifest_errors or self.js_errors or self.console_errors or self.failed_requests
                    or self.http_errors or self.form_errors or self.markup_errors or self.browser_error
                    or self.timed_out)

    def text(self) -> str:
        if self.ok and not self.warnings:
            return "check_app: OK (app.json is valid; the page loads without errors)"
        lines = ["check_app: OK" if self.ok else "check_app: FAILED"]
        for title, items in [("app.json errors", self.manifest_errors), ("JavaScript errors", self.js_errors),
                             ("console errors", self.console_errors), ("failed requests", self.failed_requests),
                             ("HTTP errors", self.http_errors), ("using the page", self.form_errors),
                             ("saved text shown as HTML", self.markup_errors),
                             ("warnings", self.warnings)]:
            if items:
                lines.append(f"{title}:")
                lines += [f"- {_short(i)}" for i in _dedupe(items)[:MAX_LINES]]
        if self.browser_error:
            lines.append(f"the check could not run: {self.browser_error}")
        if self.timed_out:
            lines.append("the page did not finish loading in time")
        return "\n".join(lines)


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _short(line: str, limit: int = 300) -> str:
    line = " ".join(line.split())
    return line if len(line) <= limit else line[:limit] + "..."


def _js_error(exc, url: str) -> str:
    """The message plus where it was thrown (`notes.js:87:1`), from the first stack frame of the app."""
    where = next((line.strip().removeprefix("at ") for line in (getattr(exc, "stack", "") or "").splitlines()
                  if url in line), "")
    return f"{exc} (at {where.replace(url + '/', '')})" if where else str(exc)


class Checker:
    """Holds one Playwright and one Chromium, started on first use; callable on a bundle."""

    def __init__(self, timeout_s: float = 15.0, executable: str = CHROMIUM):
        self.timeout_s = timeout_s
        self._chromium = Chromium(executable)

    def browser(self):
        return self._chromium.get()

    def __call__(self, bundle: str | Path) -> CheckReport:
        return check_app(bundle, self)

    def close(self) -> None:
        self._chromium.close()

    def __enter__(self) -> "Checker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


EMAIL, PASSWORD = "checker@example.com", "check-app-password-1"


def _place_syntax_errors(browser, report: CheckReport, bundle: Path) -> None:
    """A script that does not parse throws a SyntaxError with no stack, so its message names no
    line. Compile each of the app's .js files with Chromium's own parser (CDP's
    Runtime.compileScript) and add `(at app.js:23:140)` to the error whose message is the one
    that file's compile gives."""
    unplaced = {e for e in report.js_errors if "(at " not in e}
    if not unplaced:
        return
    context = browser.new_context()
    try:
        cdp = context.new_cdp_session(context.new_page())
        cdp.send("Runtime.enable")
        found: dict[str, str] = {}
        for path in sorted(bundle.rglob("*.js")):
            rel = path.relative_to(bundle).as_posix()
            if ".aw" in path.parts or not path.is_file():
                continue
            out = cdp.send("Runtime.compileScript", {"expression": path.read_text(errors="replace"),
                                                      "sourceURL": rel, "persistScript": False})
            if details := out.get("exceptionDetails"):
                message = details["exception"]["description"].splitlines()[0].removeprefix("SyntaxError: ")
                found.setdefault(message, f"{rel}:{details['lineNumber'] + 1}:{details['columnNumber'] + 1}")
    except Exception:  # noqa: BLE001 - placing them is a help: the errors stay as the browser gave them
        return
    finally:
        context.close()
    report.js_errors = [f"{e} (at {found[e]})" if e in unplaced and e in found else e for e in report.js_errors]


def _load(page, url: str, timeout_s: float) -> None:
    """Open `url`, wait until its requests are answered, then 200 ms more for errors thrown by
    timers and promise chains just after load. A page whose requests never stop raises
    TimeoutError (the check reports it as not loading in time)."""
    page.goto(url, wait_until="load", timeout=timeout_s * 1000)
    if not settle(page, timeout_s * 1000):
        raise TimeoutError(f"{url}: requests still in flight after {timeout_s:g} s")
    page.wait_for_timeout(200)


def _visit(browser, url: str, report: CheckReport, timeout_s: float, sign_up: bool, served: ServedApp,
           pages: list[str]) -> None:
    """Load the app signed out, or sign up (through the page's own form when the app has open
    sign-up and the page shows one), visit every page, and fill and submit the first form."""
    context, manifest = browser.new_context(), served.manifest
    try:
        page = context.new_page()
        track_requests(page)
        page.on("pageerror", lambda exc: report.js_errors.append(_js_error(exc, url)))
        page.on("console", lambda msg: msg.type == "error" and report.console_errors.append(
            msg.text + (f" ({msg.location.get('url', '').replace(url, '')}:{msg.location.get('lineNumber')})"
                        if msg.location and msg.location.get("url") else "")))
        # ERR_ABORTED: a request the page's own reload or navigation cut off (signing in reloads it)
        page.on("requestfailed", lambda req: "ERR_ABORTED" not in (req.failure or "") and report.failed_requests.append(
            f"{req.method} {req.url.replace(url, '')}: {req.failure}"))
        page.on("response", lambda res: res.status >= 400 and report.http_errors.append(
            f"{res.request.method} {res.url.replace(url, '')} -> {res.status}"))
        _load(page, url + "/", timeout_s)
        if not sign_up:
            return
        # 1. Sign up: with the page's form where there is one, else through the API; an app without
        #    open sign-up gets its user made in its (throwaway) database, as an admin would add one.
        if manifest.auth.signup != "open":
            user = served.store.create_user(EMAIL, hash_password(PASSWORD))
            context.add_cookies([{"name": SESSION_COOKIE, "value": served.store.create_session(user.id),
                                  "url": url + "/", "httpOnly": True, "sameSite": "Lax"}])
        elif not sign_up_in_page(page, EMAIL, PASSWORD):
            r = context.request.post(f"{url}/_aw/api/auth/signup", headers={"X-AW": "1"},
                                     data={"email": EMAIL, "password": PASSWORD})
            if r.status >= 400:
                report.form_errors.append(f"signing up failed: {r.status} {r.text()[:200]}")
                return
        elif context.request.get(f"{url}/_aw/api/auth/session").json().get("user") is None:
            report.form_errors.append("signing up through the page's sign-in form did not sign the user in")
            return
        # 2. Every page, signed in; the first page last, to use its form.
        for path in pages + ["index.html"]:
            _load(page, f"{url}/{path}", timeout_s)
        seen = len(report.console_errors), len(report.http_errors)
        form = submit_first_form(page, manifest, listed=lambda entity: _reads(manifest, entity, None))
        role = _role_for_refused(form, manifest)
        if role:  # a form for admins (or a role): what the page's own user saw was right; try as them
            del report.console_errors[seen[0]:], report.http_errors[seen[1]:]
            served.store.set_role(served.store.user_by_email(EMAIL).id, role)
            _load(page, f"{url}/index.html", timeout_s)
            form = submit_first_form(page, manifest, listed=lambda entity: _reads(manifest, entity, role))
        if form.problem:
            report.form_errors.append(form.problem)
        elif form.record is not None:
            report.markup_errors += _shown_as_html(page, url, timeout_s, manifest, form, served.bundle)
    finally:
        context.close()


def _reads(manifest, entity: str, role: str | None) -> bool:
    """Whether the signed-in user (with `role`) reads the records of `entity`: a form whose records
    only admins read (`submit_only`) need not list what it sent."""
    spec = manifest.entities.get(entity)
    if spec is None:
        return True
    who = spec.rules()["read"]
    return bool(who & {"public", "signed_in", "owner"}) or (role is not None and role in who)


MARKUP = '<i class="aw-markup-{}">x</i>'  # saved as text; an <i> of this class in the page was parsed as HTML
_HTML_SINK = re.compile(r"\.(?:inner|outer)HTML\s*\+?=|\binsertAdjacentHTML\s*\(|\bdocument\.write(?:ln)?\s*\(")


def _shown_as_html(page, url: str, timeout_s: float, manifest, form: FormResult, bundle: Path) -> list[str]:
    """Save, as the same user, a copy of the record the form made with an `<i>` tag in each text
    field, reload the page and look for those tags as elements: a page that puts saved text into
    `innerHTML` unescaped runs whatever a visitor saved (stored XSS, even where the CSP stops the
    script: the markup still lands). Empty when the page shows the text as text, or when such a copy
    cannot be saved (a max_length too short for the tag, a rule that refuses it)."""
    spec = manifest.entities.get(form.entity)
    if spec is None:
        return []
    values = {k: v for k, v in form.record.items() if k in spec.fields and v is not None}
    marked = []  # the fields given a tag; the i-th has class aw-markup-i
    for name, f in spec.fields.items():
        tag = MARKUP.format(len(marked))
        if f.type in ("string", "text") and (f.limit is None or len(tag) <= f.limit):
            values[name] = tag
            marked.append(name)
    if not marked:
        return []
    r = page.context.request.post(f"{url}/_aw/api/entities/{form.entity}", headers={"X-AW": "1"},
                                  data=values, fail_on_status_code=False)
    if r.status >= 300:
        return []
    _load(page, f"{url}/index.html", timeout_s)
    parsed = [name for i, name in enumerate(marked) if page.locator(f"i.aw-markup-{i}").count()]
    if not parsed:
        return []
    where = _html_sink(bundle)
    return [f"{where + ': ' if where else ''}text saved in {' and '.join(f'`{n}`' for n in parsed)} is put into "
            "the page as HTML (a saved <i> tag became an element), so whatever a visitor saves runs in every "
            f"visitor's page (stored XSS). Show saved values with aw.ui.list(list, records, r => aw.html`<li>"
            f"${{r.{parsed[0]}}}</li>`), which escapes them, or with textContent; never build innerHTML from "
            "${...} outside aw.html"]


def _html_sink(bundle: Path) -> str:
    """`app.js:22`: the first line of the app's scripts that writes HTML built from values (a
    `${...}` or `+` on an innerHTML line without aw.html), else the first that writes HTML at all."""
    found = []
    for path in sorted(bundle.rglob("*")):
        if path.suffix not in (".js", ".mjs", ".html") or not path.is_file() or ".aw" in path.parts:
            continue
        for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if _HTML_SINK.search(line):
                built = ("${" in line or "+" in line) and not re.search(r"HTML\s*\+?=\s*aw\.html", line)
                found.append((not built, path.relative_to(bundle).as_posix(), n))
    return f"{min(found)[1]}:{min(found)[2]}" if found else ""


PLAIN_USERS = {"public", "signed_in", "owner"}  # principals a freshly signed-up user is one of


def _role_for_refused(form: FormResult, manifest) -> str | None:
    """For a form whose write was refused (403) because the entity's records are made only by
    admins or a named role: the role to check it as (admin first). None for any other outcome."""
    spec = manifest.entities.get(form.entity) if form.status == 403 else None
    allowed = spec.rules()["create"] if spec else frozenset()
    if not allowed or allowed & PLAIN_USERS:
        return None
    return "admin" if "admin" in allowed else sorted(allowed)[0]


def check_app(bundle: str | Path, checker: Checker | None = None, browser: bool = True) -> CheckReport:
    """`browser=False`: phase 1 only (manifest and files), for tests and quick checks."""
    bundle = Path(bundle)
    started = time.monotonic()
    # 1. The manifest and files, without a browser.
    base = check_bundle(bundle)
    # The model sees paths relative to its app folder, never the host's absolute paths.
    def rel(line: str) -> str:
        for prefix in (str(bundle.resolve()) + "/", str(bundle) + "/"):
            line = line.replace(prefix, "")
        return line
    report = CheckReport(manifest_errors=[rel(e) for e in base.errors], warnings=[rel(w) for w in base.warnings])
    if base.errors or not browser:
        report.seconds = time.monotonic() - started
        return report
    own = checker is None
    checker = checker or Checker()
    try:
        with tempfile.TemporaryDirectory(prefix="aw-check-") as data_dir:
            # 2. Serve it on a fresh database.
            served = ServedApp.open(bundle, data_dir)
            try:
                with LocalServer(create_app(served)) as url:
                    # 3. Load it signed out, then signed up, using it.
                    browser = checker.browser()
                    pages = sorted(p.relative_to(bundle).as_posix() for p in bundle.rglob("*.html")
                                   if p.name != "index.html" or p.parent != bundle)
                    for sign_up in (False, True):
                        _visit(browser, url, report, checker.timeout_s, sign_up, served, pages)
                    _place_syntax_errors(browser, report, bundle)
            finally:
                served.store.close()
    except Exception as exc:  # noqa: BLE001 - a check that cannot run is a result, not a crash
        if type(exc).__name__ == "TimeoutError":
            report.timed_out = True
        else:
            report.browser_error = f"{type(exc).__name__}: {_short(str(exc))}"
    finally:
        if own:
            checker.close()
    report.seconds = time.monotonic() - started
    return report
