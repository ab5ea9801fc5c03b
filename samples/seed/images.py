"""Image facts without an imaging library: the size a PNG or JPEG header declares.

Formats: PNG's IHDR chunk (width, height: big-endian 32-bit at bytes 16-24,
https://www.w3.org/TR/png-3/#11IHDR) and JPEG's start-of-frame segment (SOFn: height then
width, big-endian 16-bit, after the precision byte, https://www.w3.org/Graphics/JPEG/itu-t81.pdf
B.2.2). Enough for a thumbnail record; anything else gives ``None``.
"""

from __future__ import annotations

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# SOF0..SOF15 minus DHT (C4), JPG (C8) and DAC (CC), which are not frame headers.
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def dimensions(data: bytes) -> tuple[str, int, int] | None:
    """``(format, width, height)`` of a PNG or JPEG, or None when the header is not one."""
    if data.startswith(PNG_SIGNATURE) and len(data) >= 24 and data[12:16] == b"IHDR":
        return "png", int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if data.startswith(b"\xff\xd8"):
        return _jpeg(data)
    return None


def _jpeg(data: bytes) -> tuple[str, int, int] | None:
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte before a marker
            i += 1
            continue
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if marker in _SOF and i + 9 <= len(data):
            height = int.from_bytes(data[i + 5 : i + 7], "big")
            width = int.from_bytes(data[i + 7 : i + 9], "big")
            return "jpeg", width, height
        i += 2 + length
    return None


def png_header(width: int, height: int) -> bytes:
    """The first bytes of a PNG of that size (signature + IHDR), for tests and demos."""
    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return PNG_SIGNATURE + len(ihdr).to_bytes(4, "big") + b"IHDR" + ihdr + b"\0\0\0\0"


def jpeg_header(width: int, height: int) -> bytes:
    """The first bytes of a baseline JPEG of that size (SOI, APP0, SOF0), for tests."""
    app0 = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = b"\xff\xc0\x00\x11\x08" + height.to_bytes(2, "big") + width.to_bytes(2, "big")
    sof0 += b"\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    return b"\xff\xd8" + app0 + sof0 + b"\xff\xd9"
