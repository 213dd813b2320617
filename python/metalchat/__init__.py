"""metalchat: tools that turn language models into bare-metal images for small boards.

The package holds the file formats (UF2, llama2.c, model manifests), reference models
and planners; the command-line tools under ``tools/`` are thin wrappers around it.
"""

from __future__ import annotations

import pkgutil

from metalchat.errors import MetalchatError

# Let generated protobuf modules (metalchat/proto/*_pb2.py) live in another source root,
# e.g. bazel-bin or a protoc output directory on PYTHONPATH, next to this source tree.
__path__ = pkgutil.extend_path(__path__, __name__)

__version__ = "0.1.0"

__all__ = ["MetalchatError", "__version__"]
