"""The checked-in reference docs match what the code generates (run scripts/gen_docs.py to refresh)."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_generated_docs_are_current():
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "scripts/gen_docs.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    stale = [str(p.relative_to(ROOT)) for p, text in gen.generated().items()
             if not p.is_file() or p.read_text() != text]
    assert not stale, f"stale docs: {stale}; run .venv/bin/python scripts/gen_docs.py"
