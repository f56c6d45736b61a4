"""A GGUF LoRA adapter (a registry LoRA entry, such as the shipped `appwright-0.5b`) -> a PEFT
adapter folder that training goes on from.

    appwright models export-peft appwright-0.5b --out runs/aw05b
    # then, in an SFT config (trainer cpu):  adapter: runs/aw05b/adapter
    peft_from_gguf(get_model("appwright-0.5b"), Path("runs/aw05b"))

The package ships the adapter as a GGUF only (the run folder that trained it stays on the
machine that trained it), so this is how a fresh clone continues our model. llama.cpp's
`convert_lora_to_gguf.py` writes each PEFT pair, lora_A (r, in) and lora_B (out, r), as
`blk.N.<tensor>.weight.lora_a|b` without reordering for qwen2, and PEFT's `lora_alpha` as
`adapter.lora.alpha` (both scale by alpha / r); this reads them back as float32, so an f16
adapter comes back exactly. The model card's training stages become OUT/run.json, so the next
run's record names the runs before it.

Not done: other architectures (refused by name: llama's converter permutes q and k), the
dropout (not in the GGUF: the LoRA default, 0.05, is written).
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from appwright.train.config import LoraConfig
from appwright.train.records import ADAPTER, _record, write_run

if TYPE_CHECKING:
    from appwright.models.registry import ModelSpec

# llama.cpp's tensor names for Qwen2's seven projections -> the module paths PEFT saves.
PROJECTIONS = {"attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
               "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
               "ffn_down": "mlp.down_proj"}
TENSOR = re.compile(r"blk\.(\d+)\.(\w+)\.weight\.lora_([ab])")
ARCHITECTURES = ("qwen2",)


class GGUFLoraError(ValueError):
    """A file that is not a GGUF LoRA adapter this module can read back."""


def _field(reader, key: str):
    field = reader.fields.get(key)
    return None if field is None else field.contents()


def read_gguf_lora(path: Path) -> tuple[dict[str, np.ndarray], int | float]:
    """PEFT's state dict (float32 arrays under PEFT's saved names) and lora_alpha, read from `path`."""
    import gguf

    try:
        reader = gguf.GGUFReader(str(path))
    except (OSError, ValueError, IndexError, KeyError) as exc:  # not a GGUF, truncated
        raise GGUFLoraError(f"{path}: not a readable GGUF file ({exc})") from None
    if _field(reader, "general.type") != "adapter" or _field(reader, "adapter.type") != "lora":
        raise GGUFLoraError(f"{path}: not a GGUF LoRA adapter (general.type {_field(reader, 'general.type')!r})")
    arch = _field(reader, "general.architecture")
    if arch not in ARCHITECTURES:
        raise GGUFLoraError(f"{path}: a {arch} adapter; only {', '.join(ARCHITECTURES)} is read back "
                            f"(llama.cpp reorders other architectures' weights)")
    alpha = _field(reader, "adapter.lora.alpha")
    if alpha is None:
        raise GGUFLoraError(f"{path}: no adapter.lora.alpha")
    state = {}
    for tensor in reader.tensors:
        match = TENSOR.fullmatch(tensor.name)
        if not match or match[2] not in PROJECTIONS:
            raise GGUFLoraError(f"{path}: tensor {tensor.name} is not a LoRA pair of a Qwen2 projection")
        layer, kind, ab = match.groups()
        shape = tuple(int(n) for n in reversed(tensor.shape))  # GGUF lists dimensions innermost first
        data = gguf.quants.dequantize(tensor.data, tensor.tensor_type).reshape(shape).astype(np.float32)
        state[f"base_model.model.model.layers.{layer}.{PROJECTIONS[kind]}.lora_{ab.upper()}.weight"] = data
    if not state:
        raise GGUFLoraError(f"{path}: holds no LoRA tensors")
    pairs: dict[str, int] = {}
    for key in state:
        pair = key.replace(".lora_A.", ".").replace(".lora_B.", ".")
        pairs[pair] = pairs.get(pair, 0) + 1
    unpaired = sorted(k for k, n in pairs.items() if n != 2)
    ranks = {a.shape[0] for k, a in state.items() if ".lora_A." in k}
    if unpaired or len(ranks) != 1:
        raise GGUFLoraError(f"{path}: " + (f"an A without its B, or a B without its A: {', '.join(unpaired)}"
                                           if unpaired else f"modules of ranks {sorted(ranks)}, not one rank"))
    return state, int(alpha) if float(alpha).is_integer() else float(alpha)


def peft_from_gguf(spec: ModelSpec, out: Path) -> Path:
    """Write `spec`'s GGUF adapter as OUT/adapter (adapter_config.json, adapter_model.safetensors) and
    its card's stages as OUT/run.json; return the adapter folder."""
    from peft import LoraConfig as PeftLoraConfig
    from safetensors.numpy import save_file

    from appwright.models.pull import card_path, ensure_model

    if spec.lora_path() is None:
        raise GGUFLoraError(f"{spec.name} is not a LoRA entry: it has no adapter to go on training "
                            f"(train its HF export instead: appwright models export-hf)")
    if out.exists() and any(out.iterdir()):
        raise GGUFLoraError(f"{out} is not empty; name a new folder")
    ensure_model(spec)  # the adapter exists and has its card's sha256; the base is pulled
    gguf = spec.lora_path()
    state, alpha = read_gguf_lora(gguf)
    rank = next(a.shape[0] for k, a in state.items() if ".lora_A." in k)
    modules = sorted({k.split(".")[-3] for k in state})
    folder = out / ADAPTER
    PeftLoraConfig(r=rank, lora_alpha=alpha, lora_dropout=LoraConfig.dropout, target_modules=modules,
                   task_type="CAUSAL_LM", base_model_name_or_path=spec.base).save_pretrained(str(folder))
    save_file(state, str(folder / "adapter_model.safetensors"), metadata={"format": "pt"})
    card = card_path(gguf)
    stages = json.loads(card.read_text(encoding="utf-8")).get("stages", []) if card.is_file() else []
    if stages:  # the run that made it, with the runs before it
        last = _record(stages[-1])
        write_run(out, replace(last, previous=[_record(s) for s in stages[:-1]]))
    return folder
