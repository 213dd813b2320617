"""model_container: a llama2.c model + tokenizer.bin -> a metalchat container (.mcm).

The action runs //tools/export (built for the exec platform). Its output depends only on the
inputs' bytes and the tool: the manifest's provenance holds sha256 of the inputs and the tool
version, no timestamps or paths. With `board`, the build fails with one line from the memory
planner when the model does not fit that board.
"""

_FORMATS = ["f32", "f16", "q8", "q4"]
_BOARDS = ["rpi4", "rpi4-1gb", "rpi4-2gb", "rpi4-8gb", "rpi0", "rp2350"]

def _model_container_impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + ".mcm")
    args = ctx.actions.args()
    args.add("llama2c")
    args.add(ctx.file.src)
    args.add("--tokenizer", ctx.file.tokenizer)
    args.add("--format", ctx.attr.format)
    args.add("--group-size", str(ctx.attr.group_size))
    args.add("--name", ctx.label.name)
    args.add("--quiet")
    if ctx.attr.board:
        args.add("--board", ctx.attr.board)
    args.add("-o", out)
    ctx.actions.run(
        executable = ctx.executable._export,
        arguments = [args],
        inputs = [ctx.file.src, ctx.file.tokenizer],
        outputs = [out],
        mnemonic = "ModelContainer",
        progress_message = "Exporting %s (%s) to %s" % (ctx.file.src.short_path, ctx.attr.format, out.short_path),
    )
    return [DefaultInfo(files = depset([out]), runfiles = ctx.runfiles([out]))]

model_container = rule(
    implementation = _model_container_impl,
    doc = "`<name>.mcm` from a llama2.c `.bin` (v0/v1/v2) and its `tokenizer.bin`; see docs/CONTAINER.md.",
    attrs = {
        "board": attr.string(default = "", values = [""] + _BOARDS, doc = "fail unless it fits this board"),
        "format": attr.string(mandatory = True, values = _FORMATS, doc = "matrix format"),
        "group_size": attr.int(default = 64, doc = "q8/q4 values per scale; divides every row"),
        "src": attr.label(allow_single_file = True, mandatory = True, doc = "llama2.c model .bin"),
        "tokenizer": attr.label(allow_single_file = True, mandatory = True, doc = "llama2.c tokenizer.bin"),
        "_export": attr.label(default = "//tools/export", executable = True, cfg = "exec"),
    },
)

def _nanochat_container_impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + "/model.mcm")
    models = [f for f in ctx.files.srcs if f.basename.startswith("model_") and f.basename.endswith(".pt")]
    if len(models) != 1:
        fail("%s: srcs must hold exactly one model_<step>.pt, found %d" % (ctx.label, len(models)))
    args = ctx.actions.args()
    args.add("nanochat")
    args.add(models[0].dirname)
    args.add("--format", ctx.attr.format)
    args.add("--group-size", str(ctx.attr.group_size))
    args.add("--chat-template", ctx.attr.chat_template)
    args.add("--name", ctx.attr.model_name or ctx.label.name)
    args.add("--quiet")
    args.add("-o", out)
    ctx.actions.run(
        executable = ctx.executable._export,
        arguments = [args],
        inputs = ctx.files.srcs,
        outputs = [out],
        mnemonic = "ModelContainer",
        progress_message = "Exporting nanochat %s (%s) to %s" % (models[0].short_path, ctx.attr.format, out.short_path),
    )
    return [DefaultInfo(files = depset([out]), runfiles = ctx.runfiles([out]))]

nanochat_container = rule(
    implementation = _nanochat_container_impl,
    doc = """`<name>/model.mcm` from a nanochat checkpoint folder (one `model_<step>.pt`, its
`meta_<step>.json` and `tokenizer.pkl`, all in one directory); a card's model folder
(tools/sdcard/defs.bzl). Reproducible like model_container.""",
    attrs = {
        "chat_template": attr.string(default = "none", values = ["none", "nanochat"], doc = "none: plain continuation (base models)"),
        "format": attr.string(default = "f32", values = _FORMATS, doc = "matrix format"),
        "group_size": attr.int(default = 64, doc = "q8/q4 values per scale; divides every row"),
        "model_name": attr.string(default = "", doc = "the manifest's name (default: the target's name)"),
        "srcs": attr.label_list(allow_files = True, mandatory = True, doc = "the checkpoint folder's files"),
        "_export": attr.label(default = "//tools/export", executable = True, cfg = "exec"),
    },
)
