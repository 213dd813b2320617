"""qemu_run: `bazel run` boots a board image in QEMU with the console on the terminal."""

load("//platforms:boards.bzl", "BOARDS")

def qemu_run(name, board, image, qemu_args = [], data = [], **kwargs):
    """A py_binary that boots `image` (a board_image target of `board`) in QEMU.

    Args:
      name: target name, e.g. rpi4_qemu.
      board: a key of BOARDS with a qemu entry.
      image: the board_image target.
      qemu_args: more QEMU arguments (drives, devices, ...); $(rootpath) of `data` works.
      data: files the QEMU arguments name (e.g. an SD card image).
      **kwargs: common attributes.
    """
    qemu = BOARDS[board].qemu
    if qemu == None:
        fail("board %s has no QEMU machine to boot on" % board)
    kernel = "%s_%s" % (image, qemu.kernel)
    native.py_binary(
        name = name,
        srcs = ["//tools/qemu:qemu.py"],
        main = "//tools/qemu:qemu.py",
        args = [
            "--system=" + qemu.system,
            "--machine=" + qemu.machine,
            "--kernel=$(rootpath %s)" % kernel,
            "--",
        ] + qemu.args + qemu_args,
        data = [kernel] + data,
        deps = ["//python:metalchat"],  # --kernel: a runfile, or a path from the user's folder
        **kwargs
    )
