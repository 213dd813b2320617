"""From a llama2.c model to a board: the container, InferPi's files, and the fit check.

:func:`llama_container` quantizes a Llama's float32 weights (pruned or not, see
:func:`metalchat.quant.prune_ffn`) into a
:class:`~metalchat.formats.container.ContainerModel` whose manifest records the shapes,
tokenizer, provenance (sha256 of each input and the tool version — no paths or times, so
output is reproducible) and the quantization report.

:func:`inferpi_model` writes the file InferPi's Llama engine loads: llama2.c's legacy Config
header (7 x int32; a negative vocab_size means an unshared classifier) followed by every
tensor as IEEE float16 in llama2.c's legacy order — token_embedding, rms_att, wq, wk, wv, wo,
rms_ffn, w1, w2, w3, rms_final, freq_cis_real, freq_cis_imag, [wcls] — the layout llama2.c's
``run.c`` maps, with float16 in place of float32. ``tokenizer.bin`` goes beside it unchanged.

:func:`nanochat_container` does the same for a nanochat GPT (upstream state-dict names, one
tensor per upstream parameter in :meth:`NanochatConfig.tensor_shapes` order) with its byte-level
BPE tokenizer section: matrices (embeddings, projections, MLP, head, value embeddings) take the
chosen format, the lambdas and gates stay float32. :func:`nanochat_checkpoint_container` reads a
checkpoint directory (``model_<step>.pt`` + ``meta_<step>.json``) and ``tokenizer.pkl``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import metalchat
from metalchat import planner, quant
from metalchat.config import MATRIX_TENSORS, LlamaConfig
from metalchat.errors import MetalchatError
from metalchat.fileio import read_bytes, read_json_object
from metalchat.formats import (
    chat_template,
    container,
    gguf_llama,
    hf_llama,
    llama2c,
    nanochat_ckpt,
    tokenizer_json,
)
from metalchat.formats.container import ContainerModel
from metalchat.manifest import ModelManifest, pb
from metalchat.reference.nanochat import NanochatConfig

TOOL = "metalchat export"
CHAT_TEMPLATES = {
    "none": pb.CHAT_TEMPLATE_NONE,
    "llama2": pb.CHAT_TEMPLATE_LLAMA2,
    "nanochat": pb.CHAT_TEMPLATE_NANOCHAT,
}
BOS_ID, EOS_ID = 1, 2  # llama2.c's <s> and </s>


def source_file(path: str | Path, data: bytes) -> object:
    """A provenance ``SourceFile``: the file's name (not its directory), sha256 and size."""
    return pb.SourceFile(
        path=Path(path).name, sha256=hashlib.sha256(data).hexdigest(), size=len(data)
    )


def llama_manifest(
    config: LlamaConfig,
    name: str,
    tokenizer: llama2c.Llama2cTokenizer | tokenizer_json.HfBpeTokenizer,
    *,
    description: str = "",
    chat_template: str = "none",
    sources: list[object] | None = None,
) -> ModelManifest:
    """A manifest for a llama2.c-convention Llama (tensors are filled in by the writer)."""
    m = pb.ModelManifest(name=name, description=description, architecture=pb.LLAMA)
    m.llama.CopyFrom(
        pb.LlamaParams(
            dim=config.dim,
            hidden_dim=config.hidden_dim,
            n_layers=config.n_layers,
            n_heads=config.n_heads,
            n_kv_heads=config.n_kv_heads,
            vocab_size=config.vocab_size,
            seq_len=config.seq_len,
            rope_theta=config.rope_theta,
            norm_eps=config.norm_eps,
            shared_classifier=config.shared_classifier,
            rope_layout=pb.ROPE_INTERLEAVED,
        )
    )
    m.tokenizer.CopyFrom(
        pb.Tokenizer(
            kind=pb.LLAMA2C_BPE,
            vocab_size=tokenizer.vocab_size,
            bos_id=BOS_ID,
            eos_id=EOS_ID,
            max_token_length=tokenizer.max_token_length,
        )
    )
    m.chat_template.kind = CHAT_TEMPLATES[chat_template]
    m.provenance.CopyFrom(
        pb.Provenance(sources=sources or [], tool=TOOL, tool_version=metalchat.__version__)
    )
    return m


