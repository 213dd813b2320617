"""The metalchat model container (``.mcm``): the one file a board runs.

The layout is specified in ``docs/CONTAINER.md`` (the contract for the C reader): a 256-byte
header with the architecture's dimensions and a table of four sections — tensor table,
tokenizer, tensor data, protobuf manifest — each 64-byte aligned and CRC-32 checked.

:func:`serialize` / :func:`write_container` turn a :class:`ContainerModel` into those bytes;
:func:`parse` / :func:`read_container` check every field, offset, size and CRC and raise
:class:`MetalchatError` (``<file>: <problem>``) for anything else.
"""

from __future__ import annotations

import itertools
import math
import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from google.protobuf.message import DecodeError

from metalchat import manifest as mf
from metalchat.config import LlamaConfig
from metalchat.errors import MetalchatError
from metalchat.fileio import atomic_write, read_bytes
from metalchat.formats import llama2c, tokenizer_json
from metalchat.manifest import ModelManifest, pb
from metalchat.quant import QUANTIZED, QTensor, check_group_size

MAGIC = b"MCHC"
VERSION = 1
HEADER_SIZE = 256
ALIGN = 64
ENTRY_SIZE = 128
NAME_SIZE = 48
TOKENIZER_HEADER_SIZE = 32
SECTIONS = ("tensor table", "tokenizer", "tensor data", "manifest")
PARAMS_OFFSET = 136
PARAMS_SIZE = HEADER_SIZE - PARAMS_OFFSET

FORMAT_CODES = {"f32": pb.F32, "f16": pb.F16, "q8": pb.Q8, "q4": pb.Q4}
FORMAT_NAMES = {code: name for name, code in FORMAT_CODES.items()}
_VALUE_DTYPE = {"f32": "<f4", "f16": "<f2", "q8": "i1"}
_OTHER_MAGICS = {
    b"THCN": "an InferPi nanochat model.bin",
    b"24ka": "a llama2.c v1/v2 model",
    b"GGUF": "a GGUF file",
}

_HEADER = struct.Struct("<4sIIIQIIII")  # magic .. tensor_count, 40 bytes
_SECTION = struct.Struct("<QQII")  # offset, size, crc32, kind
_ENTRY = struct.Struct(f"<{NAME_SIZE}sIIII4QQQQQ")
_TOKENIZER = struct.Struct("<8I")
_LLAMA = struct.Struct("<7IffII")
_NANOCHAT = struct.Struct("<8I3f3IfIfIQ32s")
assert _HEADER.size == 40 and _ENTRY.size == ENTRY_SIZE
assert _TOKENIZER.size == TOKENIZER_HEADER_SIZE and _NANOCHAT.size <= PARAMS_SIZE


