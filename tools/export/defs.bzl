"""model_container / nanochat_container: a checkpoint + its model manifest -> a metalchat container (.mcm).

The manifest (`*.textproto`, python/metalchat/proto/model_manifest.proto) drives the export:
its name, chat template and `export { format group_size }` choose the container; it is
validated, and the checkpoint must match its parameters (one line names the field otherwise).
The action runs //tools/export (built for the exec platform). Its output depends only on the
inputs' bytes and the tool: the manifest's provenance holds sha256 of the inputs and the tool
version, no timestamps or paths. With `board`, the build fails with one line from the memory
planner when the model does not fit that board.
"""

_BOARDS = ["rpi4", "rpi4-1gb", "rpi4-2gb", "rpi4-8gb", "rpi0", "rp2350"]

def _model_container_impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + ".mcm")
    args = ctx.actions.args()
    args.add("llama2c")
    args.add(ctx.file.src)
    args.add("--tokenizer", ctx.file.tokenizer)
    args.add("--manifest", ctx.file.manifest)
    args.add("--quiet")
    if ctx.attr.board:
        args.add("--board", ctx.attr.board)
    args.add("-o", out)
    ctx.actions.run(
        executable = ctx.executable._export,
        arguments = [args],
        inputs = [ctx.file.src, ctx.file.tokenizer, ctx.file.manifest],
        outputs = [out],
        mnemonic = "ModelContainer",
        progress_message = "Exporting %s (%s) to %s" % (ctx.file.src.short_path, ctx.file.manifest.short_path, out.short_path),
    )
    return [DefaultInfo(files = depset([out]), runfiles = ctx.runfiles([out]))]

model_container = rule(
    implementation = _model_container_impl,
    doc = "`<name>.mcm` from a llama2.c `.bin` (v0/v1/v2), its `tokenizer.bin` and a manifest; see docs/CONTAINER.md.",
    attrs = {
        "board": attr.string(default = "", values = [""] + _BOARDS, doc = "fail unless it fits this board"),
        "manifest": attr.label(allow_single_file = [".textproto"], mandatory = True, doc = "model manifest: name, chat template, export format"),
        "src": attr.label(allow_single_file = True, mandatory = True, doc = "llama2.c model .bin"),
        "tokenizer": attr.label(allow_single_file = True, mandatory = True, doc = "llama2.c tokenizer.bin (a .bin does not carry one)"),
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
    args.add("--manifest", ctx.file.manifest)
    args.add("--quiet")
    args.add("-o", out)
    ctx.actions.run(
        executable = ctx.executable._export,
        arguments = [args],
        inputs = ctx.files.srcs + [ctx.file.manifest],
        outputs = [out],
        mnemonic = "ModelContainer",
        progress_message = "Exporting nanochat %s (%s) to %s" % (models[0].short_path, ctx.file.manifest.short_path, out.short_path),
    )
    return [DefaultInfo(files = depset([out]), runfiles = ctx.runfiles([out]))]

nanochat_container = rule(
    implementation = _nanochat_container_impl,
    doc = """`<name>/model.mcm` from a nanochat checkpoint folder (one `model_<step>.pt`, its
`meta_<step>.json` and `tokenizer.pkl`, all in one directory) and a manifest; a card's model
folder (tools/sdcard/defs.bzl). Reproducible like model_container.""",
    attrs = {
        "manifest": attr.label(allow_single_file = [".textproto"], mandatory = True, doc = "model manifest: name, chat template, export format"),
        "srcs": attr.label_list(allow_files = True, mandatory = True, doc = "the checkpoint folder's files"),
        "_export": attr.label(default = "//tools/export", executable = True, cfg = "exec"),
    },
)
