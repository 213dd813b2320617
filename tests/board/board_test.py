"""Boots //tests/board:<board>_board_test (rpi4, rpi3) and checks what the board found out:
firmware facts from the mailbox (revision, ARM and VideoCore memory) for consistency, MMU and
caches on, the RAM arena from the end of the image to the VideoCore's memory, the system timer
against the generic timer, and an unaligned load (legal only with the MMU on).

    board_test.py --board rpi4 --machine raspi4b --kernel kernel8.img --elf kernel8.elf
"""

from __future__ import annotations

import re
import sys

from board_session import Tally, arguments, boot, elf64_sections

# The board type in the revision code (bits 11:4) that QEMU's machine reports.
BOARD_TYPE = {"rpi4": (0x11, "Pi 4B"), "rpi3": (0x08, "Pi 3B")}


def fields(console: str, board: str) -> dict[str, str]:
    """Every key=value on the "<board>: " lines."""
    found: dict[str, str] = {}
    for line in console.splitlines():
        if line.startswith(f"{board}: "):
            found.update(re.findall(r"(\w+)=(\S+)", line))
    return found


def main() -> int:
    args = arguments(__doc__, timeout=60.0)
    session = boot(args.machine, args.kernel)
    status = session.finish(args.timeout)
    console = session.console
    print(console)
    tally = Tally()
    tally.check(status == 0, f"QEMU exit status {status} == 0")
    tally.check(f"{args.board}: board test done" in console, "board test ran to the end")
    f = fields(console, args.board)
    board_type, model = BOARD_TYPE[args.board]
    try:
        revision = int(f["revision"], 16)
        arm_base, arm_size = (int(v, 16) for v in f["arm_mem"].split("+"))
        vc_base, vc_size = (int(v, 16) for v in f["vc_mem"].split("+"))
        ram = int(f["ram_total_mb"]) << 20
        sctlr = int(f["sctlr"], 16)
        ram_base, ram_size = int(f["base"], 16), int(f["size"], 16)
        us, ticks, hz = int(f["systimer_us"]), int(f["counter_ticks"]), int(f["counter_hz"])
    except (KeyError, ValueError) as exc:
        tally.check(False, f"all fields present and well formed ({exc!r})")
        return tally.finish()

    tally.check(f["mailbox_ok"] == "1", "mailbox answered revision, ARM and VC memory")
    tally.check(bool(revision & (1 << 23)), f"revision {revision:#x} is a new-style code")
    tally.check((revision >> 4) & 0xFF == board_type, f"revision {revision:#x} is a {model}")
    tally.check(ram == (256 << 20) << ((revision >> 20) & 7), f"RAM {ram >> 20} MB from revision")
    tally.check(arm_base == 0 and arm_size > 0, f"ARM memory {arm_base:#x}+{arm_size:#x}")
    tally.check(arm_base + arm_size <= vc_base, "ARM memory ends at or below the VC base")
    tally.check(vc_size > 0 and vc_base + vc_size <= ram, "VC memory inside RAM")
    tally.check(f["mmu_error"] == "0", "MMU enabled without error")
    tally.check(sctlr & 0x1005 == 0x1005, f"SCTLR_EL2 {sctlr:#x}: M, C, I set")
    tally.check(sctlr & 0x2 == 0, f"SCTLR_EL2 {sctlr:#x}: alignment check off")
    stacks = elf64_sections(args.elf)[".stacks"][0]  # the image's last section (linker.ld)
    image_end = stacks.address + stacks.size
    tally.check(f["board_ram"] == "0", "board_ram() succeeded")
    tally.check(
        image_end <= ram_base < image_end + 4096,
        f"arena starts at the end of the image ({ram_base:#x}, image ends {image_end:#x})",
    )
    tally.check(ram_base + ram_size == arm_base + arm_size, "arena ends at the VC base")
    tally.check(f.get("arena_rw") == "1", "arena writable and readable at both ends")
    ratio = ticks / us if us else 0
    want = hz / 1_000_000
    tally.check(
        us > 0 and abs(ratio - want) < 0.05 * want,
        f"system timer ({us} us) agrees with the generic timer ({ticks} ticks at {hz} Hz)",
    )
    tally.check(f["unaligned_load"] == "0x0908070605040302", "unaligned load with the MMU on")
    return tally.finish()


if __name__ == "__main__":
    sys.exit(main())
