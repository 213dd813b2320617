"""Containers written by the Python writer (//engines/testdata test models) read by the C reader:
the same tensors, names, formats, shapes, and every value equal to Python's dequantization."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from metalchat.formats import container

TOOL = Path(os.environ.get("CONTAINER_TOOL", "engines/container/container_tool"))
FILES = sorted(Path("engines/testdata").glob("*.mcm"))
CODES = {"f32": 1, "f16": 2, "q8": 3, "q4": 4}


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_tensors_read_back(path: Path, tmp_path: Path) -> None:
    model = container.parse(path.read_bytes(), path)
    out = tmp_path / "values.f32"
    done = subprocess.run([str(TOOL), str(path), str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "EM_OK ok"
    values = np.fromfile(out, dtype=np.float32)
    at = 0
    assert len(lines) - 1 == len(model.tensors)
    for line, (name, t) in zip(lines[1:], model.tensors.items(), strict=True):
        fields = line.split()
        shape = tuple(int(d) for d in fields[4 : 4 + int(fields[3])])
        assert (fields[0], int(fields[1]), shape) == (name, CODES[t.fmt], t.shape)
        want = t.dequantize().reshape(-1)
        got = values[at : at + want.size]
        assert np.array_equal(got, want), name
        at += want.size
    assert at == values.size


def test_not_a_container(tmp_path: Path) -> None:
    bad = tmp_path / "x.mcm"
    bad.write_bytes(b"GGUF" + bytes(300))
    done = subprocess.run([str(TOOL), str(bad)], capture_output=True, text=True)
    assert done.returncode == 1 and done.stdout.startswith("EM_ERR_MAGIC")


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))