def llama_container(
    config: LlamaConfig,
    weights: dict[str, np.ndarray],
    tokenizer_bytes: bytes,
    manifest: ModelManifest,
    *,
    fmt: str,
    group_size: int,
    progress: bool | None = None,
) -> tuple[ContainerModel, list[quant.TensorError]]:
    """The container of a Llama: (container, error report).

    ``weights`` are float32 by llama2.c name (extra tensors such as ``freq_cis`` are dropped:
    the engine computes RoPE). Matrices (embedding, attention, FFN, classifier) take ``fmt``;
    norms stay float32. ``manifest`` (see :func:`llama_manifest`) gets the report.
    """
    ordered = {name: weights[name] for name in config.tensor_shapes()}
    tensors, report = quant.quantize_weights(
        ordered, fmt, group_size, MATRIX_TENSORS, progress=progress
    )
    del manifest.quantization_report[:]
    for e in report:
        manifest.quantization_report.add(
            tensor=e.name, max_abs_error=e.max_abs_error, mean_l1_error=e.mean_l1_error
        )
    return ContainerModel(manifest, tensors, tokenizer_bytes), report


def check_fit(config: LlamaConfig, fmt: str, group_size: int, board: str, name: str) -> str:
    """The planner's verdict for ``board``; one-line :class:`MetalchatError` if it does not fit."""
    p = planner.plan(config, fmt, group_size)
    result = planner.fit(p, planner.board(board))
    if not result.ok:
        raise MetalchatError(
            f"model {name} ({fmt}, {planner.human(p.weights_bytes)} of weights) does not fit "
            f"{board} ({planner.human(result.board.ram)} available): even streamed one layer "
            f"at a time it needs {planner.human(p.streamed_bytes)} (KV cache "
            f"{planner.human(p.kv_cache)}); try q4, a shorter seq_len or a smaller model"
        )
    return result.verdict


def inferpi_model(config: LlamaConfig, weights: dict[str, np.ndarray]) -> bytes:
    """InferPi's Llama ``model.bin``: llama2.c Config header, then float16 tensors."""
    vocab = config.vocab_size if config.shared_classifier else -config.vocab_size
    c = config
    out = [
        struct.pack(
            "<7i", c.dim, c.hidden_dim, c.n_layers, c.n_heads, c.n_kv_heads, vocab, c.seq_len
        )
    ]
    cos, sin = llama2c.freq_cis(config)
    tables = {**weights, "freq_cis_real": cos, "freq_cis_imag": sin}
    for name in llama2c.V0_ORDER:
        if name == "wcls" and config.shared_classifier:
            continue
        try:
            half = quant.quantize(tables[name], "f16")
        except MetalchatError as exc:
            raise MetalchatError(f"tensor {name!r}: {exc.message}") from None
        out.append(np.ascontiguousarray(half.values, dtype="<f2").tobytes())
    return b"".join(out)


# ---------------------------------------------------------------------------------------
# nanochat


def _is_nanochat_matrix(name: str, shape: tuple[int, ...]) -> bool:
    return len(shape) == 2 and not name.endswith("gate.weight")


def nanochat_manifest(
    config: NanochatConfig,
    name: str,
    specials: list[tuple[int, str]],
    *,
    description: str = "",
    chat_template: str = "none",
    sources: list[object] | None = None,
    tool: str = TOOL,
) -> ModelManifest:
    """A manifest for a nanochat GPT; BOS (= EOS, as upstream) is ``<|bos|>``."""
    m = pb.ModelManifest(name=name, description=description, architecture=pb.NANOCHAT)
    m.nanochat.CopyFrom(
        pb.NanochatParams(
            n_embd=config.n_embd,
            n_layer=config.n_layer,
            n_head=config.n_head,
            n_kv_head=config.n_kv_head,
            vocab_size=config.vocab_size,
            padded_vocab_size=config.padded_vocab_size,
            sequence_len=config.sequence_len,
            window_pattern=config.window_pattern,
            short_window=min(config.short_window, config.sequence_len),
            softcap=config.softcap,
            rope_theta=config.rope_theta,
            qk_scale=config.qk_scale,
            mlp_ratio=config.mlp_ratio,
            smear_channels=config.smear_channels,
            value_embed_gate_channels=config.value_embed_gate_channels,
            value_embed_scale=config.value_embed_scale,
            value_embed_layers=config.value_embed_layers,
            backout_layer=config.backout_layer,
            norm_eps=config.norm_eps,
            rope_layout=pb.ROPE_HALF_SPLIT,
        )
    )
    by_text = {text: i for i, text in specials}
    if "<|bos|>" not in by_text:
        raise MetalchatError("the tokenizer has no <|bos|> special token")
    bos = by_text["<|bos|>"]
    m.tokenizer.CopyFrom(
        pb.Tokenizer(
            kind=pb.NANOCHAT_BPE,
            vocab_size=config.vocab_size,
            bos_id=bos,
            eos_id=bos,
            special_tokens=[pb.SpecialToken(text=t, id=i) for i, t in specials],
        )
    )
    m.chat_template.kind = CHAT_TEMPLATES[chat_template]
    m.provenance.CopyFrom(
        pb.Provenance(sources=sources or [], tool=tool, tool_version=metalchat.__version__)
    )
    return m


