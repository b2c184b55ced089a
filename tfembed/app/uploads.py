"""What the page accepts from a visitor, checked before any of it reaches the model.

A bad upload (not an image, too large, a decompression bomb) or a bad class list (empty, too
many lines, a line too long) is an `UploadError` whose message the page shows as it is: it
names the file or the line, never a traceback. Images the model's decoder cannot read
(TensorFlow decodes JPEG, PNG, GIF and BMP) are re-encoded as PNG here, so any picture Pillow
opens (WebP, TIFF, ...) can be classified.
"""

import io

MAX_IMAGE_BYTES = 10 << 20  # 10 MiB: a phone photo fits, a video does not
MAX_IMAGE_PIXELS = 40_000_000  # past this Pillow's decompression-bomb guard would trip anyway
MAX_CLASSES = 200
MAX_CLASS_CHARS = 300
MAX_QUERY_CHARS = 500
DECODED_BY_MODEL = ("JPEG", "PNG", "GIF", "BMP")  # tf.io.decode_image's formats


class UploadError(ValueError):
    """Bad visitor input; `status` is the HTTP status the page receives (400 or 413)."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


def _megabytes(n):
    return f"{n / (1 << 20):.1f} MB" if n >= (1 << 20) else f"{n:,} bytes"


def check_image(data, filename="the upload", max_bytes=MAX_IMAGE_BYTES):
    """Encoded image bytes the model can decode (JPEG/PNG/GIF/BMP as given, others as PNG)."""
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise UploadError(f"{filename} is empty (0 bytes): choose an image file")
    if len(data) > max_bytes:
        raise UploadError(f"{filename} is {_megabytes(len(data))}; the limit is "
                          f"{_megabytes(max_bytes)}", status=413)
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height, fmt = image.width, image.height, image.format
            if width * height > MAX_IMAGE_PIXELS:
                raise UploadError(f"{filename} is {width}x{height} pixels; the limit is "
                                  f"{MAX_IMAGE_PIXELS:,} pixels", status=413)
            image.verify()  # reads the whole file: truncated data fails here
    except UploadError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise UploadError(f"{filename} is not an image (could not read it as JPEG, PNG, GIF, "
                          f"BMP, WebP or another picture format)") from None
    if width < 1 or height < 1:
        raise UploadError(f"{filename} has no pixels ({width}x{height})")
    if fmt in DECODED_BY_MODEL:
        return data
    with Image.open(io.BytesIO(data)) as image:  # verify() leaves the image unusable
        out = io.BytesIO()
        image.convert("RGB").save(out, format="PNG")
    return out.getvalue()


def parse_classes(text, max_classes=MAX_CLASSES, max_chars=MAX_CLASS_CHARS):
    """One class description per line (blank lines skipped) -> list of strings."""
    classes = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        if len(line) > max_chars:
            raise UploadError(f"class line {number} is {len(line)} characters; the limit is "
                              f"{max_chars}")
        classes.append(line)
    if not classes:
        raise UploadError("the class list is empty: type at least one class description, "
                          "one per line")
    if len(classes) > max_classes:
        raise UploadError(f"{len(classes)} classes given; the limit is {max_classes}")
    return classes


def check_query(text, max_chars=MAX_QUERY_CHARS):
    """A search description: non-blank, not overlong."""
    text = (text or "").strip()
    if not text:
        raise UploadError("type a description to search for")
    if len(text) > max_chars:
        raise UploadError(f"the description is {len(text)} characters; the limit is {max_chars}")
    return text


def check_k(k, largest):
    """Number of results asked for: 1..largest (the gallery size)."""
    try:
        k = int(k)
    except (TypeError, ValueError):
        raise UploadError(f"k must be a whole number, got {k!r}") from None
    if k < 1:
        raise UploadError(f"k must be at least 1, got {k}")
    return min(k, largest)
