"""The boards: one table of facts that platforms, images and boot tests are generated from."""

load("//toolchains/cc:zig_toolchains.bzl", "ZIG_TARGETS")

def _qemu(system, machine, kernel, args = []):
    return struct(system = system, machine = machine, kernel = kernel, args = args)

# cpu, privilege, cores: what the board's banner reports when it boots (checked by boot tests).
# core: the CPU core (a key of ZIG_TARGETS). image: the file the board's boot loader reads,
# or "" for boards that boot from a .uf2. qemu: how QEMU boots it (kernel "img" gives QEMU the raw
# image, "elf" the ELF), or None for boards only real hardware runs.
BOARDS = {
    "mps2_an521": struct(
        cpu = "cortex-m33",
        privilege = "mode=thread-secure",
        cores = 2,
        # The RP2350's core flags (DSP + FPU): QEMU's SSE-200 gives CPU 0 neither unless asked.
        core = "cortex_m33_dsp_fp",
        image = "",
        qemu = _qemu("arm", "mps2-an521", "elf", [
            "-global",
            "sse-200.CPU0_FPU=on",
            "-global",
            "sse-200.CPU0_DSP=on",
        ]),
    ),
    "qemu_virt": struct(
        cpu = "cortex-a72",
        privilege = "el=2",
        cores = 4,
        core = "cortex_a72",
        image = "",
        qemu = _qemu("aarch64", "virt,virtualization=on,highmem=off", "elf", ["-cpu", "cortex-a72", "-smp", "4", "-m", "1024", "-nic", "none"]),
    ),
    "rp2350": struct(
        cpu = "cortex-m33",
        privilege = "mode=thread-secure",
        cores = 2,
        core = "cortex_m33_dsp_fp",
        image = "",
        qemu = None,
    ),
    "rpi0": struct(
        cpu = "arm1176jzf-s",
        privilege = "mode=svc",
        cores = 1,
        core = "arm1176jzf_s",
        image = "kernel.img",
        qemu = _qemu("arm", "raspi0", "elf"),
    ),
    "rpi3": struct(
        cpu = "cortex-a53",
        privilege = "el=2",
        cores = 4,
        core = "cortex_a53",
        image = "kernel8.img",
        qemu = _qemu("aarch64", "raspi3b", "img"),
    ),
    "rpi4": struct(
        cpu = "cortex-a72",
        privilege = "el=2",
        cores = 4,
        core = "cortex_a72",
        image = "kernel8.img",
        qemu = _qemu("aarch64", "raspi4b", "img"),
    ),
}

def board_constraints(board):
    """The constraint values of `board`'s platform."""
    return ZIG_TARGETS[BOARDS[board].core].constraints

def board_platform(name):
    """Declares the platform() of the board `name` (called from platforms/<name>/BUILD.bazel)."""
    native.platform(
        name = name,
        constraint_values = board_constraints(name),
        visibility = ["//visibility:public"],
    )
