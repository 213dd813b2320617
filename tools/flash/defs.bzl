"""model_region: model containers linked into an MCU image's flash as its model region.

The action runs //tools/flash: the memory planner places every model (in place from flash, or
copied to SRAM at load; the KV cache and context sized to the SRAM left), prints the plan and
fails the build with one line when a model or the region does not fit the target. The result
is a cc_library holding the `.models` section (an `.incbin` of the bundles); an image links it
with its app (images/BUILD.bazel), and the board's linker script brackets it with
__models_start / __models_end (board_model_region).
"""

def _model_region_impl(ctx):
    blob = ctx.actions.declare_file(ctx.label.name + ".inc")
    asm = ctx.actions.declare_file(ctx.label.name + ".S")
    args = ctx.actions.args()
    args.add("--target", ctx.attr.target)
    inputs = []
    for model, name in ctx.attr.models.items():
        files = model.files.to_list()
        if len(files) != 1:
            fail("%s: %s must be one container (.mcm)" % (ctx.label, model.label))
        args.add("--model", "%s=%s" % (name, files[0].path))
        inputs.append(files[0])
    args.add("--bin", blob)
    args.add("--asm", asm)
    args.add("--asm-path", blob.path)
    ctx.actions.run(
        executable = ctx.executable._tool,
        arguments = [args],
        inputs = inputs,
        outputs = [blob, asm],
        mnemonic = "ModelRegion",
        progress_message = "Placing models in flash for %s (%s)" % (ctx.attr.target, blob.short_path),
    )
    return [
        DefaultInfo(files = depset([asm, blob])),
        OutputGroupInfo(asm = depset([asm]), blob = depset([blob])),
    ]

_model_region = rule(
    implementation = _model_region_impl,
    attrs = {
        "models": attr.label_keyed_string_dict(mandatory = True, allow_files = [".mcm"], doc = "container -> name shown in the menu"),
        "target": attr.string(mandatory = True, doc = "a metalchat.planner MCU target, e.g. rp2350-pico2"),
        "_tool": attr.label(default = "//tools/flash", executable = True, cfg = "exec"),
    },
)

def model_region(name, target, models, **kwargs):
    """`name`: a cc_library with the `.models` section; `name`_files: the region and its .S.

    Args:
      name: the library's name.
      target: the MCU target the plan and fit check are for (metalchat.planner.MCU_TARGETS).
      models: {container label: name in the menu}; one model boots straight into the chat,
        more give the menu.
      **kwargs: common attributes (visibility, tags, ...).
    """
    _model_region(name = name + "_files", target = target, models = models, **kwargs)
    for group in ["asm", "blob"]:
        native.filegroup(name = "%s_%s" % (name, group), srcs = [":%s_files" % name], output_group = group)
    native.cc_library(
        name = name,
        srcs = [":%s_asm" % name],
        textual_hdrs = [":%s_blob" % name],
        # Referenced by nothing but the linker script.
        alwayslink = True,
        **kwargs
    )
