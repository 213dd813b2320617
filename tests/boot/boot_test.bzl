"""boot_test: boots a board image in QEMU and checks its banner (board, CPU, privilege, cores, build id)."""

load("//platforms:boards.bzl", "BOARDS")

def boot_test(name, board, image, input = "", input_after = "", **kwargs):
    """A py_test that boots `image` (a board_image target of `board`) in QEMU.

    Args:
      name: test name, e.g. boot_rpi4.
      board: a key of BOARDS with a qemu entry.
      image: the board_image target.
      input: console input, typed once `input_after` is on the console (images that wait for
        input, e.g. the Pi 4 chat image's menu).
      input_after: the text to wait for before typing `input`.
      **kwargs: common test attributes.
    """
    facts = BOARDS[board]
    if facts.qemu == None:
        fail("board %s has no QEMU machine to boot on" % board)
    qemu = facts.qemu
    kernel = image + "_" + qemu.kernel
    elf = image + "_elf"
    native.py_test(
        name = name,
        srcs = ["//tests/boot:boot_test.py"],
        main = "//tests/boot:boot_test.py",
        args = [
            "--board=" + board,
            "--system=" + qemu.system,
            "--machine=" + qemu.machine,
            "--kernel=$(location %s)" % kernel,
            "--elf=$(location %s)" % elf,
            "--cpu=" + facts.cpu,
            "--privilege=" + facts.privilege,
            "--cores=%d" % facts.cores,
        ] + ([
            "'--input=%s'" % input,  # args are shell-tokenized: keep spaces
            "'--input-after=%s'" % input_after,
        ] if input else []) + [
            "--",
        ] + qemu.args,
        data = [kernel] if kernel == elf else [kernel, elf],
        size = "small",
        deps = ["//tools/qemu:qemu_lib"],
        **kwargs
    )