def _align(n: int) -> int:
    return -(-n // ALIGN) * ALIGN


def _fail(message: str) -> MetalchatError:
    return MetalchatError(message)


@dataclass
class ContainerModel:
    """A model as a container holds it.

    ``manifest`` carries the architecture and its parameters, the tokenizer's metadata,
    chat template, provenance and quantization report; its ``tensors`` list is (re)written
    by :func:`serialize`. ``tensors`` are in file order; ``tokenizer`` is the payload of the
    tokenizer section (for ``LLAMA2C_BPE`` a llama2.c ``tokenizer.bin``).
    """

    manifest: ModelManifest
    tensors: dict[str, QTensor]
    tokenizer: bytes

    def llama_config(self) -> LlamaConfig:
        if self.manifest.WhichOneof("params") != "llama":
            raise MetalchatError("not a Llama model")
        return mf.llama_config(self.manifest.llama)

    def to_llama2c(self) -> llama2c.Llama2cModel:
        """The Llama with every tensor dequantized to float32 (for the numpy reference)."""
        weights = {name: t.dequantize() for name, t in self.tensors.items()}
        return llama2c.Llama2cModel(self.llama_config(), weights)


# ---------------------------------------------------------------------------------------
# pieces shared by writer and reader


def _params_block(m: ModelManifest) -> bytes:
    """The 120-byte architecture parameter block of the header, from the manifest."""
    which = m.WhichOneof("params")
    if which == "llama":
        p = m.llama
        block = _LLAMA.pack(
            p.dim,
            p.hidden_dim,
            p.n_layers,
            p.n_heads,
            p.n_kv_heads,
            p.vocab_size,
            p.seq_len,
            p.rope_theta,
            p.norm_eps,
            int(p.shared_classifier),
            p.rope_layout,
        )
    elif which == "nanochat":
        p = m.nanochat
        mask = 0
        for layer in p.value_embed_layers:
            if layer >= 64:
                raise _fail(f"nanochat.value_embed_layers has layer {layer}; the mask holds 64")
            mask |= 1 << layer
        pattern = p.window_pattern.encode("ascii", "replace")
        if len(pattern) >= 32:
            raise _fail(f"nanochat.window_pattern {p.window_pattern!r} is over 31 characters")
        block = _NANOCHAT.pack(
            p.n_embd,
            p.n_layer,
            p.n_head,
            p.n_kv_head,
            p.vocab_size,
            p.padded_vocab_size,
            p.sequence_len,
            p.short_window,
            p.softcap,
            p.rope_theta,
            p.qk_scale,
            p.mlp_ratio,
            p.smear_channels,
            p.value_embed_gate_channels,
            p.value_embed_scale,
            p.backout_layer,
            p.norm_eps,
            p.rope_layout,
            mask,
            pattern,
        )
    else:
        raise _fail("the manifest has no architecture parameters (llama or nanochat)")
    return block.ljust(PARAMS_SIZE, b"\0")


def _tokenizer_header(m: ModelManifest) -> bytes:
    t = m.tokenizer
    return _TOKENIZER.pack(t.kind, t.vocab_size, t.bos_id, t.eos_id, t.max_token_length, 0, 0, 0)


def _entry(t: Any) -> bytes:
    """A tensor table entry from a manifest ``Tensor``."""
    shape = [int(d) for d in t.shape]
    regions = mf.tensor_regions(t)
    values = regions[0][1] - regions[0][0]
    scales = regions[1][1] - regions[1][0] if len(regions) > 1 else 0
    return _ENTRY.pack(
        t.name.encode("utf-8"),
        t.format,
        t.group_size,
        len(shape),
        0,
        *(shape + [0] * (4 - len(shape))),
        t.offset,
        values,
        t.scales_offset,
        scales,
    )


def _sizes(shape: tuple[int, ...], fmt: str, group_size: int) -> tuple[int, int]:
    """(values bytes, scales bytes) of a tensor."""
    count = math.prod(shape)
    values = {"f32": 4 * count, "f16": 2 * count, "q8": count, "q4": count // 2}[fmt]
    return values, (4 * (count // group_size) if fmt in QUANTIZED else 0)


def _summary(entries: list[tuple[str, str, tuple[int, ...], int]]) -> tuple[int, int]:
    """Header weight format and group size: those of the largest tensor (first on ties)."""
    largest = max(range(len(entries)), key=lambda i: (math.prod(entries[i][2]), -i))
    _, fmt, _, group = entries[largest]
    return FORMAT_CODES[fmt], group


def _value_bytes(t: QTensor) -> bytes:
    if t.fmt == "q4":
        q = np.asarray(t.values, dtype=np.int8).reshape(-1).view(np.uint8) & 0x0F
        return (q[0::2] | (q[1::2] << 4)).astype(np.uint8).tobytes()
    return np.ascontiguousarray(t.values, dtype=_VALUE_DTYPE[t.fmt]).tobytes()


def _unpack_q4(raw: bytes, shape: tuple[int, ...]) -> np.ndarray:
    packed = np.frombuffer(raw, dtype=np.uint8)
    nibbles = np.empty(packed.size * 2, dtype=np.int8)
    nibbles[0::2] = ((packed & 0x0F) ^ 8).astype(np.int8) - 8
    nibbles[1::2] = ((packed >> 4) ^ 8).astype(np.int8) - 8
    return nibbles.reshape(shape)


# ---------------------------------------------------------------------------------------
# tokenizer payloads


def nanochat_tokenizer_payload(
    ranked: list[bytes], pattern: str, specials: list[tuple[int, str]]
) -> bytes:
    """The kind-2 (nanochat BPE) tokenizer payload: ranked tokens, split pattern, specials."""
    out = [struct.pack("<I", len(ranked))]
    out += [struct.pack("<I", len(token)) + token for token in ranked]
    encoded = pattern.encode("utf-8")
    out.append(struct.pack("<I", len(encoded)) + encoded)
    out.append(struct.pack("<I", len(specials)))
    for token_id, text in specials:
        raw = text.encode("utf-8")
        out.append(struct.pack("<II", token_id, len(raw)) + raw)
    return b"".join(out)


def _check_nanochat_payload(payload: bytes, vocab_size: int) -> None:
    pos = 0

    def u32(what: str) -> int:
        nonlocal pos
        if pos + 4 > len(payload):
            raise _fail(f"tokenizer: truncated at {what} (byte {pos} of {len(payload)})")
        (value,) = struct.unpack_from("<I", payload, pos)
        pos += 4
        return int(value)

    def skip(length: int, what: str) -> None:
        nonlocal pos
        if pos + length > len(payload):
            raise _fail(f"tokenizer: {what} needs {length} bytes at byte {pos} of {len(payload)}")
        pos += length

    ranked = u32("the ranked token count")
    if ranked > vocab_size:
        raise _fail(f"tokenizer: {ranked} ranked tokens, but the vocabulary has {vocab_size}")
    for index in range(ranked):
        skip(u32(f"token {index}'s length"), f"token {index}")
    skip(u32("the pattern length"), "the split pattern")
    for index in range(u32("the special token count")):
        token_id = u32(f"special token {index}'s id")
        if token_id >= vocab_size:
            raise _fail(f"tokenizer: special token {index} has id {token_id} >= {vocab_size}")
        skip(u32(f"special token {index}'s length"), f"special token {index}")
    if pos != len(payload):
        raise _fail(f"tokenizer: {len(payload) - pos} unexpected bytes after the special tokens")


def _check_pre_tokenizer(m: ModelManifest, payload: bytes) -> None:
    """A kind-3 payload starts with its pre-tokenizer: the manifest's."""
    if m.tokenizer.kind == pb.HF_BPE and payload[:4] != struct.pack(
        "<I", m.tokenizer.pre_tokenizer
    ):
        raise _fail("tokenizer payload's pre-tokenizer differs from the manifest's")


def _check_tokenizer_payload(kind: int, payload: bytes, vocab: int, max_len: int) -> None:
    if kind == pb.LLAMA2C_BPE:
        try:
            tok = llama2c.read_tokenizer(payload, vocab)
        except MetalchatError as exc:
            raise _fail(f"tokenizer: {exc.message}") from None
        if tok.max_token_length != max_len:
            raise _fail(
                f"tokenizer header says max token length {max_len}, the tokenizer.bin "
                f"payload {tok.max_token_length}"
            )
    elif kind == pb.NANOCHAT_BPE:
        _check_nanochat_payload(payload, vocab)
    elif kind == pb.HF_BPE:
        try:
            longest = tokenizer_json.parse_payload(payload, vocab).max_token_length
        except MetalchatError as exc:
            raise _fail(exc.message) from None
        if longest != max_len:
            raise _fail(f"tokenizer header says max token length {max_len}, the payload {longest}")
    else:
        raise _fail(f"tokenizer kind {kind} is unknown (1 llama2.c, 2 nanochat, 3 HF BPE)")


# ---------------------------------------------------------------------------------------
# writing


def serialize(model: ContainerModel) -> bytes:
    """The container's bytes. ``model.manifest`` is copied; its ``tensors`` are replaced."""
    if not model.tensors:
        raise _fail("a container needs at least one tensor")
    m = pb.ModelManifest()
    m.CopyFrom(model.manifest)
    del m.tensors[:]
    m.weights_file, m.weights_size, m.weights_sha256 = "", 0, ""

    tokenizer = _tokenizer_header(m) + model.tokenizer
    table_size = ENTRY_SIZE * len(model.tensors)
    tok_offset = _align(HEADER_SIZE + table_size)
    data_offset = _align(tok_offset + len(tokenizer))
    data = bytearray()
    summary = []
    for name, t in model.tensors.items():
        if len(name.encode("utf-8")) >= NAME_SIZE or "\0" in name:
            raise _fail(f"tensor name {name!r} is longer than {NAME_SIZE - 1} bytes or has a NUL")
        values = _value_bytes(t)
        data += bytes(_align(len(data)) - len(data))
        entry = m.tensors.add(
            name=name,
            shape=t.shape,
            format=FORMAT_CODES[t.fmt],
            group_size=t.group_size if t.fmt in QUANTIZED else 0,
            offset=data_offset + len(data),
        )
        data += values
        crc = zlib.crc32(values)
        if t.fmt in QUANTIZED:
            assert t.scales is not None
            scales = np.ascontiguousarray(t.scales, dtype="<f4").tobytes()
            data += bytes(_align(len(data)) - len(data))
            entry.scales_offset = data_offset + len(data)
            data += scales
            crc = zlib.crc32(scales, crc)
        entry.size = sum(_sizes(t.shape, t.fmt, t.group_size))
        entry.crc32 = crc
        summary.append((name, t.fmt, t.shape, entry.group_size))
    mf.validate(m)
    _check_tokenizer_payload(
        m.tokenizer.kind, model.tokenizer, m.tokenizer.vocab_size, m.tokenizer.max_token_length
    )
    _check_pre_tokenizer(m, model.tokenizer)
    manifest_bytes = m.SerializeToString(deterministic=True)
    manifest_offset = _align(data_offset + len(data))
    table = b"".join(_entry(t) for t in m.tensors)

    sections = [
        (HEADER_SIZE, table),
        (tok_offset, tokenizer),
        (data_offset, bytes(data)),
        (manifest_offset, manifest_bytes),
    ]
    file_size = manifest_offset + len(manifest_bytes)
    fmt_code, group = _summary(summary)
    header = bytearray(
        _HEADER.pack(
            MAGIC, VERSION, HEADER_SIZE, 0, file_size, m.architecture, fmt_code, group, len(summary)
        )
    )
    for kind, (offset, blob) in enumerate(sections, start=1):
        header += _SECTION.pack(offset, len(blob), zlib.crc32(blob), kind)
    header += _params_block(m)
    struct.pack_into("<I", header, 12, zlib.crc32(header))
    out = bytearray(header)
    for offset, blob in sections:
        out += bytes(offset - len(out))
        out += blob
    return bytes(out)


def checked_bytes(model: ContainerModel, path: str | Path | None = None) -> bytes:
    """The container's bytes, read back by :func:`parse` first: never write a file the reader
    would reject (errors name ``path``, the file it is meant for)."""
    try:
        data = serialize(model)
        parse(data)
    except MetalchatError as exc:
        raise exc.with_path(path) if path is not None else exc from None
    return data


def write_container(
    path: str | Path, model: ContainerModel, inputs: Iterable[str | Path] = ()
) -> bytes:
    """Write ``model`` atomically to ``path`` (never over one of ``inputs``); returns the
    bytes."""
    data = checked_bytes(model, path)
    atomic_write(path, data, inputs)
    return data


# ---------------------------------------------------------------------------------------
# reading


def read_container(path: str | Path) -> ContainerModel:
    """Read and check a container file."""
    return parse(read_bytes(path), path)


def parse(data: bytes, path: str | Path | None = None) -> ContainerModel:
    """Check every field of a container and return the model (arrays view ``data``)."""
    try:
        return _parse(bytes(data))
    except MetalchatError as exc:
        raise exc.with_path(path) if path is not None else exc from None


def _parse_header(data: bytes) -> tuple[tuple[int, ...], list[tuple[int, int, int, int]]]:
    size = len(data)
    if size < HEADER_SIZE:
        raise _fail(f"truncated: {size} bytes, shorter than the {HEADER_SIZE}-byte header")
    magic, version, header_size, header_crc, file_size, *rest = _HEADER.unpack_from(data)
    if magic != MAGIC:
        what = _OTHER_MAGICS.get(magic, "not a metalchat container")
        raise _fail(f"starts with {magic!r}, not the container magic {MAGIC!r}: {what}")
    if version != VERSION:
        raise _fail(f"container format version {version} is not supported (this reader: 1)")
    if header_size != HEADER_SIZE:
        raise _fail(f"header size is {header_size}, version 1 has {HEADER_SIZE}")
    crc = zlib.crc32(data[:12] + bytes(4) + data[16:HEADER_SIZE])
    if crc != header_crc:
        raise _fail(f"header is corrupted: CRC-32 {crc:#010x}, stored {header_crc:#010x}")
    if file_size > size:
        raise _fail(f"truncated: the header says {file_size} bytes, the file has {size}")
    if file_size < size:
        raise _fail(f"{size - file_size} unexpected bytes after the {file_size} the header gives")
    sections = [_SECTION.unpack_from(data, 40 + i * _SECTION.size) for i in range(4)]
    end = HEADER_SIZE
    for index, (offset, length, _, kind) in enumerate(sections):
        name = SECTIONS[index]
        if kind != index + 1:
            raise _fail(f"section {index} has kind {kind}, expected {index + 1} ({name})")
        if offset != _align(end):
            raise _fail(
                f"section {name!r} starts at {offset}, expected {_align(end)} (sections "
                "follow each other in order, 64-byte aligned)"
            )
        if offset + length > size:
            raise _fail(f"section {name!r} needs bytes {offset}..{offset + length} of {size}")
        if any(data[end:offset]):
            raise _fail(f"nonzero padding bytes before section {name!r}")
        end = offset + length
    if end != size:
        raise _fail(f"{size - end} unexpected bytes after the manifest section")
    for name, (offset, length, stored, _) in zip(SECTIONS, sections, strict=True):
        crc = zlib.crc32(data[offset : offset + length])
        if crc != stored:
            raise _fail(
                f"section {name!r} is corrupted: CRC-32 {crc:#010x}, the header says {stored:#010x}"
            )
    return tuple(rest), sections


def _parse_table(
    data: bytes, count: int, table: tuple[int, int], tensor_data: tuple[int, int]
) -> list[tuple[str, str, tuple[int, ...], int, int, int, int, int]]:
    """Entries (name, fmt, shape, group, values offset/size, scales offset/size), checked."""
    offset, length = table
    if count == 0:
        raise _fail("tensor count is 0")
    if length != count * ENTRY_SIZE:
        raise _fail(f"tensor table is {length} bytes, {count} tensors need {count * ENTRY_SIZE}")
    start, end = tensor_data[0], tensor_data[0] + tensor_data[1]
    entries = []
    regions: list[tuple[int, int, str]] = []
    names: set[str] = set()
    for index in range(count):
        raw, code, group, ndim, reserved, *dims, voff, vsize, soff, ssize = _ENTRY.unpack_from(
            data, offset + index * ENTRY_SIZE
        )
        text = raw.rstrip(b"\0")
        try:
            name = text.decode("utf-8")
        except UnicodeDecodeError:
            raise _fail(f"tensor {index}: name {text!r} is not UTF-8") from None
        where = f"tensor {index} ({name!r})"
        if not name or b"\0" in text or raw[-1]:
            raise _fail(f"{where}: the name must be 1..47 bytes, NUL-padded")
        if name in names:
            raise _fail(f"{where}: name used twice")
        names.add(name)
        fmt = FORMAT_NAMES.get(code)
        if fmt is None:
            raise _fail(f"{where}: format {code} is unknown (1 F32, 2 F16, 3 Q8, 4 Q4)")
        if not 1 <= ndim <= 4 or reserved:
            raise _fail(f"{where}: ndim {ndim} is not 1..4, or the reserved field is not 0")
        shape = tuple(dims[:ndim])
        if 0 in shape or any(dims[ndim:]):
            raise _fail(f"{where}: shape {list(dims)} with ndim {ndim} is malformed")
        if math.prod(shape) > 1 << 48:
            raise _fail(f"{where}: shape {list(shape)} is too large")
        if fmt in QUANTIZED:
            try:
                check_group_size(shape, fmt, group)
            except MetalchatError as exc:
                raise _fail(f"{where}: {exc.message}") from None
        elif group or soff or ssize:
            raise _fail(f"{where}: {fmt} has no group size or scales, but they are set")
        want_values, want_scales = _sizes(shape, fmt, group)
        if (vsize, ssize) != (want_values, want_scales):
            raise _fail(
                f"{where}: values/scales sizes are {vsize}/{ssize} bytes, a {list(shape)} {fmt} "
                f"tensor takes {want_values}/{want_scales}"
            )
        parts = [("values", voff, vsize)] + ([("scales", soff, ssize)] if ssize else [])
        for what, at, size in parts:
            if at % ALIGN:
                raise _fail(f"{where}: {what} offset {at} is not a multiple of {ALIGN}")
            if at + size >= 1 << 64:
                raise _fail(f"{where}: {what} offset {at} + size {size} overflows 64 bits")
            if at < start or at + size > end:
                raise _fail(
                    f"{where}: {what} at bytes {at}..{at + size} lie outside the tensor data "
                    f"section ({start}..{end})"
                )
            regions.append((at, at + size, f"tensor {name!r} {what}"))
        entries.append((name, fmt, shape, group, voff, vsize, soff, ssize))
    regions.sort()
    for (a0, a1, a), (b0, b1, b) in itertools.pairwise(regions):
        if b0 < a1:
            raise _fail(f"{b} (bytes {b0}..{b1}) overlaps {a} (bytes {a0}..{a1})")
    return entries


def _parse(data: bytes) -> ContainerModel:
    (arch, fmt_code, group, count), sections = _parse_header(data)
    (table_off, table_len, _, _), (tok_off, tok_len, _, _) = sections[0], sections[1]
    entries = _parse_table(data, count, (table_off, table_len), sections[2][:2])

    if tok_len < TOKENIZER_HEADER_SIZE:
        raise _fail(f"tokenizer section is {tok_len} bytes, shorter than its 32-byte header")
    tok_header = data[tok_off : tok_off + TOKENIZER_HEADER_SIZE]
    kind, vocab, _, _, max_len, *reserved = _TOKENIZER.unpack(tok_header)
    if any(reserved):
        raise _fail("tokenizer header: reserved fields are not 0")
    payload = data[tok_off + TOKENIZER_HEADER_SIZE : tok_off + tok_len]
    _check_tokenizer_payload(kind, payload, vocab, max_len)

    man_off, man_len = sections[3][:2]
    try:
        m = pb.ModelManifest.FromString(data[man_off : man_off + man_len])
    except DecodeError as exc:
        raise _fail(f"manifest section is not a ModelManifest: {exc}") from None
    try:
        mf.validate(m)
    except MetalchatError as exc:
        raise _fail(f"manifest: {exc.message}") from None
    if m.architecture != arch:
        raise _fail(f"header architecture {arch} differs from the manifest's {m.architecture}")
    if _params_block(m) != data[PARAMS_OFFSET:HEADER_SIZE]:
        raise _fail(
            f"header parameters (bytes {PARAMS_OFFSET}..{HEADER_SIZE}) differ from the "
            f"manifest's {m.WhichOneof('params')} block"
        )
    if _tokenizer_header(m) != tok_header:
        raise _fail("tokenizer header differs from the manifest's tokenizer")
    _check_pre_tokenizer(m, payload)
    if len(m.tensors) != count:
        raise _fail(f"the manifest lists {len(m.tensors)} tensors, the header {count}")
    tensors: dict[str, QTensor] = {}
    for index, (t, entry) in enumerate(zip(m.tensors, entries, strict=True)):
        name, fmt, shape, group_size, voff, vsize, soff, ssize = entry
        if _entry(t) != data[table_off + index * ENTRY_SIZE : table_off + (index + 1) * ENTRY_SIZE]:
            raise _fail(f"tensor table entry {index} ({name!r}) differs from the manifest's")
        crc = zlib.crc32(data[soff : soff + ssize], zlib.crc32(data[voff : voff + vsize]))
        if crc != t.crc32:
            raise _fail(f"tensor {name!r}: CRC-32 {crc:#010x}, the manifest says {t.crc32:#010x}")
        raw = data[voff : voff + vsize]
        if fmt == "q4":
            values = _unpack_q4(raw, shape)
        else:
            values = np.frombuffer(raw, dtype=_VALUE_DTYPE[fmt]).reshape(shape)
        scales = np.frombuffer(data, "<f4", ssize // 4, soff) if ssize else None
        tensors[name] = QTensor(fmt, values, scales, group_size)
    want = _summary([(e[0], e[1], e[2], e[3]) for e in entries])
    if (fmt_code, group) != want:
        raise _fail(
            f"header weight format/group size {fmt_code}/{group}, but the largest tensor "
            f"has {want[0]}/{want[1]}"
        )
    return ContainerModel(m, tensors, payload)
