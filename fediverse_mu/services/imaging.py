"""The image pipeline of uploads, with Pillow: identify the bytes (never the file name or the
declared type), refuse anything but JPEG, PNG, GIF and WebP, refuse decompression bombs before
decoding, apply the EXIF orientation, convert to sRGB, and re-encode from the pixels alone so
no metadata survives (EXIF with GPS, XMP, IPTC, ICC profiles, comments). Also makes the preview
and its BlurHash. Synchronous and CPU-bound: services run it in a thread."""

from __future__ import annotations

import io
import logging
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from PIL import Image, ImageCms, ImageOps

from fediverse_mu.domain.errors import Invalid
from fediverse_mu.domain.media import IMAGE_MATRIX_LIMIT, IMAGE_SIZE_LIMIT, THUMBNAIL_SIZE
from fediverse_mu.services import blurhash

log = logging.getLogger(__name__)

# Pillow format name -> (MIME type, file extension) of what we store.
FORMATS: Final = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "GIF": ("image/gif", "gif"),
    "WEBP": ("image/webp", "webp"),
}
MIME_TYPES: Final = frozenset(mime_type for mime_type, _ in FORMATS.values())
MAX_SIDE: Final = 16_384
MAX_FRAMES: Final = 1_000
ANIMATION_PIXEL_LIMIT: Final = 4 * IMAGE_MATRIX_LIMIT  # all frames together
BLURHASH_SIDE: Final = 32
UNIDENTIFIED: Final = "File type of uploaded media could not be verified"
# Decoding a 16-megapixel image takes about 100 MB: two at a time bounds the memory an upload
# burst can take, whatever the size of the thread pool.
_SLOTS = threading.BoundedSemaphore(2)


@dataclass(frozen=True)
class Encoded:
    """One stored rendition."""

    data: bytes
    mime_type: str
    extension: str
    width: int
    height: int


@dataclass(frozen=True)
class ProcessedImage:
    """A cleaned upload: the full-size file, its preview and its BlurHash."""

    original: Encoded
    thumbnail: Encoded
    blurhash: str
    animated: bool


def process_image(data: bytes) -> ProcessedImage:
    """Identify, check and re-encode an uploaded image; raise Invalid when it is not one we
    accept (unknown type, too large, too many pixels, corrupt)."""
    return _guarded(data, _process, "an upload")


def process_profile_image(data: bytes, width: int, height: int) -> ProcessedImage:
    """An avatar or header: the same checks and cleaning as :func:`process_image`, then the
    first frame cropped around its centre and resized to exactly ``width``×``height``
    (PNG when transparent, JPEG otherwise), as Mastodon's ``400x400#`` and ``1500x500#``."""
    def fit(raw: bytes) -> ProcessedImage:
        with Image.open(io.BytesIO(raw), formats=list(FORMATS)) as image:
            _check_dimensions(image)
            first = _clean(image)
        fitted = ImageOps.fit(first, (width, height), Image.Resampling.LANCZOS)
        fitted.info = {}
        encoded = _encode(fitted, "PNG" if _has_alpha(fitted) else "JPEG")
        return ProcessedImage(original=encoded, thumbnail=_thumbnail(fitted),
                              blurhash=_blurhash(fitted), animated=False)

    return _guarded(data, fit, "a profile image")


def _guarded(data: bytes, work: Callable[[bytes], ProcessedImage], what: str) -> ProcessedImage:
    """The size checks before decoding, two images at a time, and every decoder failure
    turned into Invalid (hostile input makes decoders raise anything at all)."""
    if not data:
        raise Invalid("The file is empty")
    if len(data) > IMAGE_SIZE_LIMIT:
        raise Invalid(f"File size must be at most {IMAGE_SIZE_LIMIT // (1024 * 1024)} MB")
    with _SLOTS:
        try:
            return work(data)
        except Invalid:
            raise
        except Image.DecompressionBombError:
            raise Invalid(f"Image dimensions must be at most {IMAGE_MATRIX_LIMIT} pixels") \
                from None
        except Exception as exc:
            log.info("refused %s Pillow cannot decode: %r", what, exc)
            raise Invalid(UNIDENTIFIED) from None


def _check_dimensions(image: Image.Image) -> None:
    if (image.format or "") not in FORMATS:
        raise Invalid(UNIDENTIFIED)
    width, height = image.size
    if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE) or \
            width * height > IMAGE_MATRIX_LIMIT:
        raise Invalid(f"Image dimensions must be at most {IMAGE_MATRIX_LIMIT} pixels "
                      f"(got {width}×{height})")


