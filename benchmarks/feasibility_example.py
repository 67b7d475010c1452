"""The worked example of docs/feasibility.md: ibm_torino, n = 3, L = 2, ring, exact embedding.

Usage::

    .venv/bin/python benchmarks/feasibility_example.py

Evaluates the configuration as the default study does (:func:`evaluate_point`: compile,
noisy evaluation on 16 inputs, Mitiq ZNE + REM on 4 of them), then, for mitigation none and
zne+rem, prints what :func:`assess_device` computes per row: the standard error at 1,000 shots
(simulation core), the circuit verdict, the cost for one block (2 modules, the old default)
and for SmolLM2-135M (30 layers x q_proj, v_proj, input gradients counted) in QPU time and
money, the cost verdict, and the classical surrogate's measured time per token next to the
QPU's (the baseline that could beat the QPU, measured in this run).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qaa_hw.analysis.assumptions import Pricing, TrainingAssumptions
from qaa_hw.analysis.evaluate import evaluate_point
from qaa_hw.analysis.feasibility import (
    format_hours,
    judge,
    judge_cost,
    measure_advantage,
    qpu_cost,
    shot_timing,
    with_shot_error,
)
from qaa_hw.analysis.sweep_spec import SweepPoint
from qaa_hw.devices.catalog import load_device

OPTIONS = json.dumps({"rem": {"method": "tensored"},
                      "zne": {"factory": "richardson", "scale_factors": [1, 3, 5],
                              "scaling": "fold_random"}}, sort_keys=True)


def main() -> int:
    """Print the worked example."""
    device = load_device("ibm_torino")
    timing = shot_timing(device)
    model, block = TrainingAssumptions(), TrainingAssumptions(layers=1, targets=2)
    price = Pricing()
    print(f"shot time parts: reset {timing.reset_s * 1e6:.3g} us, rep delay "
          f"{timing.rep_delay_s * 1e6:.3g} us ({timing.source}); price USD "
          f"{price.usd_per_qpu_s:g}/s")
    for mitigation in ("none", "zne+rem"):
        point = SweepPoint(device="ibm_torino", qubits=3, layers=2, mitigation=mitigation,
                           mitigation_options=OPTIONS if mitigation != "none" else "{}")
        row = {**point.to_dict(), **evaluate_point(point)}
        row = with_shot_error(row, model)
        verdict = judge(row, device)
        one, full = qpu_cost(row, timing, block, price), qpu_cost(row, timing, model, price)
        cost = judge_cost({**row, **full})
        print(f"\n## mitigation {mitigation}: P = {row['parameters']}, duration "
              f"{row['duration_s'] * 1e6:.3g} us, ESP {row['esp']:.3f}, circuits per call "
              f"{row['circuits_per_estimate']:g}")
        print(f"bias {row['mitigated_abs_error']:.4f} + standard error at 1000 shots "
              f"{row['standard_error']:.4f} (x{row['shot_amplification']:.3g} of one circuit's) "
              f"= {row['error_with_shots']:.4f}; shots for the unmitigated standard error "
              f"{row['shots_for_equal_error']:.0f}")
        print("circuit verdict:", verdict.level, "|", " | ".join(verdict.reasons))
        for label, c in (("one block (2 modules)", one), ("SmolLM2-135M (60 modules)", full)):
            print(f"{label}: shot {c['shot_s'] * 1e6:.4g} us; circuits/step "
                  f"{c['circuits_per_step']:,.0f} (input gradients "
                  f"{c['input_gradient_circuits_per_step']:,.0f}); QPU/epoch "
                  f"{format_hours(c['qpu_h_per_epoch'])} (USD {c['usd_per_epoch']:,.0f}); "
                  f"QPU s/token {c['s_per_token']:.3g}; per 1,000 tokens "
                  f"{c['s_per_1k_tokens']:,.0f} s (USD {c['usd_per_1k_tokens']:,.0f})")
        print("cost verdict:", cost.level, "|", " | ".join(cost.reasons))
        adv = measure_advantage({**row, **full}, device.name, model)
        print("advantage:", adv.sentence())
    return 0


if __name__ == "__main__":
    sys.exit(main())
