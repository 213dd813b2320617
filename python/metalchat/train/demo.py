"""The committed demo models: train, save, describe (manifest + README) and sample them.

``models/tinyllama-kjv/``
    ``model.bin`` (llama2.c legacy v0, float32), ``tokenizer.bin`` (llama2.c),
    ``tokenizer.model`` (the SentencePiece model it came from), ``manifest.textproto``,
    ``greedy.json`` (the numpy reference's greedy ids from BOS), ``README.md``.
``models/tinynanochat-kjv/``
    ``model_<step:06d>.pt`` + ``meta_<step:06d>.json`` (nanochat's checkpoint layout),
    ``tokenizer.pkl`` (nanochat's tiktoken pickle), ``manifest.textproto``, ``greedy.json``,
    ``README.md``.
``models/kjv-words.txt``
    every distinct lower-cased word of the corpus, one per line: the tests check that
    what the models generate is made of these words.

Training functions need torch (the torch extra); sampling and describing do not.
"""

from __future__ import annotations

import hashlib
import json
import shlex
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

import metalchat
from metalchat.config import LlamaConfig
from metalchat.errors import MetalchatError
from metalchat.fileio import atomic_write, read_bytes
from metalchat.formats import llama2c, nanochat_ckpt
from metalchat.reference import llama as ref_llama
from metalchat.reference.nanochat import NanochatConfig, NanochatReference
from metalchat.train import corpus, spm

GREEDY_STEPS = 96  # positions generated for greedy.json and the README sample
LLAMA_CONFIG = LlamaConfig(
    dim=128, hidden_dim=384, n_layers=5, n_heads=4, n_kv_heads=2, vocab_size=1024, seq_len=256
)
NANOCHAT_CONFIG = NanochatConfig(
    sequence_len=256, vocab_size=1024, n_layer=4, n_head=4, n_kv_head=2, n_embd=128
)


@dataclass(frozen=True)
class Greedy:
    prompt: list[int]
    ids: list[int]
    text: str


# ---------------------------------------------------------------------------------------
# sampling with the numpy reference models (no torch)


def llama_greedy(folder: str | Path, steps: int = GREEDY_STEPS) -> Greedy:
    """Greedy generation from BOS with :class:`~metalchat.reference.llama.LlamaReference`,
    as llama2.c's ``run model.bin -t 0 -n steps`` (stops at BOS)."""
    folder = Path(folder)
    model = llama2c.read_model(folder / "model.bin")
    tokenizer = llama2c.read_tokenizer(folder / "tokenizer.bin", model.config.vocab_size)
    ids = ref_llama.greedy(ref_llama.LlamaReference(model), steps, bos=spm.BOS_ID)
    return Greedy([spm.BOS_ID], ids, spm.decode_llama2c(tokenizer, ids))


def nanochat_generate(
    model: NanochatReference, prompt: list[int], steps: int, stop: int | None
) -> list[int]:
    """Greedy ids after ``prompt`` (excluded), ``steps`` positions in all, stopping at
    ``stop`` (nanochat's ``<|bos|>`` starts the next document)."""
    model.reset()
    out: list[int] = []
    token = prompt[0]
    for pos in range(min(steps, model.config.sequence_len)):
        logits = model.forward(token, pos)
        if pos < len(prompt) - 1:
            token = prompt[pos + 1]
            continue
        token = int(np.argmax(logits))
        if token == stop:
            break
        out.append(token)
    return out


def nanochat_greedy(folder: str | Path, steps: int = GREEDY_STEPS) -> Greedy:
    """Greedy generation from ``<|bos|>`` with the numpy nanochat reference."""
    folder = Path(folder)
    checkpoint = nanochat_ckpt.read_checkpoint(folder)
    tokenizer = nanochat_ckpt.read_tokenizer(folder / "tokenizer.pkl")
    bos = tokenizer.token_id("<|bos|>")
    ids = nanochat_generate(
        NanochatReference(checkpoint.config, checkpoint.weights), [bos], steps, bos
    )
    table = tokenizer.tokens()
    text = b"".join(table[i] for i in ids).decode("utf-8", errors="replace")
    return Greedy([bos], ids, text)


