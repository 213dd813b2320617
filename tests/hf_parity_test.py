"""The host C engine against Hugging Face transformers' LlamaForCausalLM / MistralForCausalLM.

Tiny configs with random weights are saved by transformers itself (save_pretrained: config.json,
model.safetensors, generation_config.json; a tokenizer.json of the vocabulary size beside them),
converted by the command line a user runs, ``export hf FOLDER --format f32 -o model.mcm``, and
run by //tools/engine_cli. At every position of a 32-token prompt the logits agree within
max |dlogit| / max |logit| <= 1e-4, and greedy decoding gives the same 64 tokens. One config
has rope_theta 500000 (Llama 3's), which the container must keep (issue 15: the llama2.c route
lost it).

Needs the torch extra: bazel test --config=torch //tests:hf_parity_test (skips without it).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from metalchat import testmodels
from metalchat.cli import run
from metalchat.cli.export import main as export_main
from metalchat.formats import container

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
    "gqa_untied_theta500k": dict(hidden_size=64, intermediate_size=172, num_hidden_layers=3,
                       num_attention_heads=8, num_key_value_heads=4, tie_word_embeddings=False,
                       rope_theta=500000.0),
    "mha_tied": dict(hidden_size=48, intermediate_size=128, num_hidden_layers=2,
                     num_attention_heads=4, num_key_value_heads=4, tie_word_embeddings=True,
                     rope_theta=10000.0),
    "mistral_gqa": dict(hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                        num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=False,
                        rope_theta=1000000.0, sliding_window=None),
}  # fmt: skip


def hf_model(tmp_path: Path, name: str) -> transformers.PreTrainedModel:
    """A random tiny Llama (or Mistral) saved by transformers into tmp_path/hf."""
    torch.manual_seed(0)
    shape = dict(CONFIGS[name])
    make = transformers.MistralConfig if name.startswith("mistral") else transformers.LlamaConfig
    config = make(
        vocab_size=320, max_position_embeddings=128, rms_norm_eps=1e-5, bos_token_id=1,
        eos_token_id=2, **shape,
    )  # fmt: skip
    cls = (
        transformers.MistralForCausalLM
        if name.startswith("mistral")
        else transformers.LlamaForCausalLM
    )
    model = cls(config).float().eval()
    with torch.no_grad():  # larger than the default init, so that logits are far from ties
        for p in model.parameters():
            if p.dim() == 2:
                p.mul_(4.0)
    model.save_pretrained(tmp_path / "hf")
    tokenizer = testmodels.hf_tokenizer_json(config.vocab_size, [])
    (tmp_path / "hf" / "tokenizer.json").write_text(json.dumps(tokenizer))
    return model


def engine(model: Path, *args: str) -> str:
    done = subprocess.run(
        [str(ENGINE_CLI), str(model), *args], capture_output=True, text=True, check=True
    )
    return done.stdout


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_logits_and_greedy_tokens_match_transformers(tmp_path: Path, name: str) -> None:
    model = hf_model(tmp_path, name)
    exported = tmp_path / "model.mcm"
    argv = ["hf", str(tmp_path / "hf"), "--format", "f32", "-o", str(exported), "--quiet"]
    assert run(export_main, argv) == 0
    params = container.read_container(exported).manifest.llama
    assert params.rope_theta == CONFIGS[name]["rope_theta"]

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


def test_smollm_shaped_text_in_text_out(tmp_path: Path) -> None:
    """SmolLM2's shape end to end from text: a byte-level BPE trained by the tokenizers library
    (SmolLM's Digits + ByteLevel pre-tokenizer, <|endoftext|> <|im_start|> <|im_end|>) saved
    beside a tied-head Llama saved by transformers; `export hf`; the engine's prompt ids for a
    text equal tokenizers' and its 32 greedy ids equal transformers' generate."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    torch.manual_seed(0)
    config = transformers.LlamaConfig(
        vocab_size=320, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
        rope_theta=100000.0, rms_norm_eps=1e-5, tie_word_embeddings=True, bos_token_id=0,
        eos_token_id=0,
    )  # fmt: skip
    model = transformers.LlamaForCausalLM(config).float().eval()
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() == 2:
                p.mul_(4.0)
    model.save_pretrained(tmp_path / "hf")
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=320, special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
    )  # fmt: skip
    lines = [" ".join(testmodels.WORDS[i:] + testmodels.WORDS[:i]) for i in range(0, 60, 3)]
    tok.train_from_iterator(lines, trainer)
    tok.save(str(tmp_path / "hf" / "tokenizer.json"))
    exported = tmp_path / "smol.mcm"
    argv = ["hf", str(tmp_path / "hf"), "--format", "f32", "-o", str(exported), "--quiet"]
    assert run(export_main, argv) == 0

    text = "In the beginning 2024 God said: Let there be light!"
    want_ids = tok.encode(text).ids
    out = [int(t) for t in engine(exported, "-i", text, "--ids", "-t", "0", "-n", "128").split()]
    assert out[: len(want_ids)] == want_ids
    # The engine starts a text prompt with BOS (<|endoftext|>, id 0; not printed), as it does
    # for every model; SmolLM2's own tokenizer adds none, so transformers gets it explicitly
    # (with an attention mask: generate would take id 0, its pad id, for padding).
    fed = torch.tensor([[0, *want_ids]])
    with torch.no_grad():
        hf_ids = model.generate(
            fed, attention_mask=torch.ones_like(fed), max_new_tokens=32, min_new_tokens=32,
            do_sample=False, eos_token_id=None, pad_token_id=0,
        )[0, fed.shape[1] :].tolist()  # fmt: skip
    ours = out[len(want_ids) :]
    n = min(32, len(ours))
    print(f"smollm: prompt of {len(want_ids)} ids equal to tokenizers'; {n} greedy ids compared")
    assert ours[:n] == hf_ids[:n]
    assert n == 32 or ours[-1] == 0, "engine stopped early without <|endoftext|>"


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q", "-s"]))
