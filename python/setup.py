"""Build hook: compile the .proto schemas into *_pb2.py modules inside the built package.

Everything else about the package is declared in pyproject.toml.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class BuildWithProtos(build_py):
    def run(self) -> None:
        super().run()
        from grpc_tools import protoc  # build requirement, see pyproject.toml

        for proto in sorted((HERE / "metalchat" / "proto").glob("*.proto")):
            relative = proto.relative_to(HERE).as_posix()
            args = ["protoc", f"-I{HERE}", f"--python_out={self.build_lib}", relative]
            if protoc.main(args) != 0:
                raise SystemExit(f"protoc failed on {relative}")


setup(cmdclass={"build_py": BuildWithProtos})
