"""A trained adapter -> a GGUF the `llamacpp` backend serves on a CPU, plus its registry entry.

    appwright models export qwen0.5b-rl1 --from runs/rl1 [--quant q4_k_m]
    appwright models export qwen0.5b-rl1-lora --from runs/rl1 --adapter [--quant f16]
    card = export_model("qwen0.5b-rl1", Path("runs/rl1"), Path("~/.cache/appwright/models/trained"))
    card = export_adapter("qwen0.5b-rl1-lora", Path("runs/rl1"), Path("~/.cache/appwright/models/trained"))

Merged (`export_model`), top to bottom:
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

Adapter only (`export_adapter`): no merge and no second copy of the base. Step 1 as above;
the registry model the adapter sits on is the one the base HF folder was exported from (its
appwright.json, written by `models export-hf`), or `base=`; its GGUF must be the one that
folder came from (same size). llama.cpp's `convert_lora_to_gguf.py` (same sdist, same gguf-py;
it reads only the base folder's config.json) writes the LoRA A/B pairs as an f16, q8_0 or
f32 GGUF adapter (~17 MiB in f16 for r=16 on all seven projections of the 0.5B; there is no
k-quant for adapters). Step 4 loads base + adapter, and the entry is a LoRA entry
(`base`, `lora`; see models/registry.py). Refused: DoRA, rsLoRA and per-module alpha (llama.cpp
scales every adapter by alpha / r, so they would serve another model), `modules_to_save`.

The registry's ModelSpec has no fields for training provenance, so the entry's
`description` carries a one-line summary and the card holds the rest. Not done: replacing
an existing entry (choose a new name), several adapters on one base at once, a scale other
than 1.0.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from appwright.models.pull import card_path, sha256_file
from appwright.train.hf import read_source
from appwright.train.records import RunRecord, read_run

if TYPE_CHECKING:
    from appwright.models.registry import ModelSpec

CONVERTER = "convert_hf_to_gguf.py"
LORA_CONVERTER = "convert_lora_to_gguf.py"
QUANTS = ("f16", "q8_0", "q4_k_m")
LORA_QUANTS = ("f16", "q8_0", "f32")  # what convert_lora_to_gguf.py writes (its bf16 and auto left out)
_FTYPES = {"q4_k_m": "LLAMA_FTYPE_MOSTLY_Q4_K_M"}


class ExportError(RuntimeError):
    """An export to GGUF that cannot be done as asked (no checkpoint, a name taken, a bad option)."""


class ConversionError(ExportError):
    """A tool the export runs failed on good input: the converter, the quantiser, the smoke test."""


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
    lora: bool = False  # True: `gguf` is a LoRA adapter served on the registry model `base`
    # The shipped model's card (issue 18): what it is bad at, and whether it is the default and why.
    known_weaknesses: list[str] = field(default_factory=list)
    default: bool = False
    gate: str = ""  # the dev-40 comparison that made it the default, or why it is not

    def summary(self) -> str:
        stages = ", ".join(f"{s.kind} {s.steps} steps on {s.data}" for s in self.stages)
        what = f"LoRA adapter on {self.base}" if self.lora else f"trained from {self.base}"
        return f"{what}: {stages} ({self.quant}; card: {Path(self.gguf).name}.card.json)"


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


def trained_prompt(stages: list[RunRecord]) -> str:
    """The system prompt the last run trained on: an RL run's config says (RLConfig.prompt_style); an
    SFT run is taken to have trained on `appwright data references` rows, which carry the compact one."""
    import yaml

    from appwright.train.config import ConfigError, RLConfig, from_mapping

    last = stages[-1] if stages else None
    if last is None or last.kind != "rl" or not last.config:
        return "compact"
    try:
        return from_mapping(RLConfig, yaml.safe_load(last.config), "the RL run's config").prompt_style
    except (ConfigError, yaml.YAMLError) as e:
        raise ExportError(f"cannot tell which system prompt the RL run trained on ({e}); say it with --prompt") \
            from None


def check_prompt(prompt: str | None, stages: list[RunRecord]) -> str:
    prompt = prompt or trained_prompt(stages)
    if prompt not in ("compact", "full"):
        raise ExportError(f"--prompt: compact or full; got {prompt!r}")
    return prompt


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


def converter(cache: Path, script: str = CONVERTER) -> Path:
    """llama.cpp's convert_hf_to_gguf.py or convert_lora_to_gguf.py for the installed
    llama-cpp-python (both are extracted, with the `conversion` package and gguf-py they
    import), taken from that version's sdist (pip's cache, else PyPI) once."""
    version = metadata.version("llama-cpp-python")
    folder = cache / f"llama.cpp-{version}"
    if (folder / CONVERTER).is_file() and (folder / LORA_CONVERTER).is_file():
        return folder / script
    with tempfile.TemporaryDirectory(prefix="aw-sdist-") as tmp:
        # --no-binary for this package only: `:all:` would build its build backend's own
        # dependencies from source too, about 4 minutes on 2 cores with an empty pip cache.
        r = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", "llama-cpp-python",
                            "--disable-pip-version-check", "-q", "-d", tmp, f"llama-cpp-python=={version}"],
                           capture_output=True, text=True)
        sdists = list(Path(tmp).glob("llama_cpp_python-*.tar.gz"))
        if r.returncode or not sdists:
            raise ConversionError(f"could not get the llama-cpp-python {version} sdist for {script}: "
                                  f"{r.stderr.strip()[-500:]}")
        prefix = f"{sdists[0].name.removesuffix('.tar.gz')}/vendor/llama.cpp/"
        with tarfile.open(sdists[0]) as tar:
            members = [m for m in tar.getmembers() if m.isfile() and (m.name in (prefix + CONVERTER,
                                                                                prefix + LORA_CONVERTER) or
                                                                     m.name.startswith(prefix + "conversion/") or
                                                                     m.name.startswith(prefix + "gguf-py/"))]
            staging = Path(tmp) / "x"
            tar.extractall(staging, members=members, filter="data")
        if not (staging / prefix / script).is_file():
            raise ConversionError(f"the llama-cpp-python {version} sdist has no vendor/llama.cpp/{script}")
        folder.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(folder, ignore_errors=True)  # an older extraction, made before the LoRA converter was taken
        (staging / prefix).rename(folder)
    return folder / script


def _run_converter(args: list[str], out: Path, script: Path) -> Path:
    # The converters put their own gguf-py first on sys.path: the PyPI gguf 0.19.0 carries the same
    # version number but lacks architectures this converter names (MODEL_ARCH.DFLASH), measured here.
    env = {k: v for k, v in os.environ.items() if k != "NO_LOCAL_GGUF"}
    r = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, env=env)
    if r.returncode or not out.is_file():
        raise ConversionError(f"{script.name} failed ({r.returncode}):\n{(r.stderr or r.stdout).strip()[-2000:]}")
    return out


def convert(hf_dir: Path, out: Path, outtype: str, script: Path) -> Path:
    return _run_converter([str(hf_dir), "--outfile", str(out), "--outtype", outtype], out, script)


def convert_lora(adapter: Path, base_hf: Path, out: Path, outtype: str, script: Path) -> Path:
    """convert_lora_to_gguf.py ADAPTER --base BASE_HF --outfile OUT --outtype T (reads base_hf/config.json)."""
    return _run_converter([str(adapter), "--base", str(base_hf), "--outfile", str(out), "--outtype", outtype],
                          out, script)


def quantize(src: Path, dest: Path, quant: str) -> Path:
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, _FTYPES[quant])
    code = llama_cpp.llama_model_quantize(str(src).encode(), str(dest).encode(), params)
    if code != 0 or not dest.is_file():
        raise ConversionError(f"llama_model_quantize({quant}) failed with {code}")
    return dest


# 4. Check, register ----------------------------------------------------------------------------


def smoke_test(spec: ModelSpec, gguf: Path) -> None:
    """Load `spec` (its weights at `gguf`, its adapter if it is a LoRA entry) and make it answer."""
    from appwright.models.base import GenerationConfig, Message
    from appwright.models.llamacpp import LlamaCppBackend

    backend = LlamaCppBackend(spec, gguf, n_ctx=512)
    try:
        done = backend.complete([Message("user", "Say hi.")], config=GenerationConfig(max_tokens=4, seed=0))
    finally:
        backend.close()
    if done.completion_tokens < 1:
        raise ConversionError(f"{spec.lora_path() or gguf} loads but generates nothing")


def _toml_str(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def check_new_name(name: str, registry: Path) -> None:
    from appwright.models.registry import load_registry

    if name in load_registry(registry):
        raise ExportError(f"{name!r} is already in the registry ({registry} or built in); choose another name")


def register(name: str, fields: dict[str, str | int], registry: Path) -> None:
    """Append [models.NAME] with `fields` to the user's registry, and check that it reads back."""
    from appwright.models.registry import load_registry

    check_new_name(name, registry)
    entry = f"\n[models.{_toml_str(name)}]\n" + "".join(
        f"{key} = {value if isinstance(value, int) else _toml_str(value)}\n" for key, value in fields.items())
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
                 cache: Path | None = None, prompt: str | None = None) -> ModelCard:
    """The LoRA merged into its base, one GGUF. `prompt`: as export_adapter's."""
    from appwright.models.registry import ModelSpec
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
    prompt = check_prompt(prompt, stages)
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
    smoke_test(ModelSpec(name=name, backend="llamacpp", location=str(gguf), context_length=context_length,
                         prompt=prompt), gguf)
    source = read_source(base)
    card = ModelCard(format=1, name=name, gguf=str(gguf.resolve()), sha256=sha256_file(gguf),
                     size_bytes=gguf.stat().st_size, quant=quant,
                     base=stages[0].base if stages else (source.base if source else str(base)), stages=stages,
                     eval=scores, seconds=round(time.monotonic() - started, 1))
    register(name, {"backend": "llamacpp", "location": str(gguf.resolve()), "context_length": context_length,
                    "prompt": prompt, "description": card.summary()}, registry)
    write_card(card)
    return card


