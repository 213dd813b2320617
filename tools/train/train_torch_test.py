"""The torch side of training: the torch models equal the numpy references, a few training
steps lower the loss, and what training writes is read back by the project's readers.

Needs the torch extra: `bazel test --config=torch //tools/train:train_torch_test`. Without
torch every test here is skipped with that message.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

if __name__ == "__main__":  # Bazel runs this file; pytest then imports it as a module
    code = pytest.main([__file__, "-q", "-rs"])
    # Without torch the whole module is skipped, which pytest reports as "no tests ran" (5).
    no_torch = importlib.util.find_spec("torch") is None
    raise SystemExit(0 if code == pytest.ExitCode.NO_TESTS_COLLECTED and no_torch else code)

torch = pytest.importorskip(
    "torch",
    reason="torch is an optional extra: run with `bazel test --config=torch` "
    "(toolchains/python/requirements-torch.lock)",
)

from metalchat.config import LlamaConfig  # noqa: E402
from metalchat.formats import llama2c, nanochat_ckpt  # noqa: E402
from metalchat.reference import llama as ref_llama  # noqa: E402
from metalchat.reference import nanochat as ref_nano  # noqa: E402
from metalchat.train import bpe, loop, settings  # noqa: E402
from metalchat.train.torch_llama import TorchLlama  # noqa: E402
from metalchat.train.torch_nanochat import TorchNanochat  # noqa: E402

WORDS = Path(__file__).absolute().parents[2] / "models" / "kjv-words.txt"


def _text() -> list[str]:
    """Small training documents: the corpus word list, 12 words a line."""
    words = WORDS.read_text().split()
    return [" ".join(words[i : i + 12]) for i in range(0, len(words), 12)]


def test_llama_matches_numpy_reference() -> None:
    config = LlamaConfig(
        dim=48, hidden_dim=64, n_layers=2, n_heads=6, n_kv_heads=2, vocab_size=50, seq_len=24
    )
    model = llama2c.random_model(config, seed=3)
    torch_model = TorchLlama(config)
    torch_model.load_llama2c_weights(model.weights)
    ids = np.random.default_rng(0).integers(0, config.vocab_size, config.seq_len)
    with torch.no_grad():
        got = torch_model(torch.from_numpy(ids)[None])[0].numpy()
    ref = ref_llama.LlamaReference(model)
    want = np.stack([ref.forward(int(t), pos) for pos, t in enumerate(ids)])
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=0)
    back = torch_model.llama2c_weights()
    assert all(np.array_equal(back[k], model.weights[k]) for k in config.tensor_shapes())


@pytest.mark.parametrize("n_kv_head", [4, 2])
def test_nanochat_matches_numpy_reference(n_kv_head: int) -> None:
    # 300 positions with short windows of 128: the sliding windows take effect.
    config = ref_nano.NanochatConfig(
        sequence_len=300, vocab_size=70, n_layer=4, n_head=4, n_kv_head=n_kv_head, n_embd=64
    )
    weights = ref_nano.random_weights(config, seed=5)
    torch_model = TorchNanochat(config)
    assert set(torch_model.state_dict()) == set(config.tensor_shapes())
    torch_model.load_numpy_weights(weights)
    ids = np.random.default_rng(1).integers(0, config.vocab_size, config.sequence_len)
    with torch.no_grad():
        got = torch_model(torch.from_numpy(ids)[None])[0].numpy()
    ref = ref_nano.NanochatReference(config, weights)
    np.testing.assert_allclose(got, ref.forward_sequence(list(ids)), atol=1e-4, rtol=0)
    step = np.stack([ref.forward(int(t), pos) for pos, t in enumerate(ids[:8])])
    np.testing.assert_allclose(got[:8], step, atol=1e-4, rtol=0)


def _stream(docs: list[list[int]], bos: int) -> np.ndarray:
    return np.asarray([t for d in docs for t in (bos, *d)], dtype=np.uint16)


def _train_lowers_loss(model: torch.nn.Module, ids: np.ndarray) -> None:
    cfg = settings.TrainConfig(
        steps=30, batch_size=8, seq_len=64, lr=3e-3, warmup=5, eval_windows=8, seed=7
    )
    before = loop.evaluate(model, ids, cfg)
    result = loop.train(model, ids, ids, cfg, progress=False)
    assert result.val_loss < before - 1.0, (before, result.val_loss)


def test_llama_training_lowers_loss() -> None:
    loop.setup_torch(7, 2)
    config = LlamaConfig(
        dim=32, hidden_dim=64, n_layers=2, n_heads=4, n_kv_heads=2, vocab_size=259, seq_len=64
    )
    # bytes shifted past unk/bos/eos: a byte-level "tokenizer" for the test
    ids = _stream([[3 + b for b in doc.encode()] for doc in _text()], 1)
    model = TorchLlama(config)
    model.init_weights()
    _train_lowers_loss(model, ids)


def test_training_is_deterministic() -> None:
    """Same seed and threads, same weights, bit for bit."""
    config = LlamaConfig(
        dim=16, hidden_dim=32, n_layers=1, n_heads=2, n_kv_heads=1, vocab_size=259, seq_len=32
    )
    ids = _stream([[3 + b for b in doc.encode()] for doc in _text()[:200]], 1)
    cfg = settings.TrainConfig(steps=5, batch_size=4, seq_len=32, warmup=2, eval_windows=2)
    runs = []
    for _ in range(2):
        loop.setup_torch(cfg.seed, cfg.threads)
        model = TorchLlama(config)
        model.init_weights()
        loop.train(model, ids, ids, cfg, progress=False)
        runs.append(model.llama2c_weights())
    assert all(np.array_equal(runs[0][k], runs[1][k]) for k in runs[0])


def test_nanochat_training_and_checkpoint(tmp_path: Path) -> None:
    pytest.importorskip("tiktoken", reason="tiktoken comes with the torch extra")
    loop.setup_torch(7, 2)
    docs = _text()
    ranks = bpe.train_bpe(docs, 300)
    enc = bpe.encoding(ranks, "test")
    bos = enc.encode_single_token(bpe.BOS)
    assert all(enc.decode(enc.encode_ordinary(d)) == d for d in docs[:50])
    config = ref_nano.NanochatConfig(
        sequence_len=64, vocab_size=len(ranks) + 9, n_layer=2, n_head=2, n_kv_head=1, n_embd=32
    )
    model = TorchNanochat(config)
    model.init_weights()
    _train_lowers_loss(model, _stream([enc.encode_ordinary(d) for d in docs], bos))

    # Saved as the demo saves it, read back without torch.
    torch.save(model.state_dict(), tmp_path / "model_000030.pt")
    meta = {"step": 30, "model_config": {
        "sequence_len": 64, "vocab_size": config.vocab_size, "n_layer": 2, "n_head": 2,
        "n_kv_head": 1, "n_embd": 32, "window_pattern": "SSSL"}}  # fmt: skip
    (tmp_path / "meta_000030.json").write_text(json.dumps(meta))
    bpe.write_tokenizer_pkl(tmp_path / "tokenizer.pkl", ranks, "test")
    checkpoint = nanochat_ckpt.read_checkpoint(tmp_path)
    assert checkpoint.config == config
    for name, value in model.numpy_weights().items():
        np.testing.assert_array_equal(checkpoint.weights[name], value)
    tokenizer = nanochat_ckpt.read_tokenizer(tmp_path)
    assert tokenizer.ranks == ranks and tokenizer.pattern == bpe.SPLIT_PATTERN
    assert tokenizer.special_tokens == bpe.special_tokens(len(ranks))


def test_bpe_ranks_follow_tiktoken_merging() -> None:
    """Ranks are a merge list tiktoken can replay: every merged token encodes to itself."""
    pytest.importorskip("tiktoken", reason="tiktoken comes with the torch extra")
    ranks = bpe.train_bpe(_text(), 400)
    assert len(ranks) == 400 and sorted(ranks.values()) == list(range(400))
    enc = bpe.encoding(ranks)
    for token, rank in ranks.items():
        assert enc.encode_single_token(token) == rank
        if len(token) > 1 and token.decode(errors="ignore") == token.decode(errors="replace"):
            assert enc.encode_ordinary(token.decode()) == [rank]
