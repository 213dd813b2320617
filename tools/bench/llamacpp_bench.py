"""Side-by-side benchmark (not a test): metalchat's engine_cli against llama.cpp on the same
llama2.c weights, prompt processing and decoding, paired runs.

llama.cpp is not part of this repository: it is built outside it from its public Python
package in a temporary venv (docs/BENCHMARKS.md has the commands), and this script runs with
that venv's Python and this repository's ``python/`` on PYTHONPATH:

    python3 -m venv /tmp/llamacpp
    CMAKE_ARGS=-DGGML_NATIVE=ON /tmp/llamacpp/bin/pip install llama-cpp-python==0.3.36 gguf numpy
    PYTHONPATH=python /tmp/llamacpp/bin/python tools/bench/llamacpp_bench.py \\
        --v0 stories110M_f32.bin --tokenizer tokenizer.bin --engine-cli engine_cli \\
        --ours f32=stories110M_f32.bin --ours q8=q8.mcm --ours q4=q4.mcm --work /tmp/gguf

For each format it writes the GGUF (F32 from the llama2.c v0 file; Q8_0 and Q4_0 quantized
from it by llama.cpp's own quantizer, groups of 32 like the containers given with --ours),
takes the prompt's token ids from engine_cli's greedy run (so both programs see the same ids),
then alternates the two programs ``--pairs`` times per thread count and prints prompt and
decode tokens/s of each run and the medians. engine_cli's figures are its own stats line;
llama.cpp's are timed around ``llama_decode`` (the prompt as one batch, then one token at a
time, greedy).
"""

from __future__ import annotations

import argparse
import ctypes
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from metalchat.formats import llama2c

# The Pi 4 bench's prompt (docs/BENCHMARKS.md): 176 tokens with the random models' tokenizers
PROMPT = (
    "Once upon a time there was a little girl named Lily. She loved to play outside in the "
    "park with her friends. One day she saw a big red ball under a tree and she ran to get it."
)

BOS = 1  # llama2.c's
# GGUF token types (llama.cpp's llama_token_type)
NORMAL, UNKNOWN, CONTROL, BYTE = 1, 2, 3, 6
# llama.cpp's llama_ftype values for the quantizer
FTYPES = {"q8": 7, "q4": 2}


def write_gguf(v0: Path, tokenizer: Path, out: Path) -> None:
    """The llama2.c v0 model as an F32 GGUF of llama.cpp's Llama architecture."""
    import gguf  # the temporary venv's package

    model = llama2c.read_model(v0)
    cfg = model.config
    tok = llama2c.read_tokenizer(tokenizer, cfg.vocab_size)
    w = gguf.GGUFWriter(str(out), "llama")
    w.add_context_length(cfg.seq_len)
    w.add_embedding_length(cfg.dim)
    w.add_block_count(cfg.n_layers)
    w.add_feed_forward_length(cfg.hidden_dim)
    w.add_rope_dimension_count(cfg.dim // cfg.n_heads)
    w.add_head_count(cfg.n_heads)
    w.add_head_count_kv(cfg.n_kv_heads)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_tokenizer_model("llama")
    # SentencePiece's word-boundary mark for llama.cpp's "llama" vocabulary (the ids are fed
    # directly, so this only has to load)
    pieces = [t.decode("utf-8", "replace").replace(" ", "\u2581") for t in tok.tokens]
    w.add_token_list(pieces)
    w.add_token_scores([float(s) for s in tok.scores])
    types = []
    for i, p in enumerate(tok.tokens):
        if i == 0:
            types.append(UNKNOWN)
        elif i < 3:
            types.append(CONTROL)
        elif re.fullmatch(rb"<0x[0-9A-F]{2}>", p):
            types.append(BYTE)
        else:
            types.append(NORMAL)
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    t = model.weights
    w.add_tensor("token_embd.weight", t["token_embedding"])
    names = {
        "rms_att": "attn_norm",
        "wq": "attn_q",
        "wk": "attn_k",
        "wv": "attn_v",
        "wo": "attn_output",
        "rms_ffn": "ffn_norm",
        "w1": "ffn_gate",
        "w2": "ffn_down",
        "w3": "ffn_up",
    }
    for layer in range(cfg.n_layers):
        for ours, theirs in names.items():
            w.add_tensor(f"blk.{layer}.{theirs}.weight", np.ascontiguousarray(t[ours][layer]))
    w.add_tensor("output_norm.weight", t["rms_final"])
    w.add_tensor("output.weight", t.get("wcls", t["token_embedding"]))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def quantize(src: Path, dst: Path, fmt: str) -> None:
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = FTYPES[fmt]
    params.nthread = 2
    if llama_cpp.llama_model_quantize(str(src).encode(), str(dst).encode(), ctypes.byref(params)):
        raise SystemExit(f"llama.cpp could not quantize {src} to {fmt}")


_QUIET = None


def quiet_llamacpp() -> None:
    """llama.cpp's log off (it prints every tensor and graph input)."""
    global _QUIET
    import llama_cpp

    if _QUIET is None:
        _QUIET = llama_cpp.llama_log_callback(lambda level, text, user: None)
        llama_cpp.llama_log_set(_QUIET, ctypes.c_void_p())


def run_llamacpp(
    path: Path, ids: list[int], steps: int, threads: int
) -> tuple[float, float, list[int]]:
    """Prompt tok/s, decode tok/s and the greedy ids of one llama.cpp run."""
    import llama_cpp

    quiet_llamacpp()
    mparams = llama_cpp.llama_model_default_params()
    model = llama_cpp.llama_model_load_from_file(str(path).encode(), mparams)
    cparams = llama_cpp.llama_context_default_params()
    cparams.n_ctx = len(ids) + steps + 8
    cparams.n_batch = cparams.n_ubatch = max(len(ids), 1)
    cparams.n_threads = cparams.n_threads_batch = threads
    ctx = llama_cpp.llama_init_from_model(model, cparams)
    vocab = llama_cpp.llama_model_get_vocab(model)
    n_vocab = llama_cpp.llama_vocab_n_tokens(vocab)
    arr = (llama_cpp.llama_token * len(ids))(*ids)
    t0 = time.perf_counter()
    if llama_cpp.llama_decode(ctx, llama_cpp.llama_batch_get_one(arr, len(ids))):
        raise SystemExit("llama.cpp failed on the prompt")
    t1 = time.perf_counter()
    out: list[int] = []
    one = (llama_cpp.llama_token * 1)()
    for _ in range(steps):
        logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(ctx, -1), shape=(n_vocab,))
        one[0] = int(np.argmax(logits))
        out.append(one[0])
        if llama_cpp.llama_decode(ctx, llama_cpp.llama_batch_get_one(one, 1)):
            raise SystemExit("llama.cpp failed while decoding")
    t2 = time.perf_counter()
    llama_cpp.llama_free(ctx)
    llama_cpp.llama_model_free(model)
    return len(ids) / (t1 - t0), steps / (t2 - t1), out


