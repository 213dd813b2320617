"""nanochat's tokenizer for the nanochat demo: a byte-level BPE saved as a tiktoken pickle.

Upstream nanochat trains a byte-level BPE (GPT-4-style split regex, digits in groups of at
most two) and saves ``tokenizer.pkl``: ``pickle.dump`` of a ``tiktoken.Encoding`` whose
state is ``{"name", "pat_str", "mergeable_ranks": {bytes: rank}, "special_tokens":
{str: id}}``. Ranks 0..255 are the single bytes; each merge adds the next rank; the nine
special tokens follow the ranks. tiktoken encodes a text chunk by repeatedly joining the
adjacent pair whose joined bytes have the lowest rank, so a rank table *is* the merge list.

:func:`train_bpe` is a small trainer written for this project: split the documents with
:data:`SPLIT_PATTERN`, count the chunks, and repeatedly merge the most frequent adjacent
pair (ties: the pair of lowest ids). When a merge yields bytes that are already a token
(``ab + c`` after ``a + bc``), the chunks use the existing token and no rank is spent.

Needs ``regex`` and ``tiktoken`` (both in the torch extra, ``requirements-torch.lock``).
:func:`metalchat.formats.nanochat_ckpt.read_tokenizer` reads the result without them.
"""

from __future__ import annotations

import collections
import itertools
import pickle
from collections.abc import Iterable
from pathlib import Path

from metalchat.errors import MetalchatError
from metalchat.fileio import atomic_write

# Upstream nanochat's split pattern (tiktoken / fancy-regex syntax; `regex` reads it too).
SPLIT_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,2}| ?[^\s\p{L}\p{N}]++[\r\n]*"""
    r"""|\s*[\r\n]|\s+(?!\S)|\s+"""
)
# Upstream nanochat's special tokens, in id order after the ranks.
SPECIAL_TOKENS = (
    "<|bos|>",
    "<|user_start|>",
    "<|user_end|>",
    "<|assistant_start|>",
    "<|assistant_end|>",
    "<|python_start|>",
    "<|python_end|>",
    "<|output_start|>",
    "<|output_end|>",
)
BOS = "<|bos|>"


def _merge(ids: tuple[int, ...], pair: tuple[int, int], new: int) -> tuple[int, ...]:
    out: list[int] = []
    i = 0
    while i < len(ids):
        if i + 1 < len(ids) and ids[i] == pair[0] and ids[i + 1] == pair[1]:
            out.append(new)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return tuple(out)


def train_bpe(texts: Iterable[str], n_ranks: int, pattern: str = SPLIT_PATTERN) -> dict[bytes, int]:
    """``mergeable_ranks`` with ``n_ranks`` entries (256 bytes + merges), see the module doc."""
    import regex

    if n_ranks < 256:
        raise MetalchatError(f"a byte-level BPE needs at least 256 ranks, got {n_ranks}")
    split = regex.compile(pattern)
    counts: collections.Counter[bytes] = collections.Counter()
    for text in texts:
        counts.update(chunk.encode("utf-8") for chunk in split.findall(text))
    chunks = [tuple(chunk) for chunk in counts]
    freq = list(counts.values())
    vocab: list[bytes] = [bytes([b]) for b in range(256)]
    ranks: dict[bytes, int] = {token: i for i, token in enumerate(vocab)}

    stats: collections.Counter[tuple[int, int]] = collections.Counter()
    where: dict[tuple[int, int], set[int]] = collections.defaultdict(set)
    for index, ids in enumerate(chunks):
        for pair in itertools.pairwise(ids):
            stats[pair] += freq[index]
            where[pair].add(index)

    while len(ranks) < n_ranks:
        stats = +stats  # drop zero and negative counts
        if not stats:
            raise MetalchatError(
                f"the text has only enough distinct pairs for {len(ranks)} ranks, "
                f"{n_ranks} were asked for"
            )
        best = max(stats.items(), key=lambda item: (item[1], -item[0][0], -item[0][1]))[0]
        joined = vocab[best[0]] + vocab[best[1]]
        new = ranks.get(joined)
        if new is None:
            new = len(vocab)
            vocab.append(joined)
            ranks[joined] = new
        for index in sorted(where.pop(best, ())):
            old = chunks[index]
            merged = _merge(old, best, new)
            for pair in itertools.pairwise(old):
                stats[pair] -= freq[index]
            for pair in itertools.pairwise(merged):
                stats[pair] += freq[index]
                where[pair].add(index)
            chunks[index] = merged
        stats.pop(best, None)
    return ranks


def special_tokens(n_ranks: int) -> dict[str, int]:
    return {text: n_ranks + i for i, text in enumerate(SPECIAL_TOKENS)}


def encoding(ranks: dict[bytes, int], name: str = "metalchat"):  # -> tiktoken.Encoding
    """The tiktoken ``Encoding`` upstream nanochat would build from these ranks."""
    import tiktoken

    return tiktoken.Encoding(
        name=name,
        pat_str=SPLIT_PATTERN,
        mergeable_ranks=ranks,
        special_tokens=special_tokens(len(ranks)),
    )


def write_tokenizer_pkl(path: str | Path, ranks: dict[bytes, int], name: str) -> bytes:
    """Write ``tokenizer.pkl`` exactly as upstream does (``pickle.dump`` of the Encoding)."""
    data = pickle.dumps(encoding(ranks, name), protocol=4)
    atomic_write(path, data)
    return data
