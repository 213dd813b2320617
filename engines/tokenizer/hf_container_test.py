"""A Llama container carrying a Hugging Face BPE tokenizer (kind 3), end to end: written by
metalchat.formats.container with HfBpeTokenizer.manifest, read back by the Python reader and
by mc_open (container_tool), and run by engine_cli, whose output starts with the prompt: the
engine loaded the kind-3 tokenizer, encoded the prompt and decoded it back. A byte-level
(GPT-2) and a SentencePiece-style (byte fallback, dummy prefix) tokenizer, made here."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from metalchat import export, testmodels
from metalchat.config import LlamaConfig
from metalchat.errors import MetalchatError
from metalchat.formats import container, llama2c
from metalchat.formats.tokenizer_json import DUMMY_PREFIX, HfBpeTokenizer
from metalchat.testing import tokenizer_bin

CONTAINER_TOOL = Path(os.environ.get("CONTAINER_TOOL", "engines/container/container_tool"))
ENGINE_CLI = Path(os.environ.get("ENGINE_CLI", "tools/engine_cli/engine_cli"))
PAIRS = [(b"t", b"h"), (b"th", b"e"), (b" ", b"the"), (b"i", b"n"), (b"in", b"g")]


def byte_level() -> HfBpeTokenizer:
    tokens = [bytes([b]) for b in range(256)]
    merges = []
    for left, right in PAIRS:
        tokens.append(left + right)
        merges.append((tokens.index(left), tokens.index(right), len(tokens) - 1))
    specials = [(len(tokens), "<|endoftext|>")]
    return HfBpeTokenizer("gpt2", 0, tokens, merges, specials, "")


def sentencepiece() -> HfBpeTokenizer:
    tokens = [b"", b"", b""] + [f"<0x{b:02X}>".encode() for b in range(256)]
    tokens += [c.encode() for c in " theing"]
    merges = []
    for left, right in PAIRS:
        tokens.append(left + right)
        merges.append((tokens.index(left), tokens.index(right), len(tokens) - 1))
    specials = [(0, "<unk>"), (1, "<s>"), (2, "</s>")]
    return HfBpeTokenizer("sentencepiece", DUMMY_PREFIX, tokens, merges, specials, "")


@pytest.mark.parametrize("make", [byte_level, sentencepiece])
def test_llama_container_with_hf_tokenizer(make: object, tmp_path: Path) -> None:
    tok = make()  # type: ignore[operator]
    bos = tok.special_id("<s>") or tok.special_id("<|endoftext|>") or 0
    config = LlamaConfig(16, 32, 2, 4, 2, tok.vocab_size, 32)
    model = testmodels.llama_model(config, seed=5)
    stand_in = llama2c.read_tokenizer(tokenizer_bin(tok.vocab_size), tok.vocab_size)
    manifest = export.llama_manifest(config, "hf-bpe", stand_in)
    manifest.tokenizer.CopyFrom(tok.manifest(bos, bos))  # replaces the stand-in's
    c, _ = export.llama_container(
        config, dict(model.weights), tok.payload(), manifest, fmt="f32", group_size=0
    )
    path = tmp_path / "model.mcm"
    path.write_bytes(container.serialize(c))
    back = container.read_container(path)
    assert back.tokenizer == tok.payload()
    wrong = export.llama_manifest(config, "hf-bpe", stand_in)
    wrong.tokenizer.CopyFrom(tok.manifest(bos, bos))
    wrong.tokenizer.pre_tokenizer = 4 if tok.pre_tokenizer != "smollm" else 1
    with pytest.raises(MetalchatError, match="pre-tokenizer differs"):
        container.serialize(
            export.llama_container(
                config, dict(model.weights), tok.payload(), wrong, fmt="f32", group_size=0
            )[0]
        )
    opened = subprocess.run([str(CONTAINER_TOOL), str(path)], capture_output=True, text=True)
    assert opened.returncode == 0 and opened.stdout.startswith("EM_OK"), opened.stdout
    prompt = "the thing é 42"
    run = subprocess.run(
        [str(ENGINE_CLI), str(path), "-i", prompt, "-n", "12", "-t", "0"],
        capture_output=True, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr.decode()
    assert run.stdout.decode("utf-8", "replace").startswith(prompt), run.stdout


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q", "-s"]))
