"""Thumbnails from bytes: a PDF's first page rendered by PDFium, or an image (Hugging Face's thumbnail) made small,
both encoded as WebP. No Django and no network: the caller fetches, this module refuses what it cannot use with a
reason a person can act on (ThumbnailError), and names the result after its content.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass

WIDTH = 320  # pixels: sharp at the size cards show it on a phone's 2x screen, and enough for a link preview
MAX_HEIGHT = 2 * WIDTH  # a page taller than twice its width (a poster, a strip) is cut at the top part
MAX_PDF_BYTES = 50 * 1024 * 1024
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000  # a decompression bomb is refused before it is decoded
MAX_PAGE_POINTS = 14_400  # PDFium's own limit on a page side (200 inches)
IMAGE_FORMATS = {"PNG", "JPEG", "WEBP", "GIF"}
QUALITY = 70
ORIGINS = ("pdf", "huggingface")

_NAME = re.compile(r"^(pdf|huggingface)-[0-9a-f]{20}-([1-9][0-9]{0,3})x([1-9][0-9]{0,3})\.webp$")


class ThumbnailError(ValueError):
    """The bytes give no thumbnail; the message says why (the PDF is encrypted, not an image, …)."""


@dataclass(frozen=True)
class Thumbnail:
    webp: bytes
    width: int
    height: int
    origin: str  # "pdf" or "huggingface"

    @property
    def file_name(self) -> str:
        """Named after its content (so it can be cached for ever), its origin and its size (so that pages can give
        the image's width and height without opening it)."""
        digest = hashlib.sha256(self.webp).hexdigest()[:20]
        return f"{self.origin}-{digest}-{self.width}x{self.height}.webp"


@dataclass(frozen=True)
class ThumbnailName:
    """What a thumbnail's file name says."""

    name: str
    origin: str
    width: int
    height: int


def parse_file_name(name: str) -> ThumbnailName | None:
    """The parts of a name `Thumbnail.file_name` made; None for any other name (which is then never a path)."""
    found = _NAME.match(name or "")
    if found is None:
        return None
    return ThumbnailName(name, found.group(1), int(found.group(2)), int(found.group(3)))


def looks_like_pdf(start: bytes) -> bool:
    """PDF readers accept the %PDF- header anywhere in the first 1024 bytes (ISO 32000-1, annex H)."""
    return b"%PDF-" in start[:1024]


def from_pdf(data: bytes) -> Thumbnail:
    """The first page of a PDF, WIDTH pixels wide."""
    import pypdfium2 as pdfium

    if len(data) > MAX_PDF_BYTES:
        raise ThumbnailError(f"the PDF is larger than {MAX_PDF_BYTES // (1024 * 1024)} MB")
    if not looks_like_pdf(data):
        raise ThumbnailError("the file is not a PDF (it does not start with %PDF-)")
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        if getattr(error, "err_code", None) == pdfium.raw.FPDF_ERR_PASSWORD:
            raise ThumbnailError("the PDF is encrypted: it cannot be opened without a password") from None
        raise ThumbnailError(f"the PDF is broken: {_pdfium_reason(error)}") from None
    try:
        if len(document) == 0:
            raise ThumbnailError("the PDF has no pages")
        page = document[0]
        try:
            width, height = page.get_size()
            if not (0 < width <= MAX_PAGE_POINTS and 0 < height <= MAX_PAGE_POINTS):
                raise ThumbnailError(f"the PDF's first page has an impossible size ({width:g} × {height:g} points)")
            scale = WIDTH / width
            crop_bottom = max(0.0, height - MAX_HEIGHT / scale)
            bitmap = page.render(scale=scale, crop=(0, crop_bottom, 0, 0), may_draw_forms=False)
            # Encoded while the document is open: the PIL image shares the bitmap's memory, which closing frees.
            return _encoded(bitmap.to_pil(), "pdf")
        except pdfium.PdfiumError as error:
            raise ThumbnailError(f"the PDF's first page cannot be drawn: {_pdfium_reason(error)}") from None
        finally:
            page.close()
    finally:
        document.close()


def from_image(data: bytes) -> Thumbnail:
    """An image (PNG, JPEG, WebP or GIF) made WIDTH pixels wide, or kept as wide as it is when it is narrower."""
    from PIL import Image, UnidentifiedImageError

    if len(data) > MAX_IMAGE_BYTES:
        raise ThumbnailError(f"the image is larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MB")
    try:
        image = Image.open(io.BytesIO(data))
        if image.format not in IMAGE_FORMATS:
            raise ThumbnailError(f"the image is {image.format}, not PNG, JPEG, WebP or GIF")
        if image.width * image.height > MAX_IMAGE_PIXELS:
            raise ThumbnailError(f"the image is too large to decode ({image.width} × {image.height} pixels)")
        image.load()
    except ThumbnailError:
        raise
    except Image.DecompressionBombError:
        raise ThumbnailError("the image is too large to decode") from None
    except UnidentifiedImageError:
        raise ThumbnailError("the file is not an image of a kind that can be read") from None
    except (OSError, SyntaxError, ValueError) as error:  # Pillow's words for a damaged file
        raise ThumbnailError(f"the image is damaged ({error})") from None
    if image.width > WIDTH:
        image = image.resize((WIDTH, max(1, round(image.height * WIDTH / image.width))), Image.Resampling.LANCZOS)
    if image.height > MAX_HEIGHT:
        image = image.crop((0, 0, image.width, MAX_HEIGHT))
    return _encoded(image, "huggingface")


def _encoded(image, origin: str) -> Thumbnail:
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if "transparency" in image.info or image.mode in ("LA", "PA") else "RGB")
    out = io.BytesIO()
    image.save(out, "WEBP", quality=QUALITY, method=4)
    return Thumbnail(out.getvalue(), image.width, image.height, origin)


def _pdfium_reason(error: Exception) -> str:
    """PDFium's own words ("Data format error"), without pypdfium2's wrapping."""
    text = str(error)
    found = re.search(r"PDFium: ([^)]+)\)", text)
    return found.group(1) if found else text
