"""metalchat.testmodels and its CLI: seeded, readable by the package's own readers."""

from __future__ import annotations

from pathlib import Path

import pytest

from metalchat import testmodels
from metalchat.cli.testmodels import main
from metalchat.config import LlamaConfig
from metalchat.errors import MetalchatError
from metalchat.formats import container, llama2c

SMALL = LlamaConfig(32, 64, 1, 4, 2, 300, 16)


def test_same_seed_same_bytes() -> None:
    assert testmodels.spec_model("llama_odd_mqa", "q8", 4) == testmodels.spec_model(
        "llama_odd_mqa", "q8", 4
    )
    assert testmodels.spec_model("llama_odd_mqa", "f32", seed=1) != testmodels.spec_model(
        "llama_odd_mqa", "f32", seed=2
    )


@pytest.mark.parametrize("name", [*testmodels.LLAMA_SPECS, *testmodels.NANOCHAT_SPECS])
def test_spec_containers_parse(name: str) -> None:
    model = container.parse(testmodels.spec_model(name, "f32"))
    assert model.manifest.WhichOneof("params") == ("llama" if "llama" in name else "nanochat")


def test_llama2c_versions_and_tokseed() -> None:
    for version in ("v0", "v1", "v2"):
        model = llama2c.read_model(testmodels.spec_model("llama_odd_mqa", version))
        assert model.config.dim == testmodels.LLAMA_SPECS["llama_odd_mqa"].dim
    seed = testmodels.spec_model("nanochat_mqa_full", "tokseed")
    assert seed[0] == 1 and int.from_bytes(seed[1:3], "little") == 290


def test_bad_spec_and_format() -> None:
    with pytest.raises(MetalchatError, match="no test model spec"):
        testmodels.spec_model("nope", "f32")
    with pytest.raises(MetalchatError, match="Llama specs only"):
        testmodels.spec_model("nanochat_mqa_full", "v0")


def test_word_pieces_fill_the_vocabulary() -> None:
    model, tokenizer = testmodels.llama2c_files(SMALL, 3, words=True)
    tok = llama2c.read_tokenizer(tokenizer, SMALL.vocab_size)
    assert len(tok.tokens) == SMALL.vocab_size
    assert tok.tokens[259] == b" the"
    plain = testmodels.llama2c_files(SMALL, 3)
    assert plain[0] != model  # the byte tokens' rows are scaled down


def test_cli_writes_a_model_folder(tmp_path: Path) -> None:
    folder = tmp_path / "tiny"
    args = ["llama2c", "--seed", "1", "--dim", "32", "--hidden-dim", "64", "--layers", "1"]
    args += ["--heads", "4", "--kv-heads", "2", "--vocab", "300", "--seq-len", "16", "--words"]
    args += ["--template", "alpaca", "--chat-txt", str(folder / "chat.txt")]
    assert main([*args, str(folder / "model.bin"), str(folder / "tokenizer.bin")]) == 0
    assert (folder / "chat.txt").read_text() == "template=alpaca\n"
    config, version, _ = llama2c.read_config(folder / "model.bin")
    assert (config.dim, config.vocab_size, version) == (32, 300, 0)
    assert main(["spec", "llama_odd_mqa", "tokseed", "-o", str(tmp_path / "t.seed")]) == 0
    assert (tmp_path / "t.seed").read_bytes()[0] == 0
