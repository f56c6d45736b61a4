"""`look` checks: whether an app reads like a finished product, in Chromium, cheaply and the same
way every time. Never required (model.LookCheck); together at most LOOK_SHARE of the reward.

- `no_hscroll`: signed in, at 375 px wide nothing scrolls sideways.
- `labels`: every visible input, select and textarea has a <label>, an aria-label or a title.
- `contrast`: every visible piece of text has a contrast of at least 4.5:1 with what is behind it
  (3:1 for large text: 24 px, or 18.7 px bold), as WCAG 2 computes it, in light and in dark mode.
  The background is the first opaque one among the element and its ancestors, else the canvas.
- `heading`: an h1, h2 or h3 holds the app's name (or the name holds the heading: "Notes" for
  "Private notes").
- `empty_state`: signed in with no records the page shows a line that it does not show once a
  record exists ("No notes yet.", "0 notes"): an empty list says something.

The first four read one load of the page (a new signed-in user, no records), whichever of them
runs first; `empty_state` loads it twice, before and after a record.

Not done: background images and gradients are not seen by `contrast`; text in a canvas or an SVG
is not read.
"""

from __future__ import annotations

import re

from appwright.runtime.local import settle
from appwright.tasks.graders.common import Context, Fail, expect, linked, map_record, resolve_entity, short
from appwright.tasks.graders.env import AppEnv
from appwright.tasks.graders.ui import LOAD_MS, open_page
from appwright.tasks.model import LookCheck

PHONE = {"width": 375, "height": 740}

_LABELS = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(e => !['hidden', 'submit', 'button', 'reset', 'image'].includes(e.type))
  .filter(e => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden')
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
               && !e.getAttribute('aria-labelledby') && !e.title)
  .map(e => e.outerHTML.slice(0, 80))"""

_CONTRAST = """() => {
  const parse = c => { const m = /rgba?\\(([^)]+)\\)/.exec(c); if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const over = (t, u) => ({r: t.r * t.a + u.r * (1 - t.a), g: t.g * t.a + u.g * (1 - t.a),
                           b: t.b * t.a + u.b * (1 - t.a), a: 1});
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const dark = matchMedia('(prefers-color-scheme: dark)').matches
    && /dark/.test(getComputedStyle(document.documentElement).colorScheme || '');
  const canvas = dark ? {r: 18, g: 18, b: 18, a: 1} : {r: 255, g: 255, b: 255, a: 1};
  const behind = el => { const layers = [];
    for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break; } }
    return layers.reverse().reduce((u, t) => over(t, u), canvas); };
  const texts = [...document.querySelectorAll('body, body *')].filter(e =>
    e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden' && !e.closest('[hidden]')
    && [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())).slice(0, 300);
  let worst = null;
  for (const e of texts) {
    const s = getComputedStyle(e), b = behind(e), f = over(parse(s.color), b);
    const [hi, lo] = [lum(f), lum(b)].sort((x, y) => y - x), ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(s.fontSize), large = size >= 24 || (size >= 18.66 && +s.fontWeight >= 700);
    const need = large ? 3 : 4.5;
    if (ratio < need && (!worst || ratio / need < worst.ratio / worst.need))
      worst = {ratio, need, text: e.textContent.trim().slice(0, 40), color: s.color,
               behind: `rgb(${Math.round(b.r)}, ${Math.round(b.g)}, ${Math.round(b.b)})`};
  }
  return worst;
}"""


def _lines(page) -> list[str]:
    text = page.evaluate("document.body ? document.body.innerText : ''")
    return [line.strip() for line in text.splitlines() if line.strip()]


def _no_hscroll(page, name: str) -> str:
    size = page.viewport_size
    page.set_viewport_size(PHONE)
    try:
        page.wait_for_timeout(100)
        wide = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        culprit = page.evaluate("""() => [...document.querySelectorAll('body *')].find(e =>
            e.getBoundingClientRect().right > innerWidth + 1)?.outerHTML.slice(0, 80) || ''""")
    finally:
        if size:
            page.set_viewport_size(size)
    expect(wide[0] <= wide[1] + 1, f"at {PHONE['width']} px wide the page is {wide[0]} px wide and scrolls "
                                   f"sideways; too wide: {culprit or 'the page itself'}")
    return f"fits {PHONE['width']} px"


def _contrast(page, name: str) -> str:
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        try:
            worst = page.evaluate(_CONTRAST)
        finally:
            page.emulate_media(color_scheme="light")
        if worst:
            raise Fail(f"in {scheme} mode {short(worst['text'], 40)!r} has a contrast of {worst['ratio']:.2f}:1 "
                       f"({worst['color']} on {worst['behind']}); at least {worst['need']:g}:1 is needed")
    return "text contrast at least 4.5:1 (3:1 for large text) in light and dark mode"


def _norm(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def _labels(page, name: str) -> str:
    bare = page.evaluate(_LABELS)
    expect(not bare, f"{len(bare)} input(s) without a label or aria-label: {short(bare, 200)}")
    return "every input has a label"


def _heading(page, name: str) -> str:
    headings = [_norm(h) for h in page.locator("h1, h2, h3").all_inner_texts()]
    wanted = _norm(name)
    ok = any(h and len(h) >= 3 and (wanted in h or h in wanted) for h in headings)
    expect(ok, f"no h1, h2 or h3 shows the app's name {name!r}; headings: {short(headings, 120) if headings else 'none'}")
    return f"a heading shows {name!r}"


PAGE_TESTS = {"no_hscroll": _no_hscroll, "labels": _labels, "contrast": _contrast, "heading": _heading}


def _page_looks(env: AppEnv, ctx: Context) -> dict[str, str | Fail]:
    """Every one-page test's evidence (or its Fail), read from one load of the page as a new
    signed-in user with no records: each look check would see that same page, so the grade loads
    it once (a load and settle cost about 0.3 s)."""
    if ctx.looks is None:
        looks: dict[str, str | Fail] = {}
        with open_page(env, ctx, env.user("owner")) as page:  # a page that does not load: the next check retries
            for test, fn in PAGE_TESTS.items():
                try:
                    looks[test] = fn(page, env.manifest.name)
                except Fail as exc:
                    looks[test] = exc
        ctx.looks = looks
    return ctx.looks


def grade_look(env: AppEnv, check: LookCheck, ctx: Context) -> str:
    if check.test != "empty_state":
        found = _page_looks(env, ctx)[check.test]
        if isinstance(found, Fail):
            raise found
        return found
    owner = env.user("owner")
    entity = resolve_entity(env, check.entity or "")
    with open_page(env, ctx, owner) as page:
        empty = _lines(page)
    r = owner.post(env.api(entity), json=linked(env, owner, map_record(env, entity, check.record)))
    expect(r.status_code == 201, f"could not create a {entity} record through the API: {r.status_code} "
                                 f"{short(r.text, 200)}")
    with open_page(env, ctx, owner) as page:
        settle(page, LOAD_MS)
        one = _lines(page)
    said = [line for line in empty if line not in one]
    expect(bool(said), f"with no {entity} records the page shows nothing it does not also show with one "
                       f"(say that the list is empty, e.g. 'No {entity.lower()}s yet.'); it shows: "
                       f"{short(' / '.join(empty), 200)}")
    return f"with no records it says {short(said[0], 60)!r}"