# Adapter only ----------------------------------------------------------------------------------


def check_lora_config(adapter: Path) -> None:
    """Refuse what llama.cpp's adapter loader would serve differently from PEFT (it scales by alpha / r)."""
    config = json.loads((adapter / "adapter_config.json").read_text(encoding="utf-8"))
    problems = [why for bad, why in (
        (config.get("peft_type", "LORA") != "LORA", f"a {config.get('peft_type')} adapter, not LoRA"),
        (config.get("use_dora"), "DoRA (use_dora)"),
        (config.get("use_rslora"), "rsLoRA (use_rslora: PEFT scales by alpha / sqrt(r))"),
        (config.get("alpha_pattern"), "a per-module alpha (alpha_pattern)"),
        (config.get("modules_to_save"), f"fully trained modules (modules_to_save: {config.get('modules_to_save')})"),
    ) if bad]
    if problems:
        raise ExportError(f"{adapter}: {'; '.join(problems)}: llama.cpp cannot serve this as a GGUF adapter; "
                          f"export it merged (without --adapter)")


def base_model_of(base_hf: Path, base: str | None) -> ModelSpec:
    """The registry entry (a ModelSpec) whose GGUF the adapter will sit on."""
    from appwright.models.base import ModelError
    from appwright.models.registry import get_model

    source = read_source(base_hf)
    name = base or (source.base if source else None)
    if not name:
        raise ExportError(f"{base_hf} does not say which registry model it was exported from (no appwright.json); "
                          f"name it with --base")
    try:
        spec = get_model(name)
    except ModelError as e:
        raise ExportError(f"the adapter's base: {e}") from None
    if spec.backend != "llamacpp" or spec.lora is not None:
        raise ExportError(f"the adapter's base {name!r} must be a llamacpp model with its own GGUF "
                          f"(backend {spec.backend}{', itself a LoRA entry' if spec.lora else ''})")
    return spec


