"""The host C engine against Hugging Face transformers' LlamaForCausalLM.

Tiny configs with random weights are saved by transformers itself (save_pretrained), imported
by metalchat.formats.hf_llama (the HF -> llama2.c RoPE permutation), written as llama2.c files
and run by //tools/engine_cli. At every position of a 32-token prompt the logits agree within
max |dlogit| / max |logit| <= 1e-4, and greedy decoding gives the same 64 tokens.

Needs the torch extra: bazel test --config=torch //tests:hf_parity_test (skips without it).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from metalchat.formats import hf_llama, llama2c

try:
    import torch
    import transformers
except ImportError:  # the default venv: say so and skip
    torch = transformers = None

pytestmark = pytest.mark.skipif(
    torch is None, reason="needs the torch extra: bazel test --config=torch //tests:hf_parity_test"
)

ENGINE_CLI = Path(os.environ["ENGINE_CLI"])
PROMPT_LEN = 32
GREEDY_STEPS = 64
CONFIGS = {
    "gqa_untied": dict(hidden_size=64, intermediate_size=172, num_hidden_layers=3,
                       num_attention_heads=8, num_key_value_heads=4, tie_word_embeddings=False),
    "mha_tied": dict(hidden_size=48, intermediate_size=128, num_hidden_layers=2,
                     num_attention_heads=4, num_key_value_heads=4, tie_word_embeddings=True),
}  # fmt: skip


def hf_model(tmp_path: Path, shape: dict[str, object]) -> transformers.LlamaForCausalLM:
    """A random tiny Llama saved by transformers into tmp_path/hf."""
    torch.manual_seed(0)
    config = transformers.LlamaConfig(
        vocab_size=320, max_position_embeddings=128, rope_theta=10000.0, rms_norm_eps=1e-5,
        bos_token_id=1, eos_token_id=2, **shape,
    )  # fmt: skip
    model = transformers.LlamaForCausalLM(config).float().eval()
    with torch.no_grad():  # larger than the default init, so that logits are far from ties
        for p in model.parameters():
            if p.dim() == 2:
                p.mul_(4.0)
    model.save_pretrained(tmp_path / "hf")
    return model


def engine(model: Path, *args: str) -> str:
    done = subprocess.run(
        [str(ENGINE_CLI), str(model), *args], capture_output=True, text=True, check=True
    )
    return done.stdout


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_logits_and_greedy_tokens_match_transformers(tmp_path: Path, name: str) -> None:
    model = hf_model(tmp_path, CONFIGS[name])
    exported = tmp_path / "model.bin"
    llama2c.write_model(exported, hf_llama.read_model(tmp_path / "hf"), version=1)

    prompt = np.random.default_rng(1).integers(3, 320, PROMPT_LEN).tolist()
    with torch.no_grad():
        want = model(torch.tensor([prompt])).logits[0].numpy()
    dump = tmp_path / "logits.f32"
    engine(exported, "--prompt-ids", ",".join(map(str, prompt)), "--dump-logits", str(dump))
    got = np.fromfile(dump, dtype=np.float32).reshape(PROMPT_LEN, -1)
    rel = np.abs(got - want).max(axis=1) / np.abs(want).max(axis=1)
    print(f"{name}: max relative dlogit over {PROMPT_LEN} positions = {rel.max():.2e}")
    assert rel.max() <= 1e-4

    with torch.no_grad():
        hf_ids = model.generate(
            torch.tensor([[1]]), max_new_tokens=GREEDY_STEPS, min_new_tokens=GREEDY_STEPS,
            do_sample=False, eos_token_id=None, pad_token_id=0,
        )[0, 1:].tolist()  # fmt: skip
    ours = [
        int(t) for t in engine(exported, "-t", "0", "--ids", "-n", str(GREEDY_STEPS + 1)).split()
    ]
    assert ours[:GREEDY_STEPS] == hf_ids[: len(ours[:GREEDY_STEPS])]
    assert len(ours) >= GREEDY_STEPS or ours[-1] == 1, "engine stopped early without BOS"


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q", "-s"]))
