"""nanochat's byte-level BPE in C (engines/tokenizer/bpe_tokenizer.c, driven through
`encode --bpe` on its tokenizer payload) against Python on a corpus.

The Python side splits with nanochat's pattern written for `re` (Python 3.11 has the
possessive quantifiers; ``\\p{L}``, ``\\p{N}`` and ``\\s`` spelled out from unicodedata, as
the C tables are) and merges as tiktoken does (lowest rank first, leftmost on ties). With
the torch extra's `tiktoken` installed (`--config=torch`), tiktoken itself is compared too.
Ranks are trained here on the corpus, so most merges are real words.
"""

from __future__ import annotations

import collections
import itertools
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from metalchat import testmodels
from metalchat.formats.container import nanochat_tokenizer_payload

ENCODE = Path(os.environ.get("ENCODE", "engines/tokenizer/encode"))
CORPORA = [
    Path("engines/tokenizer/testdata/tokenizer_corpus.txt"),
    Path("engines/tokenizer/testdata/bpe_edge_cases.txt"),
]


def _class(prefix: str) -> str:
    out, start, prev = [], None, None
    for cp in range(0x110000):
        if unicodedata.category(chr(cp)).startswith(prefix):
            if start is None:
                start = cp
            prev = cp
        elif start is not None:
            out.append(f"{re.escape(chr(start))}-{re.escape(chr(prev))}")
            start = None
    return "".join(out)


L, N = _class("L"), _class("N")
S = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"


def split_pattern(digits: int) -> re.Pattern[str]:
    return re.compile(
        rf"""'(?i:[sdmt]|ll|ve|re)|[^\r\n{L}{N}]?+[{L}]+|[{N}]{{1,{digits}}}"""
        rf"""| ?[^{S}{L}{N}]++[\r\n]*|[{S}]*[\r\n]|[{S}]+(?![^{S}])|[{S}]+"""
    )


SPLIT = split_pattern(2)


def train(texts: list[str], n_ranks: int) -> list[bytes]:
    counts = collections.Counter(c.encode() for t in texts for c in SPLIT.findall(t))
    chunks = {tuple(bytes([b]) for b in c): n for c, n in counts.items()}
    ranked = [bytes([b]) for b in range(256)]
    known = set(ranked)
    while len(ranked) < n_ranks:
        pairs: collections.Counter[tuple[bytes, bytes]] = collections.Counter()
        for parts, n in chunks.items():
            for pair in itertools.pairwise(parts):
                pairs[pair] += n
        if not pairs:
            break
        best = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))[0]
        joined = best[0] + best[1]
        if joined not in known:
            known.add(joined)
            ranked.append(joined)
        merged = {}
        for parts, n in chunks.items():
            out, i = [], 0
            while i < len(parts):
                if i + 1 < len(parts) and (parts[i], parts[i + 1]) == best:
                    out.append(joined)
                    i += 2
                else:
                    out.append(parts[i])
                    i += 1
            merged[tuple(out)] = merged.get(tuple(out), 0) + n
        chunks = merged
    return ranked


def encode(text: str, ranks: dict[bytes, int]) -> list[int]:
    """tiktoken's encode_ordinary: whole-chunk lookup, else lowest-rank merges."""
    ids: list[int] = []
    for chunk in SPLIT.findall(text):
        raw = chunk.encode()
        if raw in ranks:
            ids.append(ranks[raw])
            continue
        parts = [bytes([b]) for b in raw]
        while True:
            best = None
            for i in range(len(parts) - 1):
                r = ranks.get(parts[i] + parts[i + 1])
                if r is not None and (best is None or r < best[0]):
                    best = (r, i)
            if best is None:
                break
            i = best[1]
            parts[i : i + 2] = [parts[i] + parts[i + 1]]
        ids.extend(ranks[p] for p in parts)
    return ids


def documents() -> list[str]:
    docs = []
    for path in CORPORA:
        text = path.read_text(encoding="utf-8").replace("\\u0301", "\u0301")
        text = text.replace("\\u00ad", "\u00ad")
        docs.append(text)  # the whole file: runs of newlines and spaces across lines
        docs += [line for line in text.split("\n") if line]
        docs += [text[i : i + 37] for i in range(0, len(text), 37)]  # cut mid-word
    return docs


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[bytes, int], list[str]]:
    tmp = tmp_path_factory.mktemp("bpe")
    docs = documents()
    ranked = train(docs[:2], 256 + 700)
    ranks = {t: i for i, t in enumerate(ranked)}
    specials = [(len(ranked) + i, s) for i, s in enumerate(testmodels.SPECIALS)]
    path = tmp / "tok.bin"
    path.write_bytes(nanochat_tokenizer_payload(ranked, testmodels.SPLIT_PATTERN, specials))
    return path, ranks, docs


def c_encode(payload: Path, vocab: int, docs: list[str], tmp: Path) -> list[list[int]]:
    text = tmp / "docs.txt"
    text.write_bytes(b"\0".join(d.encode() for d in docs))
    done = subprocess.run(
        [str(ENCODE), "--bpe", str(payload), str(vocab), str(text)],
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    lines = done.stdout.decode().split("\n")[: len(docs)]
    return [[int(x) for x in line.split()] for line in lines]


def test_c_matches_python(setup: tuple[Path, dict[bytes, int], list[str]], tmp_path: Path) -> None:
    model, ranks, docs = setup
    got = c_encode(model, len(ranks) + len(testmodels.SPECIALS), docs, tmp_path)
    by_id = {i: t for t, i in ranks.items()}
    mismatches = [d for d, ids in zip(docs, got, strict=True) if ids != encode(d, ranks)]
    total = sum(len(ids) for ids in got)
    print(f"{len(docs)} documents, {total} tokens, {len(mismatches)} mismatches")
    assert not mismatches, repr(mismatches[:3])
    for d, ids in zip(docs, got, strict=True):  # lossless
        assert b"".join(by_id[i] for i in ids) == d.encode()


def test_python_split_is_tiktoken(setup: tuple[Path, dict[bytes, int], list[str]]) -> None:
    tiktoken = pytest.importorskip("tiktoken", reason="tiktoken is in the torch extra only")
    _, ranks, docs = setup
    enc = tiktoken.Encoding(
        name="t", pat_str=testmodels.SPLIT_PATTERN, mergeable_ranks=ranks, special_tokens={}
    )
    for d in docs:
        assert enc.encode_ordinary(d) == encode(d, ranks), d


def test_unicode_tables_are_generated() -> None:
    sys.path.insert(0, "engines/tokenizer")
    import unicode_gen

    committed = Path("engines/tokenizer/unicode_tables.c").read_text(encoding="utf-8")
    assert committed == unicode_gen.render(), "run engines/tokenizer/unicode_gen.py"


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q", "-s"]))
