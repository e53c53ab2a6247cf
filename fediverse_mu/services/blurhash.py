"""A BlurHash encoder (https://github.com/woltapp/blurhash, algorithm.md): a short string that
clients turn into a blurred placeholder while the real image loads. Pure Python, meant for
a small RGB image (the caller shrinks the picture to about 32 pixels first)."""

from __future__ import annotations

import math
from typing import Final

_ALPHABET: Final = ("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                    "#$%*+,-.:;=?@[]^_{|}~")
_TO_LINEAR: Final = tuple(
    v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4
    for v in (i / 255 for i in range(256))
)


def _base83(value: int, length: int) -> str:
    return "".join(_ALPHABET[(value // 83 ** (length - i - 1)) % 83] for i in range(length))


def _to_srgb(value: float) -> int:
    v = min(1.0, max(0.0, value))
    if v <= 0.0031308:
        return int(v * 12.92 * 255 + 0.5)
    return int((1.055 * v ** (1 / 2.4) - 0.055) * 255 + 0.5)


def _sign_pow(value: float, exponent: float) -> float:
    return math.copysign(abs(value) ** exponent, value)


def encode(rgb: bytes, width: int, height: int, x_components: int = 4,
           y_components: int = 4) -> str:
    """The BlurHash of ``width × height`` pixels given as packed 8-bit RGB bytes."""
    if not (1 <= x_components <= 9 and 1 <= y_components <= 9):
        raise ValueError("BlurHash components must be between 1 and 9")
    if width < 1 or height < 1 or len(rgb) != width * height * 3:
        raise ValueError("pixel data does not match the size")
    linear = [_TO_LINEAR[b] for b in rgb]
    cos_x = [[math.cos(math.pi * i * x / width) for x in range(width)]
             for i in range(x_components)]
    cos_y = [[math.cos(math.pi * j * y / height) for y in range(height)]
             for j in range(y_components)]
    factors: list[tuple[float, float, float]] = []
    for j in range(y_components):
        for i in range(x_components):
            r = g = b = 0.0
            for y in range(height):
                row = y * width * 3
                cy = cos_y[j][y]
                for x in range(width):
                    basis = cos_x[i][x] * cy
                    k = row + x * 3
                    r += basis * linear[k]
                    g += basis * linear[k + 1]
                    b += basis * linear[k + 2]
            scale = (1 if i == j == 0 else 2) / (width * height)
            factors.append((r * scale, g * scale, b * scale))

    dc, ac = factors[0], factors[1:]
    result = _base83((x_components - 1) + (y_components - 1) * 9, 1)
    if ac:
        actual_max = max(abs(c) for factor in ac for c in factor)
        quantised_max = max(0, min(82, int(actual_max * 166 - 0.5)))
        maximum = (quantised_max + 1) / 166
        result += _base83(quantised_max, 1)
    else:
        maximum = 1.0
        result += _base83(0, 1)
    result += _base83((_to_srgb(dc[0]) << 16) + (_to_srgb(dc[1]) << 8) + _to_srgb(dc[2]), 4)
    for factor in ac:
        r, g, b = (max(0, min(18, math.floor(_sign_pow(c / maximum, 0.5) * 9 + 9.5)))
                   for c in factor)
        result += _base83(r * 19 * 19 + g * 19 + b, 2)
    return result
