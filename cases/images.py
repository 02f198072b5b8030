"""Case images (a CT slice, a PET image, a pathology photo), made safe to show a room.

An uploaded file is decoded by Pillow and written again from its pixels alone: EXIF (camera,
date, GPS), XMP, IPTC and embedded comments do not survive, because nothing but pixels is copied.
It is turned upright by its EXIF orientation first, scaled to fit MAX_SIDE, and stored as WebP,
which every phone browser and the projector's show. DICOM is not accepted: its tags hold the
patient's name and record number, and an export to PNG or JPEG from the viewer is what a
teaching slide uses anyway. What a file cannot hide in metadata it can show in its pixels (a name
burned into a scan's corner): the author confirms there is none, and the admin refuses the upload
without that confirmation.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_SIDE = 2000  # px: sharp on a 1080p projector and a phone, a few hundred KB
MAX_PIXELS = 60_000_000  # a decompression bomb is refused before it is decoded
ACCEPTED = {"PNG", "JPEG", "WEBP", "GIF", "TIFF", "BMP"}


class ImageRefused(ValueError):
    """The file cannot be a case image; the message says why, in words an author can act on."""


@dataclass(frozen=True)
class PreparedImage:
    content: bytes
    content_type: str
    width: int
    height: int


def prepare_image(data: bytes) -> PreparedImage:
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImageRefused(
            f"The image is {len(data) / 2**20:.0f} MB; the limit is {MAX_UPLOAD_BYTES // 2**20} MB. "
            "Export it smaller (a slide-sized PNG or JPEG is plenty)."
        )
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its limit and twice it; here every such file is refused.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
        with probe:
            kind = probe.format
            if kind not in ACCEPTED:
                raise ImageRefused(f"{kind or 'This'} files are not accepted: upload a PNG, JPEG or WebP image.")
            if probe.width * probe.height > MAX_PIXELS:
                raise ImageRefused("The image has too many pixels to be a slide; export it smaller.")
            probe.verify()  # a truncated or corrupt file fails here, before it is decoded
        with Image.open(io.BytesIO(data)) as source:
            source.seek(0)  # the first frame of an animation or a multi-page TIFF
            upright = ImageOps.exif_transpose(source)
            has_alpha = upright.mode in ("RGBA", "LA") or (upright.mode == "P" and "transparency" in upright.info)
            mode = "RGBA" if has_alpha else "RGB"
            pixels = upright.convert(mode)
    except ImageRefused:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ImageRefused("The image has too many pixels to be a slide; export it smaller.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ImageRefused("This file is not an image Caseboard can read: upload a PNG, JPEG or WebP image.") from None
    pixels.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    # A new image from the pixels alone: no metadata of the upload is carried over.
    clean = Image.new(mode, pixels.size)
    clean.paste(pixels)
    out = io.BytesIO()
    clean.save(out, format="WEBP", quality=85, method=4)
    return PreparedImage(out.getvalue(), "image/webp", clean.width, clean.height)
