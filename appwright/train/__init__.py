"""Training the own model: GGUF -> HF, SFT on good trajectories, GRPO inside the harness with
the graders' rewards, and back to a GGUF the embedded backend serves. docs/training.md has
the recipe, every config knob and every logged metric.

    hf.py          embedded GGUF -> trainable HF folder (`appwright models export-hf`)
    data.py        rejection sampling on train tasks; trajectories -> chat dataset
    config.py      SFTRunConfig, RLConfig, LoraConfig: every knob, each also a YAML file
    sft.py         TRL SFTTrainer + PEFT LoRA, assistant-only loss (`appwright train sft`)
    rollout.py     one completion through the harness's `files` step, graded
    curriculum.py  pass rates per task; a sampler favouring tasks passed sometimes
    rl.py          TRL GRPOTrainer + PEFT LoRA with the harness reward (`appwright train rl`)
    metrics.py     metrics.jsonl and TensorBoard per logging step
    records.py     run.json: what a run trained, on what, for how long
    export.py      merge LoRA -> GGUF, or the LoRA alone as a GGUF adapter (--adapter) -> registry entry + card
    tiny.py        a random 2-layer Qwen2 with the real tokenizer, for CI and benchmarks

Imports: agent, tasks, models (never the other way round). torch, transformers, TRL and
PEFT come from the `train` extra and are imported inside the functions that need them.
"""
