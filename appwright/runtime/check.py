"""`appwright check BUNDLE`: everything that can be known about a bundle without a browser.

Errors make the bundle unservable (bad manifest, no index.html); warnings point
at likely mistakes: pages that load code from other sites or never load the SDK,
and stored data that the new manifest no longer shows (a removed field or
entity keeps its values, hidden, until it is declared again).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from appwright.runtime.manifest import Manifest, ManifestError, load_manifest
from appwright.runtime.storage import AppStore, db_path

EXTERNAL_SCRIPT = re.compile(r"""<script[^>]+src\s*=\s*["']?(https?:)?//""", re.I)


@dataclass
class BundleReport:
    """What `check_bundle` found (the browser check's report is `agent.check_app.CheckReport`)."""
    manifest: Manifest | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def hidden_data(manifest: Manifest, store: AppStore) -> list[str]:
    """Stored values that the manifest no longer declares (kept, not deleted)."""
    notes = []
    for entity, count in store.entity_counts().items():
        spec = manifest.entities.get(entity)
        if spec is None:
            notes.append(f"entities.{entity}: removed from app.json, but {count} stored records are kept "
                         "(hidden; declare the entity again to see them)")
            continue
        for name, n in store.stored_fields(entity).items():
            if name not in spec.fields:
                notes.append(f"entities.{entity}.fields.{name}: removed from app.json, but {n} records keep "
                             "a value (hidden; declare the field again to see them)")
    return notes


def check_bundle(bundle: str | Path, data_dir: str | Path | None = None) -> BundleReport:
    bundle = Path(bundle)
    report = BundleReport()
    try:
        report.manifest = load_manifest(bundle)
    except ManifestError as exc:
        report.errors.extend(exc.errors)
        return report
    if not (bundle / "index.html").is_file():
        report.errors.append("index.html: missing; the app's first page must be index.html")
    for page in sorted(bundle.rglob("*.html")):
        if any(p.startswith(".") for p in page.relative_to(bundle).parts):
            continue
        text = page.read_text(encoding="utf-8", errors="replace")
        rel = page.relative_to(bundle)
        if EXTERNAL_SCRIPT.search(text):
            report.warnings.append(f"{rel}: loads a script from another site; the runtime's security policy "
                                   "blocks it (pages may load only the app's own files and /_aw/sdk.js)")
        if "aw." in text and "/_aw/sdk.js" not in text:
            report.warnings.append(f"{rel}: uses aw.* but never loads <script src=\"/_aw/sdk.js\"></script>")
    db = db_path(bundle, data_dir)
    if db.is_file():
        store = AppStore(db)
        try:
            report.warnings.extend(hidden_data(report.manifest, store))
        finally:
            store.close()
    return report
