"""The eval report (appwright/evals/report.py) in headless Chromium: the comparison table and
the SVG charts render, nothing is fetched, no JS error, XSS payloads in the data show as
text, and docs/screenshots/eval-report.png is refreshed.

The rows are synthetic (three made-up models, "demo-*"), so the page and the screenshot
show the layout, not measured results (those are in docs/results.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from appwright.evals.charts import scatter
from appwright.evals.records import append_row
from appwright.evals.report import write_report
from appwright.evals.stats import Estimate
from tests.test_evals import XSS, check, row

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOT = ROOT / "docs" / "screenshots" / "eval-report.png"
KINDS = ("build", "edit", "fix", "taste")
DOMAINS = ("bookings", "contacts", "rsvps")


def synthetic_rows():
    """demo-small: good 1 in 3, cheap; demo-medium: 2 in 3; demo-frontier: 5 in 6, dear; demo-broken: none."""
    rows = []
    models = {"demo-small": (3, 0.0004), "demo-medium": (2, 0.003), "demo-frontier": (6, 0.04), "demo-broken": (0, 0.001)}
    for mi, (model, (every, cost)) in enumerate(models.items()):
        for i in range(24):
            kind, dom = KINDS[i % 4], DOMAINS[i % 3]
            good = every == 3 and i % 3 == 0 or every == 2 and i % 3 != 2 or every == 6 and i % 6 != 5
            prompt = f"Build a {dom} app (task {i})." + (f" Title it {XSS}" if i == 7 else "")
            checks = [check("schema", "schema", good or i % 2 == 0), check("api-crud", "api", good),
                      check("ui-create", "ui", good or i % 4 == 1,
                            evidence=f"filled title; submitted; expected {XSS!r} on the page" if not good else "seen"),
                      check("xss", "security", good or i % 5 != 0, evidence=f"payload {XSS} ran" if not good else "ok"),
                      check("ui-delete", "ui", good, required=False)]
            rows.append(row(model=model, task=f"{kind}-{dom}-{i}", kind=kind, domain_=dom, good=good,
                            checks=checks, cost=cost * (1 + (i % 5) / 4), prompt=prompt,
                            created=f"2026-12-01T0{mi}:{i:02d}:00+00:00", agent_s=20.0 + 10 * mi + i % 7,
                            prompt_tokens=3000 + 100 * i, completion_tokens=600 + 20 * i))
    return rows


@pytest.mark.slow  # Chromium
def test_report_renders_in_chromium_and_shows_payloads_as_text(tmp_path, page):
    for r in synthetic_rows():
        append_row(tmp_path / "results.jsonl", r)
    metrics, path = write_report(tmp_path)
    requests = []
    page.on("request", lambda req: requests.append(req.url))
    page.set_viewport_size({"width": 1200, "height": 900})
    page.goto(path.as_uri())

    # 1. Self-contained, no JS errors, no payload ran.
    assert requests == [path.as_uri()]
    assert page.errors == []
    assert page.evaluate("window.__xss") is None
    assert page.evaluate("document.scripts.length") == 0 and page.evaluate("document.images.length") == 0
    assert XSS in page.locator(".prompt", has_text="task 7").first.inner_text()
    assert XSS in page.locator("#failures").inner_text()

    # 2. The comparison table: one column per model, one row per metric.
    header = page.locator("#compare tr").first.locator("th").all_inner_texts()
    assert header == ["metric", *metrics.models]
    table = page.locator("#compare").inner_text()
    for label in ("good rate (pass@1)", "mean reward", "secure rate", "cost / good app", "agent seconds / task"):
        assert label in table
    broken = page.locator("#compare tr", has_text="cost / good app").locator("td").last.inner_text()
    assert broken == "n/a"
    assert page.locator("#compare td.best").count() > 0

    # 3. The charts: four SVGs with real size, bars and points drawn.
    svgs = page.locator("svg")
    assert svgs.count() == 4
    for i in range(4):
        box = svgs.nth(i).bounding_box()
        assert box and box["width"] > 200 and box["height"] > 50
    good_bars = svgs.nth(0).locator("rect")
    assert good_bars.count() == 4
    widths = [good_bars.nth(i).bounding_box()["width"] for i in range(4)]
    assert widths[2] > widths[1] > widths[0] > widths[3] > 0  # small < medium < frontier; broken (0%) a hairline
    assert "n/a: no good app" in svgs.nth(1).inner_html()
    assert svgs.nth(2).locator("circle").count() == 4
    assert svgs.nth(3).locator("rect").count() >= 3 * len(KINDS)  # bars plus the legend
    assert page.locator("#by-kind tr").count() == 1 + len(KINDS)
    assert page.locator("#by-domain tr").count() == 1 + len(DOMAINS)
    assert page.locator(".failure").count() == 12

    # 4. The screenshot for the docs: the top of the page (table and charts), 1200 px wide.
    page.set_viewport_size({"width": 1200, "height": 1560})
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=False)
    assert SCREENSHOT.stat().st_size < 400_000


@pytest.mark.slow  # Chromium
def test_scatter_labels_of_close_points_do_not_overlap_and_match_their_points(page):
    """The measured 0.5B and 1.5B sit close together near the right edge (docs/results.md):
    each label must be readable, inside the chart, and in its point's colour."""
    points = [("qwen2.5-coder-0.5b", 0.00605, Estimate(value=0.15, low=0.07, high=0.29, n=40, method="wilson"), "#2563eb"),
              ("qwen2.5-coder-1.5b", 0.00462, Estimate(value=0.125, low=0.05, high=0.26, n=40, method="wilson"), "#ea580c"),
              ("qwen2.5-coder-1.5b-rl", 0.00470, Estimate(value=0.13, low=0.05, high=0.27, n=40, method="wilson"), "#16a34a")]
    page.set_content(f"<!doctype html><style>svg .label{{font-size:12px}}</style>{scatter('s', points)}")
    svg = page.locator("svg").bounding_box()
    labels = page.locator("svg text.label[style]")
    assert labels.count() == 3
    boxes = [labels.nth(i).bounding_box() for i in range(3)]
    for (name, *_, colour), box, i in zip(points, boxes, range(3)):
        assert labels.nth(i).text_content() == name
        rgb = "rgb({}, {}, {})".format(*(int(colour[k:k + 2], 16) for k in (1, 3, 5)))
        assert labels.nth(i).evaluate("e => getComputedStyle(e).fill") == rgb, name
        assert svg["x"] <= box["x"] and box["x"] + box["width"] <= svg["x"] + svg["width"], name
    for i in range(3):
        for j in range(i + 1, 3):
            a, b = boxes[i], boxes[j]
            overlap = (a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
                       and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])
            assert not overlap, (points[i][0], points[j][0], a, b)
