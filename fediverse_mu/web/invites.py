"""Invite QR codes: the invite link drawn as an inline SVG on the server (segno, a pure-Python
QR encoder), so the printable page needs no JavaScript, no image request and no third party."""

from __future__ import annotations

import segno


def invite_qr_svg(url: str) -> str:
    """An ``<svg>`` element of the QR code of ``url`` (error correction M: still readable with
    a bit of dirt or a pin through the poster)."""
    code = segno.make(url, error="m", micro=False)
    return str(code.svg_inline(scale=8, border=4, dark="#000", light="#fff", svgclass="qr",
                               lineclass=None, omitsize=False))
