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
"""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import numpy as np

import metalchat
from metalchat import planner, quant
from metalchat.config import MATRIX_TENSORS, LlamaConfig
from metalchat.errors import MetalchatError
from metalchat.formats import llama2c
from metalchat.formats.container import ContainerModel
from metalchat.manifest import ModelManifest, pb

TOOL = "metalchat export"
CHAT_TEMPLATES = {"none": pb.CHAT_TEMPLATE_NONE, "llama2": pb.CHAT_TEMPLATE_LLAMA2}
BOS_ID, EOS_ID = 1, 2  # llama2.c's <s> and </s>


def source_file(path: str | Path, data: bytes) -> object:
    """A provenance ``SourceFile``: the file's name (not its directory), sha256 and size."""
    return pb.SourceFile(
        path=Path(path).name, sha256=hashlib.sha256(data).hexdigest(), size=len(data)
    )


def llama_manifest(
    config: LlamaConfig,
    name: str,
    tokenizer: llama2c.Llama2cTokenizer,
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
