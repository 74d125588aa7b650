"""Report photos: JPEG or PNG only, recognised by their bytes (never by the name or declared type),
checked, and stored under ``data_dir/photos`` named by the sha256 of the content.

A small file can declare a huge image (a 280 KB PNG of 6000x6000 RGBA16 inflates to 288 MB), so nothing
is decoded before the header has been judged: the declared pixels (``photo_max_pixels``) and bit depth
(8 bits per channel at most: ``too_deep``) are checked first. The decode that follows is bounded:

- PNG: the image data is inflated in slices and only counted and its row filters checked, never kept, so
  a truncated or corrupt stream is refused without ever holding the picture.
- JPEG: the container structure is checked (marker segments up to the start of scan, a frame header with
  real dimensions, the end-of-image marker), then Pillow decodes every scan at 1/8 scale (``draft``): all
  the compressed data is read, but only an eighth of each side is ever in memory. A progressive JPEG keeps
  its coefficients for the whole image while it decodes, so one needing more than ``DECODE_BUDGET_BYTES``
  is refused as ``too_many_pixels``.

At most ``DECODES_AT_ONCE`` photos are decoded at a time in the process, whatever the uploads in flight.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import struct
import tempfile
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from jogo_dispatch.errors import InvalidInput, PayloadTooLarge

JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# Start-of-frame markers carrying the image size (C4 = DHT, C8 = JPG, CC = DAC are not frames).
_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_PROGRESSIVE = frozenset({0xC2, 0xC6, 0xCA, 0xCE})
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
MEDIA_TYPES = {"jpeg": "image/jpeg", "png": "image/png"}
EXTENSIONS = {"jpeg": "jpg", "png": "png"}
MAX_BITS = 8  # per channel: phones take 8-bit photos; 16 bits only doubles what a decode holds
# PNG colour type -> (channels, bit depths allowed by the PNG specification)
_PNG_COLOURS = {
    0: (1, (1, 2, 4, 8, 16)),
    2: (3, (8, 16)),
    3: (1, (1, 2, 4, 8)),
    4: (2, (8, 16)),
    6: (4, (8, 16)),
}
# Adam7 passes: (first column, first row, column step, row step)
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
_INFLATE_IN = 16 * 1024  # compressed bytes fed at a time
_INFLATE_OUT = 256 * 1024  # inflated bytes looked at at a time
DECODE_BUDGET_BYTES = 64 * 1024 * 1024
DECODES_AT_ONCE = 2
_decoding = threading.BoundedSemaphore(DECODES_AT_ONCE)


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


PhotoProblem = Literal["not_jpeg_or_png", "broken", "empty", "too_many_pixels", "too_deep", "not_a_file"]


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


@dataclass(frozen=True, slots=True)
class JpegFrame:
    width: int
    height: int
    precision: int  # bits per sample
    progressive: bool
    sampling: tuple[tuple[int, int], ...]  # (horizontal, vertical) factor of each component

    def coefficient_bytes(self) -> int:
        """What a progressive decode holds for the whole image: 64 two-byte coefficients per block."""
        h_max = max(h for h, _ in self.sampling)
        v_max = max(v for _, v in self.sampling)
        mcus = math.ceil(self.width / (8 * h_max)) * math.ceil(self.height / (8 * v_max))
        return mcus * sum(h * v for h, v in self.sampling) * 128


def jpeg_frame(data: bytes) -> JpegFrame:
    """The frame header of a structurally sound baseline or progressive JPEG."""
    pos, n, frame = 2, len(data), None
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
            precision, height, width, count = struct.unpack(">BHHB", data[pos + 2 : pos + 8])
            if count not in (1, 3, 4) or length != 8 + 3 * count:
                raise bad_photo("JPEG frame header is invalid")
            factors = tuple((data[pos + 9 + 3 * i] >> 4, data[pos + 9 + 3 * i] & 0x0F) for i in range(count))
            if any(not (1 <= h <= 4 and 1 <= v <= 4) for h, v in factors):
                raise bad_photo("JPEG sampling factors are invalid")
            frame = JpegFrame(width, height, precision, marker in _PROGRESSIVE, factors)
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            if frame is None or frame.width == 0 or frame.height == 0:
                raise bad_photo("JPEG has no frame header with a size")
            if data.rfind(b"\xff\xd9", pos + length) < 0:
                raise bad_photo("JPEG is truncated (no end-of-image marker)")
            return frame
        pos += length


@dataclass(frozen=True, slots=True)
class PngHeader:
    width: int
    height: int
    depth: int  # bits per channel
    colour: int
    interlaced: bool
    idat: tuple[tuple[int, int], ...]  # (start, end) of each IDAT chunk's body in the file

    def rows(self) -> list[tuple[int, int]]:
        """(bytes per row, rows) of each pass of the image data (one pass unless interlaced)."""
        bits = self.depth * _PNG_COLOURS[self.colour][0]
        passes = _ADAM7 if self.interlaced else ((0, 0, 1, 1),)
        out = []
        for x0, y0, dx, dy in passes:
            w = max(0, math.ceil((self.width - x0) / dx))
            h = max(0, math.ceil((self.height - y0) / dy))
            if w and h:
                out.append(((w * bits + 7) // 8, h))
        return out


def png_header(data: bytes) -> PngHeader:
    """The header of a PNG whose every chunk is complete and passes its CRC."""
    pos, n = len(PNG_MAGIC), len(data)
    header: tuple[int, int, int, int, bool] | None = None
    idat: list[tuple[int, int]] = []
    palette = False
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
        if header is None:
            if kind != b"IHDR" or length != 13:
                raise bad_photo("PNG does not start with an IHDR chunk")
            width, height, depth, colour, compression, filtering, interlace = struct.unpack(">IIBBBBB", body)
            allowed = _PNG_COLOURS.get(colour, (0, ()))[1]
            if width == 0 or height == 0 or depth not in allowed or (compression, filtering) != (0, 0):
                raise bad_photo("PNG header is invalid")
            if interlace not in (0, 1) or width > 0x7FFFFFFF or height > 0x7FFFFFFF:
                raise bad_photo("PNG header is invalid")
            header = (width, height, depth, colour, interlace == 1)
        elif kind == b"PLTE":
            palette = True
        elif kind == b"IDAT":
            if idat and idat[-1][1] + 4 != pos:
                raise bad_photo("PNG image data is not in consecutive chunks")
            idat.append((pos + 8, end))
        elif kind == b"IEND":
            if not idat:
                raise bad_photo("PNG has no image data")
            if header[3] == 3 and not palette:
                raise bad_photo("PNG with a palette has no PLTE chunk")
            return PngHeader(*header, idat=tuple(idat))
        pos = end + 4


def _check_png_data(data: bytes, header: PngHeader) -> None:
    """Inflate the image data slice by slice: exactly the declared rows, each with a valid filter type
    (0..4), a complete zlib stream. Nothing of the picture is kept."""
    passes = []  # (first byte, end, row stride) of each pass in the inflated stream
    at = 0
    for row_bytes, count in header.rows():
        passes.append((at, at + (row_bytes + 1) * count, row_bytes + 1))
        at += (row_bytes + 1) * count
    expected = at
    inflater = zlib.decompressobj()
    produced = 0
    view = memoryview(data)

    def look(out: bytes) -> None:
        nonlocal produced
        if produced + len(out) > expected:
            raise bad_photo("PNG holds more image data than its size")
        for first, end, stride in passes:
            lo, hi = max(first, produced), min(end, produced + len(out))
            if lo >= hi:
                continue
            row_start = lo + (first - lo) % stride
            if row_start < hi and max(out[row_start - produced : hi - produced : stride]) > 4:
                raise bad_photo("PNG row has an unknown filter type")
        produced += len(out)

    try:
        for start, end in header.idat:
            for piece in range(start, end, _INFLATE_IN):
                pending: bytes | memoryview = view[piece : min(end, piece + _INFLATE_IN)]
                while pending and not inflater.eof:
                    look(inflater.decompress(pending, _INFLATE_OUT))
                    pending = inflater.unconsumed_tail
        while not inflater.eof:  # output zlib still holds after the last input
            out = inflater.decompress(b"", _INFLATE_OUT)
            if not out:
                break
            look(out)
    except zlib.error:
        raise bad_photo("PNG image data is corrupt") from None
    if not inflater.eof or produced != expected:
        raise bad_photo("PNG image data is truncated")


def _decode_jpeg(data: bytes, frame: JpegFrame, max_pixels: int) -> None:
    """Decode every scan at 1/8 scale with Pillow, if installed (without it the structure check stands)."""
    try:
        from PIL import Image  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return
    Image.MAX_IMAGE_PIXELS = max_pixels  # refused past twice this, should a header ever slip past ours
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format != "JPEG":
                raise bad_photo(f"content is {img.format}, not JPEG", "not_jpeg_or_png")
            if (img.width, img.height) != (frame.width, frame.height):
                raise bad_photo("JPEG frame headers disagree")
            img.draft(None, (max(1, math.ceil(frame.width / 8)), max(1, math.ceil(frame.height / 8))))
            img.load()
    except InvalidInput:
        raise
    except Exception as exc:  # noqa: BLE001 - Pillow raises many types for corrupt input
        raise bad_photo(f"image cannot be decoded ({type(exc).__name__})") from None


def _too_many(width: int, height: int, limit: int) -> InvalidInput:
    return bad_photo(f"image has {width}x{height} pixels, more than {limit}", "too_many_pixels", limit=limit)


def validate(data: bytes, max_bytes: int, max_pixels: int) -> Photo:
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            f"photo larger than {max_bytes} bytes", code="photo_too_large", details={"limit": max_bytes}
        )
    if not data:
        raise bad_photo("empty file", "empty")
    kind = sniff(data)
    if kind == "jpeg":
        frame = jpeg_frame(data)
        width, height, depth = frame.width, frame.height, frame.precision
    else:
        header = png_header(data)
        width, height, depth = header.width, header.height, header.depth
    if width * height > max_pixels:
        raise _too_many(width, height, max_pixels)
    if depth > MAX_BITS:
        raise bad_photo(
            f"image has {depth} bits per channel, more than {MAX_BITS}", "too_deep", limit=MAX_BITS
        )
    if kind == "jpeg" and frame.progressive and frame.coefficient_bytes() > DECODE_BUDGET_BYTES:
        per_pixel = frame.coefficient_bytes() / (width * height)
        raise _too_many(width, height, int(DECODE_BUDGET_BYTES / per_pixel))
    with _decoding:
        if kind == "jpeg":
            _decode_jpeg(data, frame, max_pixels)
        else:
            _check_png_data(data, header)
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
