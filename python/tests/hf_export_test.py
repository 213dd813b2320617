"""`export hf` / `export gguf` as library calls: Hugging Face folders (single and sharded
safetensors in f32/f16/bf16, rope_theta kept, chat templates rendered into turn strings with
every stop token) and GGUF files written by the `gguf` package with each supported type."""

from __future__ import annotations

import json
from pathlib import Path

import gguf
import numpy as np
import pytest

from metalchat import export, quant, testmodels
from metalchat.errors import MetalchatError
from metalchat.formats import chat_template, container, gguf_llama, hf_llama, tokenizer_json
from metalchat.manifest import pb

HF = dict(testmodels.HF_LLAMA_CONFIG)


def _folder(tmp_path: Path, **kwargs: object) -> Path:
    hf = {**HF, **kwargs.pop("config", {})}  # type: ignore[dict-item]
    folder = tmp_path / "hf"
    testmodels.write_hf_folder(folder, hf, testmodels.hf_weights(hf, 0), **kwargs)  # type: ignore[arg-type]
    return folder


@pytest.mark.parametrize(("dtype", "shards"), [("F32", 1), ("F16", 3), ("BF16", 2)])
def test_weights_and_rope_theta(tmp_path: Path, dtype: str, shards: int) -> None:
    folder = _folder(tmp_path, dtype=dtype, shards=shards, family="chatml")
    model, report = export.hf_container(folder, fmt="f32", group_size=0, progress=False)
    back = container.parse(container.serialize(model))
    assert back.manifest.llama.rope_theta == 500000.0  # issue 15: the llama2c route lost it
    assert back.manifest.llama.n_kv_heads == 2 and not back.manifest.llama.shared_classifier
    assert report == []
    want = hf_llama.read_model(folder).weights
    for name, tensor in back.tensors.items():
        np.testing.assert_array_equal(tensor.dequantize(), want[name])
    if dtype == "BF16":  # bf16 rounding of the float32 originals: 8 significant bits
        original = testmodels.hf_weights(HF, 0)["model.embed_tokens.weight"]
        got = back.tensors["token_embedding"].dequantize()
        assert np.all(np.abs(got - original) <= np.abs(original) * 2.0**-8)
    names = [s.path for s in back.manifest.provenance.sources]
    assert names[-1] == "tokenizer.json" and "config.json" in names
    assert len([n for n in names if n.endswith(".safetensors")]) == shards


def test_ragged_rows_fall_back_per_tensor(tmp_path: Path) -> None:
    """hidden 96 with groups of 64: only w2 (rows of 96) changes, to groups of 48; a 250-wide
    FFN has no aligned divisor in [32, 64], so w2 alone becomes f16."""
    model, report = export.hf_container(_folder(tmp_path), fmt="q8", group_size=64, progress=False)
    plan = {e.name: (e.fmt, e.group_size) for e in report}
    assert plan.pop("w2") == ("q8", 48)
    assert set(plan.values()) == {("q8", 64)}
    assert quant.fallbacks(report, "q8", 64) == [
        "w2: rows of 96 are not a multiple of 64: q8 groups of 48"
    ]
    model, report = export.hf_container(
        _folder(tmp_path / "odd", config={"intermediate_size": 250}), fmt="q4", group_size=64,
        progress=False,
    )  # fmt: skip
    plan = {e.name: (e.fmt, e.group_size) for e in report}
    assert plan.pop("w2") == ("f16", 0)
    assert set(plan.values()) == {("q4", 64)}
    container.parse(container.serialize(model))


def test_tied_embeddings_and_mistral(tmp_path: Path) -> None:
    folder = _folder(tmp_path, config={"tie_word_embeddings": True})
    model, _ = export.hf_container(folder, fmt="f16", group_size=0, progress=False)
    assert model.manifest.llama.shared_classifier and "wcls" not in model.tensors
    assert model.manifest.chat_template.kind == pb.CHAT_TEMPLATE_NONE  # no tokenizer_config
    config = json.loads((folder / "config.json").read_text())
    config |= {"architectures": ["MistralForCausalLM"], "sliding_window": None}
    (folder / "config.json").write_text(json.dumps(config))
    export.hf_container(folder, fmt="f16", group_size=0, progress=False)
    config["sliding_window"] = 16
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(MetalchatError, match=r"sliding_window 16 .* is not supported"):
        export.hf_container(folder, fmt="f16", group_size=0, progress=False)