STATS = re.compile(
    r"prompt: (\d+) tokens in [\d.]+ s \(([\d.]+) tok/s\); generated: (\d+) tokens in [\d.]+ s "
    r"\(([\d.]+) tok/s\)"
)


def run_ours(
    cli: Path, model: Path, tokenizer: Path, prompt: str, positions: int, threads: int
) -> tuple[float, float, int, list[int]]:
    """Prompt tok/s, decode tok/s, prompt length (BOS included) and the ids after BOS of one
    engine_cli run of ``positions`` positions, the prompt's included."""
    cmd = [
        str(cli),
        str(model),
        "-z",
        str(tokenizer),
        "-n",
        str(positions),
        "-t",
        "0",
        "-i",
        prompt,
        "--ids",
        "--threads",
        str(threads),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    m = STATS.search(done.stderr)
    if not m:
        raise SystemExit(f"no stats line from engine_cli:\n{done.stderr}")
    ids = [int(x) for x in done.stdout.split()]
    return float(m[2]), float(m[4]), int(m[1]), ids


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--v0", type=Path, required=True, help="llama2.c v0 fp32 model (the weights)")
    p.add_argument("--tokenizer", type=Path, required=True, help="its tokenizer.bin")
    p.add_argument("--engine-cli", type=Path, required=True, help="engine_cli built -c opt")
    p.add_argument(
        "--ours",
        action="append",
        default=[],
        metavar="FMT=FILE",
        help="engine_cli's model for a format (f32, q8, q4); one per format run",
    )
    p.add_argument("--work", type=Path, required=True, help="folder for the GGUF files")
    p.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    p.add_argument("--positions", type=int, default=240, help="positions run, prompt included")
    p.add_argument("--pairs", type=int, default=3, help="runs of each program per setting")
    a = p.parse_args(argv)
    a.work.mkdir(parents=True, exist_ok=True)
    f32 = a.work / "model-f32.gguf"
    if not f32.exists():
        write_gguf(a.v0, a.tokenizer, f32)
    print("| format | threads | program | prompt tok/s | decode tok/s |")
    print("| --- | --- | --- | --- | --- |")
    for spec in a.ours:
        fmt, _, ours = spec.partition("=")
        gguf_path = f32 if fmt == "f32" else a.work / f"model-{fmt}.gguf"
        if not gguf_path.exists():
            quantize(f32, gguf_path, fmt)
        for threads in [int(t) for t in a.threads.split(",")]:
            rows: dict[str, list[tuple[float, float]]] = {"metalchat": [], "llama.cpp": []}
            for _ in range(a.pairs):
                pp, dd, n_prompt, ids = run_ours(
                    a.engine_cli, Path(ours), a.tokenizer, PROMPT, a.positions, threads
                )
                rows["metalchat"].append((pp, dd))
                # engine_cli counts BOS in the prompt and prints the ids after it
                prompt, ours_out = [BOS, *ids[: n_prompt - 1]], ids[n_prompt - 1 :]
                lp, ld, theirs = run_llamacpp(gguf_path, prompt, len(ours_out), threads)
                rows["llama.cpp"].append((lp, ld))
                same = next(
                    (i for i, (x, y) in enumerate(zip(ours_out, theirs, strict=False)) if x != y),
                    len(ours_out),
                )
                print(
                    f"  {fmt} t{threads}: ours {pp:.1f}/{dd:.1f}, llama.cpp {lp:.1f}/{ld:.1f}, "
                    f"greedy ids equal for the first {same}",
                    file=sys.stderr,
                )
            for prog, vals in rows.items():
                pm = statistics.median(v[0] for v in vals)
                dm = statistics.median(v[1] for v in vals)
                runs = ", ".join(f"{v[0]:.0f}/{v[1]:.0f}" for v in vals)
                print(f"| {fmt} | {threads} | {prog} | {pm:.1f} | {dm:.1f} ({runs}) |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
