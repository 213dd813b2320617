"""engines_board_test: the engines linked for one board, and their kernel self-test run there."""

load("//images:board_image.bzl", "board_image")
load("//platforms:boards.bzl", "BOARDS")

def engines_board_test(name, board, app, label = "kernels", **kwargs):
    """`<name>_image` (board_image of `app`) and the py_test `name` checking it.

    The test needs the image to have linked for `board` (a build failure fails it). If QEMU
    can boot the board, it also boots the image and expects the self-test's success line.

    Args:
      name: test name.
      board: a key of BOARDS.
      app: cc_library with the self-test's main().
      label: the self-test's name in its result line ("<label> self-test: board=...").
      **kwargs: common test attributes.
    """
    image = name + "_image"
    board_image(name = image, board = board, deps = [app])
    facts = BOARDS[board]
    args = ["--board=" + board, "--label=" + label, "--elf=$(rootpath :%s_elf)" % image]
    data = [":%s_elf" % image]
    if facts.qemu:
        kernel = ":%s_%s" % (image, facts.qemu.kernel)
        args += [
            "--system=" + facts.qemu.system,
            "--machine=" + facts.qemu.machine,
            "--kernel=$(rootpath %s)" % kernel,
            "--",
        ] + facts.qemu.args
        if kernel not in data:
            data.append(kernel)
    native.py_test(
        name = name,
        srcs = ["//tests/board:selftest_test.py"],
        main = "//tests/board:selftest_test.py",
        args = args,
        data = data,
        deps = ["//tools/qemu:qemu_lib"],
        **kwargs
    )
