"""GET /app, its manifest, service worker and static files: installable, served locally, no external URLs."""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest

from jogo_dispatch.webapp import router as webapp
from jogo_dispatch.webapp.router import STATIC_DIR, STATIC_PREFIX

CONFIG_RE = re.compile(r'<script id="jogo-config" type="application/json">(.*?)</script>', re.S)
ASSET_RE = re.compile(r"""(?:src|href)="(/[^"]*)\"""")
URL_RE = re.compile(r"""(?:https?|wss?)://[^\s"'`<>()\\]+""")
# Never fetched: the SVG namespace, and the navigation link a tap opens in the phone's maps app.
NOT_FETCHED = ("http://www.w3.org/2000/svg", "https://www.google.com/maps/dir/")
# Leaflet's own non-fetched strings (the live map's tests cover the vendored file).
LEAFLET_NOT_FETCHED = {"http://www.w3.org/2000/svg", "https://leafletjs.com"}
JS_DIR = STATIC_DIR / "js"


def config_of(html: str) -> dict[str, Any]:
    m = CONFIG_RE.search(html)
    assert m, "no #jogo-config in the page"
    return json.loads(m.group(1))  # type: ignore[no-any-return]


def external_urls(text: str, allowed: tuple[str, ...] = NOT_FETCHED) -> set[str]:
    return {u for u in URL_RE.findall(text) if not u.startswith(allowed) and "${" not in u}


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    w, h = struct.unpack(">II", data[16:24])
    return w, h


async def test_app_page(client: httpx.AsyncClient, app: Any) -> None:
    r = await client.get("/app")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["x-content-type-options"] == "nosniff"
    html = r.text
    assert "{{" not in html
    assert '<html lang="id">' in html
    assert 'name="viewport"' in html and "width=device-width" in html
    assert '<link rel="manifest" href="/app/manifest.webmanifest">' in html
    assert 'type="module" src="/static/app/js/app.js"' in html
    assert 'capture="environment"' in html and 'accept="image/*"' in html
    cfg = config_of(html)
    assert cfg["api_base"] == "/api/v1"
    assert cfg["officer_stream_path"] == "/api/v1/officers/stream"
    assert cfg["sw_url"] == "/app/sw.js" and cfg["sw_scope"] == "/app"
    assert cfg["center"] == [-7.9797, 112.6304]
    assert cfg["tile_url"] == app.state.settings.tile_url
    assert cfg["shell"] == webapp.PAGE.digest
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "blob:" in csp
    assert "connect-src 'self' ws: wss:" in csp


async def test_trailing_slash_redirects(client: httpx.AsyncClient) -> None:
    r = await client.get("/app/")
    assert r.status_code == 308 and r.headers["location"] == "/app"


async def test_every_asset_of_the_page_is_served_here(client: httpx.AsyncClient) -> None:
    html = (await client.get("/app")).text
    assets = ASSET_RE.findall(html)
    assert "/static/live/vendor/leaflet/leaflet.js" in assets  # the live map's copy, not a second one
    assert not (STATIC_DIR / "vendor").exists()
    kinds = {
        ".js": "javascript",
        ".css": "text/css",
        ".png": "image/png",
        ".svg": "image/svg+xml",
        ".webmanifest": "application/manifest+json",
    }
    for url in assets:
        if url == "/map":
            continue
        r = await client.get(url)
        assert r.status_code == 200, url
        ext = "." + url.rsplit(".", 1)[-1]
        assert kinds[ext] in r.headers["content-type"], (url, r.headers["content-type"])
    # the ES modules the entry point imports, transitively
    seen: set[str] = set()
    todo = ["app.js"]
    while todo:
        name = todo.pop()
        seen.add(name)
        r = await client.get(f"{STATIC_PREFIX}/js/{name}")
        assert r.status_code == 200 and "javascript" in r.headers["content-type"], name
        todo += [m for m in re.findall(r"from '\./([\w-]+\.js)'", r.text) if m not in seen]
    assert seen == {p.name for p in JS_DIR.glob("*.js")}


async def test_manifest_makes_the_app_installable(client: httpx.AsyncClient) -> None:
    r = await client.get("/app/manifest.webmanifest")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/manifest+json")
    m = json.loads(r.content)
    assert m["name"] and m["short_name"]
    assert m["start_url"] == "/app" and m["scope"] == "/app" and m["id"] == "/app"
    assert m["display"] == "standalone"
    assert m["lang"] == "id"
    for colour in (m["theme_color"], m["background_color"]):
        assert re.fullmatch(r"#[0-9a-f]{6}", colour)
    pngs = [i for i in m["icons"] if i["type"] == "image/png"]
    assert {i["sizes"] for i in pngs} >= {"192x192", "512x512"}
    assert any(i["purpose"] == "maskable" for i in pngs)
    for icon in m["icons"]:
        assert icon["src"].startswith(STATIC_PREFIX + "/icons/")
        got = await client.get(icon["src"])
        assert got.status_code == 200 and got.headers["content-type"] == icon["type"], icon
        if icon["type"] == "image/png":
            w, h = png_size(got.content)
            assert f"{w}x{h}" == icon["sizes"], icon


