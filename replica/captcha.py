"""Captcha images for the replica: a real PNG (blank noise) whose answer only the test hook knows."""

from __future__ import annotations

import base64
import random
import struct
import zlib

CAPTCHA_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"


def new_code(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(CAPTCHA_ALPHABET) for _ in range(length))


def png_noise(width: int = 120, height: int = 40, seed: int = 0) -> bytes:
    rng = random.Random(seed)
    rows = b"".join(b"\x00" + bytes(rng.randint(160, 255) for _ in range(width)) for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()
