"""SD-card images and RAM bundles for the Pi 4 chat image, as build actions (tools/sdcard)."""

# The files of a model folder that go onto a card (apps/chat/model_store.h: the layouts).
MODEL_FILES = ["model.bin", "tokenizer.bin", "chat.txt"]

# ... and a container folder's (model.mcm carries its tokenizer).
CARD_FILES = MODEL_FILES + ["model.mcm"]

def _model_files(target, container_ok = True):
    """{basename: File} of the model folder files among target's outputs."""
    found = {}
    for f in target[DefaultInfo].files.to_list():
        if f.basename in CARD_FILES:
            if f.basename in found:
                fail("%s has two %s files" % (target.label, f.basename))
            found[f.basename] = f
    if container_ok and "model.mcm" in found:
        return found  # a container carries its tokenizer
    for required in ["model.bin", "tokenizer.bin"]:
        if required not in found:
            fail("%s has no %s%s" % (target.label, required, " (nor a model.mcm)" if container_ok else ""))
    return found

def _sdcard_image_impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + ".img")
    kernel = ctx.file.kernel
    args = ctx.actions.args()
    args.add("card")
    args.add("-o", out)
    args.add("--board", ctx.attr.board)
    inputs = []
    if kernel:
        args.add("--file", "%s=%s" % (ctx.attr.kernel_name, kernel.path))
        inputs.append(kernel)
    for target, folder in ctx.attr.models.items():
        for name, f in sorted(_model_files(target).items()):
            args.add("--file", "%s/%s=%s" % (folder, name, f.path))
            inputs.append(f)
    if ctx.file.bundle:
        args.add("--bundle", ctx.file.bundle)
        inputs.append(ctx.file.bundle)
    ctx.actions.run(
        executable = ctx.executable._tool,
        arguments = [args],
        inputs = inputs,
        outputs = [out],
        mnemonic = "SdCard",
        use_default_shell_env = True,  # PATH for mkfs.fat and mtools
        progress_message = "Writing SD card image %s" % out.short_path,
    )
    return [DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out]))]

sdcard_image = rule(
    implementation = _sdcard_image_impl,
    doc = """A FAT32 card image (<name>.img, power-of-two size): config.txt, kernel8.img (or kernel.img), one
folder per model (model.bin + tokenizer.bin, or model.mcm; chat.txt), and optionally a RAM bundle with the
config.txt line that loads it at boot. Same inputs, same bytes.""",
    attrs = {
        "board": attr.string(
            default = "rpi4",
            doc = "the build fails, in one line, when a model cannot be loaded whole on it",
        ),
        "bundle": attr.label(allow_single_file = True, doc = "a ram_bundle to boot into"),
        "kernel": attr.label(
            allow_single_file = True,
            doc = "the raw image; none for a USB stick of models (the image boots from elsewhere)",
        ),
        "kernel_name": attr.string(
            default = "kernel8.img",
            values = ["kernel8.img", "kernel.img"],
            doc = "its name on the card: kernel8.img (Pi 4, Pi 3), kernel.img (Pi Zero, 32-bit)",
        ),
        "models": attr.label_keyed_string_dict(
            doc = "model folder target -> folder name on the card",
        ),
        "_tool": attr.label(default = "//tools/sdcard", executable = True, cfg = "exec"),
    },
)

def _ram_bundle_impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + ".bin")
    files = _model_files(ctx.attr.model, container_ok = False)
    args = ctx.actions.args()
    args.add("bundle")
    args.add("-o", out)
    args.add("--model", files["model.bin"])
    args.add("--tokenizer", files["tokenizer.bin"])
    args.add("--name", ctx.attr.model_name)
    if "chat.txt" in files:
        args.add("--chat-txt", files["chat.txt"])
    ctx.actions.run(
        executable = ctx.executable._tool,
        arguments = [args],
        inputs = files.values(),
        outputs = [out],
        mnemonic = "RamBundle",
        use_default_shell_env = True,
        progress_message = "Writing RAM bundle %s" % out.short_path,
    )
    return [DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out]))]

ram_bundle = rule(
    implementation = _ram_bundle_impl,
    doc = "A RAM bundle (<name>.bin, apps/chat/bundle.h) of one model folder.",
    attrs = {
        "model": attr.label(mandatory = True, doc = "model folder target"),
        "model_name": attr.string(mandatory = True, doc = "name shown at boot"),
        "_tool": attr.label(default = "//tools/sdcard", executable = True, cfg = "exec"),
    },
)

def tiny_model(name, seed, version = 0, template = "plain", options = [], **kwargs):
    """A random llama2.c model folder made at build time: <name>/{model.bin,tokenizer.bin,chat.txt}.

    Word-piece tokenizer (`testmodels llama2c --words`): the greedy answers are words.

    Args:
      name: target and folder name.
      seed: the weights' seed.
      version: llama2.c file version (0, 1 fp32; 2 int8).
      template: chat.txt's prompt template, plain or alpaca.
      options: more `testmodels llama2c` flags (shapes).
      **kwargs: common attributes.
    """
    outs = ["%s/%s" % (name, f) for f in MODEL_FILES]
    native.genrule(
        name = name,
        outs = outs,
        cmd = ("$(execpath //python:testmodels) llama2c --words --seed %d --version %d " +
               "--template %s --chat-txt $(RULEDIR)/%s/chat.txt %s " +
               "$(RULEDIR)/%s/model.bin $(RULEDIR)/%s/tokenizer.bin") % (
            seed,
            version,
            template,
            name,
            " ".join(options),
            name,
            name,
        ),
        tools = ["//python:testmodels"],
        **kwargs
    )
