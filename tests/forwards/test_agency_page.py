"""GET /agency, its manifest, service worker and files: installable, served here, no external URLs, one
bilingual table whose every key the page uses exists in both languages."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from jogo_dispatch.agencyapp import router as page
from jogo_dispatch.agencyapp.router import STATIC_DIR

CONFIG_RE = re.compile(r'<script id="jogo-config" type="application/json">(.*?)</script>', re.S)
ASSET_RE = re.compile(r"""(?:src|href)="(/[^"]*)\"""")
URL_RE = re.compile(r"""(?:https?|wss?)://[^\s"'`<>()\\]+""")
KEY_RE = re.compile(r"""^\s*'([a-z_0-9.]+)':""", re.M)


async def test_the_page_is_served_with_its_config_and_a_strict_policy(
    client: httpx.AsyncClient, app: Any
) -> None:
    r = await client.get("/agency")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert "{{" not in html and '<html lang="id">' in html
    assert '<link rel="manifest" href="/agency/manifest.webmanifest">' in html
    m = CONFIG_RE.search(html)
    assert m
    cfg = json.loads(m.group(1))
    assert (cfg["api_base"], cfg["live_path"]) == ("/api/v1", "/api/v1/live")
    assert (cfg["sw_url"], cfg["sw_scope"], cfg["shell"]) == ("/agency/sw.js", "/agency", page.PAGE.digest)
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "connect-src 'self' ws: wss:" in csp and "blob:" in csp
    assert (await client.get("/agency/")).headers["location"] == "/agency"


async def test_every_asset_and_shell_file_is_served_here(client: httpx.AsyncClient) -> None:
    html = (await client.get("/agency")).text
    assets = ASSET_RE.findall(html)
    assert "/static/live/vendor/leaflet/leaflet.js" in assets  # the live map's copy, not a second one
    for url in {*assets, *page.PAGE.shell_urls()}:
        r = await client.get(url)
        assert r.status_code == 200, url
        assert r.headers["x-content-type-options"] == "nosniff", url
    assert not (STATIC_DIR / "vendor").exists()
    for path in STATIC_DIR.rglob("*"):
        if path.suffix in (".js", ".html", ".css"):
            found = {u for u in URL_RE.findall(path.read_text()) if u != "http://www.w3.org/2000/svg"}
            assert not found, (path, found)


async def test_manifest_and_service_worker_make_it_installable(client: httpx.AsyncClient) -> None:
    r = await client.get("/agency/manifest.webmanifest")
    assert r.headers["content-type"].startswith("application/manifest+json")
    manifest = r.json()
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == (
        "/agency",
        "/agency",
        "standalone",
    )
    assert manifest["lang"] == "id"
    sizes = {i["sizes"] for i in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes and any(i["purpose"] == "maskable" for i in manifest["icons"])
    for icon in manifest["icons"]:
        assert (await client.get(icon["src"])).status_code == 200, icon["src"]
    sw = await client.get("/agency/sw.js")
    assert sw.headers["service-worker-allowed"] == "/agency"
    assert "{{" not in sw.text and f"jogo-agency-{page.PAGE.digest}" in sw.text
    shell = json.loads(re.search(r"const SHELL = (\[.*?\]);", sw.text).group(1))  # type: ignore[union-attr]
    assert shell == page.PAGE.shell_urls()
    # its cache is its own: the phone app's worker on the same origin does not clear it, nor it the app's
    assert "jogo-app-" not in sw.text


def test_one_bilingual_table_and_every_key_in_both_languages() -> None:
    text = (STATIC_DIR / "js" / "strings.js").read_text()
    id_part, en_part = text.split("\n  en: {", 1)
    ids, ens = set(KEY_RE.findall(id_part)), set(KEY_RE.findall(en_part))
    assert ids and ids == ens, ids ^ ens
    used: set[str] = set()
    for path in [*(STATIC_DIR / "js").glob("*.js"), STATIC_DIR / "agency.html"]:
        source = path.read_text()
        used |= set(re.findall(r"""\bt\('([a-z_0-9]+\.[a-z_0-9.]+)'""", source))
        used |= set(re.findall(r'data-i18n(?:-placeholder|-label)?="([a-z_0-9.]+)"', source))
    missing = {k for k in used if k not in ids}
    assert not missing, missing
