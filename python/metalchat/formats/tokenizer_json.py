"""Hugging Face ``tokenizer.json`` (SentencePiece-style BPE, as Llama 2) to llama2.c's tokenizer.

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