def nanochat_container(
    config: NanochatConfig,
    weights: dict[str, np.ndarray],
    ranked: list[bytes],
    specials: list[tuple[int, str]],
    pattern: str,
    manifest: ModelManifest,
    *,
    fmt: str,
    group_size: int,
    progress: bool | None = None,
) -> tuple[ContainerModel, list[quant.TensorError]]:
    """The container of a nanochat GPT: (container, error report).

    ``ranked`` are the ordinary tokens by id (= merge rank), ``specials`` (id, text) pairs and
    ``pattern`` the pre-tokenizer split regex; ``manifest`` (see :func:`nanochat_manifest`)
    gets the report.
    """
    shapes = config.tensor_shapes()
    ordered = {n: np.asarray(weights[n], dtype=np.float32) for n in shapes}
    matrices = [n for n, s in shapes.items() if _is_nanochat_matrix(n, s)]
    tensors, report = quant.quantize_weights(ordered, fmt, group_size, matrices, progress=progress)
    del manifest.quantization_report[:]
    for e in report:
        manifest.quantization_report.add(
            tensor=e.name, max_abs_error=e.max_abs_error, mean_l1_error=e.mean_l1_error
        )
    payload = container.nanochat_tokenizer_payload(ranked, pattern, specials)
    return ContainerModel(manifest, tensors, payload), report


def nanochat_tokenizer_tables(
    tokenizer: nanochat_ckpt.NanochatTokenizer,
) -> tuple[list[bytes], list[tuple[int, str]]]:
    """(ordinary tokens by id, sorted (id, text) specials) of a ``tokenizer.pkl``."""
    by_rank = {rank: token for token, rank in tokenizer.ranks.items()}
    if sorted(by_rank) != list(range(len(tokenizer.ranks))):
        raise MetalchatError("the merge ranks are not 0..n-1 (special tokens must follow them)")
    specials = sorted((i, text) for text, i in tokenizer.special_tokens.items())
    return [by_rank[i] for i in range(len(by_rank))], specials


def nanochat_checkpoint_container(
    directory: str | Path,
    tokenizer_path: str | Path | None = None,
    *,
    step: int | None = None,
    name: str | None = None,
    fmt: str = "f32",
    group_size: int = 0,
    chat_template: str = "none",
    progress: bool | None = None,
) -> tuple[ContainerModel, list[quant.TensorError]]:
    """A nanochat checkpoint directory (+ ``tokenizer.pkl``, default: in that directory)."""
    folder = Path(directory)
    ckpt = nanochat_ckpt.read_checkpoint(folder, step)
    tok_path = Path(tokenizer_path) if tokenizer_path else folder / "tokenizer.pkl"
    tokenizer = nanochat_ckpt.read_tokenizer(tok_path)
    if tok_path.is_dir():
        tok_path = tok_path / "tokenizer.pkl"
    if tokenizer.vocab_size != ckpt.config.vocab_size:
        raise MetalchatError(
            f"the tokenizer has {tokenizer.vocab_size} tokens, the model's vocabulary "
            f"{ckpt.config.vocab_size}: they do not belong together",
            tok_path,
        )
    try:
        ranked, specials = nanochat_tokenizer_tables(tokenizer)
    except MetalchatError as exc:
        raise exc.with_path(tok_path) from None
    model_path = nanochat_ckpt.checkpoint_files(folder)[ckpt.step]
    meta_path = folder / f"meta_{model_path.name[len('model_') : -len('.pt')]}.json"
    sources = [source_file(p, read_bytes(p)) for p in (model_path, meta_path, tok_path)]
    m = nanochat_manifest(
        ckpt.config,
        name or folder.resolve().name,
        specials,
        description=f"nanochat checkpoint {model_path.name} (step {ckpt.step})",
        chat_template=chat_template,
        sources=sources,
    )
    try:
        return nanochat_container(
            ckpt.config,
            ckpt.weights,
            ranked,
            specials,
            tokenizer.pattern,
            m,
            fmt=fmt,
            group_size=group_size,
            progress=progress,
        )
    except MetalchatError as exc:
        raise exc.with_path(model_path) from None


