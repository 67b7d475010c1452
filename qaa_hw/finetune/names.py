"""The fine-tuning method names, declared once (light: the CLI imports it at start-up).

* ``qaa`` and the methods built from its layer (:mod:`qaa_hw.adapters.ablations`);
* ``lora``, ``prefix`` (peft), ``sora``;
* ``base``: the base model as is, nothing trained;
* text rules (:mod:`qaa_hw.finetune.rules`): no model at all.
"""

from __future__ import annotations

#: QAA and the methods built from its layer (same config, same down/up projections).
QAA_METHODS: tuple[str, ...] = ("qaa", "qaa-frozen", "qaa-const", "qaa-nocircuit", "quadratic")
#: Methods whose adapters run a circuit (noise-aware training, noisy evaluation).
CIRCUIT_METHODS: tuple[str, ...] = ("qaa", "qaa-frozen")
#: Methods without a model.
RULE_METHODS: tuple[str, ...] = ("retrieval", "template")
METHODS: tuple[str, ...] = (*QAA_METHODS, "lora", "prefix", "sora", "base", *RULE_METHODS)
