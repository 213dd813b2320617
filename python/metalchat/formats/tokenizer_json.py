"""Hugging Face ``tokenizer.json`` BPE: to llama2.c's tokenizer (:func:`convert`), or as it is
to the container's kind-3 payload (:func:`convert_bpe`, at the end of this file).

What is read: ``model`` of type ``BPE`` with ``vocab`` (piece -> id) and ``merges`` (ranked
pairs, as ``"a b"`` strings or ``[a, b]`` lists), plus ``added_tokens`` (id, content). Pieces
use ``▁`` (U+2581) for a space and ``<0xAB>`` byte-fallback tokens, exactly like the
SentencePiece pieces llama2.c's ``tokenizer.py`` exports; byte-level BPE (GPT-2 / Llama 3,
``ByteLevel`` pre-tokenizer) has no llama2.c equivalent and is refused.

Each token becomes, as llama2.c's export does it: its piece with ``▁`` -> space in UTF-8,
BOS as ``\\n<s>\\n`` and EOS as ``\\n</s>\\n``. tokenizer.json has no scores, and llama2.c's
encoder repeatedly merges the adjacent pair whose concatenation has the highest score; so a
token first produced by merge number ``r`` (counting from 1) gets score ``-r`` (earlier
merges win, as in BPE), and tokens no merge produces (single characters, byte and control
tokens) get 0 as llama2.c gives byte and control tokens. For a tokenizer.json converted
from a SentencePiece model (merges sorted by piece score) this keeps SentencePiece's order
of merges: checked on Llama 2's tokenizer, whose 32000 tokens also come out byte-identical
to llama2.c's ``tokenizer.bin``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from metalchat.errors import MetalchatError
from metalchat.fileio import read_json_object
from metalchat.formats.llama2c import Llama2cTokenizer

SPACE = "\u2581"


def _uses_byte_level(component: Any) -> bool:
    """Whether any object nested in ``component`` has ``"type": "ByteLevel"`` (iterative: the
    nesting depth is the file's to choose)."""
    pending = [component]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            if item.get("type") == "ByteLevel":
                return True
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _merge_pair(merge: Any) -> tuple[str, str]:
    if isinstance(merge, str) and merge.count(" ") == 1:
        left, right = merge.split(" ")
        return left, right
    if isinstance(merge, list) and len(merge) == 2 and all(isinstance(m, str) for m in merge):
        return merge[0], merge[1]
    raise MetalchatError(f"merge {merge!r} is neither 'a b' nor ['a', 'b']")


def convert(
    data: dict[str, Any], *, bos_id: int | None = None, eos_id: int | None = None
) -> Llama2cTokenizer:
    """A parsed tokenizer.json as a llama2.c tokenizer. BOS/EOS default to ``<s>``/``</s>``."""
    model = data.get("model")
    if not isinstance(model, dict) or model.get("type") != "BPE":
        kind = model.get("type") if isinstance(model, dict) else None
        raise MetalchatError(f"model type {kind!r} is not BPE; only BPE tokenizers convert")
    if _uses_byte_level([data.get("pre_tokenizer"), data.get("decoder")]):
        raise MetalchatError(
            "byte-level BPE (GPT-2 / Llama 3 style) cannot be expressed as a llama2.c "
            "tokenizer, which needs SentencePiece-style pieces with byte fallback"
        )
    vocab = model.get("vocab")
    if not isinstance(vocab, dict):
        raise MetalchatError("model.vocab is not an object of piece -> id")
    pieces: dict[int, str] = {}
    entries = list(vocab.items())
    added = data.get("added_tokens") or []
    if not isinstance(added, list) or not all(isinstance(t, dict) for t in added):
        raise MetalchatError("added_tokens is not a list of objects with an id and a content")
    entries += [(t.get("content"), t.get("id")) for t in added]
    for piece, i in entries:
        if not isinstance(piece, str) or not isinstance(i, int) or isinstance(i, bool):
            raise MetalchatError(f"vocabulary entry {piece!r}: {i!r} is not a string and an id")
        if pieces.setdefault(i, piece) != piece:
            raise MetalchatError(f"id {i} is both {pieces[i]!r} and {piece!r}")
    if not pieces or sorted(pieces) != list(range(len(pieces))):
        raise MetalchatError(f"token ids are not 0..{len(pieces) - 1} without gaps")
    ids = {piece: i for i, piece in pieces.items()}
    bos = ids.get("<s>") if bos_id is None else bos_id
    eos = ids.get("</s>") if eos_id is None else eos_id
    scores = [0.0] * len(pieces)
    produced: set[int] = set()
    merges = model.get("merges") or []
    if not isinstance(merges, list):
        raise MetalchatError(f"model.merges is {type(merges).__name__}, expected a list")
    for rank, merge in enumerate(merges, start=1):
        left, right = _merge_pair(merge)
        token = ids.get(left + right)
        if token is None:
            raise MetalchatError(f"merge {rank} ({left!r} + {right!r}) makes no token in the vocab")
        if token not in produced:
            produced.add(token)
            scores[token] = -float(rank)
    tokens = []
    for i in range(len(pieces)):
        text = "\n<s>\n" if i == bos else "\n</s>\n" if i == eos else pieces[i].replace(SPACE, " ")
        tokens.append(text.encode("utf-8"))
    return Llama2cTokenizer(tokens, scores, max(len(t) for t in tokens))


def read_tokenizer(
    path: str | Path, *, bos_id: int | None = None, eos_id: int | None = None
) -> Llama2cTokenizer:
    """Read ``tokenizer.json`` and :func:`convert` it."""
    data = read_json_object(path)
    try:
        return convert(data, bos_id=bos_id, eos_id=eos_id)
    except MetalchatError as exc:
        raise exc.with_path(path) from None


# ---------------------------------------------------------------------------------------
# Hugging Face BPE as it is: the container's kind-3 payload (docs/CONTAINER.md)

# The payload's pre-tokenizer numbers (engine/tokenizer.h em_pretokenizer, the manifest's
# PreTokenizer).
PRE_TOKENIZERS = {"gpt2": 1, "llama3": 2, "qwen2": 3, "smollm": 4, "sentencepiece": 5}
IGNORE_MERGES = 1
DUMMY_PREFIX = 2

# The Split regexes of the byte-level families, as their tokenizer.json spells them.
_SPLIT_PATTERNS = {
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+": "llama3",
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+": "qwen2",
}


def gpt2_byte_chars() -> dict[str, int]:
    """GPT-2's printable stand-in for each byte (byte-level vocabularies spell tokens in them):
    the printable Latin-1 bytes stand for themselves, the other 68 get U+0100 onwards in
    byte order. Returns character -> byte."""
    keep = [*range(0x21, 0x7F), *range(0xA1, 0xAD), *range(0xAE, 0x100)]
    out = {chr(b): b for b in keep}
    extra = 0
    for b in range(256):
        if b not in keep:
            out[chr(0x100 + extra)] = b
            extra += 1
    return out


@dataclass
class HfBpeTokenizer:
    """A tokenizer.json BPE for the container's kind-3 payload (:meth:`payload`)."""

    pre_tokenizer: str  # a key of PRE_TOKENIZERS
    flags: int  # IGNORE_MERGES | DUMMY_PREFIX
    tokens: list[bytes]  # by id; b"" for ids that are special tokens only
    merges: list[tuple[int, int, int]]  # (left, right, merged) ids, earliest rank first
    specials: list[tuple[int, str]]  # added tokens (id, text)
    normalizer: str  # "" or "NFC" (not applied on a board: docs/ENGINES.md)

    @property
    def vocab_size(self) -> int:
        return max([len(self.tokens) - 1, *(i for i, _ in self.specials)]) + 1

    @property
    def max_token_length(self) -> int:
        return max(len(t) for t in self.tokens)

    def special_id(self, text: str) -> int | None:
        return next((i for i, s in self.specials if s == text), None)

    def manifest(self, bos_id: int, eos_id: int, vocab_size: int = 0) -> Any:
        """The manifest's ``Tokenizer`` for this payload (kind ``HF_BPE``, its pre-tokenizer,
        the added tokens as special tokens); ``vocab_size`` 0: the payload's own."""
        from metalchat.manifest import pb

        kind = pb.PreTokenizer.Value(f"PRE_TOKENIZER_{self.pre_tokenizer.upper()}")
        return pb.Tokenizer(
            kind=pb.HF_BPE,
            vocab_size=vocab_size or self.vocab_size,
            bos_id=bos_id,
            eos_id=eos_id,
            max_token_length=self.max_token_length,
            pre_tokenizer=kind,
            special_tokens=[pb.SpecialToken(text=t, id=i) for i, t in self.specials],
        )

    def payload(self) -> bytes:
        out = [
            struct.pack("<III", PRE_TOKENIZERS[self.pre_tokenizer], self.flags, len(self.tokens))
        ]
        out += [struct.pack("<I", len(t)) + t for t in self.tokens]
        out.append(struct.pack("<I", len(self.merges)))
        out += [struct.pack("<III", *m) for m in self.merges]
        out.append(struct.pack("<I", len(self.specials)))
        for i, text in self.specials:
            raw = text.encode("utf-8")
            out.append(struct.pack("<II", i, len(raw)) + raw)
        return b"".join(out)


def _type(component: Any) -> str | None:
    return component.get("type") if isinstance(component, dict) else None


def _steps(component: Any, kind: str) -> list[Any]:
    """A normalizer or pre-tokenizer as a list of steps (a Sequence unrolled one level)."""
    if component is None:
        return []
    if _type(component) == "Sequence":
        steps = component.get(kind)
        if not isinstance(steps, list):
            raise MetalchatError(f"a Sequence {kind[:-1]} without a list of {kind}")
        return steps
    return [component]


def _byte_level_split(pre: Any) -> str:
    """The pre-tokenizer of a byte-level tokenizer.json, or a clear refusal."""
    steps = _steps(pre, "pretokenizers")
    kinds = [_type(s) for s in steps]
    last = steps[-1] if steps else {}
    if kinds[-1:] != ["ByteLevel"] or last.get("add_prefix_space"):
        raise MetalchatError(
            f"byte-level pre-tokenizer {kinds} is not one of GPT-2 (ByteLevel), SmolLM (Digits, "
            "ByteLevel) or Llama 3 / Qwen2 (Split, ByteLevel) without add_prefix_space"
        )
    uses_regex = last.get("use_regex", True)
    if kinds == ["ByteLevel"] and uses_regex:
        return "gpt2"
    if kinds == ["Digits", "ByteLevel"] and uses_regex and steps[0].get("individual_digits"):
        return "smollm"
    if kinds == ["Split", "ByteLevel"] and not uses_regex:
        split = steps[0]
        pattern = split.get("pattern", {})
        regex = pattern.get("Regex") if isinstance(pattern, dict) else None
        name = _SPLIT_PATTERNS.get(regex) if isinstance(regex, str) else None
        if name and split.get("behavior") == "Isolated" and not split.get("invert"):
            return name
        raise MetalchatError(f"Split pre-tokenizer pattern {regex!r} is not Llama 3's or Qwen2's")
    raise MetalchatError(f"byte-level pre-tokenizer {kinds} is not supported")


def _sentencepiece_prefix(data: dict[str, Any]) -> bool:
    """Whether a SentencePiece-style tokenizer.json puts U+2581 before the text (Llama 2,
    TinyLlama) or not (Gemma); refuses other normalizers and pre-tokenizers. Gemma's Split on
    " " after its normalizer has replaced every space cuts nothing, so it is accepted."""
    prefix = replaced = False
    for step in _steps(data.get("normalizer"), "normalizers"):
        kind = _type(step)
        pattern = step.get("pattern", {}) if isinstance(step, dict) else {}
        if kind == "Prepend" and step.get("prepend") == SPACE:
            prefix = True
        elif kind == "Replace" and pattern == {"String": " "} and step.get("content") == SPACE:
            replaced = True
        else:
            raise MetalchatError(f"SentencePiece-style normalizer step {step!r} is not supported")
    for step in _steps(data.get("pre_tokenizer"), "pretokenizers"):
        no_space_left = replaced and _type(step) == "Split" and not step.get("invert")
        if no_space_left and step.get("pattern") == {"String": " "}:
            continue
        if _type(step) != "Metaspace" or step.get("replacement") != SPACE or step.get("split"):
            raise MetalchatError(f"SentencePiece-style pre-tokenizer {step!r} is not supported")
        prefix = step.get("prepend_scheme", "always") in ("always", "first")
    return prefix


def convert_bpe(data: dict[str, Any]) -> HfBpeTokenizer:
    """A parsed tokenizer.json BPE, byte-level (GPT-2, SmolLM, Llama 3, Qwen2 pre-tokenizers)
    or SentencePiece-style with byte fallback (TinyLlama, Gemma), for the kind-3 payload."""
    model = data.get("model")
    if not isinstance(model, dict) or model.get("type") != "BPE":
        raise MetalchatError(f"model type {_type(model)!r} is not BPE; only BPE tokenizers convert")
    if (
        model.get("dropout")
        or model.get("continuing_subword_prefix")
        or model.get("end_of_word_suffix")
    ):
        raise MetalchatError("BPE dropout, subword prefixes and word suffixes are not supported")
    byte_level = _uses_byte_level([data.get("pre_tokenizer"), data.get("decoder")])
    normalizer = ""
    flags = IGNORE_MERGES if model.get("ignore_merges") else 0
    if byte_level:
        if model.get("byte_fallback"):
            raise MetalchatError("byte-level BPE with byte fallback is not supported")
        norm = data.get("normalizer")
        if norm is not None and _type(norm) != "NFC":
            raise MetalchatError(f"normalizer {_type(norm)!r} with byte-level BPE is not supported")
        normalizer = "NFC" if norm is not None else ""
        pre = _byte_level_split(data.get("pre_tokenizer"))
        chars = gpt2_byte_chars()

        def raw(piece: str) -> bytes:
            if any(c not in chars for c in piece):
                raise MetalchatError(f"token {piece!r} is not spelled in GPT-2's byte characters")
            return bytes(chars[c] for c in piece)
    else:
        if not model.get("byte_fallback"):
            raise MetalchatError("SentencePiece-style BPE without byte_fallback is not supported")
        pre = "sentencepiece"
        if _sentencepiece_prefix(data):
            flags |= DUMMY_PREFIX
        flags &= ~IGNORE_MERGES

        def raw(piece: str) -> bytes:
            return piece.replace(SPACE, " ").encode("utf-8")

    vocab = model.get("vocab")
    if not isinstance(vocab, dict) or not vocab:
        raise MetalchatError("model.vocab is not an object of piece -> id")
    added = data.get("added_tokens") or []
    if not isinstance(added, list) or not all(isinstance(t, dict) for t in added):
        raise MetalchatError("added_tokens is not a list of objects with an id and a content")
    specials: list[tuple[int, str]] = []
    for t in added:
        i, text = t.get("id"), t.get("content")
        if not isinstance(i, int) or isinstance(i, bool) or not isinstance(text, str) or i < 0:
            raise MetalchatError(f"added token {t!r} has no integer id and string content")
        specials.append((i, text))
    special_ids = {i for i, _ in specials}
    by_id: dict[int, bytes] = {}
    for piece, i in vocab.items():
        if not isinstance(i, int) or isinstance(i, bool) or i < 0:
            raise MetalchatError(f"vocabulary entry {piece!r}: {i!r} is not an id")
        if i in by_id:
            raise MetalchatError(f"id {i} appears twice in model.vocab")
        by_id[i] = b"" if i in special_ids else raw(piece)
    tokens = [by_id.get(i, b"") for i in range(max(by_id) + 1)]
    seen: dict[bytes, int] = {}
    for i, t in enumerate(tokens):
        if t and seen.setdefault(t, i) != i:
            raise MetalchatError(f"ids {seen[t]} and {i} are the same bytes {t!r}")
    ids = {piece: i for piece, i in vocab.items()}
    merges: list[tuple[int, int, int]] = []
    pairs: set[tuple[int, int]] = set()
    raw_merges = model.get("merges") or []
    if not isinstance(raw_merges, list):
        raise MetalchatError(f"model.merges is {type(raw_merges).__name__}, expected a list")
    for rank, merge in enumerate(raw_merges):
        left, right = _merge_pair(merge)
        if left not in ids or right not in ids or left + right not in ids:
            raise MetalchatError(f"merge {rank} ({left!r} + {right!r}) names no token of the vocab")
        pair = (ids[left], ids[right])
        if pair in pairs:
            raise MetalchatError(f"merge {rank} ({left!r} + {right!r}) is listed twice")
        pairs.add(pair)
        merges.append((*pair, ids[left + right]))
    return HfBpeTokenizer(pre, flags, tokens, merges, specials, normalizer)


def read_bpe(path: str | Path) -> HfBpeTokenizer:
    """Read ``tokenizer.json`` and :func:`convert_bpe` it."""
    data = read_json_object(path)
    try:
        return convert_bpe(data)
    except MetalchatError as exc:
        raise exc.with_path(path) from None


class _Fields:
    """Little-endian fields read in order from a payload, every read checked against its end."""

    def __init__(self, payload: bytes) -> None:
        self.payload, self.pos = payload, 0

    def bytes(self, length: int, what: str) -> bytes:
        end = self.pos + length
        if end > len(self.payload):
            raise MetalchatError(f"tokenizer: {what} needs {length} bytes at byte {self.pos}")
        self.pos = end
        return self.payload[end - length : end]

    def u32(self, what: str) -> int:
        return int(struct.unpack("<I", self.bytes(4, what))[0])

    def text(self, what: str) -> bytes:
        return self.bytes(self.u32(f"{what}'s length"), what)


def parse_payload(payload: bytes, vocab_size: int) -> HfBpeTokenizer:
    """A kind-3 payload read back, every field checked as the C loader checks it
    (docs/CONTAINER.md); raises MetalchatError naming the first problem."""
    f = _Fields(payload)
    names = {v: k for k, v in PRE_TOKENIZERS.items()}
    pre, flags = f.u32("the pre-tokenizer"), f.u32("the flags")
    if pre not in names:
        raise MetalchatError(f"tokenizer: pre-tokenizer {pre} is unknown ({names})")
    if flags & ~(IGNORE_MERGES | DUMMY_PREFIX):
        raise MetalchatError(f"tokenizer: flags {flags:#x} has unknown bits")
    n_tokens = f.u32("the token count")
    if n_tokens > vocab_size:
        raise MetalchatError(f"tokenizer: {n_tokens} tokens > vocabulary {vocab_size}")
    tokens = [f.text(f"token {i}") for i in range(n_tokens)]
    n_merges = f.u32("the merge count")
    if n_merges >= 1 << 24:
        raise MetalchatError(f"tokenizer: {n_merges} merges (at most 2^24 - 1)")
    merges = [struct.unpack("<III", f.bytes(12, f"merge {i}")) for i in range(n_merges)]
    if any(i >= n_tokens for m in merges for i in m):
        raise MetalchatError("tokenizer: a merge names an id that is not a token")
    specials = []
    for i in range(f.u32("the special token count")):
        token_id = f.u32(f"special token {i}'s id")
        if token_id >= vocab_size:
            raise MetalchatError(f"tokenizer: special token {i} has id {token_id} >= {vocab_size}")
        specials.append((token_id, f.text(f"special token {i}").decode("utf-8", "replace")))
    if f.pos != len(payload):
        raise MetalchatError(f"tokenizer: {len(payload) - f.pos} bytes after the special tokens")
    merge_list = [(int(a), int(b), int(c)) for a, b, c in merges]
    return HfBpeTokenizer(names[pre], flags, tokens, merge_list, specials, "")


def read_sentencepiece(path: str | Path) -> HfBpeTokenizer:
    """A SentencePiece BPE ``tokenizer.model`` (byte fallback, identity normalization) as the
    kind-3 payload. SentencePiece merges the adjacent pair whose joined piece scores highest;
    the merge list here is every split of every piece into two pieces, ordered by the joined
    piece's score, which gives the same ids (checked on Llama 2's model against sentencepiece,
    //engines/tokenizer:sentencepiece_parity_test). User-defined pieces are ordinary pieces
    here, not matched whole in the text first as SentencePiece does."""
    try:
        from sentencepiece import sentencepiece_model_pb2 as spb
    except ImportError:
        raise MetalchatError("reading tokenizer.model needs the sentencepiece package") from None
    from google.protobuf.message import DecodeError

    m = spb.ModelProto()
    try:
        m.ParseFromString(Path(path).read_bytes())
    except (OSError, DecodeError) as exc:
        raise MetalchatError(f"not a SentencePiece model: {exc}", path) from None
    ns, ts = m.normalizer_spec, m.trainer_spec
    if ts.model_type != spb.TrainerSpec.BPE or not ts.byte_fallback:
        raise MetalchatError("only SentencePiece BPE models with byte_fallback convert", path)
    if ns.name != "identity" or ns.remove_extra_whitespaces or not ns.escape_whitespaces:
        raise MetalchatError(f"SentencePiece normalization {ns.name!r} is not supported", path)
    kind = spb.ModelProto.SentencePiece
    normal = (kind.NORMAL, kind.USER_DEFINED)
    ids = {p.piece: i for i, p in enumerate(m.pieces) if p.type in normal}
    tokens, specials, merges = [], [], []
    for i, p in enumerate(m.pieces):
        if p.type == kind.BYTE:
            tokens.append(p.piece.encode("utf-8"))
        elif p.type in normal:
            tokens.append(p.piece.replace(SPACE, " ").encode("utf-8"))
            splits = [(p.piece[:k], p.piece[k:]) for k in range(1, len(p.piece))]
            merges += [(-p.score, i, ids[a], ids[b]) for a, b in splits if a in ids and b in ids]
        else:
            tokens.append(b"")
            if p.type in (kind.CONTROL, kind.UNKNOWN):
                specials.append((i, p.piece))
    merges.sort()
    flags = DUMMY_PREFIX if ns.add_dummy_prefix else 0
    ranked = [(a, b, joined) for _, joined, a, b in merges]
    return HfBpeTokenizer("sentencepiece", flags, tokens, ranked, specials, "")
