"""llama2.c, nanochat, Hugging Face and GGUF models to metalchat containers (and InferPi
files); see ``export --help``.

Bazel: ``bazel run //tools/export -- llama2c m.bin --tokenizer tokenizer.bin --format q8 -o m.mcm``
"""

from __future__ import annotations

from metalchat.cli import run
from metalchat.cli.export import main

if __name__ == "__main__":
    raise SystemExit(run(main))