# ---------------------------------------------------------------------------------------
# Hugging Face


def source_path(path: Path) -> object:
    """:func:`source_file` of a file hashed as it is read (weights can be larger than RAM)."""
    digest = hashlib.sha256()
    size = 0
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 22):
                digest.update(chunk)
                size += len(chunk)
    except OSError as exc:
        raise MetalchatError(f"cannot read: {exc.strerror}", path) from None
    return pb.SourceFile(path=path.name, sha256=digest.hexdigest(), size=size)


def _token_id(value: object, what: str, path: Path) -> list[int]:
    """``bos_token_id`` / ``eos_token_id`` of a config: an id, a list of ids, or null."""
    values = value if isinstance(value, list) else [] if value is None else [value]
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values):
        raise MetalchatError(f"{what} is {value!r}, expected a token id or a list of them", path)
    return list(values)


@dataclass
class HfTokenizerInfo:
    """What a Hugging Face folder says about its tokenizer beyond the vocabulary."""

    bos_id: int
    eos_ids: list[int]
    specials: dict[str, int]  # special-token text -> id
    chat_template: str | None
    bos_text: str | None
    eos_text: str | None


def hf_tokenizer_info(folder: Path, hf: dict[str, object]) -> HfTokenizerInfo:
    """BOS, every EOS id, the special tokens and the chat template of a Hugging Face folder:
    from generation_config.json, config.json, tokenizer_config.json and tokenizer.json."""
    files = {
        name: folder / f"{name}.json"
        for name in ("tokenizer_config", "generation_config", "tokenizer")
    }
    data = {n: read_json_object(p) if p.is_file() else {} for n, p in files.items()}
    specials: dict[str, int] = {}
    added = data["tokenizer"].get("added_tokens") or []
    decoder = data["tokenizer_config"].get("added_tokens_decoder") or {}
    if not isinstance(added, list) or not isinstance(decoder, dict):
        raise MetalchatError("added_tokens / added_tokens_decoder are malformed", folder)
    entries = [
        (t.get("content"), t.get("id"), t.get("special")) for t in added if isinstance(t, dict)
    ]
    for key, t in decoder.items():
        if isinstance(t, dict) and isinstance(key, str) and key.isdigit():
            entries.append((t.get("content"), int(key), t.get("special")))
    for text, token, special in entries:
        if special is True and isinstance(text, str) and text and isinstance(token, int):
            specials.setdefault(text, token)
    tc = data["tokenizer_config"]
    bos_text = chat_template.token_text(tc.get("bos_token"))
    eos_text = chat_template.token_text(tc.get("eos_token"))
    gen, config_json = files["generation_config"], folder / "config.json"
    bos = _token_id(data["generation_config"].get("bos_token_id"), "bos_token_id", gen)
    bos = bos or _token_id(hf.get("bos_token_id"), "bos_token_id", config_json)
    eos = _token_id(data["generation_config"].get("eos_token_id"), "eos_token_id", gen)
    eos += _token_id(hf.get("eos_token_id"), "eos_token_id", config_json)
    for text, ids in ((bos_text, bos), (eos_text, eos)):
        if text in specials:
            ids.append(specials[text])
    bos = bos or [specials.get("<s>", 1)]
    eos = eos or [specials.get("</s>", 2)]
    template = chat_template.read_chat_template(tc) if tc else None
    return HfTokenizerInfo(bos[0], list(dict.fromkeys(eos)), specials, template, bos_text, eos_text)


