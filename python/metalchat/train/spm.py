"""A SentencePiece BPE tokenizer for the Llama demo, and its llama2.c ``tokenizer.bin``.

Trained with the options llama2.c uses for its small custom tokenizers: BPE, byte fallback
(so every byte has a ``<0xNN>`` token), digits split, whitespace-only pieces allowed,
identity normalization, full character coverage. Ids 0, 1, 2 are ``<unk>``, ``<s>`` (BOS)
and ``</s>`` (EOS), then the 256 byte tokens, then the merges.

``tokenizer.bin`` holds, per id, the piece with SentencePiece's ``▁`` turned into a space
and the piece's score (run.c merges the pair whose result scores highest); BOS and EOS are
written as ``"\\n<s>\\n"`` and ``"\\n</s>\\n"`` as llama2.c's exporter does.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from metalchat.errors import MetalchatError
from metalchat.formats.llama2c import Llama2cTokenizer

BOS_ID, EOS_ID = 1, 2


def train_sentencepiece(sentences: Iterable[str], vocab_size: int) -> bytes:
    """The serialized SentencePiece model (``tokenizer.model``) trained on ``sentences``."""
    import sentencepiece as spm  # in the default lock; imported late to keep imports light

    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(list(sentences)),
        model_writer=model,
        model_type="bpe",
        vocab_size=vocab_size,
        self_test_sample_size=0,
        input_format="text",
        input_sentence_size=0,  # all sentences, no random sampling: deterministic
        shuffle_input_sentence=False,
        character_coverage=1.0,
        num_threads=1,
        split_digits=True,
        allow_whitespace_only_pieces=True,
        byte_fallback=True,
        unk_surface=r" \342\201\207 ",
        normalization_rule_name="identity",
        minloglevel=2,
    )
    return model.getvalue()


def processor(model: bytes):  # -> sentencepiece.SentencePieceProcessor
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor()
    sp.LoadFromSerializedProto(model)
    if sp.bos_id() != BOS_ID or sp.eos_id() != EOS_ID:
        raise MetalchatError(f"expected BOS 1 / EOS 2, the model has {sp.bos_id()} / {sp.eos_id()}")
    return sp


def llama2c_tokenizer(model: bytes) -> Llama2cTokenizer:
    """llama2.c's tokenizer for a SentencePiece model (see the module doc)."""
    sp = processor(model)
    tokens: list[bytes] = []
    scores: list[float] = []
    for i in range(sp.get_piece_size()):
        piece = sp.id_to_piece(i)
        if i == sp.bos_id():
            piece = "\n<s>\n"
        elif i == sp.eos_id():
            piece = "\n</s>\n"
        tokens.append(piece.replace("\u2581", " ").encode("utf-8"))
        scores.append(float(sp.get_score(i)))
    return Llama2cTokenizer(tokens, scores, max(len(t) for t in tokens))


def decode_llama2c(tokenizer: Llama2cTokenizer, ids: list[int], prev: int = BOS_ID) -> str:
    """Text of ``ids`` as run.c prints it: ``<0xNN>`` tokens become their byte, and a space
    after BOS is dropped (SentencePiece's dummy prefix)."""
    out = bytearray()
    for token in ids:
        piece = tokenizer.tokens[token]
        if prev == BOS_ID and piece.startswith(b" "):
            piece = piece[1:]
        if len(piece) == 6 and piece.startswith(b"<0x") and piece.endswith(b">"):
            piece = bytes([int(piece[3:5], 16)])
        out += piece
        prev = token
    return out.decode("utf-8", errors="replace")
