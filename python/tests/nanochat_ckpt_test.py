"""nanochat checkpoints and tokenizer.pkl, read without torch; hostile pickles refused.

The checkpoints here are written by hand in torch's zip layout (no torch needed): a pickle
of protocol 2 assembled from opcodes, raw storages under ``<name>/data/<key>``.
"""

from __future__ import annotations

import json
import os
import pickle
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

from metalchat.errors import MetalchatError
from metalchat.formats import nanochat_ckpt as ck
from metalchat.reference import nanochat as nc
from metalchat.testing import (
    pt_global,
    pt_ordered_dict,
    pt_str,
    pt_tensor,
    pt_tuple,
    tiktoken_pickle,
    write_pt,
)

CONFIG = nc.NanochatConfig(
    sequence_len=64, vocab_size=50, n_layer=2, n_head=2, n_kv_head=1, n_embd=24
)


def _bf16_exact(array: np.ndarray) -> np.ndarray:
    return ck.bf16_to_f32((array.astype("<f4").view("<u4") >> 16).astype(np.uint16))


def _write_checkpoint(folder: Path, step: int, weights: dict[str, np.ndarray]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    saved = {"_orig_mod." + k if k.startswith("lm_") else k: v for k, v in weights.items()}
    write_pt(folder / f"model_{step:06d}.pt", saved, bf16=("transformer.wte.weight",))
    fields = ("sequence_len", "vocab_size", "n_layer", "n_head", "n_kv_head", "n_embd")
    meta = {
        "step": step,
        "model_config": {
            **{f: getattr(CONFIG, f) for f in fields},
            "window_pattern": CONFIG.window_pattern,
        },
    }
    (folder / f"meta_{step:06d}.json").write_text(json.dumps(meta))


# --- tests -------------------------------------------------------------------------------


def test_nanochat_checkpoint_round_trip(tmp_path: Path) -> None:
    weights = nc.random_weights(CONFIG, seed=3)
    weights["transformer.wte.weight"] = _bf16_exact(weights["transformer.wte.weight"])
    _write_checkpoint(tmp_path, 100, nc.random_weights(CONFIG, seed=9))
    _write_checkpoint(tmp_path, 250, weights)
    assert list(ck.checkpoint_files(tmp_path)) == [100, 250]
    checkpoint = ck.read_checkpoint(tmp_path)  # the last step
    assert checkpoint.step == 250 and checkpoint.meta["step"] == 250
    assert checkpoint.config == CONFIG
    assert set(checkpoint.weights) == set(weights)
    for name, value in weights.items():
        np.testing.assert_array_equal(checkpoint.weights[name], value, err_msg=name)
        assert checkpoint.weights[name].dtype == np.float32
    tokens = [1, 7, 7, 3, 49]
    expected = nc.NanochatReference(CONFIG, weights).forward_sequence(tokens)
    got = nc.NanochatReference(checkpoint.config, checkpoint.weights).forward_sequence(tokens)
    np.testing.assert_array_equal(got, expected)
    assert ck.read_checkpoint(tmp_path, step=100).step == 100
    with pytest.raises(
        MetalchatError, match=r"no checkpoint for step 5 \(steps here: \[100, 250\]\)"
    ):
        ck.read_checkpoint(tmp_path, step=5)


def test_strided_views_and_dtypes(tmp_path: Path) -> None:
    base = np.arange(12, dtype=np.float32)
    body = (
        b"\x80\x02" + pt_ordered_dict() + b"("
        + pt_str("t") + pt_tensor("0", "FloatStorage", 12, 0, (3, 2), (1, 3))  # a transpose
        + pt_str("s") + pt_tensor("0", "FloatStorage", 12, 5, (2,), (4,))  # shares storage 0
        + pt_str("i") + pt_tensor("1", "LongStorage", 2, 0, (2,), (1,))
        + b"u."
    )  # fmt: skip
    path = tmp_path / "m.pt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("m/data.pkl", body)
        archive.writestr("m/data/0", base.tobytes())
        archive.writestr("m/data/1", np.array([-1, 2**40], "<i8").tobytes())
    state = ck.read_torch_state_dict(path)
    np.testing.assert_array_equal(state["t"], base[:6].reshape(2, 3).T)
    np.testing.assert_array_equal(state["s"], [5.0, 9.0])
    assert state["i"].dtype == np.int64 and state["i"].tolist() == [-1, 2**40]


def test_hostile_and_broken_checkpoints(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self) -> tuple:
            return (os.system, (f"touch {marker}",))

    path = tmp_path / "model_000001.pt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("model_000001/data.pkl", pickle.dumps({"w": Evil()}, protocol=2))
    with pytest.raises(MetalchatError, match=r"refusing to unpickle global (posix|nt)\.system"):
        ck.read_torch_state_dict(path)
    assert not marker.exists()

    body = b"\x80\x02" + pt_ordered_dict() + b"(" + pt_str("w")
    body += pt_tensor("0", "FloatStorage", 8, 6, (4,), (1,)) + b"u."
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("model_000001/data.pkl", body)
        archive.writestr("model_000001/data/0", bytes(32))
    with pytest.raises(MetalchatError, match="reaches past its storage of 8 elements"):
        ck.read_torch_state_dict(path)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("model_000001/data.pkl", body)
        archive.writestr("model_000001/data/0", bytes(30))
    with pytest.raises(MetalchatError, match=r"data/0 has 30 bytes, its FloatStorage of 8"):
        ck.read_torch_state_dict(path)

    good = tmp_path / "ok"
    _write_checkpoint(good, 7, nc.random_weights(CONFIG))
    pt = good / "model_000007.pt"
    pt.write_bytes(pt.read_bytes()[:-300])
    with pytest.raises(MetalchatError, match=rf"^{pt}: not a torch zip checkpoint"):
        ck.read_checkpoint(good)

    weights = nc.random_weights(CONFIG)
    del weights["smear_gate.weight"]
    _write_checkpoint(tmp_path / "old", 3, weights)
    with pytest.raises(MetalchatError, match=r"'smear_gate\.weight' is missing"):
        ck.read_checkpoint(tmp_path / "old")
    meta = tmp_path / "old" / "meta_000003.json"
    meta.write_text(json.dumps({"model_config": {"n_embd": 24, "mlp_type": "swiglu"}}))
    with pytest.raises(MetalchatError, match=r"\['mlp_type'\] are not known to this reader"):
        ck.read_checkpoint(tmp_path / "old")
    (tmp_path / "empty").mkdir()
    with pytest.raises(MetalchatError, match=r"no model_<step>\.pt checkpoint"):
        ck.read_checkpoint(tmp_path / "empty")


def test_tiny_files_claiming_huge_tensors(tmp_path: Path) -> None:
    """A few hundred bytes must not make the reader allocate gigabytes: a zero-stride tensor
    of 46341 x 46341 over one float, and a storage entry whose zip header claims 4 GiB."""
    path = tmp_path / "m.pt"
    body = b"\x80\x02" + pt_ordered_dict() + b"(" + pt_str("w")
    body += pt_tensor("0", "FloatStorage", 1, 0, (46341, 46341), (0, 0)) + b"u."
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("m/data.pkl", body)
        archive.writestr("m/data/0", bytes(4))
    assert path.stat().st_size < 1024
    with pytest.raises(MetalchatError) as info:
        ck.read_torch_state_dict(path)
    assert str(info.value) == (
        f"{path}: tensor of size (46341, 46341) (stride (0, 0)) claims 2147488281 elements, "
        "its storage holds 1"
    )

    body = b"\x80\x02" + pt_ordered_dict() + b"(" + pt_str("w")
    body += pt_tensor("0", "FloatStorage", 1 << 30, 0, (1 << 30,), (1,)) + b"u."
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("m/data.pkl", body)
        archive.writestr("m/data/0", bytes(4))
    data = bytearray(path.read_bytes())
    central = data.rfind(b"PK\x01\x02")  # the last entry's central header: m/data/0
    data[central + 24 : central + 28] = struct.pack("<I", 0xFFFFFFFF)  # uncompressed size
    path.write_bytes(bytes(data))
    with pytest.raises(MetalchatError) as info:
        ck.read_torch_state_dict(path)
    assert str(info.value) == (
        f"{path}: storage m/data/0 claims 4294967295 bytes, more than the whole file ({len(data)})"
    )

    meta = {"model_config": {f: 4 for f in ck._CONFIG_FIELDS} | {"n_layer": True}}
    (tmp_path / "meta_000001.json").write_text(json.dumps(meta))
    (tmp_path / "model_000001.pt").write_bytes(b"")
    with pytest.raises(MetalchatError, match="model_config has values of the wrong type"):
        ck.read_checkpoint(tmp_path)


# --- tokenizer.pkl ---------------------------------------------------------------------


def _tokenizer_state() -> dict:
    ranks = {bytes([i]): i for i in range(256)}
    ranks.update({b"ab": 256, b"abc": 257})
    specials = {"<|bos|>": 258, "<|user_start|>": 259}
    return {
        "name": "rustbpe",
        "pat_str": r"\s+|\S+",
        "mergeable_ranks": ranks,
        "special_tokens": specials,
    }


def test_tokenizer_pkl(tmp_path: Path) -> None:
    (tmp_path / "tokenizer.pkl").write_bytes(tiktoken_pickle(_tokenizer_state()))
    tok = ck.read_tokenizer(tmp_path)
    assert tok.vocab_size == 260 and tok.pattern == r"\s+|\S+" and tok.name == "rustbpe"
    tokens = tok.tokens()
    assert tokens[97] == b"a" and tokens[257] == b"abc" and tokens[258] == b"<|bos|>"
    assert tok.token_id("<|bos|>") == 258


def test_tokenizer_pkl_refusals(tmp_path: Path) -> None:
    path = tmp_path / "tokenizer.pkl"
    path.write_bytes(
        b"\x80\x02" + pt_global("builtins", "eval") + pt_tuple([pt_str("1+1")]) + b"R."
    )
    with pytest.raises(MetalchatError, match=r"refusing to unpickle global builtins\.eval"):
        ck.read_tokenizer(path)
    path.write_bytes(tiktoken_pickle("cl100k_base"))
    with pytest.raises(MetalchatError, match="built-in encoding 'cl100k_base'"):
        ck.read_tokenizer(path)
    state = _tokenizer_state()
    state["special_tokens"]["<|bos|>"] = 300
    path.write_bytes(tiktoken_pickle(state))
    with pytest.raises(MetalchatError, match=r"not 0\.\.259 without gaps"):
        ck.read_tokenizer(path)
    path.write_bytes(tiktoken_pickle(_tokenizer_state())[:-20])
    with pytest.raises(MetalchatError, match="corrupt tokenizer pickle"):
        ck.read_tokenizer(path)


# --- the real writers, when they are installed (optional extras) ------------------------


def test_real_torch_save(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch", reason="torch is an optional extra; not installed")
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    state = {
        "f32": base,
        "view": base[:, 1:4].t(),
        "bf16": torch.tensor([1.5, -2.0, 3.0e38], dtype=torch.bfloat16),
        "f16": torch.tensor([0.5, 65504.0], dtype=torch.float16),
        "i64": torch.tensor([-3, 2**40]),
    }
    torch.save(state, tmp_path / "model_000001.pt")
    got = ck.read_torch_state_dict(tmp_path / "model_000001.pt")
    for name, tensor in state.items():
        np.testing.assert_array_equal(
            got[name], tensor.float().numpy() if name == "bf16" else tensor.numpy()
        )


def test_real_tiktoken_pickle(tmp_path: Path) -> None:
    tiktoken = pytest.importorskip("tiktoken", reason="tiktoken is not installed")
    state = _tokenizer_state()
    encoding = tiktoken.Encoding(
        name=state["name"],
        pat_str=state["pat_str"],
        mergeable_ranks=state["mergeable_ranks"],
        special_tokens=state["special_tokens"],
    )
    (tmp_path / "tokenizer.pkl").write_bytes(pickle.dumps(encoding))
    tok = ck.read_tokenizer(tmp_path / "tokenizer.pkl")
    assert tok.tokens() == [encoding.decode_single_token_bytes(i) for i in range(encoding.n_vocab)]


def test_pickle_lengths_checked_before_allocating(tmp_path: Path) -> None:
    """Found by //python:fuzz_nanochat_pickle_test: a BYTEARRAY8 of 2**62 bytes in a 13-byte
    file made the unpickler raise MemoryError; opcodes are walked first now."""
    path = tmp_path / "tokenizer.pkl"
    path.write_bytes(b"\x80\x05\x96" + struct.pack("<Q", 1 << 62) + b"x.")
    with pytest.raises(MetalchatError) as info:
        ck.read_tokenizer(path)
    assert str(info.value) == (
        f"{path}: corrupt tokenizer pickle: expected 4611686018427387904 bytes in a "
        "bytearray8, but only 2 remain"
    )


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))
