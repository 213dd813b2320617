"""Model manifests: load a ``.textproto``, validate it, check it against a weights file.

The schema is ``metalchat/proto/model_manifest.proto``. :func:`validate` enforces:

* an architecture, and the matching parameter block (``llama`` or ``nanochat``);
* every dimension positive; heads divide the width; kv heads divide heads; even head size;
* nanochat: ``padded_vocab_size`` a multiple of 64 and at least ``vocab_size``; window
  pattern made of ``S``/``L``; value-embedding layers in range;
* tensors: non-empty unique names, positive shape, a known format, ``group_size`` set for
  Q8/Q4 only and dividing the row (last dimension), ``size`` equal to what the format
  needs, byte ranges (values and scales apart when ``scales_offset`` is set) that do not
  overlap and fit ``weights_size``;
* Llama tensors use llama2.c's names with the shapes the parameters imply;
* tokenizer: a kind, the model's vocabulary size, bos/eos/special ids inside it;
* chat template: a kind, text exactly when it is ``CHAT_TEMPLATE_CUSTOM``, turns (a user
  suffix, stop ids inside the vocabulary) exactly when it is ``CHAT_TEMPLATE_TURNS``;
* provenance and weights hashes are 64 lowercase hex digits;
* quantization report: entries name quantized tensors, errors finite and non-negative;
* export options (when set): a known format, ``group_size`` for Q8/Q4 only.

:func:`check_source` compares a manifest with what the exporter read from a checkpoint.

Each violation raises :class:`MetalchatError` naming the field, e.g.
``llama.n_kv_heads 3 does not divide llama.n_heads 8``.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from google.protobuf import text_format

from metalchat.config import LlamaConfig
from metalchat.errors import MetalchatError
from metalchat.fileio import read_bytes

try:
    from metalchat.proto import model_manifest_pb2 as pb
except ImportError as _exc:  # pragma: no cover - depends on the build setup
    raise ImportError(
        "metalchat.proto.model_manifest_pb2 is not generated. Under Bazel depend on "
        "//python:model_manifest_py_pb2; by hand run: python -m grpc_tools.protoc -Ipython "
        "--python_out=GEN python/metalchat/proto/model_manifest.proto and add GEN to PYTHONPATH"
    ) from _exc

if TYPE_CHECKING:
    ModelManifest = Any  # generated message class; protobuf has no static types here
else:
    ModelManifest = pb.ModelManifest

_HEX64 = re.compile(r"[0-9a-f]{64}")
QUANTIZED = (pb.Q8, pb.Q4)


def format_name(value: int) -> str:
    try:
        return str(pb.TensorFormat.Name(value))
    except ValueError:
        return f"format {value}"


def tensor_nbytes(shape: tuple[int, ...] | list[int], fmt: int, group_size: int = 0) -> int:
    """Bytes a tensor of ``shape`` takes in format ``fmt`` (int8/int4 values, then scales)."""
    count = math.prod(shape)
    if fmt == pb.F32:
        return 4 * count
    if fmt == pb.F16:
        return 2 * count
    if fmt in QUANTIZED:
        if group_size <= 0:
            raise MetalchatError(f"{format_name(fmt)} needs a positive group_size")
        values = count if fmt == pb.Q8 else (count + 1) // 2
        return values + 4 * (count // group_size)
    raise MetalchatError(f"unknown tensor format {format_name(fmt)}")


def tensor_regions(tensor: Any) -> list[tuple[int, int]]:
    """The byte ranges ``[start, end)`` a manifest ``Tensor`` occupies: one, or for Q8/Q4
    with ``scales_offset`` set, the values and the scales apart."""
    if tensor.format in QUANTIZED and tensor.scales_offset and tensor.group_size:
        scales = 4 * (math.prod(tensor.shape) // tensor.group_size)
        values = tensor.size - scales
        return [
            (tensor.offset, tensor.offset + values),
            (tensor.scales_offset, tensor.scales_offset + scales),
        ]
    return [(tensor.offset, tensor.offset + tensor.size)]


# ---------------------------------------------------------------------------------------
# loading


def parse_manifest(text: str, path: str | Path | None = None) -> ModelManifest:
    """Parse a text-format manifest (not yet validated)."""
    manifest = pb.ModelManifest()
    try:
        text_format.Parse(text, manifest)
    except text_format.ParseError as exc:
        raise MetalchatError(f"not a valid ModelManifest text proto: {exc}", path) from None
    return manifest


def load_manifest(path: str | Path, *, check: bool = True) -> ModelManifest:
    """Read and (by default) validate a ``.textproto`` manifest."""
    try:
        text = read_bytes(path).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MetalchatError(f"not UTF-8 text: {exc}", path) from None
    manifest = parse_manifest(text, path)
    if check:
        try:
            validate(manifest)
        except MetalchatError as exc:
            raise exc.with_path(path) from None
    return manifest


def to_text(manifest: ModelManifest) -> str:
    """The manifest as text format, as written to ``.textproto`` files."""
    return str(text_format.MessageToString(manifest))


# ---------------------------------------------------------------------------------------
# validation


def llama_config(params: Any) -> LlamaConfig:
    """A :class:`LlamaConfig` from a ``LlamaParams`` message (defaults for unset floats)."""
    return LlamaConfig(
        dim=params.dim,
        hidden_dim=params.hidden_dim,
        n_layers=params.n_layers,
        n_heads=params.n_heads,
        n_kv_heads=params.n_kv_heads,
        vocab_size=params.vocab_size,
        seq_len=params.seq_len,
        shared_classifier=params.shared_classifier,
        rope_theta=params.rope_theta or 10000.0,
        norm_eps=params.norm_eps or 1e-5,
    )


def _fail(message: str) -> MetalchatError:
    return MetalchatError(message)


def _check_hash(field: str, value: str) -> None:
    if value and not _HEX64.fullmatch(value):
        raise _fail(f"{field} {value!r} is not a sha256 (64 lowercase hex digits)")


def _validate_llama(params: Any) -> tuple[int, dict[str, tuple[int, ...]]]:
    config = llama_config(params)
    config.validate("llama.")
    if params.rope_theta < 0 or params.norm_eps < 0:
        raise _fail("llama.rope_theta and llama.norm_eps must not be negative")
    if params.rope_layout == pb.ROPE_LAYOUT_UNSPECIFIED:
        raise _fail("llama.rope_layout is not set (ROPE_INTERLEAVED for llama2.c models)")
    return config.vocab_size, config.tensor_shapes(freq_cis=True)


def _validate_nanochat(params: Any) -> int:
    for name in (
        "n_embd",
        "n_layer",
        "n_head",
        "n_kv_head",
        "vocab_size",
        "padded_vocab_size",
        "sequence_len",
    ):
        if getattr(params, name) <= 0:
            raise _fail(f"nanochat.{name} must be positive, got {getattr(params, name)}")
    if params.n_embd % params.n_head:
        raise _fail(
            f"nanochat.n_head {params.n_head} does not divide nanochat.n_embd {params.n_embd}"
        )
    if params.n_head % params.n_kv_head:
        raise _fail(
            f"nanochat.n_kv_head {params.n_kv_head} does not divide nanochat.n_head {params.n_head}"
        )
    if (params.n_embd // params.n_head) % 2:
        raise _fail("nanochat head size n_embd / n_head is odd; RoPE needs it even")
    if params.padded_vocab_size < params.vocab_size or params.padded_vocab_size % 64:
        raise _fail(
            f"nanochat.padded_vocab_size {params.padded_vocab_size} must be a multiple of 64 "
            f"and at least nanochat.vocab_size {params.vocab_size}"
        )
    if not params.window_pattern or set(params.window_pattern.upper()) - {"S", "L"}:
        raise _fail(
            f"nanochat.window_pattern {params.window_pattern!r} must be a non-empty "
            'string of S (short window) and L (full context), e.g. "SSSL"'
        )
    if params.short_window > params.sequence_len:
        raise _fail(
            f"nanochat.short_window {params.short_window} exceeds "
            f"nanochat.sequence_len {params.sequence_len}"
        )
    for name in ("softcap", "rope_theta", "qk_scale", "value_embed_scale", "norm_eps"):
        value = getattr(params, name)
        if not math.isfinite(value) or value < 0:
            raise _fail(f"nanochat.{name} must be finite and not negative, got {value}")
    for layer in params.value_embed_layers:
        if layer >= params.n_layer:
            raise _fail(
                f"nanochat.value_embed_layers has layer {layer}, but the model has "
                f"{params.n_layer} layers (0..{params.n_layer - 1})"
            )
    if params.backout_layer >= params.n_layer:
        raise _fail(
            f"nanochat.backout_layer {params.backout_layer} is not a layer "
            f"(0..{params.n_layer - 1})"
        )
    for name in ("smear_channels", "value_embed_gate_channels"):
        if getattr(params, name) > params.n_embd:
            raise _fail(
                f"nanochat.{name} {getattr(params, name)} exceeds nanochat.n_embd {params.n_embd}"
            )
    return int(params.vocab_size)


def _validate_tensors(
    manifest: ModelManifest, expected: dict[str, tuple[int, ...]] | None, shared_classifier: bool
) -> None:
    seen: dict[str, int] = {}
    spans: list[tuple[int, int, str]] = []
    for index, tensor in enumerate(manifest.tensors):
        where = f"tensors[{index}]"
        if not tensor.name:
            raise _fail(f"{where}.name is empty")
        if tensor.name in seen:
            raise _fail(
                f"{where}: tensor name {tensor.name!r} is already used by "
                f"tensors[{seen[tensor.name]}]"
            )
        seen[tensor.name] = index
        where = f"tensor {tensor.name!r}"
        shape = tuple(int(d) for d in tensor.shape)
        if not shape or any(d == 0 for d in shape):
            raise _fail(f"{where}: shape {list(shape)} must be non-empty with positive extents")
        if expected is not None:
            if tensor.name not in expected:
                known = ", ".join(expected)
                raise _fail(f"{where} is not a Llama tensor (llama2.c names: {known})")
            if shape != expected[tensor.name]:
                raise _fail(
                    f"{where}: shape {list(shape)} does not match the parameters, "
                    f"which give {list(expected[tensor.name])}"
                )
        if tensor.format not in (pb.F32, pb.F16, pb.Q8, pb.Q4):
            raise _fail(
                f"{where}: format {format_name(tensor.format)} is not one of F32, F16, Q8, Q4"
            )
        row = shape[-1]
        if tensor.format in QUANTIZED:
            if tensor.group_size == 0:
                raise _fail(f"{where}: {format_name(tensor.format)} needs group_size")
            if row % tensor.group_size:
                raise _fail(
                    f"{where}: group_size {tensor.group_size} does not divide the row "
                    f"length {row} (last dimension of {list(shape)})"
                )
            if tensor.format == pb.Q4 and tensor.group_size % 2:
                raise _fail(
                    f"{where}: Q4 packs two values per byte, so group_size "
                    f"{tensor.group_size} must be even"
                )
        elif tensor.group_size or tensor.scales_offset:
            field = "group_size" if tensor.group_size else "scales_offset"
            raise _fail(
                f"{where}: {field} {getattr(tensor, field)} is set, but "
                f"{format_name(tensor.format)} is not a grouped format"
            )
        need = tensor_nbytes(shape, tensor.format, tensor.group_size)
        if tensor.size != need:
            raise _fail(
                f"{where}: size is {tensor.size} bytes, but {list(shape)} in "
                f"{format_name(tensor.format)} takes {need}"
            )
        spans += [(start, end, tensor.name) for start, end in tensor_regions(tensor)]
    if expected is not None and manifest.tensors:
        optional = {"freq_cis_real", "freq_cis_imag"}
        missing = [name for name in expected if name not in seen and name not in optional]
        if missing:
            raise _fail(f"Llama tensors missing: {', '.join(missing)}")
        if shared_classifier and "wcls" in seen:
            raise _fail("tensor 'wcls' is listed, but llama.shared_classifier is true")
    spans.sort()
    for (s0, e0, n0), (s1, _e1, n1) in itertools.pairwise(spans):
        if s1 < e0:
            raise _fail(f"tensor {n1!r} (bytes {s1}..) overlaps tensor {n0!r} (bytes {s0}..{e0})")
    if manifest.weights_size and spans and spans[-1][1] > manifest.weights_size:
        end = max(e for _, e, _ in spans)
        name = next(n for _, e, n in spans if e == end)
        raise _fail(
            f"tensor {name!r} ends at byte {end}, past weights_size {manifest.weights_size}"
        )


def validate(manifest: ModelManifest) -> None:
    """Raise :class:`MetalchatError` for the first rule ``manifest`` breaks (see module doc)."""
    if not manifest.name:
        raise _fail("name is empty")
    which = manifest.WhichOneof("params")
    arch = manifest.architecture
    if arch == pb.ARCHITECTURE_UNSPECIFIED:
        raise _fail("architecture is not set (LLAMA or NANOCHAT)")
    wanted = {pb.LLAMA: "llama", pb.NANOCHAT: "nanochat"}.get(arch)
    if wanted is None:
        raise _fail(f"architecture {arch} is unknown")
    if which != wanted:
        raise _fail(
            f"architecture is {pb.Architecture.Name(arch)}, so the `{wanted}` parameter block "
            f"is required" + (f", not `{which}`" if which else "")
        )
    expected: dict[str, tuple[int, ...]] | None = None
    shared = False
    if arch == pb.LLAMA:
        vocab, expected = _validate_llama(manifest.llama)
        shared = manifest.llama.shared_classifier
    else:
        vocab = _validate_nanochat(manifest.nanochat)

    _check_hash("weights_sha256", manifest.weights_sha256)
    _validate_tensors(manifest, expected, shared)

    tok = manifest.tokenizer
    if not manifest.HasField("tokenizer"):
        raise _fail("tokenizer is missing")
    if tok.kind == pb.TOKENIZER_KIND_UNSPECIFIED:
        raise _fail("tokenizer.kind is not set (LLAMA2C_BPE, NANOCHAT_BPE or HF_BPE)")
    if (tok.kind == pb.HF_BPE) != (tok.pre_tokenizer != pb.PRE_TOKENIZER_UNSPECIFIED):
        raise _fail("tokenizer.pre_tokenizer is set for HF_BPE tokenizers, and only for them")
    if tok.vocab_size != vocab:
        raise _fail(
            f"tokenizer.vocab_size {tok.vocab_size} differs from the model's vocab_size {vocab}"
        )
    for name in ("bos_id", "eos_id"):
        value = getattr(tok, name)
        if value >= tok.vocab_size:
            raise _fail(
                f"tokenizer.{name} {value} is outside the vocabulary (0..{tok.vocab_size - 1})"
            )
    texts: set[str] = set()
    for special in tok.special_tokens:
        if not special.text:
            raise _fail("tokenizer.special_tokens has an entry with empty text")
        if special.text in texts:
            raise _fail(f"tokenizer.special_tokens lists {special.text!r} twice")
        texts.add(special.text)
        if special.id >= tok.vocab_size:
            raise _fail(
                f"special token {special.text!r} id {special.id} is outside the "
                f"vocabulary (0..{tok.vocab_size - 1})"
            )
    _check_hash("tokenizer.sha256", tok.sha256)

    template = manifest.chat_template
    if template.kind == pb.CHAT_TEMPLATE_UNSPECIFIED:
        raise _fail("chat_template.kind is not set (CHAT_TEMPLATE_NONE for plain text models)")
    if template.kind == pb.CHAT_TEMPLATE_CUSTOM and not template.text:
        raise _fail("chat_template.kind is CHAT_TEMPLATE_CUSTOM but chat_template.text is empty")
    if template.kind != pb.CHAT_TEMPLATE_CUSTOM and template.text:
        raise _fail("chat_template.text is only used with CHAT_TEMPLATE_CUSTOM")
    turns = template.HasField("turns")
    if (template.kind == pb.CHAT_TEMPLATE_TURNS) != turns:
        raise _fail("chat_template.turns is set exactly when the kind is CHAT_TEMPLATE_TURNS")
    if turns:
        if not template.turns.user_suffix or not template.turns.stop_ids:
            raise _fail("chat_template.turns needs a user_suffix and at least one stop id")
        for stop in template.turns.stop_ids:
            if stop >= tok.vocab_size:
                raise _fail(
                    f"chat_template.turns.stop_ids has {stop}, outside the vocabulary "
                    f"(0..{tok.vocab_size - 1})"
                )

    if manifest.HasField("export"):
        options = manifest.export
        if options.format not in (pb.F32, pb.F16, pb.Q8, pb.Q4):
            raise _fail(
                f"export.format {format_name(options.format)} is not one of F32, F16, Q8, Q4"
            )
        if options.format in QUANTIZED and options.group_size == 0:
            raise _fail(f"export.format {format_name(options.format)} needs export.group_size")
        if options.format not in QUANTIZED and options.group_size:
            raise _fail(
                f"export.group_size {options.group_size} is set, but "
                f"{format_name(options.format)} is not a grouped format"
            )

    for index, source in enumerate(manifest.provenance.sources):
        if not source.path:
            raise _fail(f"provenance.sources[{index}].path is empty")
        _check_hash(f"provenance.sources[{index}].sha256", source.sha256)

    formats = {t.name: t.format for t in manifest.tensors}
    reported: set[str] = set()
    for entry in manifest.quantization_report:
        if entry.tensor not in formats:
            raise _fail(
                f"quantization_report names tensor {entry.tensor!r}, which is not in tensors"
            )
        if formats[entry.tensor] not in QUANTIZED and formats[entry.tensor] != pb.F16:
            raise _fail(
                f"quantization_report entry for {entry.tensor!r}, but that tensor is "
                f"{format_name(formats[entry.tensor])}"
            )
        if entry.tensor in reported:
            raise _fail(f"quantization_report has two entries for {entry.tensor!r}")
        reported.add(entry.tensor)
        for name in ("max_abs_error", "mean_l1_error"):
            value = getattr(entry, name)
            if not math.isfinite(value) or value < 0:
                raise _fail(
                    f"quantization_report[{entry.tensor!r}].{name} is {value}; it must "
                    "be finite and not negative"
                )
        if entry.mean_l1_error > entry.max_abs_error:
            raise _fail(
                f"quantization_report[{entry.tensor!r}]: mean_l1_error "
                f"{entry.mean_l1_error} exceeds max_abs_error {entry.max_abs_error}"
            )


def verify_weights(manifest: ModelManifest, weights: bytes | str | Path) -> None:
    """Check a weights file against the manifest: size, sha256, and each tensor's CRC-32."""
    path: str | Path | None = None
    if not isinstance(weights, bytes):
        path = weights
        weights = read_bytes(weights)
    try:
        if manifest.weights_size and len(weights) != manifest.weights_size:
            raise _fail(
                f"is {len(weights)} bytes, the manifest says weights_size {manifest.weights_size}"
            )
        if manifest.weights_sha256:
            digest = hashlib.sha256(weights).hexdigest()
            if digest != manifest.weights_sha256:
                raise _fail(
                    f"sha256 {digest} differs from the manifest's {manifest.weights_sha256}"
                )
        for tensor in manifest.tensors:
            regions = tensor_regions(tensor)
            for start, end in regions:
                if end > len(weights):
                    raise _fail(
                        f"tensor {tensor.name!r} needs bytes {start}..{end}, but "
                        f"the file has {len(weights)}"
                    )
            if tensor.crc32:
                crc = 0
                for start, end in regions:
                    crc = zlib.crc32(weights[start:end], crc)
                if crc != tensor.crc32:
                    raise _fail(
                        f"tensor {tensor.name!r} CRC-32 {crc:#010x} differs from the "
                        f"manifest's {tensor.crc32:#010x}"
                    )
    except MetalchatError as exc:
        raise exc.with_path(path) if path is not None else exc from None


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float):
        return math.isclose(a, b, rel_tol=1e-6)
    return bool(a == b)


