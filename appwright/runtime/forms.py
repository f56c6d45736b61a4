"""A person using an app's page, in Chromium: signing up through the page's own form, and filling
the first other form with plausible values and submitting it. `check_app` (agent/) runs this on
every answer; the graders (tasks/) may run the same steps, so both judge a form the same way.

    signed_up = sign_up_in_page(page, "ada@example.com", "a long password")
    result = submit_first_form(page, manifest)      # FormResult: what was typed, what came of it
    result.problem                                  # None, or words a model can act on

Values come from the manifest where an input's `name` (or id) is a field of an entity: a date
field gets a date, an enum a value of its `values`, a number a number. Otherwise from the
input's type (`email`, `url`, `number`, `date`, `checkbox`, ...), and plain text for the rest.
A form "works" when submitting it sends a write to the entity API that succeeds, and the page
then shows the text that was typed.

Not done: forms inside a dialog that must be opened first, several-step forms, file inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from appwright.runtime.local import settle
from appwright.runtime.manifest import FieldSpec, Manifest

TEXT_VALUE = "Plant the tulips"  # typed into text inputs; the page is expected to show it after saving
BY_TYPE = {"string": TEXT_VALUE, "text": "Water them every second day.", "date": "2026-12-24",
           "datetime": "2026-12-24T10:30"}
BY_INPUT = {"email": "ada@example.com", "url": "https://example.com", "tel": "555 0100", "number": "3",
            "date": "2026-12-24", "datetime-local": "2026-12-24T10:30", "time": "10:30", "month": "2026-12",
            "week": "2026-W52", "color": "#336699", "password": "a long password 1", "search": TEXT_VALUE}
SKIP = ("hidden", "submit", "button", "reset", "file", "image")
WAIT_MS = 4000  # for the write a submit should send


@dataclass
class FormResult:
    found: bool = False  # a visible form other than the sign-in form
    filled: list[str] = field(default_factory=list)  # "name=value" per field typed into
    created: str | None = None  # "POST /_aw/api/entities/Task -> 201"
    entity: str | None = None  # the entity the write went to ("Task")
    status: int | None = None  # its HTTP status
    record: dict | None = None  # the record the write returned, when it succeeded
    problem: str | None = None  # what went wrong, for the model

    @property
    def typed(self) -> list[str]:
        """What was typed into text boxes: the page shows it once the record is listed."""
        return [v for v in (f.split("=", 1)[1] for f in self.filled) if v in (TEXT_VALUE, BY_TYPE["text"])]


def _field(manifest: Manifest, name: str) -> FieldSpec | None:
    name = name.lower()
    for entity in manifest.entities.values():
        for fname, spec in entity.fields.items():
            if fname.lower() == name:
                return spec
    return None


def _number(spec: FieldSpec | None, low: str | None, high: str | None, whole: bool, step: float | None) -> str:
    """A number inside both the field's min/max and the input's: their midpoint, else 3; on the
    input's `step` grid (counted from its min, as the browser checks it) when it has one."""
    lows = [float(v) for v in (spec.min if spec else None, low) if v not in (None, "")]
    highs = [float(v) for v in (spec.max if spec else None, high) if v not in (None, "")]
    lo, hi = (max(lows) if lows else None), (min(highs) if highs else None)
    value = (lo + hi) / 2 if lo is not None and hi is not None else lo + 1 if lo is not None else \
        min(3.0, hi) if hi is not None else 3.0
    if step and step > 0:
        base = float(low) if low not in (None, "") else 0.0
        value = base + round((value - base) / step) * step
        if hi is not None and value > hi:
            value -= step
        if lo is not None and value < lo:
            value += step
        value = round(value, 9)
    return str(round(value)) if whole else f"{value:g}"


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def value_for(spec: FieldSpec | None, input_type: str, low: str | None = None, high: str | None = None,
              step: str | None = None) -> str:
    """What to type into an input: from the field it saves into, else from its type. `low`, `high`,
    `step`: the input's own min, max and step (a number input without one steps by 1, as the browser
    holds it; "any" does not step)."""
    if input_type == "number" or (spec is not None and spec.type in ("number", "integer")):
        grid = None if input_type != "number" or step == "any" else 1.0 if step in (None, "") else _float(step)
        return _number(spec, low, high, spec is not None and spec.type == "integer", grid)
    if spec is not None and spec.type in BY_TYPE and input_type not in ("email", "url", "tel"):
        if spec.type in ("date", "datetime") and input_type not in ("date", "datetime-local"):
            return BY_TYPE[spec.type][:10] if spec.type == "date" else "2026-12-24T10:30:00Z"
        return BY_TYPE[spec.type]
    return BY_INPUT.get(input_type, TEXT_VALUE)


