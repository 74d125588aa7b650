"""Photo checks without a database: magic bytes, container structure, limits, content-hash storage."""

from __future__ import annotations

import hashlib
import struct
import zlib

import pytest

from jogo_dispatch.errors import InvalidInput, PayloadTooLarge
from jogo_dispatch.reports import photos
from tests.reports.helpers import JPEG_16, png

LIMIT = 1_000_000


def test_real_jpeg_and_png_pass_with_their_size() -> None:
    jpeg = photos.validate(JPEG_16, LIMIT, 10_000)
    assert (jpeg.kind, jpeg.width, jpeg.height) == ("jpeg", 16, 16)
    assert jpeg.sha256 == hashlib.sha256(JPEG_16).hexdigest() and jpeg.filename.endswith(".jpg")
    image = photos.validate(png(5, 4), LIMIT, 10_000)
    assert (image.kind, image.width, image.height) == ("png", 5, 4) and image.filename.endswith(".png")


def _chunk(kind: bytes, body: bytes, crc: int | None = None) -> bytes:
    value = zlib.crc32(kind + body) & 0xFFFFFFFF if crc is None else crc
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", value)


SIG = b"\x89PNG\r\n\x1a\n"
IHDR = _chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
IDAT = _chunk(b"IDAT", zlib.compress(b"\x00" * 14))
IEND = _chunk(b"IEND", b"")


@pytest.mark.parametrize(
    "data",
    [
        b"hello, I am a JPEG",
        b"GIF89a\x01\x00\x01\x00",
        b"%PDF-1.7",
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        SIG + IHDR + IDAT,  # no IEND: truncated
        SIG + IDAT + IHDR + IEND,  # IHDR not first
        SIG + IHDR + IEND,  # no image data
        SIG + _chunk(b"IHDR", struct.pack(">IIBBBBB", 0, 2, 8, 2, 0, 0, 0)) + IDAT + IEND,  # zero width
        SIG + IHDR + _chunk(b"IDAT", b"xx", crc=1) + IEND,  # bad CRC
        SIG + IHDR + b"\x7f\xff\xff\xffIDAT",  # chunk length beyond the file
        JPEG_16[:-2],  # no end-of-image marker
        JPEG_16[:200],  # cut inside the headers
        b"\xff\xd8\xff\xda\x00\x02" + b"\x00" * 10 + b"\xff\xd9",  # scan without a frame header
        b"\xff\xd8\xff\xd9",  # ends before any scan
    ],
)
def test_non_images_and_broken_images_are_refused(data: bytes) -> None:
    with pytest.raises(InvalidInput) as err:
        photos.validate(data, LIMIT, 10_000)
    assert err.value.code == "bad_photo"


def test_limits_on_bytes_and_pixels() -> None:
    with pytest.raises(PayloadTooLarge):
        photos.validate(JPEG_16, len(JPEG_16) - 1, 10_000)
    with pytest.raises(InvalidInput, match="pixels") as err:
        photos.validate(JPEG_16, LIMIT, 16 * 16 - 1)
    assert err.value.details == {"problem": "too_many_pixels", "limit": 16 * 16 - 1}
    # A header claiming 100000 x 100000 pixels is refused before anything is decoded.
    bomb = SIG + _chunk(b"IHDR", struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)) + IDAT + IEND
    with pytest.raises(InvalidInput, match="pixels"):
        photos.validate(bomb, LIMIT, 40_000_000)


def test_store_is_atomic_and_idempotent(tmp_path) -> None:
    photo = photos.validate(png(seed=3), LIMIT, 10_000)
    path = photos.store(photo, tmp_path / "photos")
    assert path == photos.path_of(tmp_path / "photos", photo.sha256, "png")
    assert path.read_bytes() == photo.data
    mtime = path.stat().st_mtime_ns
    assert photos.store(photo, tmp_path / "photos") == path and path.stat().st_mtime_ns == mtime
    assert sorted(p.name for p in (tmp_path / "photos").iterdir()) == [path.name]  # no temp files left
