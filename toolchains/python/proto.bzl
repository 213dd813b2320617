"""py_proto_library: Python code from .proto files with the pinned protoc of grpcio-tools.

Bazel 4.2.3's native proto rules would download protobuf; this rule needs nothing but the venv.
"""

def _py_proto_gen_impl(ctx):
    root = ctx.label.package
    if ctx.attr.strip_import_prefix:
        root = ctx.attr.strip_import_prefix.lstrip("/")
    outs = []
    for src in ctx.files.srcs:
        # protoc writes <bin>/<root>/<path below root>; declare that path relative to the package.
        out = root + "/" + src.short_path[len(root) + 1:-len(".proto")] + "_pb2.py"
        if not src.short_path.startswith(root + "/") or not out.startswith(ctx.label.package + "/"):
            fail("%s must be below both the import root %s and package %s" % (src.short_path, root, ctx.label.package))
        outs.append(ctx.actions.declare_file(out[len(ctx.label.package) + 1:]))
    out_root = ctx.bin_dir.path + "/" + root
    ctx.actions.run(
        executable = ctx.executable._protoc,
        arguments = ["--proto_path=" + root, "--python_out=" + out_root] + [src.path for src in ctx.files.srcs],
        inputs = ctx.files.srcs,
        outputs = outs,
        mnemonic = "Protoc",
        progress_message = "Generating Python code for %s" % ctx.label,
    )
    return [DefaultInfo(files = depset(outs))]

_py_proto_gen = rule(
    implementation = _py_proto_gen_impl,
    attrs = {
        "srcs": attr.label_list(allow_files = [".proto"], mandatory = True),
        "strip_import_prefix": attr.string(),
        "_protoc": attr.label(default = "@py_venv//:protoc", executable = True, cfg = "exec", allow_single_file = True),
    },
)

def py_proto_library(name, srcs, strip_import_prefix = "/python", deps = [], **kwargs):
    """A py_library of the `_pb2.py` modules generated from `srcs`.

    Args:
      name: target name.
      srcs: .proto files in this package.
      strip_import_prefix: the directory protoc treats as the import root ("/python" makes
        python/metalchat/proto/x.proto importable as metalchat/proto/x.proto).
      deps: other py_proto_library targets these import.
      **kwargs: passed to py_library.
    """
    _py_proto_gen(name = name + "_gen", srcs = srcs, strip_import_prefix = strip_import_prefix)
    native.py_library(name = name, srcs = [":" + name + "_gen"], deps = deps, **kwargs)
