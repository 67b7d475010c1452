"""The fine-tuning study's pieces on the tiny model: QAA's ablations and the non-learned
baselines train/score through the same loop, the classical surrogate equals the circuit,
REM inverts the readout error, per-example scores aggregate to the corpus scores, and the
WordNet builder splits by synset."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path

import pytest
import torch

from qaa_hw.adapters.backends import IdealBackend, NoisyBackend
from qaa_hw.adapters.mitigated import REMBackend, ZNEBackend
from qaa_hw.adapters.qaa import QAAConfig, qaa_layers, set_qaa_backend
from qaa_hw.adapters.surrogate import export_surrogate, polarised_quadratic_form
from qaa_hw.compile.cache import CompileCache
from qaa_hw.errors import ConfigError
from qaa_hw.finetune.data import load_jsonl, task_files
from qaa_hw.finetune.evaluate import evaluate_model
from qaa_hw.finetune.methods import MethodSettings, build_adapted
from qaa_hw.finetune.metrics import bleu, rouge_l
from qaa_hw.finetune.models import tiny_model
from qaa_hw.finetune.names import QAA_METHODS
from qaa_hw.finetune.rules import RULES
from qaa_hw.finetune.train import TrainConfig, run_finetune

ROOT = Path(__file__).resolve().parents[2]
FAST = {"model": "tiny", "batch_size": 4, "train_examples": 32, "eval_examples": 3,
        "max_new_tokens": 4, "bertscore": False, "checkpoint_every": 0}
QAA = QAAConfig(num_qubits=3, num_layers=1)


def _adapter_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {n: p.detach().clone() for n, p in model.named_parameters() if "qaa_" in n}


@pytest.mark.parametrize("method", QAA_METHODS)
def test_each_qaa_ablation_trains_only_its_own_parameters(tmp_path: Path, method: str) -> None:
    config = TrainConfig(methods=MethodSettings(method=method, qaa=QAA), steps=12, **FAST)
    fresh, _ = tiny_model(seed=3)
    build_adapted(fresh, config.methods)  # the same initial adapter as the run's
    before = _adapter_state(fresh)
    trainable = {n for n, p in fresh.named_parameters() if p.requires_grad}
    model, tok = tiny_model(seed=3)
    summary = run_finetune(config, tmp_path / method, progress=False,
                           model_and_tokenizer=(model, tok))
    after = _adapter_state(model)
    moved = {n for n in after if not torch.equal(after[n], before[n])}
    assert moved == trainable and moved  # exactly the trainable parameters changed
    assert all(math.isfinite(x) for x in summary.losses)
    theta_trains = any(n.endswith("qaa_theta") for n in trainable)
    assert theta_trains == (method == "qaa")
    extra = {"qaa-const": "qaa_bias", "quadratic": "qaa_quad"}.get(method)
    assert (extra is None) or any(n.endswith(extra) for n in trainable)
    row = summary.eval_rows[0]
    assert row["method"] == method and math.isfinite(row["loss"])
    assert len(row["per_example"]["loss_sum"]) == 3


def test_quadratic_ablation_starts_from_the_circuit_and_const_ignores_the_input() -> None:
    model_q, _ = tiny_model(seed=4)
    model_c, _ = tiny_model(seed=4)
    model_a, _ = tiny_model(seed=4)
    build_adapted(model_q, MethodSettings(method="quadratic", qaa=QAA))
    build_adapted(model_c, MethodSettings(method="qaa-const", qaa=QAA))
    build_adapted(model_a, MethodSettings(method="qaa", qaa=QAA))
    x = torch.randn(5, model_a.config.hidden_size)
    for (_, lq), (_, lc), (_, la) in zip(qaa_layers(model_q), qaa_layers(model_c),
                                         qaa_layers(model_a), strict=True):
        with torch.no_grad():
            torch.testing.assert_close(lq.qaa_readout(x), la.qaa_readout(x), atol=1e-6,
                                       rtol=0)
            const = lc.qaa_readout(x)
        assert torch.equal(const, const[:1].expand_as(const))


def test_base_method_trains_nothing_and_text_rules_score(tmp_path: Path) -> None:
    base = run_finetune(TrainConfig(methods=MethodSettings(method="base"), steps=3, **FAST),
                        tmp_path / "base", progress=False)
    assert base.trainable_params == 0 and base.losses == []
    assert math.isfinite(base.eval_rows[0]["loss"])
    rule = run_finetune(TrainConfig(methods=MethodSettings(method="retrieval"), steps=1,
                                    **FAST), tmp_path / "ret", progress=False)
    assert math.isnan(rule.eval_rows[0]["loss"]) and rule.eval_rows[0]["examples"] == 3
    with pytest.raises(ConfigError, match="apply to QAA circuits only"):
        TrainConfig(methods=MethodSettings(method="qaa-const"), eval_devices=("ibm_brisbane",))


def test_template_rule_matches_e2e_mini_and_retrieval_copies_the_nearest() -> None:
    train, test = (load_jsonl(p) for p in task_files("e2e_mini"))
    preds = RULES["template"](train, test)
    refs = [e.response.strip() for e in test]
    assert sum(p == r for p, r in zip(preds, refs, strict=True)) >= 40
    assert bleu(preds, refs) > 85 and rouge_l(preds, refs) > 0.9
    from qaa_hw.finetune.data import Example

    pool = [Example("Word: cat\nSynonyms: feline", " a small animal"),
            Example("Word: bank\nSynonyms: depository", " a financial institution")]
    query = [Example("Word: banks\nSynonyms: depository, lender", " x")]
    assert RULES["retrieval"](pool, query) == ["a financial institution"]


def test_per_example_scores_aggregate_to_the_corpus_scores() -> None:
    model, tok = tiny_model(seed=2)
    adapted = build_adapted(model, MethodSettings(qaa=QAA))
    with torch.no_grad():
        for _, layer in qaa_layers(model):
            layer.qaa_up.normal_(0, 1.0)
    examples = load_jsonl(task_files("e2e_mini")[1], limit=4)
    result = evaluate_model(adapted, tok, examples, max_new_tokens=5, batch_size=3)
    from qaa_hw.finetune.evaluate import mean_loss

    per = result.per_example
    direct = mean_loss(adapted, tok, examples, max_length=256, batch_size=4)
    out_loss = _hf_loss(adapted, tok, examples)
    assert sum(per["loss_sum"]) / sum(per["tokens"]) == pytest.approx(out_loss, rel=1e-5)
    assert direct == pytest.approx(out_loss, rel=1e-5)
    refs = [e.response.strip() for e in examples]
    assert result.scores.bleu == pytest.approx(bleu(list(result.predictions), refs))
    assert result.scores.rouge_l == pytest.approx(rouge_l(list(result.predictions), refs))


def _hf_loss(adapted, tok, examples) -> float:  # the model's own loss, one example at a time
    from qaa_hw.finetune.data import collate, encode_examples

    total = count = 0.0
    with torch.no_grad():
        for enc in encode_examples(tok, examples, max_length=256):
            batch = collate([enc], tok.pad_token_id)
            n = float((batch["labels"][:, 1:] != -100).sum())
            total += float(adapted.model(**batch).loss) * n
            count += n
    return total / count


def _noisy_backends(spec):
    compiled = CompileCache().get(spec, "ibm_brisbane")
    noisy = NoisyBackend(compiled, noise_scale=1.0)
    return {"ideal": IdealBackend(), "noisy": noisy, "rem": REMBackend(noisy),
            "zne": ZNEBackend(compiled, noise_scale=1.0),
            "rem+zne": ZNEBackend(compiled, noise_scale=1.0, rem=True)}


@pytest.mark.parametrize("readout", ["z", "probs"])
def test_surrogate_equals_the_circuit(readout: str) -> None:
    model, _ = tiny_model(seed=7)
    build_adapted(model, MethodSettings(qaa=QAAConfig(num_qubits=3, num_layers=2,
                                                      readout=readout)))
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for _, layer in qaa_layers(model):
            layer.qaa_up.normal_(0, 1.0, generator=gen)
            layer.qaa_theta.uniform_(-3, 3, generator=gen)
    spec = next(qaa_layers(model))[1].spec
    x = torch.randn(64, model.config.hidden_size, generator=gen)
    for name, backend in _noisy_backends(spec).items():
        set_qaa_backend(model, backend)
        surrogate = export_surrogate(model)
        for lname, layer in qaa_layers(model):
            with torch.no_grad():
                h = x.double() @ layer.qaa_down.double().T
                circuit = backend.readout(layer.spec, h, layer.qaa_theta.detach().double())
                from qaa_hw.adapters.backends import quadratic_readout

                classical = quadratic_readout(h, surrogate[lname].q)
            torch.testing.assert_close(classical, circuit.double(), atol=1e-6, rtol=0,
                                       msg=f"{name} {lname}")
            delta = surrogate[lname].delta(x)
            expected = circuit.double() @ layer.qaa_up.double().T * layer.scaling
            torch.testing.assert_close(delta, expected, atol=1e-6, rtol=0)
    # the noisy engine's own Q against polarisation of its per-input outputs (independent)
    noisy = _noisy_backends(spec)["noisy"]
    theta = next(qaa_layers(model))[1].qaa_theta.detach().double()
    own = noisy.quadratic_form(theta, readout)
    polar = polarised_quadratic_form(lambda r: noisy.engine_outputs(r, theta, readout),
                                     spec.dim)
    torch.testing.assert_close(own, polar, atol=1e-9, rtol=0)


def test_rem_removes_the_readout_error_z_and_probs_agree() -> None:
    spec = QAAConfig(num_qubits=3, num_layers=2).spec
    compiled = CompileCache().get(spec, "ibm_brisbane")
    spec_p = QAAConfig(num_qubits=3, num_layers=2, readout="probs").spec
    compiled_p = CompileCache().get(spec_p, "ibm_brisbane")
    theta = torch.rand(spec.parameter_shape, generator=torch.Generator().manual_seed(1)) * 3
    x = torch.randn(20, 8, generator=torch.Generator().manual_seed(2)).double()
    rem_z = REMBackend(NoisyBackend(compiled)).readout(spec, x, theta)
    rem_p = REMBackend(NoisyBackend(compiled_p)).readout(spec_p, x, theta)
    from qaa_hw.simulate.results import z_from_probabilities

    torch.testing.assert_close(rem_z, z_from_probabilities(rem_p, 3), atol=1e-9, rtol=0)
    ideal = IdealBackend().readout(spec, x, theta.double())
    raw = NoisyBackend(compiled).readout(spec, x, theta)
    assert (rem_z - ideal).abs().mean() < (raw - ideal).abs().mean()
    # with shots, REM corrects the sampled frequencies; the mean stays unbiased
    shot = REMBackend(NoisyBackend(compiled, shots=20000, seed=3)).readout(spec, x, theta)
    assert (shot - rem_z).abs().max() < 0.05


def _builder():
    path = ROOT / "data" / "wordnet_defs" / "build.py"
    spec = importlib.util.spec_from_file_location("wordnet_build", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["wordnet_build"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_wordnet_builder_splits_by_synset(tmp_path: Path) -> None:
    build = _builder()
    lines = {
        "noun": ["  1 licence header line", "00000001 03 n 02 bank 0 depository 0 000 | a "
                 'financial institution that takes deposits; "he went to the bank"',
                 "00000002 03 n 01 bank 1 000 | sloping land beside a body of water",
                 "00000003 03 n 01 cat 0 000 | a small domesticated feline animal"],
        "verb": ["00000004 29 v 01 run 0 000 00 | move fast by using one's feet"],
        "adj": ["00000005 00 a 01 big(a) 0 000 | above average in size or number"],
        "adv": ["00000006 02 r 01 quickly 0 000 | with rapid movements of the body"],
    }
    for pos, rows in lines.items():
        (tmp_path / f"data.{pos}").write_text("\n".join(rows) + "\n")
    synsets = build.read_synsets(tmp_path)
    assert [s.key for s in synsets][:2] == ["n:00000001", "n:00000002"]
    assert synsets[0].lemmas == ("bank", "depository")
    assert synsets[0].examples == ("he went to the bank",)
    assert synsets[0].definition == "a financial institution that takes deposits"
    train, test = build.split_by_synset(synsets, 4, 2, seed=1)
    assert not {s.key for s in train} & {s.key for s in test}
    ex = build.to_example(synsets[0])
    assert ex["prompt"].endswith("Example: he went to the bank\nDefinition:")
    assert ex["response"] == " a financial institution that takes deposits"
    # the shipped files: 4,000 / 500 examples, no synset in both splits
    train_f, test_f = task_files("wordnet_defs")
    ids = [{json.loads(x)["id"] for x in f.read_text().splitlines()} for f in (train_f, test_f)]
    assert (len(ids[0]), len(ids[1])) == (4000, 500) and not ids[0] & ids[1]
    if (Path("/usr/share/wordnet") / "data.noun").is_file():  # byte-identical rebuild
        build.main(["--out", str(tmp_path)])
        assert (tmp_path / "test.jsonl").read_bytes() == test_f.read_bytes()