def test_smollm_shaped_byte_level_tokenizer(tmp_path: Path) -> None:
    """SmolLM2's layout: a byte-level BPE tokenizer.json (Digits, then ByteLevel) with
    <|endoftext|> as BOS and EOS, ChatML: the container carries it as it is (kind 3, the SmolLM
    pre-tokenizer, its ranked merges) and ChatML turns ending on <|im_end|>."""
    hf = dict(HF, bos_token_id=0, eos_token_id=0, tie_word_embeddings=True)
    folder = tmp_path / "smol"
    testmodels.write_hf_folder(
        folder, hf, testmodels.hf_weights(hf, 2), family="chatml", byte_level=True,
        generation_eos=[2],
    )  # fmt: skip
    model, _ = export.hf_container(folder, fmt="q8", group_size=32, progress=False)
    m = container.parse(container.serialize(model)).manifest
    assert (m.tokenizer.kind, m.tokenizer.pre_tokenizer) == (pb.HF_BPE, pb.PRE_TOKENIZER_SMOLLM)
    assert (m.tokenizer.bos_id, m.tokenizer.eos_id, m.tokenizer.vocab_size) == (0, 2, 320)
    assert [(t.text, t.id) for t in m.tokenizer.special_tokens] == [
        ("<|endoftext|>", 0), ("<|im_start|>", 1), ("<|im_end|>", 2),
    ]  # fmt: skip
    assert (m.chat_template.turns.family, list(m.chat_template.turns.stop_ids)) == (
        "chatml",
        [2, 0],
    )
    payload = tokenizer_json.parse_payload(model.tokenizer, 320)
    source = tokenizer_json.read_bpe(folder / "tokenizer.json")
    assert (payload.tokens, payload.merges) == (source.tokens, source.merges)
    assert payload.tokens[3 + ord("a")] == b"a"  # GPT-2 byte characters back to bytes


@pytest.mark.parametrize("arch", ["Qwen2ForCausalLM", "Gemma3ForCausalLM", "GPT2LMHeadModel"])
def test_unsupported_architectures_in_one_line(tmp_path: Path, arch: str) -> None:
    folder = _folder(tmp_path, config={"architectures": [arch]})
    with pytest.raises(MetalchatError) as info:
        export.hf_container(folder, fmt="f32", group_size=0, progress=False)
    assert str(info.value) == (
        f"{folder / 'config.json'}: architectures ['{arch}'] is not supported: export hf reads "
        "LlamaForCausalLM, MistralForCausalLM"
    )


# --- chat templates ------------------------------------------------------------------------

TURNS = {
    "chatml": dict(
        family="chatml", add_bos=False, first_prefix="<|im_start|>user\n",
        system_prefix="<|im_start|>system\n", system_suffix="<|im_end|>\n<|im_start|>user\n",
        user_prefix="\n<|im_start|>user\n", user_suffix="<|im_end|>\n<|im_start|>assistant\n",
        stop="<|im_end|>",
    ),
    "llama3": dict(
        family="llama3", add_bos=True, first_prefix="<|start_header_id|>user<|end_header_id|>\n\n",
        system_prefix="<|start_header_id|>system<|end_header_id|>\n\n",
        system_suffix="<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n",
        user_prefix="<|start_header_id|>user<|end_header_id|>\n\n",
        user_suffix="<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
        stop="<|eot_id|>",
    ),
    "gemma": dict(
        family="gemma", add_bos=True, first_prefix="<start_of_turn>user\n",
        system_prefix="<start_of_turn>user\n", system_suffix="\n\n",
        user_prefix="\n<start_of_turn>user\n", user_suffix="<end_of_turn>\n<start_of_turn>model\n",
        stop="<end_of_turn>",
    ),
    "mistral": dict(
        family="mistral", add_bos=True, first_prefix="[INST] ", system_prefix="",
        system_suffix="", user_prefix="[INST] ", user_suffix=" [/INST]", stop="</s>",
    ),
}  # fmt: skip


@pytest.mark.parametrize("family", sorted(TURNS))
def test_chat_templates_become_turns_with_their_stop_tokens(tmp_path: Path, family: str) -> None:
    folder = _folder(tmp_path, family=family, generation_eos=[2])
    model, _ = export.hf_container(folder, fmt="f32", group_size=0, progress=False)
    m = container.parse(container.serialize(model)).manifest
    assert m.chat_template.kind == pb.CHAT_TEMPLATE_TURNS
    want = dict(TURNS[family])
    stop = want.pop("stop")
    turns = m.chat_template.turns
    for key, value in want.items():
        assert getattr(turns, key) == value, key
    specials = {t.text: t.id for t in m.tokenizer.special_tokens}
    assert turns.stop_ids[0] == specials[stop] and 2 in turns.stop_ids  # end of turn, then EOS
    # the turns rebuild what the template itself renders for a chat with a system message
    rebuilt = chat_template.ChatTurns(**{k: getattr(turns, k) for k in want}, stop_ids=[])
    env = chat_template._Template(testmodels.CHAT_TEMPLATES[family], "<s>", stop)
    chat = [("user", "hi"), ("assistant", "hello"), ("user", "how are you?")]
    text = chat_template.conversation(rebuilt, stop, None, [("hi", "hello")], "how are you?")
    assert env.render(chat, "test") == ("<s>" if turns.add_bos else "") + text


