"""Report photos: JPEG or PNG only, recognised by their bytes (never by the name or declared type),
checked, and stored under ``data_dir/photos`` named by the sha256 of the content.

With Pillow installed the image is fully decoded (a truncated or corrupt file is refused). Without it,
the container structure is checked instead: for JPEG the marker segments up to the start of scan, a
frame header with real dimensions and the end-of-image marker; for PNG every chunk's length and CRC,
an IHDR first, image data, and IEND last. Both paths enforce the byte and pixel limits.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from jogo_dispatch.errors import InvalidInput, PayloadTooLarge

JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# Start-of-frame markers carrying the image size (C4 = DHT, C8 = JPG, CC = DAC are not frames).
_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
MEDIA_TYPES = {"jpeg": "image/jpeg", "png": "image/png"}
EXTENSIONS = {"jpeg": "jpg", "png": "png"}


@dataclass(frozen=True, slots=True)
class Photo:
    kind: str  # "jpeg" | "png"
    width: int
    height: int
    sha256: str
    data: bytes

    @property
    def filename(self) -> str:
        return f"{self.sha256}.{EXTENSIONS[self.kind]}"


PhotoProblem = Literal["not_jpeg_or_png", "broken", "empty", "too_many_pixels", "not_a_file"]


def bad_photo(message: str, problem: PhotoProblem = "broken", **details: int) -> InvalidInput:
    """400 ``bad_photo``; ``details.problem`` says why in a word the phone app translates."""
    return InvalidInput(
        f"photo rejected: {message}", code="bad_photo", details={"problem": problem, **details}
    )


def sniff(data: bytes) -> str:
    if data.startswith(JPEG_MAGIC):
        return "jpeg"
    if data.startswith(PNG_MAGIC):
        return "png"
    raise bad_photo("only JPEG and PNG images are accepted", "not_jpeg_or_png")


def jpeg_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a structurally sound baseline or progressive JPEG."""
    pos, n, size = 2, len(data), None
    while True:
        if pos >= n or data[pos] != 0xFF:
            raise bad_photo("JPEG marker structure is broken")
        while pos < n and data[pos] == 0xFF:  # fill bytes
            pos += 1
        if pos >= n:
            raise bad_photo("JPEG ends inside a marker")
        marker = data[pos]
        pos += 1
        if marker in _STANDALONE:
            continue
        if marker in (0xD8, 0xD9):
            raise bad_photo("JPEG image ends before its scan")
        if pos + 2 > n:
            raise bad_photo("JPEG segment is truncated")
        (length,) = struct.unpack(">H", data[pos : pos + 2])
        if length < 2 or pos + length > n:
            raise bad_photo("JPEG segment length is out of bounds")
        if marker in _SOF:
            if length < 8:
                raise bad_photo("JPEG frame header is too short")
            height, width = struct.unpack(">HH", data[pos + 3 : pos + 7])
            size = (width, height)
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            if size is None or size[0] == 0 or size[1] == 0:
                raise bad_photo("JPEG has no frame header with a size")
            if data.rfind(b"\xff\xd9", pos + length) < 0:
                raise bad_photo("JPEG is truncated (no end-of-image marker)")
            return size
        pos += length


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG whose every chunk is complete and passes its CRC."""
    pos, n = len(PNG_MAGIC), len(data)
    size = None
    seen_idat = False
    first = True
    while True:
        if pos + 12 > n:
            raise bad_photo("PNG is truncated (no IEND chunk)")
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        end = pos + 8 + length
        if length > 0x7FFFFFFF or end + 4 > n:
            raise bad_photo("PNG chunk length is out of bounds")
        body = data[pos + 8 : end]
        (crc,) = struct.unpack(">I", data[end : end + 4])
        if zlib.crc32(kind + body) & 0xFFFFFFFF != crc:
            raise bad_photo(f"PNG chunk {kind!r} fails its CRC")
        if first:
            if kind != b"IHDR" or length != 13:
                raise bad_photo("PNG does not start with an IHDR chunk")
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            if width == 0 or height == 0 or depth not in (1, 2, 4, 8, 16) or colour not in (0, 2, 3, 4, 6):
                raise bad_photo("PNG header is invalid")
            size = (width, height)
            first = False
        elif kind == b"IDAT":
            seen_idat = True
        elif kind == b"IEND":
            if not seen_idat or size is None:
                raise bad_photo("PNG has no image data")
            return size
        pos = end + 4


def _decode_with_pillow(data: bytes, kind: str) -> tuple[int, int] | None:
    try:
        from PIL import Image  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return None
    try:
        with Image.open(io.BytesIO(data)) as img:
            if (img.format or "").lower() != kind:
                raise bad_photo(f"content is {img.format}, not {kind.upper()}", "not_jpeg_or_png")
            img.verify()
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            return int(img.width), int(img.height)
    except InvalidInput:
        raise
    except Exception as exc:  # noqa: BLE001 - Pillow raises many types for corrupt input
        raise bad_photo(f"image cannot be decoded ({type(exc).__name__})") from None


def validate(data: bytes, max_bytes: int, max_pixels: int) -> Photo:
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            f"photo larger than {max_bytes} bytes", code="photo_too_large", details={"limit": max_bytes}
        )
    if not data:
        raise bad_photo("empty file", "empty")
    kind = sniff(data)
    width, height = jpeg_size(data) if kind == "jpeg" else png_size(data)
    if width * height > max_pixels:
        raise bad_photo(
            f"image has {width}x{height} pixels, more than {max_pixels}", "too_many_pixels", limit=max_pixels
        )
    decoded = _decode_with_pillow(data, kind)
    if decoded is not None:
        width, height = decoded
    return Photo(kind, width, height, hashlib.sha256(data).hexdigest(), data)


def store(photo: Photo, directory: Path) -> Path:
    """Write once, atomically; the same content uploaded again is the same file."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / photo.filename
    if path.exists():
        return path
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(photo.data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def path_of(directory: Path, sha256: str, kind: str) -> Path:
    return directory / f"{sha256}.{EXTENSIONS[kind]}"
