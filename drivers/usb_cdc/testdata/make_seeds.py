#!/usr/bin/env python3
"""Writes the seeds of //drivers/usb_cdc:fuzz_usb_cdc: scripts of bus events (the opcodes of
fuzz_usb_cdc.c) for a Linux host that enumerates, opens the port and moves data, and for one
that halts endpoints and sends refused requests.

    python3 drivers/usb_cdc/testdata/make_seeds.py drivers/usb_cdc/testdata
"""

import argparse
import pathlib
import struct

ACK_EP0_IN = b"\x01"
ACK_BULK_IN = b"\x04"
BUS_RESET = b"\x05"


def setup(request_type: int, request: int, value: int, index: int, length: int) -> bytes:
    return b"\x00" + struct.pack("<BBHHH", request_type, request, value, index, length)


def ep0_out(data: bytes) -> bytes:
    return bytes([2, len(data)]) + data


def bulk_out(data: bytes) -> bytes:
    return bytes([3, len(data)]) + data


def app_write(count: int) -> bytes:
    return bytes([6, count])


def app_read(count: int) -> bytes:
    return bytes([7, count])


def control_in(
    request_type: int, request: int, value: int, index: int, length: int, packets: int
) -> bytes:
    """A control read: SETUP, `packets` data packets acknowledged, the host's status ZLP."""
    return setup(request_type, request, value, index, length) + ACK_EP0_IN * packets + ep0_out(b"")


def control_no_data(request_type: int, request: int, value: int, index: int) -> bytes:
    """A control write without data: SETUP, the device's status ZLP acknowledged."""
    return setup(request_type, request, value, index, 0) + ACK_EP0_IN


ENUMERATE = (
    BUS_RESET
    + control_in(0x80, 6, 0x100, 0, 64, 1)
    + BUS_RESET
    + control_no_data(0x00, 5, 7, 0)
    + control_in(0x80, 6, 0x100, 0, 18, 1)
    + control_in(0x80, 6, 0x200, 0, 9, 1)
    + control_in(0x80, 6, 0x200, 0, 67, 2)
    + control_in(0x80, 6, 0x300, 0, 255, 1)
    + control_in(0x80, 6, 0x302, 0x409, 255, 1)
    + control_no_data(0x00, 9, 1, 0)
)
OPEN = (
    control_no_data(0x21, 0x22, 3, 0)
    + setup(0x21, 0x20, 0, 0, 7)
    + ep0_out(struct.pack("<IBBB", 115200, 0, 0, 8))
    + ACK_EP0_IN
)
BULK = (
    bulk_out(b"hello\r")
    + app_read(6)
    + app_write(10)
    + ACK_BULK_IN
    + app_write(64)
    + ACK_BULK_IN * 2
    + app_write(200)
    + ACK_BULK_IN * 5
)
HALT_AND_STALL = (
    app_write(3)
    + control_no_data(0x02, 3, 0, 0x82)
    + control_in(0x82, 0, 0, 0x82, 2, 1)
    + app_write(3)
    + control_no_data(0x02, 1, 0, 0x82)
    + ACK_BULK_IN
    + control_in(0x80, 6, 0x600, 0, 10, 1)
    + control_no_data(0x40, 1, 0, 0)
    + control_no_data(0x00, 9, 2, 0)
    + control_in(0x80, 6, 0x100, 0, 18, 1)
    + control_no_data(0x00, 9, 0, 0)
    + control_no_data(0x00, 9, 1, 0)
    + bulk_out(bytes(64)) * 5
    + app_read(255)
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=pathlib.Path, help="where the .bin seeds go")
    folder = parser.parse_args().folder
    (folder / "enumerate_open_bulk.bin").write_bytes(
        ENUMERATE + OPEN + BULK + control_no_data(0x21, 0x22, 0, 0)
    )
    (folder / "halt_stall.bin").write_bytes(ENUMERATE + OPEN + HALT_AND_STALL)


if __name__ == "__main__":
    main()