def _hf_tokenizer(
    folder: Path,
) -> tuple[llama2c.Llama2cTokenizer | tokenizer_json.HfBpeTokenizer, Path]:
    """The tokenizer of a Hugging Face folder and its file: a SentencePiece-style
    tokenizer.json or tokenizer.model as llama2.c's tokenizer (kind 1, which every engine
    reads), a byte-level BPE tokenizer.json (GPT-2, SmolLM, Llama 3, Qwen2 pre-tokenizers) as
    the container's Hugging Face BPE (kind 3)."""
    path = folder / "tokenizer.json"
    if path.is_file():
        data = read_json_object(path)
        try:
            # llama2.c's convention: <s> and </s> (when present) read as "\n<s>\n", "\n</s>\n"
            return tokenizer_json.convert(data), path
        except MetalchatError:
            pass  # not SentencePiece-style: byte-level BPE, or the reason it is neither
        try:
            return tokenizer_json.convert_bpe(data), path
        except MetalchatError as exc:
            raise exc.with_path(path) from None
    path = folder / "tokenizer.model"
    if path.is_file():
        return hf_llama.sentencepiece_tokenizer(path), path
    raise MetalchatError("no tokenizer.json or tokenizer.model", folder)


def hf_container(
    directory: str | Path,
    *,
    name: str | None = None,
    fmt: str,
    group_size: int,
    chat: str = "auto",
    board: str | None = None,
    progress: bool | None = None,
) -> tuple[ContainerModel, list[quant.TensorError]]:
    """A Hugging Face model folder (see :mod:`metalchat.formats.hf_llama`) as a container.

    config.json gives the architecture and its hyperparameters (rope_theta included),
    safetensors the weights, tokenizer.json or tokenizer.model the vocabulary, and
    generation_config.json / tokenizer_config.json the BOS, the EOS ids and the chat template.
    ``chat``: ``auto`` renders tokenizer_config's template into turn strings
    (:mod:`metalchat.formats.chat_template`; none if it has no template), ``none`` or
    ``llama2`` force that template. ``board`` checks the fit first.
    """
    folder = Path(directory)
    if not folder.is_dir():
        raise MetalchatError("no such folder (export hf reads a model folder)", folder)
    config_path = folder / "config.json"
    hf = read_json_object(config_path)
    config = hf_llama.config_from_hf(hf, config_path)
    model_name = name or folder.resolve().name
    if board:
        try:
            check_fit(config, fmt, group_size, board, model_name)
        except MetalchatError as exc:
            raise exc.with_path(folder) from None
    info = hf_tokenizer_info(folder, hf)
    tokenizer, tok_path = _hf_tokenizer(folder)
    wrong = (
        tokenizer.vocab_size > config.vocab_size
        if isinstance(tokenizer, tokenizer_json.HfBpeTokenizer)  # ids may stop short of it
        else tokenizer.vocab_size != config.vocab_size
    )
    if wrong:
        raise MetalchatError(
            f"the tokenizer has {tokenizer.vocab_size} tokens, config.json's vocab_size is "
            f"{config.vocab_size}",
            tok_path,
        )
    for token in (info.bos_id, *info.eos_ids, *info.specials.values()):
        if token >= config.vocab_size:
            raise MetalchatError(
                f"special token id {token} is outside the vocabulary (0..{config.vocab_size - 1})",
                folder,
            )
    model = hf_llama.read_model(folder, progress=progress)
    weight_files = sorted(
        {p.name for p in (folder / "model.safetensors", folder / "model.safetensors.index.json")
         if p.is_file()}
    )  # fmt: skip
    shards = sorted(p.name for p in folder.glob("*.safetensors") if p.name != "model.safetensors")
    if "model.safetensors.index.json" in weight_files:
        weight_files += shards
    sources = [source_path(folder / n) for n in weight_files]
    sources += [
        source_path(p)
        for p in (config_path, folder / "generation_config.json", folder / "tokenizer_config.json")
        if p.is_file()
    ]
    sources.append(source_path(tok_path))
    m = llama_manifest(
        config,
        model_name,
        tokenizer,
        description=f"Hugging Face {hf['architectures'][0]} {folder.resolve().name}",
        chat_template="none",
        sources=sources,
    )
    if isinstance(tokenizer, tokenizer_json.HfBpeTokenizer):  # as it is: kind 3
        m.tokenizer.CopyFrom(tokenizer.manifest(info.bos_id, info.eos_ids[0], config.vocab_size))
        tokenizer_bytes = tokenizer.payload()
    else:
        m.tokenizer.bos_id, m.tokenizer.eos_id = info.bos_id, info.eos_ids[0]
        _add_specials(m, info.specials)
        tokenizer_bytes = llama2c.serialize_tokenizer(tokenizer.tokens, tokenizer.scores)
    if chat == "auto" and info.chat_template:
        try:
            _set_turns(
                m, info.chat_template, info.bos_text, info.eos_text, info.specials, info.eos_ids
            )
        except MetalchatError as exc:
            raise MetalchatError(
                f"{exc.message} (--chat-template none exports without it)",
                folder / "tokenizer_config.json",
            ) from None
    elif chat not in ("auto", "none"):
        m.chat_template.kind = CHAT_TEMPLATES[chat]
    try:
        return llama_container(
            config, model.weights, tokenizer_bytes, m, fmt=fmt, group_size=group_size,
            progress=progress,
        )  # fmt: skip
    except MetalchatError as exc:
        raise exc.with_path(folder) from None


