#!/usr/bin/env bash
# The whole training recipe on one GPU or several, in one command:
#   export-hf -> eval on dev (before) -> SFT (if data exists) -> GRPO for N steps -> export GGUF
#   -> eval on dev (after) -> both scores in the model's card.
#
#   bash scripts/gpu_train.sh                       # Qwen2.5-Coder-0.5B, 200 GRPO steps
#   STEPS=50 NAME=qwen0.5b-rl-try bash scripts/gpu_train.sh
#   BASE=qwen2.5-coder-1.5b bash scripts/gpu_train.sh
#   GPUS=8 bash scripts/gpu_train.sh                # SFT and GRPO under accelerate, DDP on 8 GPUs
#   TINY=1 bash scripts/gpu_train.sh                # every stage on a CPU, in minutes (see below)
#
# Environment: BASE (registry name, default qwen2.5-coder-0.5b), NAME (the trained model's
# registry name), STEPS (GRPO steps), RUNS (output root, default runs/train), DATA (trajectory
# JSONL for SFT; default data/good.jsonl, skipped when absent), EVAL_LIMIT (dev tasks per
# eval, default 40), SFT_CONFIG / RL_CONFIG (YAML templates, default examples/train/*), GPUS
# (default 1; more: `accelerate launch` with examples/train/accelerate-ddp.yaml, one process a
# GPU, its choices explained there; GRPO's graders then run in every process, or on a Ray
# cluster with `ray: {address: HEAD:6379}` in the RL config: docs/scale.md).
# TINY=1 checks the recipe itself on a CPU: the model trained is the random 2-layer Qwen2 of
# the CI test (train/tiny.py, the real tokenizer from BASE's GGUF) instead of BASE, with 2 GRPO
# steps of 2 completions, 2 dev tasks per eval, and the same export (Q4_K_M). The "before"
# eval still runs BASE (it is what the trained model is compared with); the "after" eval runs
# the exported tiny model, which writes garbage and scores 0.
# Needs: `bash scripts/setup.sh --test` (installs the train extra; replace torch with the CUDA
# build of the same version on the GPU machine), Chromium (the graders), a CUDA GPU.
# Evaluation is `appwright eval run` (appwright/evals/, written by another engineer): this
# script calls it by that CLI only. Every stage resumes: rerun the script after a crash.
set -euo pipefail
cd "$(dirname "$0")/.."

TINY="${TINY:-}"
BASE="${BASE:-qwen2.5-coder-0.5b}"
NAME="${NAME:-${BASE}-rl-$(date +%Y%m%d)}"
STEPS="${STEPS:-200}"
RUNS="${RUNS:-runs/train}"
DATA="${DATA:-data/good.jsonl}"
EVAL_LIMIT="${EVAL_LIMIT:-40}"
RL_EXTRA=()
if [ -n "$TINY" ]; then
    NAME="${NAME_TINY:-tiny-rl-check}"; STEPS=2; EVAL_LIMIT=2; RUNS="${RUNS%/}-tiny"
    RL_EXTRA=(num_generations=2 tasks_per_step=1 micro_batch_size=2 max_completion_length=32
              bf16=false gradient_checkpointing=false save_steps=1 limit=4)
fi
SFT_CONFIG="${SFT_CONFIG:-examples/train/sft-qwen0.5b.yaml}"
RL_CONFIG="${RL_CONFIG:-examples/train/rl-qwen0.5b.yaml}"
AW=.venv/bin/appwright
PY=.venv/bin/python
GPUS="${GPUS:-1}"
TRAIN=("$AW" train)  # SFT and GRPO; under accelerate with DDP when GPUS > 1
if [ "$GPUS" -gt 1 ]; then
    TRAIN=(.venv/bin/accelerate launch --config_file examples/train/accelerate-ddp.yaml --num_processes "$GPUS"
           "$AW" train)
fi
HF="$RUNS/hf/$BASE"

if [ -n "$TINY" ]; then
    HF="$RUNS/hf/tiny"
    echo "== 1. the tiny random Qwen2 (tokenizer from $BASE) -> HF folder $HF"
    [ -f "$HF/config.json" ] || "$PY" - "$BASE" "$RUNS" "$HF" <<'PYEOF'
import sys
from pathlib import Path
from appwright.models import get_model
from appwright.models.pull import ensure_model
from appwright.train.tiny import cached_tokenizer, tiny_qwen2
base, runs, hf = sys.argv[1:]
tiny_qwen2(cached_tokenizer(ensure_model(get_model(base)), Path(runs) / "cache"), Path(hf))
PYEOF
else
    "$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'no CUDA GPU: this recipe needs one (TINY=1 runs it on a CPU with a tiny model)')"
    echo "== 1. $BASE -> HF folder $HF"
    [ -f "$HF/config.json" ] || "$AW" models export-hf "$BASE" --out "$HF"
fi

echo "== 2. eval on dev, before"
"$AW" eval run --models "$BASE" --split dev --limit "$EVAL_LIMIT" --out "$RUNS/eval-before"

# A config from a template: the same YAML with this run's paths and steps put in.
configure() {  # template out [key=value ...]
    "$PY" - "$@" <<'PYEOF'
import sys, yaml
template, out, *pairs = sys.argv[1:]
data = yaml.safe_load(open(template))
for pair in pairs:
    key, value = pair.split("=", 1)
    data[key] = yaml.safe_load(value) if value else None
yaml.safe_dump(data, open(out, "w"), sort_keys=False)
PYEOF
}

ADAPTER=""
if [ -s "$DATA" ]; then
    echo "== 3. SFT on $DATA"
    [ -d "$RUNS/sft-data" ] || "$AW" data sft "$DATA" --out "$RUNS/sft-data"
    configure "$SFT_CONFIG" "$RUNS/sft.yaml" "model=$HF" "dataset=$RUNS/sft-data" "out=$RUNS/sft"
    "${TRAIN[@]}" sft "$RUNS/sft.yaml"
    ADAPTER="$RUNS/sft/adapter"
else
    echo "== 3. no SFT data at $DATA (make some: $AW data sample --model $BASE --samples 4 --out $DATA); skipped"
fi

echo "== 4. GRPO, $STEPS steps"
configure "$RL_CONFIG" "$RUNS/rl.yaml" "model=$HF" "adapter=$ADAPTER" "out=$RUNS/rl" "max_steps=$STEPS" \
    "${RL_EXTRA[@]}"
"${TRAIN[@]}" rl "$RUNS/rl.yaml"

echo "== 5. export $NAME (merged, Q4_K_M GGUF, registry entry)"
"$PY" -c "from appwright.models import get_model; get_model('$NAME')" 2>/dev/null \
    || "$AW" models export "$NAME" --from "$RUNS/rl" --eval "$RUNS/eval-before"

echo "== 6. eval on dev, after"
"$AW" eval run --models "$NAME" --split dev --limit "$EVAL_LIMIT" --out "$RUNS/eval-after"
"$AW" train card "$NAME" --eval "$RUNS/eval-after"
echo "== done: $NAME; compare: $AW eval report $RUNS/eval-before and $RUNS/eval-after"
