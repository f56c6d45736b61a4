"""Screenshots of apps before and after the default theme, at a desktop and a phone width.

    .venv/bin/python scripts/screenshots.py examples/notes examples/guestbook --out docs/screenshots/theme

For each bundle: a copy is served twice, with `"theme": "none"` (before) and as it is (after);
in each, a person signs up through the page, fills and submits its first form twice
(runtime/forms.py), and the whole page is shot at 1280 and 375 px wide, light scheme:
`<name>-before-1280.png`, `<name>-after-375.png`, ... A bundle that cannot be served is
reported and skipped.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from appwright.runtime.api import SESSION_COOKIE  # noqa: E402
from appwright.runtime.app import ServedApp, create_app  # noqa: E402
from appwright.runtime.auth import hash_password  # noqa: E402
from appwright.runtime.forms import sign_up_in_page, submit_first_form  # noqa: E402
from appwright.runtime.local import Chromium, LocalServer, track_requests  # noqa: E402
from appwright.runtime.manifest import ManifestError, load_manifest  # noqa: E402

EMAIL, PASSWORD = "ada@example.com", "a long password 1"

WIDTHS = (1280, 375)


def shoot(bundle: Path, name: str, out: Path, browser) -> list[Path]:
    shots = []
    for when in ("before", "after"):
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / "app"
            shutil.copytree(bundle, copy, ignore=shutil.ignore_patterns(".*"))
            manifest = json.loads((copy / "app.json").read_text())
            if when == "before":
                manifest["theme"] = "none"
            (copy / "app.json").write_text(json.dumps(manifest, indent=2))
            served = ServedApp.open(copy)
            with LocalServer(create_app(served)) as url:
                context = browser.new_context(viewport={"width": WIDTHS[0], "height": 900}, color_scheme="light")
                page = context.new_page()
                track_requests(page)
                if served.manifest.auth.signup != "open":  # as an admin would add the user
                    user = served.store.create_user(EMAIL, hash_password(PASSWORD))
                    context.add_cookies([{"name": SESSION_COOKIE, "value": served.store.create_session(user.id),
                                          "url": url + "/"}])
                page.goto(url + "/", wait_until="networkidle")
                if served.manifest.auth.signup == "open":
                    sign_up_in_page(page, EMAIL, PASSWORD)
                for _ in range(2):
                    submit_first_form(page, served.manifest)
                    page.wait_for_load_state("networkidle")
                for width in WIDTHS:
                    page.set_viewport_size({"width": width, "height": 900})
                    page.wait_for_timeout(200)
                    path = out / f"{name}-{when}-{width}.png"
                    page.screenshot(path=str(path), full_page=True)
                    shots.append(path)
                context.close()
            served.store.close()
    return shots


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundles", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots" / "theme")
    parser.add_argument("--names", help="comma-separated names for the files (default: the folder names)")
    args = parser.parse_args()
    names = args.names.split(",") if args.names else [b.name for b in args.bundles]
    if len(names) != len(args.bundles):
        parser.error("--names: one name per bundle")
    args.out.mkdir(parents=True, exist_ok=True)
    chromium = Chromium()
    failed = 0
    try:
        for bundle, name in zip(args.bundles, names):
            try:
                load_manifest(bundle)
            except ManifestError as exc:
                print(f"skipped {bundle}: {exc}", file=sys.stderr)
                failed += 1
                continue
            for path in shoot(bundle, name, args.out, chromium.get()):
                print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    finally:
        chromium.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