def export_adapter(name: str, checkpoint: Path, out_dir: Path, quant: str = "f16", base: str | None = None,
                   evals: list[Path] | None = None, registry: Path | None = None,
                   cache: Path | None = None, prompt: str | None = None) -> ModelCard:
    """The LoRA alone as a GGUF adapter, served by llamacpp on top of the registry model `base`.
    `prompt`: the system prompt the entry takes (registry `prompt`), "compact" or "full"; none: the one
    the last run trained on (trained_prompt)."""
    from appwright.models.pull import ensure_model
    from appwright.models.registry import ModelSpec
    from appwright.models.settings import models_settings

    if quant not in LORA_QUANTS:
        raise ExportError(f"--quant for an adapter: one of {', '.join(LORA_QUANTS)}; got {quant!r}")
    settings = models_settings()
    registry = registry or settings.user_registry
    cache = cache or settings.cache_dir.parent
    started = time.monotonic()
    check_new_name(name, registry)
    # 1. Adapter, its HF base folder, and the registry model whose GGUF that folder came from.
    adapter = find_adapter(checkpoint)
    check_lora_config(adapter)
    stages = stages_of(adapter.parent if adapter.name == "adapter" else adapter)
    prompt = check_prompt(prompt, stages)
    base_hf = base_folder(adapter, stages)
    if not (base_hf / "config.json").is_file():
        raise ExportError(f"the base model {base_hf} is not an HF folder (no config.json); the converter reads "
                          f"its config")
    spec = base_model_of(base_hf, base)
    base_gguf = ensure_model(spec)  # ModelError: the pull failed
    source = read_source(base_hf)
    if source and source.gguf_bytes and source.gguf_bytes != base_gguf.stat().st_size:
        raise ExportError(f"{base_hf} was made from a GGUF of {source.gguf_bytes:,} bytes ({source.gguf}); "
                          f"{spec.name}'s GGUF {base_gguf} has {base_gguf.stat().st_size:,}: the adapter would sit "
                          f"on other weights; name the model it was trained on with --base")
    scores = {str(e): read_eval(e) for e in evals or []}
    # 2. Convert: no merge.
    out_dir.mkdir(parents=True, exist_ok=True)
    gguf = (out_dir / f"{name}.lora-{quant}.gguf").resolve()
    convert_lora(adapter, base_hf, gguf, quant, converter(cache, LORA_CONVERTER))
    # 3. Check base + adapter serve, then record it.
    entry = ModelSpec(name=name, backend="llamacpp", location=str(base_gguf), context_length=spec.context_length,
                      base=spec.name, lora=str(gguf), prompt=prompt)
    smoke_test(entry, base_gguf)
    card = ModelCard(format=1, name=name, gguf=str(gguf), sha256=sha256_file(gguf), size_bytes=gguf.stat().st_size,
                     quant=quant, base=spec.name, stages=stages, eval=scores,
                     seconds=round(time.monotonic() - started, 1), lora=True)
    register(name, {"backend": "llamacpp", "base": spec.name, "lora": str(gguf), "prompt": prompt,
                    "description": card.summary()}, registry)
    write_card(card)
    return card


def write_card(card: ModelCard, path: Path | None = None) -> None:
    """The card beside its GGUF, or at `path` (a shipped card names its GGUF relative to the package)."""
    (path or card_path(Path(card.gguf))).write_text(json.dumps(asdict(card), indent=2) + "\n", encoding="utf-8")


def add_eval(card_file: Path, eval_dir: Path) -> ModelCard:
    """Record an eval run's summary in a model's card (after `appwright eval run` on it)."""
    from appwright.train.records import _record

    data = json.loads(card_file.read_text(encoding="utf-8"))
    card = ModelCard(**{**data, "stages": [_record(s) for s in data["stages"]],
                        "eval": {**data["eval"], str(eval_dir): read_eval(eval_dir)}})
    write_card(card, card_file)
    return card
