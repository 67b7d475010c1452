"""``--mitigation`` options of ``qaa_hw simulate``: Mitiq techniques over the Aer/Cirq executors.

``qaa_hw simulate ... --mitigation zne,rem,rem+zne --zne-factory richardson --scale-factors 1,3,5``
adds one row per technique to the report: the mean absolute error of the unmitigated and the
mitigated outputs against the ideal ones over the same random inputs, and the circuits and shots
the technique executed. A technique is a name or names joined by ``+`` (a combination); each
part takes its options from the ``--zne-*``, ``--rem-*``, ``--ddd-*`` and ``--pec-*`` flags.
Mitigation runs on Aer (or Cirq with ``--engine cirq`` or ``--mitigation-executor cirq``), with
``--shots`` per executed circuit, seeded by ``--seed``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from qaa_hw.cli._common import integer
from qaa_hw.errors import ConfigError
from qaa_hw.limits import MAX_PEC_SAMPLES, MAX_ZNE_ORDER
from qaa_hw.mitigation.scaling import SCALINGS
from qaa_hw.mitigation.techniques import (
    DDD,
    DDD_RULES,
    EXECUTORS,
    FACTORIES,
    PEC,
    PEC_REPRESENTATIONS,
    REM,
    REM_METHODS,
    TECHNIQUES,
    ZNE,
    Combined,
    Technique,
)

if TYPE_CHECKING:
    import numpy as np



def technique_list(text: str) -> list[tuple[str, ...]]:
    """argparse type of ``--mitigation``: ``"zne,rem+zne"`` -> ``[("zne",), ("rem", "zne")]``."""
    out: list[tuple[str, ...]] = []
    for item in text.split(","):
        parts = tuple(p.strip().lower() for p in item.split("+"))
        unknown = [p for p in parts if p not in TECHNIQUES]
        if unknown or not item.strip():
            raise argparse.ArgumentTypeError(
                f"--mitigation={text!r}: unknown technique {(unknown or [item])[0]!r}; accepted: "
                f"{', '.join(TECHNIQUES)}, or several joined by '+' (e.g. rem+zne)"
            )
        if len(parts) > 1:  # structure check now, options later (techniques_from_args)
            defaults = {"zne": ZNE(), "rem": REM(), "ddd": DDD(), "pec": PEC()}
            try:
                Combined(*(defaults[p] for p in parts))
            except ConfigError as e:
                raise argparse.ArgumentTypeError(f"--mitigation={text!r}: {e}") from None
        out.append(parts)
    return out


def scale_factor_list(text: str) -> tuple[float, ...]:
    """argparse type of ``--scale-factors``: ``"1,3,5"``, checked as :class:`ZNE` does."""
    try:
        factors = tuple(float(v) for v in text.split(","))
        return ZNE(scale_factors=factors).scale_factors
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--scale-factors={text!r} is not a comma-separated list of numbers, e.g. 1,3,5"
        ) from None
    except ConfigError as e:
        raise argparse.ArgumentTypeError(f"--scale-factors={text!r}: {e}") from None


def add_mitigation_options(parser: argparse.ArgumentParser) -> None:
    """Add the "error mitigation" option group to ``parser``."""
    group = parser.add_argument_group(
        "error mitigation (Mitiq)",
        "Compare mitigated outputs over the same inputs; each technique adds a report row.",
    )
    group.add_argument(
        "--mitigation", type=technique_list, default=None, metavar="LIST",
        help=f"comma-separated techniques: {', '.join(TECHNIQUES)}, or a combination "
             "joined by '+', e.g. zne,rem,rem+zne",
    )
    group.add_argument("--zne-factory", choices=FACTORIES, default="richardson",
                       help="ZNE extrapolation (default richardson)")
    group.add_argument("--scale-factors", type=scale_factor_list, default=(1.0, 3.0, 5.0),
                       metavar="LIST", help="ZNE noise scale factors (default 1,3,5)")
    group.add_argument("--zne-scaling", choices=tuple(SCALINGS), default="fold_random",
                       help="ZNE noise amplification: gate folding (runnable on hardware; "
                            "default fold_random) or pulse_stretch (gate errors and "
                            "relaxation scaled, readout not)")
    group.add_argument("--zne-order", type=integer("--zne-order", 1, MAX_ZNE_ORDER), default=2,
                       help="order of --zne-factory polynomial (default 2)")
    group.add_argument("--rem-method", choices=REM_METHODS, default="tensored",
                       help="REM confusion matrices: per qubit or one mean (default tensored)")
    group.add_argument("--ddd-rule", choices=DDD_RULES, default="xx",
                       help="DDD sequence (default xx)")
    group.add_argument("--pec-samples", type=integer("--pec-samples", 1, MAX_PEC_SAMPLES),
                       default=100,
                       help="PEC circuits sampled per input (default 100)")
    group.add_argument("--pec-representation", choices=PEC_REPRESENTATIONS, default="global",
                       help="PEC depolarising representation (default global)")
    group.add_argument("--mitigation-executor", choices=EXECUTORS, default=None,
                       help="executor of the mitigated circuits (default: cirq for --engine "
                            "cirq, else aer)")


def techniques_from_args(args: argparse.Namespace) -> list[Technique]:
    """The techniques named by ``--mitigation`` with their options (empty without it)."""

    def single(name: str) -> Technique:
        if name == "zne":
            return ZNE(factory=args.zne_factory, scale_factors=args.scale_factors,
                       scaling=args.zne_scaling, order=args.zne_order)
        if name == "rem":
            return REM(method=args.rem_method)
        if name == "ddd":
            return DDD(rule=args.ddd_rule)
        return PEC(num_samples=args.pec_samples, representation=args.pec_representation)

    out: list[Technique] = []
    for parts in args.mitigation or []:
        techniques = [single(p) for p in parts]
        out.append(techniques[0] if len(techniques) == 1 else Combined(*techniques))
    return out


def run_mitigation_report(
    args: argparse.Namespace, compiled: Any, xs: np.ndarray, theta: np.ndarray
) -> list[dict[str, Any]]:
    """One row per ``--mitigation`` technique over the inputs ``xs``.

    Args:
        args: parsed ``simulate`` options (``--mitigation`` and its group, ``--engine``,
            ``--idle-noise``, ``--shots``, ``--seed``).
        compiled: the compiled adapter.
        xs: ``[K, 2^n]`` inputs (those of the simulate report).
        theta: trainable values.

    Returns:
        Rows ``technique, unmitigated error, mitigated error, circuits, shots`` (mean absolute
        errors over inputs and outputs; circuits and shots summed over the inputs).
    """
    import numpy as np

    from qaa_hw.mitigation import Mitigator

    techniques = techniques_from_args(args)
    if not techniques:
        return []
    from qaa_hw.simulate.noise import noise_spec

    executor = args.mitigation_executor or ("cirq" if args.engine == "cirq" else "aer")
    noise = noise_spec(compiled.device, compiled.active_qubits,
                       idle=args.idle_noise == "on")
    mitigator = Mitigator(compiled, executor=executor, noise=noise, shots=args.shots,
                          seed=args.seed)
    rows = []
    for technique in techniques:
        estimates = [mitigator.estimate(x, theta, technique) for x in _progress(xs, technique)]
        shots = [e.total_shots for e in estimates]
        rows.append({
            "technique": technique.name,
            "executor": executor,
            "unmitigated error": float(np.mean([e.unmitigated_error for e in estimates])),
            "mitigated error": float(np.mean([e.mitigated_error for e in estimates])),
            "circuits": int(sum(e.circuits for e in estimates)),
            "shots": "exact" if shots[0] is None else int(sum(s or 0 for s in shots)),
        })
    return rows


def _progress(xs: np.ndarray, technique: Technique) -> Sequence[np.ndarray]:
    import numpy as np
    from tqdm import tqdm

    rows = list(np.atleast_2d(xs))
    return tqdm(rows, desc=f"mitigation {technique.name}", unit="input", leave=False)
