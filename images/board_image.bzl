"""board_image: a bootable image for one board, built from C libraries for that board.

`bazel build //images:rpi4_kernel` needs no flags: the rule transitions its ELF to the board's
platform, so the board's zig toolchain compiles everything under it.
"""

load("//platforms:boards.bzl", "BOARDS", "board_constraints")

def _to_board_platform_impl(_settings, attr):
    return {"//command_line_option:platforms": "//platforms/%s" % attr.board}

_to_board_platform = transition(
    implementation = _to_board_platform_impl,
    inputs = [],
    outputs = ["//command_line_option:platforms"],
)

def _board_image_impl(ctx):
    board = BOARDS[ctx.attr.board]
    elf_in = ctx.attr.elf[0][DefaultInfo].files.to_list()
    if len(elf_in) != 1:
        fail("expected one ELF from %s" % ctx.attr.elf[0].label)
    base = board.image[:-len(".img")] if board.image else ctx.attr.board
    elf = ctx.actions.declare_file("%s/%s.elf" % (ctx.label.name, base))
    ctx.actions.symlink(output = elf, target_file = elf_in[0])
    groups = {"elf": elf}
    if board.image:
        groups["img"] = ctx.actions.declare_file("%s/%s" % (ctx.label.name, board.image))
        ctx.actions.run(
            executable = ctx.executable._objcopy,
            arguments = ["-O", "binary", elf.path, groups["img"].path],
            inputs = [elf],
            tools = ctx.files._zig_tools,  # the objcopy wrapper runs external/zig_sdk/ziglang/zig
            outputs = [groups["img"]],
            mnemonic = "Objcopy",
            progress_message = "Writing %s for %s" % (board.image, ctx.attr.board),
        )
    if ctx.attr.uf2_family:
        groups["uf2"] = ctx.actions.declare_file("%s/%s.uf2" % (ctx.label.name, base))
        ctx.actions.run(
            executable = ctx.executable.uf2_tool,
            arguments = ["convert", "--family", ctx.attr.uf2_family, elf.path, "-o", groups["uf2"].path],
            inputs = [elf],
            outputs = [groups["uf2"]],
            mnemonic = "Uf2",
            progress_message = "Writing %s" % groups["uf2"].short_path,
        )
    outs = groups.values()
    return [
        DefaultInfo(files = depset(outs), runfiles = ctx.runfiles(files = outs)),
        OutputGroupInfo(**{k: depset([v]) for k, v in groups.items()}),
    ]

_board_image = rule(
    implementation = _board_image_impl,
    attrs = {
        "board": attr.string(mandatory = True, values = BOARDS.keys()),
        "elf": attr.label(mandatory = True, cfg = _to_board_platform),
        "uf2_family": attr.string(doc = "UF2 family name; empty means no .uf2."),
        "uf2_tool": attr.label(executable = True, cfg = "exec", doc = "Writes the .uf2 (with uf2_family)."),
        "_allowlist_function_transition": attr.label(
            default = "@bazel_tools//tools/allowlists/function_transition_allowlist",
        ),
        "_objcopy": attr.label(default = "@zig_sdk//:bin/objcopy", executable = True, cfg = "exec", allow_single_file = True),
        "_zig_tools": attr.label(default = "@zig_sdk//:tools", cfg = "exec"),
    },
)

def board_image(name, board, deps, uf2_family = "", **kwargs):
    """Links `deps` with `board`'s support library into `<name>/<image>` plus the ELF.

    Args:
      name: target name; outputs land in bazel-bin/<package>/<name>/.
      board: a key of BOARDS (platforms/boards.bzl).
      deps: cc_library targets with the application (its main()) and the drivers it uses.
      uf2_family: also write a .uf2 for this family (e.g. "rp2350-arm-s").
      **kwargs: common attributes (tags, visibility, ...).
    """
    if board not in BOARDS:
        fail("unknown board %r; boards are: %s" % (board, ", ".join(BOARDS.keys())))
    linker_script = "//platforms/%s:linker.ld" % board
    native.cc_binary(
        name = name + ".elf",
        deps = deps + ["//platforms/%s:board" % board],
        additional_linker_inputs = [linker_script],
        linkopts = ["-T", "$(location %s)" % linker_script],
        target_compatible_with = board_constraints(board),
        visibility = ["//visibility:private"],
        tags = ["manual"],
    )
    _board_image(
        name = name,
        board = board,
        elf = ":" + name + ".elf",
        uf2_family = uf2_family,
        uf2_tool = "//tools/uf2" if uf2_family else None,
        **kwargs
    )

    # <name>_elf, <name>_img, <name>_uf2: single files, for tests and other rules.
    groups = ["elf"] + (["img"] if BOARDS[board].image else []) + (["uf2"] if uf2_family else [])
    for group in groups:
        native.filegroup(
            name = "%s_%s" % (name, group),
            srcs = [":" + name],
            output_group = group,
            visibility = kwargs.get("visibility"),
        )
