#!/usr/bin/env python
"""Image bombs against a running server: uploads N small PNGs that declare 6000x6000 RGBA16 (refused by
their header), N that declare 6000x6000 RGBA8 (within the pixel limit: checked by a bounded decode) and a few
normal photos, all at once, and prints the server's resident memory before, at its peak during, and after.

It starts nothing itself. Memory is read from /proc/<pid>/status (``--pid``: VmRSS, and VmHWM for the peak)
or else from the ``process_resident_memory_bytes`` metric of ``GET /metrics`` (sampled while uploading).

    scripts/photo_memory.py --base-url http://127.0.0.1:8000 [--pid 1234] [--username U --password P] [-n 8]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import re
import struct
import sys
import zlib
from collections import Counter
from typing import Any

import httpx

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MALANG = (-7.9666, 112.6326)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return (
        struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    )


def blank_png(width: int, height: int, depth: int = 8, colour: int = 6) -> bytes:
    """A blank image, deflated row by row (never held whole here either)."""
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
    row = bytes(1 + width * channels * depth // 8)
    deflate = zlib.compressobj(9)
    idat = b"".join(deflate.compress(row) for _ in range(height)) + deflate.flush()
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def normal_png(seed: int) -> bytes:
    """A small photo-like PNG (640x480 RGB noise)."""
    rng = random.Random(seed)
    rows = b"".join(b"\x00" + rng.randbytes(640 * 3) for _ in range(480))
    header = struct.pack(">IIBBBBB", 640, 480, 8, 2, 0, 0, 0)
    return (
        PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows)) + _chunk(b"IEND", b"")
    )


class Memory:
    def __init__(self, client: httpx.AsyncClient, pid: int | None) -> None:
        self.client, self.pid = client, pid

    async def rss_mb(self) -> float | None:
        if self.pid is not None:
            return self._status("VmRSS")
        r = await self.client.get("/metrics")
        found = re.search(r"^process_resident_memory_bytes\s+(\S+)", r.text, re.M)
        return float(found.group(1)) / 2**20 if found else None

    def peak_mb(self) -> float | None:
        return self._status("VmHWM") if self.pid is not None else None

    def _status(self, field: str) -> float | None:
        with open(f"/proc/{self.pid}/status") as f:
            found = re.search(rf"^{field}:\s+(\d+) kB", f.read(), re.M)
        return int(found.group(1)) / 1024 if found else None


async def citizen_headers(
    client: httpx.AsyncClient, username: str | None, password: str | None
) -> dict[str, str]:
    if username is None:
        password = "rahasia-bom-1"
        phone = f"0812{random.randrange(10**8):08d}"
        r = await client.post(
            "/api/v1/citizens", json={"phone": phone, "name": "Uji Bom", "password": password}
        )
        r.raise_for_status()
        username = r.json()["username"]
    t = await client.post("/api/v1/auth/token", data={"username": username, "password": password})
    t.raise_for_status()
    return {"Authorization": f"Bearer {t.json()['access_token']}"}


async def upload(client: httpx.AsyncClient, headers: dict[str, str], name: str, data: bytes, n: int) -> str:
    lat, lon = MALANG
    fields = {
        "category": "traffic_accident",
        "description": f"photo memory check {name}",
        "lat": str(lat),
        "lon": str(lon),
        "reporter_lat": str(lat + 0.0005),
        "reporter_lon": str(lon),
    }
    r = await client.post(
        "/api/v1/reports",
        headers={**headers, "X-Device-Id": f"photo-memory-{n}"},
        data=fields,
        files={"photo": (f"{name}.png", data, "image/png")},
    )
    body: dict[str, Any] = (
        r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
    )
    error = body.get("error") or {}
    problem = (error.get("details") or {}).get("problem")
    return f"{name}: {r.status_code} {error.get('code', '')} {problem or ''}".rstrip()


async def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--pid", type=int, help="the server process (else the /metrics figure)")
    parser.add_argument("--username", help="a citizen's login (default: a new citizen is registered)")
    parser.add_argument("--password")
    parser.add_argument("-n", type=int, default=8, help="bombs of each kind uploaded at once")
    parser.add_argument("--normal", type=int, default=2, help="normal photos uploaded alongside")
    args = parser.parse_args()

    deep = blank_png(6000, 6000, depth=16)
    wide = blank_png(6000, 6000, depth=8)
    print(f"bomb PNGs: 6000x6000 RGBA16 {len(deep) // 1024} KB, 6000x6000 RGBA8 {len(wide) // 1024} KB")
    async with httpx.AsyncClient(base_url=args.base_url, timeout=120) as client:
        headers = await citizen_headers(client, args.username, args.password)
        memory = Memory(client, args.pid)
        before, peak_before = await memory.rss_mb(), memory.peak_mb()
        numbers = itertools.count()
        jobs = [upload(client, headers, "rgba16-6000", deep, next(numbers)) for _ in range(args.n)]
        jobs += [upload(client, headers, "rgba8-6000", wide, next(numbers)) for _ in range(args.n)]
        jobs += [upload(client, headers, "normal", normal_png(i), next(numbers)) for i in range(args.normal)]
        samples: list[float] = []
        done = asyncio.Event()

        async def sample() -> None:
            while not done.is_set():
                value = await memory.rss_mb()
                if value is not None:
                    samples.append(value)
                await asyncio.sleep(0.01 if args.pid else 0.05)

        sampler = asyncio.create_task(sample())
        results = await asyncio.gather(*jobs)
        done.set()
        await sampler
        await asyncio.sleep(1.0)
        after = await memory.rss_mb()
        for line, count in sorted(Counter(results).items()):
            print(f"  {count} x {line}")
        peak = memory.peak_mb()

    def mb(v: float | None) -> str:
        return "?" if v is None else f"{v:.0f} MB"

    print(
        f"server RSS before {mb(before)}, highest sampled {mb(max(samples, default=None))}, after {mb(after)}"
    )
    if peak is not None:  # the process's highest RSS ever: start-up's peak too
        print(f"server VmHWM (highest RSS since it started) before {mb(peak_before)}, after {mb(peak)}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