def _process(data: bytes) -> ProcessedImage:
    with Image.open(io.BytesIO(data), formats=list(FORMATS)) as image:
        _check_dimensions(image)
        fmt = image.format or ""
        width, height = image.size
        frames = getattr(image, "n_frames", 1)
        if frames > 1:
            if frames > MAX_FRAMES or frames * width * height > ANIMATION_PIXEL_LIMIT:
                raise Invalid(f"Animations may have at most {ANIMATION_PIXEL_LIMIT} pixels "
                              "in all frames together")
            original, first = _animation(image, fmt, frames)
        else:
            first = _clean(image)
            original = _encode(first, fmt)
    thumbnail = _thumbnail(first)
    return ProcessedImage(original=original, thumbnail=thumbnail,
                          blurhash=_blurhash(first), animated=frames > 1)


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info


def _to_srgb(image: Image.Image) -> Image.Image:
    """Convert through the embedded ICC profile, if any and usable, to sRGB."""
    profile = image.info.get("icc_profile")
    if not profile or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        mode = "RGBA" if image.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"),
                                              outputMode=mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image  # a broken profile: keep the pixels as they are, drop the profile
    return converted if converted is not None else image


def _clean(image: Image.Image) -> Image.Image:
    """A copy with the EXIF orientation applied, in sRGB, in a mode we encode, with no
    metadata at all (``info`` emptied: savers read EXIF, ICC, XMP and comments from it)."""
    try:
        oriented = ImageOps.exif_transpose(image) or image.copy()
    except (SyntaxError, ValueError, TypeError, KeyError, struct.error):
        oriented = image.copy()  # unreadable EXIF: the pixels are still fine, and EXIF goes
    oriented = _to_srgb(oriented)
    if _has_alpha(oriented):
        cleaned = oriented.convert("RGBA")
    elif oriented.mode in ("1", "L", "RGB"):
        cleaned = oriented.copy()
    else:
        cleaned = oriented.convert("RGB")  # P, CMYK, YCbCr, I;16…
    cleaned.info = {}
    return cleaned


def _encode(image: Image.Image, fmt: str) -> Encoded:
    buffer = io.BytesIO()
    if fmt == "JPEG":
        if image.mode not in ("L", "RGB"):
            image = image.convert("RGB")
        image.save(buffer, format="JPEG", quality=90, optimize=True)
    elif fmt == "WEBP":
        image.save(buffer, format="WEBP", quality=90)
    else:
        image.save(buffer, format=fmt)
    mime_type, extension = FORMATS[fmt]
    return Encoded(buffer.getvalue(), mime_type, extension, image.width, image.height)


def _animation(image: Image.Image, fmt: str, count: int) -> tuple[Encoded, Image.Image]:
    """Re-encode every frame from its pixels, keeping only timing and looping."""
    loop = image.info.get("loop")
    frames: list[Image.Image] = []
    durations: list[int] = []
    for index in range(count):
        image.seek(index)
        frame = image.convert("RGBA")
        frame.info = {}
        frames.append(frame)
        durations.append(max(20, int(image.info.get("duration") or 100)))
    buffer = io.BytesIO()
    options: dict[str, object] = {"save_all": True, "append_images": frames[1:],
                                  "duration": durations}
    if isinstance(loop, int):  # absent: the animation plays once
        options["loop"] = loop
    if fmt == "GIF":
        options["disposal"] = 2
    elif fmt == "WEBP":
        options["quality"] = 90
    frames[0].save(buffer, format=fmt, **options)
    mime_type, extension = FORMATS[fmt]
    encoded = Encoded(buffer.getvalue(), mime_type, extension, frames[0].width,
                      frames[0].height)
    return encoded, frames[0]


def _thumbnail(image: Image.Image) -> Encoded:
    """A preview that fits in THUMBNAIL_SIZE² (never enlarged): PNG when transparent, JPEG
    otherwise."""
    small = image.copy()
    small.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE), Image.Resampling.LANCZOS)
    small.info = {}
    return _encode(small, "PNG" if _has_alpha(small) else "JPEG")


def _blurhash(image: Image.Image) -> str:
    tiny = image.copy()
    tiny.thumbnail((BLURHASH_SIDE, BLURHASH_SIDE), Image.Resampling.BOX)
    if _has_alpha(tiny):  # what a client shows on a white background
        backdrop = Image.new("RGBA", tiny.size, (255, 255, 255, 255))
        tiny = Image.alpha_composite(backdrop, tiny.convert("RGBA"))
    rgb = tiny.convert("RGB")
    return blurhash.encode(rgb.tobytes(), rgb.width, rgb.height)