def check_source(wanted: ModelManifest, built: ModelManifest) -> None:
    """Raise one-line :class:`MetalchatError` naming the first field where ``wanted`` (a
    manifest driving an export) disagrees with ``built`` (the manifest the exporter made
    from the checkpoint: its parameters, and sha256 of the weights first and the tokenizer
    last in ``provenance.sources``). Unset (zero) fields of ``wanted`` are not compared."""
    block = wanted.WhichOneof("params")
    if block != built.WhichOneof("params"):
        name = pb.Architecture.Name(wanted.architecture)
        raise _fail(f"architecture {name} does not match the checkpoint")
    mine, theirs = getattr(wanted, block), getattr(built, block)
    for field in mine.DESCRIPTOR.fields:
        a, b = getattr(mine, field.name), getattr(theirs, field.name)
        if not isinstance(a, (bool, int, float, str)):  # a repeated field
            a, b = list(a), list(b)
        if (a or field.type == field.TYPE_BOOL) and not _same(a, b):
            raise _fail(f"{block}.{field.name} {a} differs from the checkpoint's {b}")
    sources = built.provenance.sources
    checks = [("weights_sha256", wanted.weights_sha256, sources[0] if sources else None)]
    checks.append(("tokenizer.sha256", wanted.tokenizer.sha256, sources[-1] if sources else None))
    for field, digest, source in checks:
        if digest and source is not None and source.sha256 != digest:
            raise _fail(f"{field} {digest} differs from {source.path}'s {source.sha256}")
