"""cc_toolchain_config for zig: one pinned compiler, flags per CPU core."""

load("@bazel_tools//tools/build_defs/cc:action_names.bzl", "ACTION_NAMES")
load(
    "@bazel_tools//tools/cpp:cc_toolchain_config_lib.bzl",
    "feature",
    "flag_group",
    "flag_set",
    "tool_path",
)

_C_COMPILE = [ACTION_NAMES.c_compile]

_ALL_COMPILE = [
    ACTION_NAMES.c_compile,
    ACTION_NAMES.cpp_compile,
    ACTION_NAMES.assemble,
    ACTION_NAMES.preprocess_assemble,
]

_ALL_LINK = [
    ACTION_NAMES.cpp_link_executable,
    ACTION_NAMES.cpp_link_dynamic_library,
    ACTION_NAMES.cpp_link_nodeps_dynamic_library,
]

def _flags_feature(name, actions, flags):
    return feature(
        name = name,
        enabled = True,
        flag_sets = [flag_set(actions = actions, flag_groups = [flag_group(flags = flags)])],
    )

def _impl(ctx):
    target = ["-target", ctx.attr.triple, "-mcpu=" + ctx.attr.mcpu]

    # No absolute path on a command line (action keys stay the same on every machine) and
    # none in an image: sources are execroot-relative, and board linker scripts discard the
    # debug info that names zig's own headers (see zig_toolchains.bzl).
    reproducible = ["-fdebug-compilation-dir=."]
    features = [
        _flags_feature(
            "default_compile_flags",
            _ALL_COMPILE,
            target + ["-O2", "-g", "-Wall", "-Wextra", "-Werror"] + reproducible + ctx.attr.copts,
        ),
        _flags_feature("c_standard", _C_COMPILE, ["-std=c11"]),
        _flags_feature(
            "default_link_flags",
            _ALL_LINK,
            target + ["-Wl,--build-id=sha1"] + ctx.attr.linkopts,
        ),
        feature(name = "supports_start_end_lib", enabled = False),
    ]
    tools = {
        "ar": "bin/ar",
        "cpp": "/bin/false",
        "gcc": "bin/cc",
        "gcov": "/bin/false",
        "ld": "bin/cc",
        "nm": "/bin/false",
        "objcopy": "bin/objcopy",
        "objdump": "/bin/false",
        "strip": "/bin/false",
    }
    return cc_common.create_cc_toolchain_config_info(
        ctx = ctx,
        features = features,
        cxx_builtin_include_directories = ctx.attr.builtin_include_dirs,
        toolchain_identifier = "zig-" + ctx.attr.core,
        host_system_name = "x86_64-linux",
        target_system_name = ctx.attr.triple,
        target_cpu = ctx.attr.core,
        target_libc = "musl" if "linux" in ctx.attr.triple else "none",
        compiler = "zig",
        abi_version = "none",
        abi_libc_version = "none",
        tool_paths = [tool_path(name = k, path = v) for k, v in tools.items()],
    )

zig_cc_toolchain_config = rule(
    implementation = _impl,
    attrs = {
        "builtin_include_dirs": attr.string_list(mandatory = True),
        "copts": attr.string_list(),
        "core": attr.string(mandatory = True),
        "linkopts": attr.string_list(),
        "mcpu": attr.string(mandatory = True),
        "triple": attr.string(mandatory = True),
    },
    provides = [CcToolchainConfigInfo],
)