# ---------------------------------------------------------------------------------------
# GGUF


def gguf_container(
    path: str | Path,
    *,
    name: str | None = None,
    fmt: str | None = None,
    group_size: int = 64,
    board: str | None = None,
    progress: bool | None = None,
) -> tuple[ContainerModel, list[quant.TensorError]]:
    """A llama GGUF file as a container (:func:`metalchat.formats.gguf_llama.container_tensors`
    for the tensors; tokenizer, BOS/EOS/end-of-turn ids and chat template from its metadata)."""
    source = Path(path)
    reader = gguf_llama.open_gguf(source)
    config = gguf_llama.read_config(reader, source)
    model_name = name or source.stem
    if board:
        try:
            check_fit(config, fmt or "q8", group_size if fmt else 32, board, model_name)
        except MetalchatError as exc:
            raise exc.with_path(source) from None
    byte_level = gguf_llama.tokenizer_model(reader, source) == "gpt2"
    tokenizer: llama2c.Llama2cTokenizer | tokenizer_json.HfBpeTokenizer = (
        gguf_llama.read_byte_level(reader, source)
        if byte_level
        else gguf_llama.read_tokenizer(source)
    )
    if tokenizer.vocab_size != config.vocab_size:
        raise MetalchatError(
            f"{tokenizer.vocab_size} tokens, but token_embd has {config.vocab_size} rows", source
        )
    chat = gguf_llama.read_chat(reader, source)
    for token in (chat.bos_id, *chat.eos_ids, *chat.specials.values()):
        if token >= config.vocab_size:
            raise MetalchatError(f"special token id {token} is outside the vocabulary", source)
    tensors, report = gguf_llama.container_tensors(
        reader, source, config, fmt=fmt, group_size=group_size, progress=progress
    )
    m = llama_manifest(
        config, model_name, tokenizer, description=f"GGUF {source.name}",
        sources=[source_path(source)],
    )  # fmt: skip
    bos = chat.bos_id if chat.bos_id >= 0 else m.tokenizer.bos_id
    eos = chat.eos_ids[0] if chat.eos_ids else m.tokenizer.eos_id
    if isinstance(tokenizer, tokenizer_json.HfBpeTokenizer):  # byte-level: kind 3 as it is
        m.tokenizer.CopyFrom(tokenizer.manifest(bos, eos, config.vocab_size))
        payload = tokenizer.payload()
    else:
        m.tokenizer.bos_id, m.tokenizer.eos_id = bos, eos
        _add_specials(m, chat.specials)
        payload = llama2c.serialize_tokenizer(tokenizer.tokens, tokenizer.scores)
    if chat.template:
        try:
            _set_turns(m, chat.template, chat.bos_text, chat.eos_text, chat.specials, chat.eos_ids)
        except MetalchatError as exc:
            raise MetalchatError(f"tokenizer.chat_template: {exc.message}", source) from None
    for e in report:
        m.quantization_report.add(
            tensor=e.name, max_abs_error=e.max_abs_error, mean_l1_error=e.mean_l1_error
        )
    return ContainerModel(m, tensors, payload), report


def _add_specials(m: ModelManifest, specials: dict[str, int]) -> None:
    for text, token in sorted(specials.items(), key=lambda item: item[1]):
        m.tokenizer.special_tokens.add(text=text, id=token)


def _set_turns(
    m: ModelManifest,
    template: str,
    bos: str | None,
    eos: str | None,
    specials: dict[str, int],
    eos_ids: list[int],
) -> None:
    """Render ``template`` into ``m``'s chat template (CHAT_TEMPLATE_TURNS)."""
    turns, _ = chat_template.render_turns(
        template, bos=bos, eos=eos, specials=specials, eos_ids=eos_ids
    )
    m.chat_template.kind = pb.CHAT_TEMPLATE_TURNS
    m.chat_template.turns.CopyFrom(pb.ChatTurns(**dataclasses.asdict(turns)))
