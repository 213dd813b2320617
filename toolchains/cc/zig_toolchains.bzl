"""The C toolchains: one pinned zig, one cc_toolchain per CPU core the boards use.

`ZIG_TARGETS` is the single table of what each core compiles with; the zig repository's
generated BUILD instantiates the cc_toolchains and //toolchains/cc registers them.
"""

load(":cc_toolchain_config.bzl", "zig_cc_toolchain_config")

# Flags for code that runs with no operating system under it (every board).
_FREESTANDING_COPTS = [
    "-ffreestanding",
    "-fno-unwind-tables",
    "-fno-asynchronous-unwind-tables",
    "-fno-stack-protector",
    "-fno-common",
    "-ffunction-sections",
    "-fdata-sections",
]

# Board linker scripts discard .debug* (zig's compiler-rt and headers carry zig's install and
# cache paths, which differ between machines) but keep the symbol table for crash reports.
_FREESTANDING_LINKOPTS = [
    "-Wl,--gc-sections",
]

# With the MMU off, AArch64 faults on unaligned accesses to memory that is not yet cacheable.
_AARCH64_BARE_COPTS = _FREESTANDING_COPTS + ["-mstrict-align"]

ZIG_TARGETS = {
    "arm1176jzf_s": struct(
        triple = "arm-freestanding-eabihf",
        mcpu = "arm1176jzf_s",
        copts = _FREESTANDING_COPTS + ["-mno-unaligned-access"],
        linkopts = _FREESTANDING_LINKOPTS,
        constraints = ["@platforms//cpu:arm", "@platforms//os:none", "@//toolchains/cpu:arm1176jzf_s"],
    ),
    "cortex_a53": struct(
        triple = "aarch64-freestanding-none",
        mcpu = "cortex_a53",
        copts = _AARCH64_BARE_COPTS,
        linkopts = _FREESTANDING_LINKOPTS,
        constraints = ["@platforms//cpu:aarch64", "@platforms//os:none", "@//toolchains/cpu:cortex_a53"],
    ),
    "cortex_a72": struct(
        triple = "aarch64-freestanding-none",
        mcpu = "cortex_a72",
        copts = _AARCH64_BARE_COPTS,
        linkopts = _FREESTANDING_LINKOPTS,
        constraints = ["@platforms//cpu:aarch64", "@platforms//os:none", "@//toolchains/cpu:cortex_a72"],
    ),
    # zig's plain cortex_m33 has neither the DSP extension (SMLAD, SXTB16: the q8/q4 kernels of
    # engines/kernels/arm32 use them when __ARM_FEATURE_SIMD32 is defined) nor an FPU: QEMU's
    # mps2-an521 core, where SXTB16 is an UNDEFINSTR fault. The RP2350's M33s have both.
    "cortex_m33": struct(
        triple = "thumb-freestanding-eabihf",
        mcpu = "cortex_m33",
        copts = _FREESTANDING_COPTS,
        linkopts = _FREESTANDING_LINKOPTS,
        constraints = ["@platforms//cpu:arm", "@platforms//os:none", "@//toolchains/cpu:cortex_m33"],
    ),
    "cortex_m33_dsp_fp": struct(
        triple = "thumb-freestanding-eabihf",
        mcpu = "cortex_m33+dsp+fp_armv8d16sp",
        copts = _FREESTANDING_COPTS,
        linkopts = _FREESTANDING_LINKOPTS,
        constraints = ["@platforms//cpu:arm", "@platforms//os:none", "@//toolchains/cpu:cortex_m33_dsp_fp"],
    ),
    # Host tools and unit tests: static musl binaries, independent of the host's libc.
    "host": struct(
        triple = "x86_64-linux-musl",
        mcpu = "baseline",
        copts = [],
        linkopts = [],
        constraints = ["@platforms//cpu:x86_64", "@platforms//os:linux"],
    ),
    # Linux user-mode twins of the board cores: static musl binaries that QEMU user mode
    # (qemu-aarch64, qemu-arm) runs on the build machine, so unit tests of portable code (the
    # NEON and VFP kernels) run for the boards' CPUs (tests/qemu_user, platforms/linux_*).
    "linux_a72": struct(
        triple = "aarch64-linux-musl",
        mcpu = "cortex_a72",
        copts = [],
        linkopts = [],
        constraints = ["@platforms//cpu:aarch64", "@platforms//os:linux", "@//toolchains/cpu:cortex_a72"],
    ),
    "linux_arm1176": struct(
        triple = "arm-linux-musleabihf",
        mcpu = "arm1176jzf_s",
        copts = [],
        linkopts = [],
        constraints = ["@platforms//cpu:arm", "@platforms//os:linux", "@//toolchains/cpu:arm1176jzf_s"],
    ),
}

def zig_cc_toolchains(name, builtin_include_dirs, tools):
    """Declares `<core>_cc` (a cc_toolchain) for every entry of ZIG_TARGETS.

    Args:
      name: name of an empty filegroup (the toolchains' dwp_files).
      builtin_include_dirs: directories whose headers need not be declared inputs.
      tools: label of the filegroup holding zig and its wrappers.
    """
    native.filegroup(name = name)
    for core, target in ZIG_TARGETS.items():
        zig_cc_toolchain_config(
            name = core + "_config",
            core = core,
            triple = target.triple,
            mcpu = target.mcpu,
            copts = target.copts,
            linkopts = target.linkopts,
            builtin_include_dirs = builtin_include_dirs,
        )
        native.cc_toolchain(
            name = core + "_cc",
            toolchain_config = ":" + core + "_config",
            all_files = tools,
            ar_files = tools,
            as_files = tools,
            compiler_files = tools,
            dwp_files = ":" + name,
            linker_files = tools,
            objcopy_files = tools,
            strip_files = tools,
            supports_param_files = 0,
        )

def zig_toolchain_targets(name):
    """Declares `<name>_<core>` toolchain() targets, which WORKSPACE registers.

    Args:
      name: prefix of the toolchain() target names.
    """
    for core, target in ZIG_TARGETS.items():
        native.toolchain(
            name = name + "_" + core,
            target_compatible_with = target.constraints,
            exec_compatible_with = ["@platforms//cpu:x86_64", "@platforms//os:linux"],
            toolchain = "@zig_sdk//:" + core + "_cc",
            toolchain_type = "@bazel_tools//tools/cpp:toolchain_type",
        )