def test_templates_that_turns_cannot_express(tmp_path: Path) -> None:
    specials = {"<|im_end|>": 4, "</s>": 2}
    numbered = "{% for m in messages %}{{ loop.index }}: {{ m['content'] }}<|im_end|>{% endfor %}>"
    with pytest.raises(MetalchatError, match="renders an answer differently from its generation"):
        chat_template.render_turns(numbered, bos="<s>", eos="</s>", specials=specials, eos_ids=[2])
    late = (  # a fourth message is rendered unlike the first three
        "{% for m in messages %}{{ ('late ' if loop.index > 3 else '') + m['content'] }}"
        "{{ '<|im_end|>' if m['role'] == 'assistant' else '>' }}{% endfor %}"
    )
    with pytest.raises(MetalchatError, match="cannot be expressed as turn strings"):
        chat_template.render_turns(late, bos="<s>", eos="</s>", specials=specials, eos_ids=[2])
    # the system text goes to the last user turn (as Mistral's templates do): no system turns
    last = (
        "{% set sys = messages[0]['content'] if messages[0]['role'] == 'system' else '' %}"
        "{% for m in messages if m['role'] != 'system' %}{% if m['role'] == 'user' %}"
        "{{ '[INST] ' + (sys + '\\n\\n' if sys and loop.last else '') + m['content'] + "
        "' [/INST]' }}{% else %}{{ m['content'] + '</s>' }}{% endif %}{% endfor %}"
    )
    turns, stop = chat_template.render_turns(
        last, bos="<s>", eos="</s>", specials=specials, eos_ids=[2]
    )
    assert (turns.system_prefix, turns.system_suffix, stop) == ("", "", "</s>")
    assert (turns.first_prefix, turns.user_prefix, turns.user_suffix) == (
        "[INST] ", "[INST] ", " [/INST]"
    )  # fmt: skip
    plain = "{% for m in messages %}{{ m['content'] }}\n{% endfor %}"
    with pytest.raises(MetalchatError, match="which is no special token"):
        chat_template.render_turns(plain, bos="<s>", eos="</s>", specials=specials, eos_ids=[2])
    slow = "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}"
    limit, chat_template.RENDER_SECONDS = chat_template.RENDER_SECONDS, 0.2
    try:
        with pytest.raises(MetalchatError, match=r"fails to render .*: rendering took over 0\.2 s"):
            chat_template.render_turns(slow, bos=None, eos=None, specials=specials, eos_ids=[])
    finally:
        chat_template.RENDER_SECONDS = limit
    for broken, message in [
        ("{% for m in messages %}", "not a valid Jinja template"),
        ("{{ raise_exception('no') }}", "fails to render one user message: no"),
        ("{{ ''.__class__.__mro__ }}", "fails to render"),  # the sandbox refuses
    ]:
        with pytest.raises(MetalchatError, match=message):
            chat_template.render_turns(broken, bos=None, eos=None, specials=specials, eos_ids=[])
    folder = _folder(tmp_path, family="chatml")
    config = json.loads((folder / "tokenizer_config.json").read_text())
    (folder / "tokenizer_config.json").write_text(json.dumps(config | {"chat_template": numbered}))
    with pytest.raises(MetalchatError, match=r"tokenizer_config\.json: .*--chat-template none"):
        export.hf_container(folder, fmt="f32", group_size=0, progress=False)
    model, _ = export.hf_container(folder, fmt="f32", group_size=0, chat="none", progress=False)
    assert model.manifest.chat_template.kind == pb.CHAT_TEMPLATE_NONE


