"""qaa_hw: noise-aware hardware co-design for quantum-amplitude adapters (QAA)."""

__version__ = "0.1.0"