def word_fraction(text: str, vocabulary: set[str]) -> tuple[float, int]:
    """(share of the words of ``text`` found in ``vocabulary``, number of words)."""
    found = corpus.words(text)
    if not found:
        return 0.0, 0
    return sum(w in vocabulary for w in found) / len(found), len(found)


def read_word_list(path: str | Path) -> set[str]:
    return set(read_bytes(path).decode("ascii").split())


def write_word_list(path: str | Path, docs: list[corpus.Chapter]) -> int:
    words = corpus.word_list(docs)
    atomic_write(path, ("\n".join(words) + "\n").encode("ascii"))
    return len(words)


# ---------------------------------------------------------------------------------------
# manifests and READMEs


def _sha256(path: Path) -> str:
    return hashlib.sha256(read_bytes(path)).hexdigest()


def _provenance(pb: Any, command: str) -> Any:
    sources = [
        pb.SourceFile(path=corpus.deb_file_name(name), sha256=digest)
        for name, (_v, _a, digest) in corpus.KJV_DEBS.items()
    ]
    sources.append(
        pb.SourceFile(path="kjv.txt", sha256=corpus.KJV_TEXT_SHA256, size=corpus.KJV_TEXT_SIZE)
    )
    return pb.Provenance(
        sources=sources,
        tool="metalchat train",
        tool_version=metalchat.__version__,
        command=command,
        license="weights: MIT (trained by metalchat); training text: public domain (KJV)",
    )


def llama_manifest(folder: Path, name: str, command: str, description: str) -> str:
    from metalchat.manifest import pb, to_text, validate

    model = llama2c.read_model(folder / "model.bin")
    tokenizer = llama2c.read_tokenizer(folder / "tokenizer.bin", model.config.vocab_size)
    c = model.config
    m = pb.ModelManifest(name=name, description=description, architecture=pb.LLAMA)
    m.llama.CopyFrom(
        pb.LlamaParams(
            dim=c.dim,
            hidden_dim=c.hidden_dim,
            n_layers=c.n_layers,
            n_heads=c.n_heads,
            n_kv_heads=c.n_kv_heads,
            vocab_size=c.vocab_size,
            seq_len=c.seq_len,
            rope_theta=c.rope_theta,
            norm_eps=c.norm_eps,
            shared_classifier=c.shared_classifier,
            rope_layout=pb.ROPE_INTERLEAVED,
        )
    )
    data = read_bytes(folder / "model.bin")
    m.weights_file = "model.bin"
    m.weights_size = len(data)
    m.weights_sha256 = hashlib.sha256(data).hexdigest()
    import zlib

    offset = 28  # v0: the 7-int header
    shapes = c.tensor_shapes(freq_cis=True)
    for tensor in llama2c.V0_ORDER:
        if tensor not in shapes:
            continue
        size = 4 * int(np.prod(shapes[tensor]))
        m.tensors.add(
            name=tensor,
            shape=list(shapes[tensor]),
            format=pb.F32,
            offset=offset,
            size=size,
            crc32=zlib.crc32(data[offset : offset + size]),
        )
        offset += size
    m.tokenizer.CopyFrom(
        pb.Tokenizer(
            kind=pb.LLAMA2C_BPE,
            vocab_size=tokenizer.vocab_size,
            bos_id=spm.BOS_ID,
            eos_id=spm.EOS_ID,
            file="tokenizer.bin",
            sha256=_sha256(folder / "tokenizer.bin"),
            max_token_length=tokenizer.max_token_length,
        )
    )
    m.chat_template.kind = pb.CHAT_TEMPLATE_NONE
    m.provenance.CopyFrom(_provenance(pb, command))
    m.export.CopyFrom(pb.ExportOptions(format=pb.Q8, group_size=64))  # //models:*_q8
    validate(m)
    return _HEADER + to_text(m)