def sign_up_in_page(page, email: str, password: str) -> bool:
    """Sign up with the page's `aw.ui.authForm` (switch it to sign-up, fill, submit). False when
    the page has no such form; the caller then signs up through the API. The page's requests
    must be tracked (`runtime.local.track_requests`): it returns once they are answered."""
    form = page.locator("form.aw-auth")
    if form.count() == 0 or not form.first.is_visible():
        return False
    switch = form.locator(".aw-switch")
    if switch.count() and switch.first.text_content().strip().lower().startswith("create"):
        switch.first.click()
    form.locator("input[name=email]").fill(email)
    form.locator("input[name=password]").fill(password)
    with page.expect_response(lambda r: "/_aw/api/auth/" in r.url, timeout=WAIT_MS):
        form.locator("[type=submit]").first.click()
    try:  # the form reloads the page (its default onChange), then shows "Signed in as ..."
        page.locator(".aw-signed-in").wait_for(timeout=WAIT_MS)
    except Exception:  # noqa: BLE001 - Playwright's timeout: a page with its own onChange; go on
        pass
    settle(page, WAIT_MS)
    return True


def _lines(page) -> list[str]:
    """The page's visible text, line by line (to tell what a submit made appear, such as an error)."""
    try:
        return [line.strip() for line in page.inner_text("body").splitlines() if line.strip()]
    except Exception:  # noqa: BLE001 - a page that navigated away or has no body
        return []


def submit_first_form(page, manifest: Manifest, listed: bool | Callable[[str], bool] = True) -> FormResult:
    """Fill the first visible form that is not the sign-in form, submit it, and say what came of it.
    `listed`: the page should show what was typed afterwards (not for a form that only sends); a
    function of the entity the form wrote to, where that decides it."""
    result = FormResult()
    forms = page.locator("form:not(.aw-auth)")
    form = next((forms.nth(i) for i in range(forms.count()) if forms.nth(i).is_visible()), None)
    if form is None:
        return result
    result.found = True
    inputs = form.locator("input, textarea, select")
    for i in range(inputs.count()):
        el = inputs.nth(i)
        tag = el.evaluate("e => e.tagName.toLowerCase()")
        kind = (el.get_attribute("type") or ("textarea" if tag == "textarea" else "text")).lower()
        if kind in SKIP or not el.is_visible() or not el.is_enabled():
            continue
        name = el.get_attribute("name") or el.get_attribute("id") or ""
        spec = _field(manifest, name)
        if tag == "select":
            options = [o for o in el.locator("option").evaluate_all("os => os.map(o => o.value)") if o]
            wanted = [o for o in options if spec and spec.values and o in spec.values] or options
            if wanted:
                el.select_option(wanted[0])
                result.filled.append(f"{name}={wanted[0]}")
        elif kind in ("checkbox", "radio"):
            el.check()
            result.filled.append(f"{name}=checked")
        else:
            value = value_for(spec, kind, el.get_attribute("min"), el.get_attribute("max"), el.get_attribute("step"))
            el.fill(value)
            result.filled.append(f"{name}={value}")
    what = f"the first form ({', '.join(result.filled) or 'no fields'})"
    submit = form.locator("button[type=submit], input[type=submit], button:not([type])")
    before = set(_lines(page))
    try:
        with page.expect_response(lambda r: "/_aw/api/entities/" in r.url and r.request.method in ("POST", "PATCH"),
                                  timeout=WAIT_MS) as caught:
            if submit.count():
                submit.first.click()
            else:
                inputs.last.press("Enter")
        response = caught.value
    except Exception:  # noqa: BLE001 - Playwright's timeout: no write was sent
        names = form.evaluate("f => [...f.elements].map(e => e.name).filter(n => n)")
        shown = [line for line in _lines(page) if line not in before]
        result.problem = (f"submitting {what} sent no request to the entity API: its submit handler should call "
                          "aw.entities.<Entity>.create({...}) with the form's values (and event.preventDefault())"
                          f"; the form's fields are named {', '.join(names) or '(none)'}"
                          + (f"; after the submit the page showed {' / '.join(shown)[:200]!r}" if shown else ""))
        return result
    path = response.url.split("/_aw/api/", 1)[1].split("?")[0]
    result.created = f"{response.request.method} /_aw/api/{path} -> {response.status}"
    result.entity, result.status = path.removeprefix("entities/").split("/")[0], response.status
    try:
        body = response.json()
    except Exception:  # noqa: BLE001 - a body that is not JSON: no message, no record
        body = None
    body = body if isinstance(body, dict) else {}
    if response.status >= 400:
        result.problem = f"submitting {what} sent {result.created}: {body.get('error') or 'an error'}"
        return result
    result.record = body or None
    page.wait_for_timeout(300)
    typed = result.typed
    shows = listed(result.entity) if callable(listed) else listed
    if shows and typed and not any(page.get_by_text(t, exact=False).count() for t in typed):
        alerts = [a.strip() for a in page.locator("[role=alert]").all_inner_texts() if a.strip()]
        result.problem = (f"submitting {what} saved a record ({result.created}), but the page does not show "
                          f"{typed[0]!r} afterwards: list the records again after creating one"
                          + (f"; the page shows {' / '.join(alerts)[:200]!r}" if alerts else ""))
    return result
