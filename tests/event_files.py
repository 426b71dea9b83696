"""AEDAT 4 files built byte by byte from the format description, for the reader tests.

Layout (iniVation's AEDAT 4.0 spec; the FlatBuffers schemas ship with the ``aedat`` decoder:
``ioheader.fbs``, ``events.fbs``):

    "#!AER-DAT4.0\\r\\n"
    u32 n, then n bytes: an ``Ioheader`` FlatBuffer (compression: i32, file_data_position: i64,
        description: string = the XML stream description)
    per packet: u32 stream id, u32 n, then n bytes: a size-prefixed ``EventPacket`` FlatBuffer
        with file identifier "EVTS" and ``elements: [Event]``, Event = struct {t: i64, x: i16,
        y: i16, on: bool} (16 bytes, 8-aligned)

FlatBuffers rules used: every offset is little-endian and relative to where it is stored; a
table starts with an i32 back to its vtable (vtable = table - value); a vtable is u16 size,
u16 table size, then one u16 field offset per field (0 = absent).
"""

from __future__ import annotations

import struct

import numpy as np

MAGIC = b"#!AER-DAT4.0\r\n"


def description(width: int, height: int) -> bytes:
    return (
        '<dv version="2.0"><node name="outInfo" path="/mainModule/output/">'
        '<node name="0" path="/mainModule/output/0/">'
        '<attr key="compression" type="string">NONE</attr>'
        '<attr key="originalModuleName" type="string">snnc-test</attr>'
        '<attr key="originalOutputName" type="string">events</attr>'
        '<attr key="typeIdentifier" type="string">EVTS</attr>'
        '<node name="info" path="/mainModule/output/0/info/">'
        f'<attr key="sizeX" type="int">{width}</attr>'
        f'<attr key="sizeY" type="int">{height}</attr>'
        '<attr key="source" type="string">snnc test</attr>'
        "</node></node></node></dv>").encode()


def ioheader(desc: bytes, compression: int = 0) -> bytes:
    vt_pos, table = 8, 24
    buf = struct.pack("<I4s", table, b"IOHE")
    buf += struct.pack("<HHHHH", 10, 20, 4, 8, 16)  # vtable at 8: three fields
    buf += b"\0" * (table - len(buf))
    string = table + 20
    buf += struct.pack("<iiqI", table - vt_pos, compression, -1, string - (table + 16))
    buf += struct.pack("<I", len(desc)) + desc + b"\0"
    return buf + b"\0" * (-len(buf) % 4)


def event_packet(t: np.ndarray, x: np.ndarray, y: np.ndarray, on: np.ndarray) -> bytes:
    vt_pos, table, vec = 12, 20, 28  # absolute positions; elements start at 32 (8-aligned)
    body = struct.pack("<I4s", table - 4, b"EVTS")
    body += struct.pack("<HHH", 6, 8, 4) + b"\0\0"
    body += struct.pack("<iI", table - vt_pos, vec - (table + 4))
    body += struct.pack("<I", len(t))
    for ti, xi, yi, oi in zip(t, x, y, on, strict=True):
        body += struct.pack("<qhhB3x", int(ti), int(xi), int(yi), int(bool(oi)))
    return struct.pack("<I", len(body)) + body


def aedat4_file(packets: list[tuple[np.ndarray, ...]], width: int, height: int) -> bytes:
    head = ioheader(description(width, height))
    out = MAGIC + struct.pack("<I", len(head)) + head
    for pkt in packets:
        data = event_packet(*pkt)
        out += struct.pack("<II", 0, len(data)) + data
    return out


def spikecv_bytes(frames: np.ndarray) -> bytes:
    """A SpikeCV stream of (n, H, W) 0/1 frames, written pixel by pixel as SpikeCV describes:
    image rows flipped (the camera's orientation), row-major pixels, pixel i = bit i % 8 of
    byte i // 8, least significant bit first."""
    out = bytearray()
    for frame in frames:
        flat = [int(v) for v in frame[::-1].reshape(-1)]
        for i in range(0, len(flat), 8):
            out.append(sum(bit << k for k, bit in enumerate(flat[i:i + 8])))
    return bytes(out)


def evt3_words(events: np.ndarray) -> list[int]:
    """EVT 3.0 words for time-sorted events, one EVT_ADDR_X each, as the Prophesee format
    description gives them: EVT_TIME_HIGH (0x8, time bits 23..12, emitted for every step of
    4096 us like a camera's heartbeat, wrapping at 2**24), EVT_TIME_LOW (0x6, bits 11..0),
    EVT_ADDR_Y (0x0, y in bits 10..0), EVT_ADDR_X (0x2, x in bits 10..0, polarity bit 11)."""
    out: list[int] = []
    high = low = y = None
    for e in events:
        t = int(e["t"])
        h = t >> 12
        while high is None or high < h:
            high = h if high is None else high + 1
            out.append(0x8000 | (high & 0xFFF))
        if low != t & 0xFFF:
            low = t & 0xFFF
            out.append(0x6000 | low)
        if y != int(e["y"]):
            y = int(e["y"])
            out.append(0x0000 | y)
        out.append(0x2000 | (int(bool(e["p"])) << 11) | int(e["x"]))
    return out