def nanochat_manifest(folder: Path, name: str, command: str, description: str) -> str:
    from metalchat.manifest import pb, to_text, validate

    checkpoint = nanochat_ckpt.read_checkpoint(folder)
    tokenizer = nanochat_ckpt.read_tokenizer(folder / "tokenizer.pkl")
    c = checkpoint.config
    weights = folder / f"model_{checkpoint.step:06d}.pt"
    m = pb.ModelManifest(name=name, description=description, architecture=pb.NANOCHAT)
    m.nanochat.CopyFrom(
        pb.NanochatParams(
            n_embd=c.n_embd,
            n_layer=c.n_layer,
            n_head=c.n_head,
            n_kv_head=c.n_kv_head,
            vocab_size=c.vocab_size,
            padded_vocab_size=c.padded_vocab_size,
            sequence_len=c.sequence_len,
            window_pattern=c.window_pattern,
            short_window=c.short_window,
            softcap=c.softcap,
            rope_theta=c.rope_theta,
            qk_scale=c.qk_scale,
            mlp_ratio=c.mlp_ratio,
            smear_channels=c.smear_channels,
            value_embed_gate_channels=c.value_embed_gate_channels,
            value_embed_scale=c.value_embed_scale,
            value_embed_layers=c.value_embed_layers,
            backout_layer=c.backout_layer,
            norm_eps=c.norm_eps,
            rope_layout=pb.ROPE_HALF_SPLIT,
        )
    )
    m.weights_file = weights.name
    m.weights_size = weights.stat().st_size
    m.weights_sha256 = _sha256(weights)
    bos = tokenizer.token_id("<|bos|>")
    m.tokenizer.CopyFrom(
        pb.Tokenizer(
            kind=pb.NANOCHAT_BPE,
            vocab_size=tokenizer.vocab_size,
            bos_id=bos,
            eos_id=bos,  # a base model: <|bos|> separates documents
            special_tokens=[
                pb.SpecialToken(text=t, id=i) for t, i in tokenizer.special_tokens.items()
            ],
            file="tokenizer.pkl",
            sha256=_sha256(folder / "tokenizer.pkl"),
            max_token_length=max(len(t) for t in tokenizer.ranks),
        )
    )
    m.chat_template.kind = pb.CHAT_TEMPLATE_NONE
    m.provenance.CopyFrom(_provenance(pb, command))
    m.export.format = pb.F32  # //models:tinynanochat-kjv_card
    validate(m)
    return _HEADER + to_text(m)


_HEADER = """\
# proto-file: metalchat/proto/model_manifest.proto
# proto-message: metalchat.ModelManifest
#
# Written by `bazel run --config=torch //tools/train` (metalchat.train.demo); see README.md.

"""


def write_greedy(folder: Path, greedy: Greedy) -> None:
    record = {
        "what": "greedy ids from the numpy reference model, prompt = BOS",
        "steps": GREEDY_STEPS,
        "prompt": greedy.prompt,
        "ids": greedy.ids,
        "text": greedy.text,
    }
    atomic_write(folder / "greedy.json", (json.dumps(record, indent=1) + "\n").encode())


def _files_table(folder: Path, names: list[str]) -> str:
    rows = ["| file | bytes | sha256 |", "| --- | --- | --- |"]
    for n in names:
        p = folder / n
        rows.append(f"| `{n}` | {p.stat().st_size} | `{_sha256(p)}` |")
    return "\n".join(rows)


def readme(
    folder: Path,
    *,
    title: str,
    intro: str,
    files: list[str],
    config: dict[str, Any],
    train: dict[str, Any],
    command: str,
    greedy: Greedy,
) -> str:
    debs = "\n".join(
        f"| `{n}` | {v} | `{corpus.deb_file_name(n)}` | `{d}` |"
        for n, (v, _a, d) in corpus.KJV_DEBS.items()
    )
    sample = greedy.text.replace("\n", "\n> ")
    return f"""# {title}

{intro}

## Files

{_files_table(folder, files)}

## Model

```json
{json.dumps(config, indent=1)}
```

## Training

Corpus: the King James Bible (1611; public domain), as Debian 12 ships it:

| package | version | file | sha256 |
| --- | --- | --- | --- |
{debs}

`bazel run //tools/train:fetch_corpus` downloads both with `apt-get download`, checks the
hashes, and prints the text with the package's own `bible -f {corpus.KJV_RANGE}` into
`kjv.txt` ({corpus.KJV_TEXT_SIZE} bytes, sha256 `{corpus.KJV_TEXT_SHA256}`). One document
per chapter (verses joined by newlines, references dropped); every {corpus.VAL_EVERY}th
chapter is held out for validation.

Command (torch 2.13.0 CPU, the torch extra), from the repository root:

```sh
{command}
```

```json
{json.dumps(train, indent=1)}
```

## Greedy sample

The numpy reference model (`metalchat.reference`) reading the committed files, greedy from
BOS for {GREEDY_STEPS} positions (ids in `greedy.json`;
`bazel run //tools/train -- sample models/{folder.name}` prints it again):

> {sample}
"""


