"""Adapters for LLM fine-tuning: QAA (quantum), SoRA, and the peft baselines LoRA / Prefix.

Import from the submodules (``qaa_hw.adapters.qaa``, ``.sora``, ``.baselines``,
``.backends``); this package file stays import-free so the CLI starts fast.
"""