async def test_service_worker(client: httpx.AsyncClient) -> None:
    r = await client.get("/app/sw.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/javascript")
    # the script lives under /app/ and controls /app itself
    assert r.headers["service-worker-allowed"] == "/app"
    assert r.headers["cache-control"] == "no-cache"
    js = r.text
    assert "{{" not in js
    assert f"jogo-app-{webapp.PAGE.digest}" in js
    shell = json.loads(re.search(r"const SHELL = (\[.*?\]);", js, re.S).group(1))  # type: ignore[union-attr]
    assert shell == webapp.PAGE.shell_urls()
    assert "/app" in shell and "/static/app/js/app.js" in shell
    html = (await client.get("/app")).text
    needed = {u for u in ASSET_RE.findall(html) if u.startswith(("/static/", "/app/"))}
    assert needed <= set(shell), needed - set(shell)  # an offline start finds every asset of the page
    for url in shell:
        assert (await client.get(url)).status_code == 200, url


def test_shell_digest_covers_the_files() -> None:
    for rel in webapp.OWN_SHELL:
        assert (STATIC_DIR / rel).is_file(), rel
    assert {f"js/{p.name}" for p in JS_DIR.glob("*.js")} <= set(webapp.OWN_SHELL)
    assert len(webapp.PAGE.digest) == 16


async def test_no_external_urls(client: httpx.AsyncClient, app: Any) -> None:
    html = (await client.get("/app")).text
    tile_url = app.state.settings.tile_url
    assert external_urls(html.replace(json.dumps(tile_url)[1:-1], "")) == set()
    assert external_urls((await client.get("/app/sw.js")).text) == set()
    assert external_urls((await client.get("/app/manifest.webmanifest")).text) == set()
    for path in sorted(STATIC_DIR.rglob("*")):
        if path.suffix in (".js", ".css", ".html", ".svg"):
            text = path.read_text(encoding="utf-8")
            assert external_urls(text) == set(), path.name
    for vendored in ("vendor/leaflet/leaflet.js", "vendor/leaflet/leaflet.css"):
        text = (await client.get(f"/static/live/{vendored}")).text
        text = re.sub(r"/\*.*?\*/", "", text, flags=re.S) if vendored.endswith(".css") else text
        assert external_urls(text, ()) <= LEAFLET_NOT_FETCHED, vendored
    css = (await client.get(f"{STATIC_PREFIX}/app.css")).text
    for ref in re.findall(r"url\(([^)]+)\)", css):
        assert (await client.get(urljoin(f"{STATIC_PREFIX}/app.css", ref.strip("'\"")))).status_code == 200


@pytest.mark.parametrize(
    "path", ["..%2Frouter.py", "%2e%2e/router.py", "../router.py", "js/../../router.py", "nope.js", "", "js"]
)
async def test_static_route_serves_only_static_files(client: httpx.AsyncClient, path: str) -> None:
    r = await client.get(f"{STATIC_PREFIX}/{path}")
    assert r.status_code == 404
    assert r.json()["error"]["code"]


def _dictionary() -> dict[str, set[str]]:
    text = (JS_DIR / "strings.js").read_text(encoding="utf-8")
    id_part, en_part = text.split("\n  en: {", 1)
    key = re.compile(r"^\s+'([\w.]+)': ", re.M)
    return {"id": set(key.findall(id_part)), "en": set(key.findall(en_part))}


def test_every_string_is_in_both_languages() -> None:
    strings = _dictionary()
    assert strings["id"] == strings["en"], strings["id"] ^ strings["en"]
    html = (STATIC_DIR / "app.html").read_text(encoding="utf-8")
    used = set(re.findall(r'data-i18n(?:-placeholder|-label)?="([\w.]+)"', html))
    for path in JS_DIR.glob("*.js"):
        used |= set(re.findall(r"\bt\('([\w.]+)'", path.read_text(encoding="utf-8")))
    assert used, "no translated strings found"
    assert used <= strings["id"], used - strings["id"]
    # keys built at run time: t(`outbox.${state}`) and friends
    for prefix, values in {
        "outbox": ("pending", "sending", "sent", "failed"),
        "report": ("last_pending", "last_sending", "last_sent", "last_failed"),
        "ws": ("off", "connecting", "reconnecting", "live"),
        "duty": ("available", "busy", "off_duty"),
        "incident_status": ("new", "verified", "dispatched", "en_route", "on_scene", "resolved", "cancelled"),
        "report_status": ("received", "verified", "rejected", "false"),
    }.items():
        for v in values:
            assert f"{prefix}.{v}" in strings["id"], f"{prefix}.{v}"
    # no visible text outside the dictionary (only the brand "SOS", symbols and the bilingual <noscript>)
    body = html.split("<body", 1)[1].split(">", 1)[1]
    body = re.sub(r"<noscript>.*?</noscript>|<script.*?</script>|<[^>]+>", " ", body, flags=re.S)
    words = {w for w in re.findall(r"[^\W\d_]{2,}", body)}
    assert words <= {"SOS", "xx", "xxxx"}, words


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_scripts_parse(tmp_path: Path) -> None:
    for path in JS_DIR.glob("*.js"):  # ES modules
        copy = tmp_path / (path.stem + ".mjs")
        copy.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
        subprocess.run(["node", "--check", str(copy)], check=True, capture_output=True)
    sw = tmp_path / "sw.js"
    rendered = (STATIC_DIR / "sw.js").read_text(encoding="utf-8")
    for placeholder, value in zip(webapp.SW_PLACEHOLDERS, ("c", "[]", '"/app"'), strict=True):
        rendered = rendered.replace(placeholder, value)
    sw.write_text(rendered, encoding="utf-8")
    subprocess.run(["node", "--check", str(sw)], check=True, capture_output=True)