# ---------------------------------------------------------------------------------------
# training (torch)


def _stream(docs: list[str], encode, bos: int) -> np.ndarray:
    out: list[int] = []
    for text in docs:
        out.append(bos)
        out.extend(encode(text))
    return np.asarray(out, dtype=np.uint16)


def _command(argv: list[str]) -> str:
    return "bazel run --config=torch //tools/train -- " + shlex.join(argv)


def build_llama(
    text: str,
    out: Path,
    loop_config: Any,
    argv: list[str],
    config: LlamaConfig = LLAMA_CONFIG,
    progress: bool = True,
) -> dict[str, Any]:
    """Train the Llama demo on ``text`` (the KJV) and write ``out``; returns the summary."""
    import torch

    from metalchat.train import loop
    from metalchat.train.torch_llama import TorchLlama

    if loop_config.seq_len != config.seq_len:
        raise MetalchatError(f"seq_len {loop_config.seq_len} differs from the model's")
    train_docs, val_docs = corpus.split(corpus.chapters(text))
    sentences = [verse for d in train_docs for verse in d.text.split("\n")]
    sp_model = spm.train_sentencepiece(sentences, config.vocab_size)
    sp = spm.processor(sp_model)
    train_ids = _stream([d.text for d in train_docs], sp.encode, spm.BOS_ID)
    val_ids = _stream([d.text for d in val_docs], sp.encode, spm.BOS_ID)

    loop.setup_torch(loop_config.seed, loop_config.threads)
    model = TorchLlama(config)
    model.init_weights()
    result = loop.train(model, train_ids, val_ids, loop_config, progress=progress)

    out.mkdir(parents=True, exist_ok=True)
    weights = model.llama2c_weights()
    llama2c.write_model(out / "model.bin", llama2c.Llama2cModel(config, weights), 0)
    llama2c.write_tokenizer(out / "tokenizer.bin", spm.llama2c_tokenizer(sp_model))
    atomic_write(out / "tokenizer.model", sp_model)
    summary = {
        "seed": loop_config.seed,
        "torch": torch.__version__,
        "threads": loop_config.threads,
        "train_tokens": len(train_ids),
        "val_tokens": len(val_ids),
        "loop": asdict(loop_config),
        "train_loss": round(result.train_loss, 4),
        "val_loss": round(result.val_loss, 4),
        "val_history": [[s, round(v, 4)] for s, v in result.history],
        "seconds": round(result.seconds),
    }
    command = _command(argv)
    greedy = llama_greedy(out)
    write_greedy(out, greedy)
    description = "Tiny llama2.c-style Llama trained by metalchat on the King James Bible"
    atomic_write(
        out / "manifest.textproto",
        llama_manifest(out, out.name, command, description).encode(),
    )
    files = ["model.bin", "tokenizer.bin", "tokenizer.model", "manifest.textproto"]
    intro = (
        f"{description}: a demo that boots without downloading any weights. llama2.c's "
        "legacy (v0) float32 `model.bin` and its `tokenizer.bin` (SentencePiece BPE, byte "
        "fallback), so llama2.c's own `run` reads it too. Not a chat model: it continues "
        "text in the style of the KJV."
    )
    cfg = {k: v for k, v in asdict(config).items()}
    cfg["parameters"] = config.parameter_count()
    atomic_write(
        out / "README.md",
        readme(
            out,
            title=out.name,
            intro=intro,
            files=files,
            config=cfg,
            train=summary,
            command=command,
            greedy=greedy,
        ).encode(),
    )
    summary["greedy"] = greedy.text
    return summary


