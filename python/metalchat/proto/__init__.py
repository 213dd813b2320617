"""Protocol buffer schemas. ``*_pb2.py`` modules are generated (by Bazel's
``py_proto_library`` or by hand with grpc_tools.protoc) and are never committed; they may
sit in another directory on ``sys.path`` with the same ``metalchat/proto/`` layout."""

from __future__ import annotations

import pkgutil

__path__ = pkgutil.extend_path(__path__, __name__)
