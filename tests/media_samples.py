"""Sample uploads for the media tests: real images carrying metadata that must not survive
(EXIF with GPS and an orientation, PNG text chunks, ICC profiles, GIF comments), and files
that only pretend to be images."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image, ImageCms, PngImagePlugin

GPS_IFD = 0x8825
ORIENTATION = 0x0112
SECRET = "48.8566N 2.3522E chez moi"


def _exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x010E] = SECRET  # ImageDescription
    exif[GPS_IFD] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 7.0)}
    return exif


def picture(width: int = 300, height: int = 200) -> Image.Image:
    """A left-dark, right-bright picture with a red square top left (to see rotations)."""
    gradient = Image.linear_gradient("L").transpose(Image.Transpose.ROTATE_90)
    image = gradient.resize((width, height)).convert("RGB")
    image.paste((255, 0, 0), (0, 0, width // 5, height // 5))
    return image


def jpeg_with_gps(width: int = 300, height: int = 200, orientation: int = 1) -> bytes:
    """A JPEG with EXIF (GPS position, camera make, a description) and an ICC profile."""
    buffer = io.BytesIO()
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    picture(width, height).save(buffer, "JPEG", exif=_exif(orientation).tobytes(),
                                icc_profile=srgb, comment=SECRET.encode())
    return buffer.getvalue()


def png_with_metadata(width: int = 120, height: int = 80, *, alpha: bool = False) -> bytes:
    """A PNG with a text chunk, an eXIf chunk with GPS and (optionally) transparency."""
    image = picture(width, height)
    if alpha:
        image = image.convert("RGBA")
        image.putalpha(128)
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", SECRET)
    info.add_itxt("XML:com.adobe.xmp", f"<x:xmpmeta>{SECRET}</x:xmpmeta>")
    buffer = io.BytesIO()
    image.save(buffer, "PNG", pnginfo=info, exif=_exif().tobytes())
    return buffer.getvalue()


def animated_gif() -> bytes:
    """Three frames, with a comment."""
    frames = [Image.new("RGB", (40, 30), color) for color in
              ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:],
                   duration=[100, 200, 300], loop=0, comment=SECRET.encode())
    return buffer.getvalue()


def webp(width: int = 64, height: int = 48) -> bytes:
    """A lossy WebP."""
    buffer = io.BytesIO()
    picture(width, height).save(buffer, "WEBP", exif=_exif().tobytes())
    return buffer.getvalue()


def png_bomb(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width × height`` pixels (a decompression bomb)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey
    rows = zlib.compress(b"\x00" * 1024)  # far fewer rows than claimed
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows)
            + chunk(b"IEND", b""))


HTML = b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>"
SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
       b"<script>alert(1)</script></svg>")


def bmp() -> bytes:
    """A real image in a format we do not accept."""
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10), (1, 2, 3)).save(buffer, "BMP")
    return buffer.getvalue()


def has_metadata(data: bytes) -> list[str]:
    """What metadata a stored file still carries (empty: none)."""
    found = []
    with Image.open(io.BytesIO(data)) as image:
        if image.getexif():
            found.append("exif")
        found.extend(key for key in ("exif", "icc_profile", "comment", "xmp", "Comment",
                                     "XML:com.adobe.xmp") if key in image.info)
    if SECRET.encode() in data or b"PhoneMaker" in data:
        found.append("secret bytes")
    return found