DEFAULT_SYSTEM = (  # a default system message when the chat has none (SmolLM2, Qwen2.5 style)
    "{%- if messages[0]['role'] == 'system' %}"
    "{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}"
    "{%- else %}{{- '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}"
    "{%- endif %}{%- for m in messages %}{%- if m.role != 'system' or not loop.first %}"
    "{{- '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}{%- endif %}"
    "{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)
DATED_HEADER = (  # a system header with the date, always there (Llama 3.1 style)
    "{{- bos_token }}{%- if messages[0]['role'] == 'system' %}"
    "{%- set sys = messages[0]['content'] | trim %}{%- set messages = messages[1:] %}"
    "{%- else %}{%- set sys = '' %}{%- endif %}"
    "{{- '<|start_header_id|>system<|end_header_id|>\\n\\nToday Date: ' + "
    "strftime_now('%d %b %Y') + '\\n\\n' + sys + '<|eot_id|>' }}{%- for m in messages %}"
    "{{- '<|start_header_id|>' + m['role'] + '<|end_header_id|>\\n\\n' + m['content'] | trim"
    " + '<|eot_id|>' }}{%- endfor %}{%- if add_generation_prompt %}"
    "{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}"
)


def test_default_system_messages_and_dated_headers() -> None:
    specials = {t: i for i, t in enumerate(
        ["<|im_start|>", "<|im_end|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
    )}  # fmt: skip
    turns, stop = chat_template.render_turns(
        DEFAULT_SYSTEM, bos=None, eos="<|im_end|>", specials=specials, eos_ids=[9]
    )
    assert turns.first_prefix == (
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"
    )
    assert (turns.system_prefix, stop, turns.stop_ids) == (
        "<|im_start|>system\n",
        "<|im_end|>",
        [1, 9],
    )
    turns, stop = chat_template.render_turns(
        DATED_HEADER, bos="<s>", eos="<|eot_id|>", specials=specials, eos_ids=[4]
    )
    header = "<|start_header_id|>system<|end_header_id|>\n\nToday Date: 01 Jan 2026\n\n"
    assert turns.add_bos and turns.system_prefix == header  # the date is fixed: reproducible
    assert turns.first_prefix == header + "<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n"
    assert (stop, turns.stop_ids) == ("<|eot_id|>", [4])


def test_tokenizer_config_forms(tmp_path: Path) -> None:
    """tokenizer_config.json as transformers writes it: AddedToken objects for bos/eos, an
    added_tokens_decoder, named templates; generation_config.json with a list of EOS ids."""
    folder = _folder(tmp_path, family="llama3")
    config = json.loads((folder / "tokenizer_config.json").read_text())
    config |= {
        "bos_token": {"content": "<s>", "special": True},
        "eos_token": {"content": "<|eot_id|>", "lstrip": False},
        "added_tokens_decoder": {"7": {"content": "<|extra|>", "special": True}},
        "chat_template": [
            {"name": "tool_use", "template": "{{ raise_exception('tools') }}"},
            {"name": "default", "template": config["chat_template"]},
        ],
    }
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    (folder / "generation_config.json").write_text(json.dumps({"eos_token_id": [5, 2]}))
    info = export.hf_tokenizer_info(folder, json.loads((folder / "config.json").read_text()))
    assert (info.bos_id, info.eos_ids) == (1, [5, 2])
    assert info.specials["<|extra|>"] == 7 and info.specials["<|eot_id|>"] == 5
    model, _ = export.hf_container(folder, fmt="f32", group_size=0, progress=False)
    m = model.manifest
    assert (m.tokenizer.bos_id, m.tokenizer.eos_id) == (1, 5)
    assert list(m.chat_template.turns.stop_ids) == [5, 2]
    (folder / "generation_config.json").write_text(json.dumps({"eos_token_id": "two"}))
    with pytest.raises(MetalchatError, match=r"generation_config\.json: eos_token_id is 'two'"):
        export.hf_container(folder, fmt="f32", group_size=0, progress=False)
    (folder / "generation_config.json").write_text(json.dumps({"eos_token_id": [900]}))
    with pytest.raises(MetalchatError, match="special token id 900 is outside the vocabulary"):
        export.hf_container(folder, fmt="f32", group_size=0, progress=False)


# --- GGUF ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("types", "want"),
    [
        ({}, {"wq": ("q8", 32), "w2": ("q8", 32)}),
        ({"wq": "Q4_0", "w1": "Q4_0"}, {"wq": ("q4", 32), "w1": ("q4", 32)}),
        ({"wq": "F16", "wcls": "F16"}, {"wq": ("f16", 0), "wcls": ("f16", 0)}),
        (
            {"wq": "BF16", "token_embedding": "F32"},
            {"wq": ("f32", 0), "token_embedding": ("f32", 0)},
        ),
        ({"w2": "Q4_K"}, {"w2": ("q4", 32)}),
        ({"w2": "Q6_K"}, {"w2": ("q8", 32)}),
    ],
)
def test_gguf_types(
    tmp_path: Path, types: dict[str, str], want: dict[str, tuple[str, int]]
) -> None:
    path = tmp_path / "m.gguf"
    testmodels.write_llama_gguf(path, types)
    model, report = export.gguf_container(path, progress=False)
    back = container.parse(container.serialize(model))
    assert back.manifest.llama.rope_theta == 500000.0
    reader = gguf.GGUFReader(path)
    tensors = {t.name: t for t in reader.tensors}
    errors = {e.name: e for e in report}
    for name, (fmt, group) in want.items():
        t = back.tensors[name]
        assert (t.fmt, t.group_size) == (fmt, group), name
        source = (
            tensors["blk.0.attn_q.weight" if name == "wq" else "output.weight"]
            if name in ("wq", "wcls")
            else None
        )
        kind = {n: types.get(n, "Q8_0") for n in want}[name]
        if kind in ("Q8_0", "Q4_0", "F16", "BF16", "F32"):  # taken over or widened: exact
            assert name not in errors or errors[name].max_abs_error == 0.0, name
        else:  # K-quants: requantized, error at most half a step of the new groups
            assert 0 < errors[name].max_abs_error <= float(t.scales.max()) / 2 * 1.001
        if source is not None:  # layer 0 of wq / the head against the gguf package's values
            layer = t.dequantize()[0] if name == "wq" else t.dequantize()
            np.testing.assert_array_equal(
                layer, gguf.quants.dequantize(source.data, source.tensor_type)
            )
    assert back.manifest.chat_template.turns.family == "chatml"
    assert list(back.manifest.chat_template.turns.stop_ids) == [4]


def test_gguf_byte_level_vocabulary(tmp_path: Path) -> None:
    """A SmolLM2 GGUF (tokenizer.ggml.model gpt2, pre smollm, merges): the container's kind-3
    tokenizer, the same payload as the tokenizer.json route gives the same vocabulary."""
    path = tmp_path / "smol.gguf"
    testmodels.write_llama_gguf(path, {"wq": "Q4_0"}, vocab=320, byte_level=True)
    model, _ = export.gguf_container(path, progress=False)
    m = container.parse(container.serialize(model)).manifest
    assert (m.tokenizer.kind, m.tokenizer.pre_tokenizer) == (pb.HF_BPE, pb.PRE_TOKENIZER_SMOLLM)
    assert (m.tokenizer.bos_id, m.tokenizer.eos_id) == (0, 2)
    specials = ["<|endoftext|>", *testmodels.CHAT_SPECIALS["chatml"]]
    want = tokenizer_json.convert_bpe(testmodels.byte_level_tokenizer_json(320, specials))
    assert model.tokenizer == want.payload()
    data = path.read_bytes().replace(b"smollm", b"tekken", 1)  # an unknown pre-tokenizer
    (tmp_path / "bad.gguf").write_bytes(data)
    with pytest.raises(MetalchatError, match=r"tokenizer\.ggml\.pre 'tekken' is not one of"):
        export.gguf_container(tmp_path / "bad.gguf", progress=False)


def test_gguf_requantize_to_one_format(tmp_path: Path) -> None:
    path = tmp_path / "m.gguf"
    testmodels.write_llama_gguf(path, {"wq": "Q4_0", "w2": "Q6_K"})
    model, report = export.gguf_container(path, fmt="q4", group_size=32, progress=False)
    plan = {e.name: (e.fmt, e.group_size, e.max_abs_error) for e in report}
    assert plan["wq"] == ("q4", 32, 0.0)  # Q4_0 blocks taken over
    assert plan["w2"][:2] == ("q4", 32) and plan["w2"][2] > 0
    assert plan["token_embedding"][:2] == ("q4", 32) and plan["token_embedding"][2] > 0
    container.parse(container.serialize(model))


def test_gguf_bad_input_one_line(tmp_path: Path) -> None:
    path = tmp_path / "m.gguf"
    testmodels.write_llama_gguf(path, {"wq": "Q4_0"})
    data = path.read_bytes()
    (tmp_path / "cut.gguf").write_bytes(data[: len(data) // 2])
    with pytest.raises(MetalchatError, match="truncated or not a GGUF file"):
        export.gguf_container(tmp_path / "cut.gguf", progress=False)
    testmodels.write_llama_gguf(tmp_path / "q5.gguf", {"wq": "Q5_0"})
    with pytest.raises(
        MetalchatError,
        match=r"tensor blk\.0\.attn_q\.weight is Q5_0; supported: F32, F16, BF16, Q8_0, Q4_0, "
        r"Q4_K, Q6_K$",
    ):
        export.gguf_container(tmp_path / "q5.gguf", progress=False)
    assert gguf_llama.SUPPORTED_TYPES[-1].name == "Q6_K"


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))
