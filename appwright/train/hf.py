"""An embedded GGUF model -> a trainable Hugging Face folder (weights, tokenizer, chat template).

    appwright models export-hf qwen2.5-coder-0.5b --out runs/hf/qwen0.5b
    export_hf(Path("~/.cache/appwright/models/qwen2.5-coder-0.5b.gguf"), Path("runs/hf/qwen0.5b"))
    save_tokenizer(gguf_path, Path("cache/tokenizer"))     # the tokenizer alone (~24 s, tests)

transformers 5.x de-quantises the GGUF (Q4_K_M here) into float32 weights: the result is the
quantised model's weights, not the original bf16 release, which is the model the platform
serves, so training starts from what users get. The folder also holds `appwright.json`
(where it came from), read back by `appwright models export` for the registry entry.

Not done: no sharding options (save_pretrained's defaults), no check that the GGUF's
architecture is one transformers reads (it raises its own error, passed on as HFExportError).
"""

from __future__ import annotations

import json
import os
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

SOURCE_FILE = "appwright.json"


class HFExportError(RuntimeError):
    """A GGUF that cannot be turned into a Hugging Face folder."""


@dataclass(frozen=True)
class HFSource:
    """What an HF folder was made from; `appwright models export` copies it into the registry entry."""
    format: int
    base: str  # registry name, or the GGUF file name
    gguf: str
    gguf_bytes: int
    parameters: int
    seconds: float


def save_tokenizer(gguf: Path, out: Path):
    """Read the tokenizer and chat template from `gguf`, save them to `out`; return the tokenizer."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    if not tokenizer.chat_template:
        raise HFExportError(f"{gguf} carries no chat template; training needs one")
    out.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(str(out))
    return tokenizer


@contextmanager
def _one_reader():
    """transformers 5.x opens the GGUF with gguf-py's GGUFReader three times (tokenizer, config,
    weights), and each parses all the metadata again: ~14 s apiece for the 151,936-token vocabulary
    and its merges on 2 cores. Here every read-only open of the same file gets the first reader (a
    memmap and the fields parsed from it, which transformers only reads): the 0.5B's export took
    61 s and takes 34 s, the files written byte for byte the same."""
    import gguf

    real, readers = gguf.GGUFReader, {}

    def reader(path, mode="r"):
        if mode != "r":
            return real(path, mode)
        key = os.path.realpath(path)
        if key not in readers:
            readers[key] = real(path, mode)
        return readers[key]

    gguf.GGUFReader = reader
    try:
        yield
    finally:
        gguf.GGUFReader = real


def export_hf(gguf: Path, out: Path, base: str | None = None) -> HFSource:
    """Write the model in `gguf` as an HF folder `out` (float32 safetensors + tokenizer)."""
    import torch
    from transformers import AutoModelForCausalLM

    if not gguf.is_file():
        raise HFExportError(f"{gguf} does not exist; `appwright models pull NAME` fetches an embedded model")
    if out.exists() and any(out.iterdir()):
        raise HFExportError(f"{out} already holds files; pick an empty --out")
    started = time.monotonic()
    with _one_reader():
        # 1. Tokenizer and chat template first: the cheap part fails fast on a GGUF without a template.
        save_tokenizer(gguf, out)
        # 2. The weights, de-quantised.
        try:
            model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
        except (ValueError, KeyError, OSError) as exc:
            raise HFExportError(f"transformers cannot read {gguf}: {exc}") from None
    # The weights are plain floats now, but transformers still marks the model as GGUF-quantised and
    # refuses to save it ("not serializable"): drop the mark, so the folder is an ordinary float model.
    model.hf_quantizer = None
    if getattr(model.config, "quantization_config", None) is not None:
        del model.config.quantization_config
    model.save_pretrained(str(out))
    source = HFSource(format=1, base=base or gguf.name, gguf=str(gguf), gguf_bytes=gguf.stat().st_size,
                      parameters=sum(p.numel() for p in model.parameters()),
                      seconds=round(time.monotonic() - started, 1))
    (out / SOURCE_FILE).write_text(json.dumps(asdict(source), indent=2) + "\n", encoding="utf-8")
    return source


def read_source(folder: Path) -> HFSource | None:
    path = folder / SOURCE_FILE
    if not path.is_file():
        return None
    return HFSource(**json.loads(path.read_text(encoding="utf-8")))