def build_nanochat(
    text: str,
    out: Path,
    loop_config: Any,
    argv: list[str],
    config: NanochatConfig = NANOCHAT_CONFIG,
    progress: bool = True,
) -> dict[str, Any]:
    """Train the nanochat demo on ``text`` and write ``out``; returns the summary."""
    import torch

    from metalchat.train import bpe, loop
    from metalchat.train.torch_nanochat import TorchNanochat

    if loop_config.seq_len != config.sequence_len:
        raise MetalchatError(f"seq_len {loop_config.seq_len} differs from the model's")
    train_docs, val_docs = corpus.split(corpus.chapters(text))
    n_ranks = config.vocab_size - len(bpe.SPECIAL_TOKENS)
    ranks = bpe.train_bpe((d.text for d in train_docs), n_ranks)
    enc = bpe.encoding(ranks, "kjv")
    bos = enc.encode_single_token(bpe.BOS)
    train_ids = _stream([d.text for d in train_docs], enc.encode_ordinary, bos)
    val_ids = _stream([d.text for d in val_docs], enc.encode_ordinary, bos)

    loop.setup_torch(loop_config.seed, loop_config.threads)
    model = TorchNanochat(config)
    model.init_weights()
    result = loop.train(model, train_ids, val_ids, loop_config, progress=progress)

    out.mkdir(parents=True, exist_ok=True)
    for old in [*out.glob("model_*.pt"), *out.glob("meta_*.json")]:
        old.unlink()
    step = loop_config.steps
    model_file = out / f"model_{step:06d}.pt"
    tmp = out / f".model_{step:06d}.pt.tmp"
    state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    torch.save(state, tmp)
    tmp.replace(model_file)
    summary = {
        "seed": loop_config.seed,
        "torch": torch.__version__,
        "threads": loop_config.threads,
        "train_tokens": len(train_ids),
        "val_tokens": len(val_ids),
        "loop": asdict(loop_config),
        "train_loss": round(result.train_loss, 4),
        "val_loss": round(result.val_loss, 4),
        "val_history": [[s, round(v, 4)] for s, v in result.history],
        "seconds": round(result.seconds),
    }
    model_config = {
        "sequence_len": config.sequence_len,
        "vocab_size": config.vocab_size,
        "n_layer": config.n_layer,
        "n_head": config.n_head,
        "n_kv_head": config.n_kv_head,
        "n_embd": config.n_embd,
        "window_pattern": config.window_pattern,
    }
    meta = {"step": step, "model_config": model_config, "val_loss": summary["val_loss"]}
    atomic_write(out / f"meta_{step:06d}.json", (json.dumps(meta, indent=1) + "\n").encode())
    bpe.write_tokenizer_pkl(out / "tokenizer.pkl", ranks, "kjv")

    command = _command(argv)
    greedy = nanochat_greedy(out)
    write_greedy(out, greedy)
    description = "Tiny nanochat GPT trained by metalchat on the King James Bible"
    atomic_write(
        out / "manifest.textproto",
        nanochat_manifest(out, out.name, command, description).encode(),
    )
    files = [model_file.name, f"meta_{step:06d}.json", "tokenizer.pkl", "manifest.textproto"]
    intro = (
        f"{description}: a demo that boots without downloading any weights. nanochat's own "
        "checkpoint layout (`model_<step>.pt` state dict under upstream's tensor names, "
        "`meta_<step>.json`) and its `tokenizer.pkl` (a pickled tiktoken byte-level BPE "
        "with upstream's split pattern and nine special tokens). A base model, not chat-tuned: "
        "it continues text in the style of the KJV."
    )
    cfg = dict(model_config)
    cfg["padded_vocab_size"] = config.padded_vocab_size
    cfg["window_sizes"] = config.window_sizes()
    cfg["value_embed_layers"] = config.value_embed_layers
    cfg["parameters"] = sum(int(np.prod(s)) for s in config.tensor_shapes().values())
    atomic_write(
        out / "README.md",
        readme(
            out,
            title=out.name,
            intro=intro,
            files=files,
            config=cfg,
            train=summary,
            command=command,
            greedy=greedy,
        ).encode(),
    )
    summary["greedy"] = greedy.text
    return summary
