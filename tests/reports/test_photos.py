"""Photo checks without a database: magic bytes, container structure, limits, content-hash storage."""

from __future__ import annotations

import hashlib
import io
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from jogo_dispatch.errors import InvalidInput, PayloadTooLarge
from jogo_dispatch.reports import photos
from tests.reports.helpers import JPEG_16, bomb_png, png

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
        SIG + IHDR + _chunk(b"IDAT", zlib.compress(b"\x00" * 13)) + IEND,  # one byte short of 2 rows
        SIG + IHDR + _chunk(b"IDAT", zlib.compress(b"\x00" * 15)) + IEND,  # one byte too many
        SIG + IHDR + _chunk(b"IDAT", zlib.compress(b"\x00" * 14)[:-3]) + IEND,  # zlib stream cut
        SIG + IHDR + _chunk(b"IDAT", zlib.compress(b"\x00" * 7 + b"\x05" + b"\x00" * 6)) + IEND,  # filter 5
        SIG + _chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 3, 0, 0, 0)) + IDAT + IEND,  # no palette
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


def _jpeg_with_precision(bits: int) -> bytes:
    at = JPEG_16.index(b"\xff\xc0") + 4  # the precision byte of the frame header
    return JPEG_16[:at] + bytes([bits]) + JPEG_16[at + 1 :]


def test_deep_images_are_refused_by_their_header() -> None:
    for data in (bomb_png(), bomb_png(8, 8), bomb_png(8, 8, colour=0), _jpeg_with_precision(12)):
        with pytest.raises(InvalidInput, match="bits per channel") as err:
            photos.validate(data, LIMIT, 40_000_000)
        assert err.value.details == {"problem": "too_deep", "limit": 8}


def test_interlaced_and_palette_pngs_pass() -> None:
    from PIL import Image

    for mode, interlace in (("RGB", 1), ("P", 0), ("LA", 1), ("1", 1)):
        buf = io.BytesIO()
        Image.new(mode, (13, 7)).save(buf, "PNG", interlace=interlace)
        assert photos.validate(buf.getvalue(), LIMIT, 10_000).width == 13, (mode, interlace)
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(buf, "JPEG", progressive=True)
    assert photos.validate(buf.getvalue(), LIMIT, 10_000).height == 30


def test_a_progressive_jpeg_needing_too_much_memory_is_refused() -> None:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (6000, 6000)).save(buf, "JPEG", progressive=True, quality=10)
    with pytest.raises(InvalidInput, match="pixels") as err:
        photos.validate(buf.getvalue(), 5_000_000, 40_000_000)
    assert err.value.details["problem"] == "too_many_pixels"


# VmHWM, not ru_maxrss: the latter carries over the parent's peak across fork and exec.
_PEAK = """
import re, sys
from jogo_dispatch.reports import photos
def peak_mb():
    return int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1)) // 1024
data = open(sys.argv[1], "rb").read()
before = peak_mb()
photo = photos.validate(data, 5_000_000, 40_000_000)
print(photo.width, photo.height, peak_mb() - before)
"""


@pytest.mark.parametrize("kind", ["png", "jpeg"])
def test_a_huge_image_is_checked_without_holding_it(kind: str, tmp_path: Path) -> None:
    """6000x6000 within the pixel limit: the decode stays bounded (the full picture would be 108-144 MB)."""
    if kind == "png":
        data = bomb_png(depth=8)
    else:
        from PIL import Image

        buf = io.BytesIO()
        Image.new("RGB", (6000, 6000), "white").save(buf, "JPEG", quality=10)
        data = buf.getvalue()
    assert len(data) < 1_000_000
    path = tmp_path / f"bomb.{kind}"
    path.write_bytes(data)
    run = subprocess.run(
        [sys.executable, "-c", _PEAK, str(path)], capture_output=True, text=True, timeout=120, check=True
    )
    width, height, grew_mb = map(int, run.stdout.split())
    assert (width, height) == (6000, 6000)
    assert grew_mb < 30, f"validating grew the peak RSS by {grew_mb} MB"
