"""A trained adapter -> a GGUF the `llamacpp` backend serves on a CPU, plus its registry entry.

    appwright models export qwen0.5b-rl1 --from runs/rl1 [--quant q4_k_m]
    card = export_model("qwen0.5b-rl1", Path("runs/rl1"), Path("~/.cache/appwright/models/trained"))

The path, top to bottom:
1. The adapter: RUN/adapter, RUN/checkpoint-N, or any folder with adapter_config.json; the
   base HF folder comes from the run's run.json (else the adapter's base_model_name_or_path).
2. PEFT merges the LoRA weights into the base (`merge_and_unload`) -> RUN-merged HF folder.
3. llama.cpp's own `convert_hf_to_gguf.py` (from the llama-cpp-python sdist of the installed
   version, with that sdist's own gguf-py: PyPI's gguf 0.19.0 is older than the converter
   expects; its dependencies come with the `gguf` package of the `train` extra) writes an f16 or q8_0 GGUF; for k-quants
   (q4_k_m, the default for the 0.5B), `llama_cpp.llama_model_quantize` requantises it in
   process, no separate binary. A tensor whose rows do not fit a k-quant block (the tiny CI
   model's) is left to llama.cpp's fallback types.
4. The GGUF is loaded once by `LlamaCppBackend` and made to answer (a broken export fails
   here, not in front of a user), then the entry is appended to the user's registry
   (APPWRIGHT_MODELS_TOML, default ~/.config/appwright/models.toml), and `NAME.card.json`
   beside the GGUF records base, data, steps and eval scores.

The registry's ModelSpec has no fields for training provenance, so the entry's
`description` carries a one-line summary and the card holds the rest. Not done: replacing
an existing entry (choose a new name), LoRA-only GGUF adapters (convert_lora_to_gguf.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

from appwright.train.hf import read_source, sha256_file
from appwright.train.records import RunRecord, read_run

CONVERTER = "convert_hf_to_gguf.py"
QUANTS = ("f16", "q8_0", "q4_k_m")
_FTYPES = {"q4_k_m": "LLAMA_FTYPE_MOSTLY_Q4_K_M"}


class ExportError(RuntimeError):
    """An export to GGUF that cannot be done (no checkpoint, converter missing or failing)."""


@dataclass(frozen=True)
class ModelCard:
    format: int
    name: str
    gguf: str
    sha256: str
    size_bytes: int
    quant: str
    base: str
    stages: list[RunRecord]  # oldest first: e.g. SFT, then RL
    eval: dict[str, dict] = field(default_factory=dict)  # eval run folder -> its metrics.json summary
    seconds: float = 0.0

    def summary(self) -> str:
        stages = ", ".join(f"{s.kind} {s.steps} steps on {s.data}" for s in self.stages)
        return f"trained from {self.base}: {stages} ({self.quant}; card: {Path(self.gguf).name}.card.json)"


# 1. Which adapter, which base ----------------------------------------------------------------


def find_adapter(checkpoint: Path) -> Path:
    for candidate in (checkpoint / "adapter", checkpoint):
        if (candidate / "adapter_config.json").is_file():
            return candidate
    raise ExportError(f"{checkpoint}: no LoRA adapter (adapter_config.json) here or in {checkpoint}/adapter")


def stages_of(checkpoint: Path) -> list[RunRecord]:
    run = read_run(checkpoint) or read_run(checkpoint.parent)
    if run is None:
        return []
    return [*run.previous, run]


def base_folder(adapter: Path, stages: list[RunRecord]) -> Path:
    if stages:
        return Path(stages[-1].model)
    config = json.loads((adapter / "adapter_config.json").read_text(encoding="utf-8"))
    return Path(config["base_model_name_or_path"])


# 2. Merge ------------------------------------------------------------------------------------


def merge(base: Path, adapter: Path, out: Path) -> Path:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(str(base), dtype=torch.float32)
    merged = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    out.mkdir(parents=True, exist_ok=True)
    merged.save_pretrained(str(out))
    AutoTokenizer.from_pretrained(str(adapter if (adapter / "tokenizer_config.json").is_file() else base)) \
        .save_pretrained(str(out))
    return out


# 3. Convert and quantise ---------------------------------------------------------------------


def converter(cache: Path) -> Path:
    """llama.cpp's convert_hf_to_gguf.py (and its `conversion` package) for the installed
    llama-cpp-python, taken from that version's sdist (pip's cache, else PyPI) once."""
    version = metadata.version("llama-cpp-python")
    folder = cache / f"llama.cpp-{version}"
    if (folder / CONVERTER).is_file():
        return folder / CONVERTER
    with tempfile.TemporaryDirectory(prefix="aw-sdist-") as tmp:
        r = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                            "--disable-pip-version-check", "-q", "-d", tmp, f"llama-cpp-python=={version}"],
                           capture_output=True, text=True)
        sdists = list(Path(tmp).glob("llama_cpp_python-*.tar.gz"))
        if r.returncode or not sdists:
            raise ExportError(f"could not get the llama-cpp-python {version} sdist for {CONVERTER}: "
                              f"{r.stderr.strip()[-500:]}")
        prefix = f"{sdists[0].name.removesuffix('.tar.gz')}/vendor/llama.cpp/"
        with tarfile.open(sdists[0]) as tar:
            members = [m for m in tar.getmembers() if m.isfile() and (m.name == prefix + CONVERTER or
                                                                     m.name.startswith(prefix + "conversion/") or
                                                                     m.name.startswith(prefix + "gguf-py/"))]
            staging = Path(tmp) / "x"
            tar.extractall(staging, members=members, filter="data")
        folder.parent.mkdir(parents=True, exist_ok=True)
        (staging / prefix).rename(folder)
    return folder / CONVERTER


def convert(hf_dir: Path, out: Path, outtype: str, script: Path) -> Path:
    # The converter puts its own gguf-py first on sys.path: the PyPI gguf 0.19.0 carries the same
    # version number but lacks architectures this converter names (MODEL_ARCH.DFLASH), measured here.
    env = {k: v for k, v in os.environ.items() if k != "NO_LOCAL_GGUF"}
    r = subprocess.run([sys.executable, str(script), str(hf_dir), "--outfile", str(out), "--outtype", outtype],
                       capture_output=True, text=True, env=env)
    if r.returncode or not out.is_file():
        raise ExportError(f"{CONVERTER} failed ({r.returncode}):\n{(r.stderr or r.stdout).strip()[-2000:]}")
    return out


def quantize(src: Path, dest: Path, quant: str) -> Path:
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, _FTYPES[quant])
    code = llama_cpp.llama_model_quantize(str(src).encode(), str(dest).encode(), params)
    if code != 0 or not dest.is_file():
        raise ExportError(f"llama_model_quantize({quant}) failed with {code}")
    return dest


# 4. Check, register ----------------------------------------------------------------------------


def smoke_test(name: str, gguf: Path, context_length: int) -> None:
    from appwright.models.base import GenerationConfig, Message
    from appwright.models.llamacpp import LlamaCppBackend
    from appwright.models.registry import ModelSpec

    backend = LlamaCppBackend(ModelSpec(name=name, backend="llamacpp", location=str(gguf),
                                        context_length=context_length), gguf, n_ctx=512)
    try:
        done = backend.complete([Message("user", "Say hi.")], config=GenerationConfig(max_tokens=4, seed=0))
    finally:
        backend.close()
    if done.completion_tokens < 1:
        raise ExportError(f"{gguf} loads but generates nothing")


def _toml_str(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def register(name: str, gguf: Path, context_length: int, description: str, registry: Path) -> None:
    from appwright.models.registry import load_registry

    if name in load_registry(registry):
        raise ExportError(f"{name!r} is already in the registry ({registry} or built in); choose another name")
    entry = (f"\n[models.{_toml_str(name)}]\nbackend = \"llamacpp\"\nlocation = {_toml_str(str(gguf))}\n"
             f"context_length = {context_length}\ndescription = {_toml_str(description)}\n")
    registry.parent.mkdir(parents=True, exist_ok=True)
    with open(registry, "a", encoding="utf-8") as f:
        f.write(entry)
    load_registry(registry)  # what was written reads back


def read_eval(folder: Path) -> dict:
    """The summary an eval run wrote (metrics.json of `appwright eval run`), as JSON data."""
    path = folder / "metrics.json"
    if not path.is_file():
        raise ExportError(f"{folder}: no metrics.json; run `appwright eval run ... --out {folder}` first")
    return json.loads(path.read_text(encoding="utf-8"))


def export_model(name: str, checkpoint: Path, out_dir: Path, quant: str = "q4_k_m",
                 evals: list[Path] | None = None, registry: Path | None = None,
                 cache: Path | None = None) -> ModelCard:
    from appwright.models.settings import models_settings

    if quant not in QUANTS:
        raise ExportError(f"--quant: one of {', '.join(QUANTS)}; got {quant!r}")
    settings = models_settings()
    registry = registry or settings.user_registry
    cache = cache or settings.cache_dir.parent
    started = time.monotonic()
    # 1. Adapter and base.
    adapter = find_adapter(checkpoint)
    stages = stages_of(adapter.parent if adapter.name == "adapter" else adapter)
    base = base_folder(adapter, stages)
    if not (base / "config.json").is_file():
        raise ExportError(f"the base model {base} is not an HF folder; export it with `appwright models export-hf`")
    config = json.loads((base / "config.json").read_text(encoding="utf-8"))
    context_length = int(config.get("max_position_embeddings", 32768))
    scores = {str(e): read_eval(e) for e in evals or []}
    script = converter(cache)
    out_dir.mkdir(parents=True, exist_ok=True)
    gguf = out_dir / f"{name}.{quant}.gguf"
    with tempfile.TemporaryDirectory(prefix="aw-export-", dir=out_dir) as tmp:
        # 2. Merge.
        merged = merge(base, adapter, Path(tmp) / "merged")
        # 3. Convert, then quantise where llama.cpp's converter cannot.
        if quant in _FTYPES:
            quantize(convert(merged, Path(tmp) / "f16.gguf", "f16", script), gguf, quant)
        else:
            convert(merged, gguf, quant, script)
    # 4. Check it serves, then record it.
    smoke_test(name, gguf, context_length)
    source = read_source(base)
    card = ModelCard(format=1, name=name, gguf=str(gguf.resolve()), sha256=sha256_file(gguf),
                     size_bytes=gguf.stat().st_size, quant=quant,
                     base=stages[0].base if stages else (source.base if source else str(base)), stages=stages,
                     eval=scores, seconds=round(time.monotonic() - started, 1))
    register(name, gguf.resolve(), context_length, card.summary(), registry)
    write_card(card)
    return card


def card_path(gguf: Path) -> Path:
    return gguf.with_name(gguf.name + ".card.json")


def write_card(card: ModelCard) -> None:
    card_path(Path(card.gguf)).write_text(json.dumps(asdict(card), indent=2) + "\n", encoding="utf-8")


def add_eval(card_file: Path, eval_dir: Path) -> ModelCard:
    """Record an eval run's summary in a model's card (after `appwright eval run` on it)."""
    from appwright.train.records import _record

    data = json.loads(card_file.read_text(encoding="utf-8"))
    card = ModelCard(**{**data, "stages": [_record(s) for s in data["stages"]],
                        "eval": {**data["eval"], str(eval_dir): read_eval(eval_dir)}})
    write_card(card)
    return card
