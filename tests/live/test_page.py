"""GET /map and its static files: config injection, vendored Leaflet served locally, no external URLs."""

from __future__ import annotations

import json
import posixpath
import re
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest
from fastapi import FastAPI

from jogo_dispatch.forwards.models import FORWARD_ROLES
from jogo_dispatch.live import page
from jogo_dispatch.live.page import STATIC_DIR, STATIC_PREFIX
from jogo_dispatch.webapp import router as webapp
from tests.reports.helpers import _migration_categories

CONFIG_RE = re.compile(r'<script id="jogo-config" type="application/json">(.*?)</script>', re.S)
URL_RE = re.compile(r"""https?://[^\s"'<>()\\]+""")
ASSET_RE = re.compile(r"""(?:src|href)="([^"]+)\"""")
IMPORT_RE = re.compile(r"^(?:import|export) (?:[^'\n]* from )?'(\.{1,2}/[\w./-]+\.js)';", re.M)

# The page's ES modules: the entry map.js, its own modules and the helpers shared with the phone app.
MODULES = sorted(
    [STATIC_DIR / "map.js", *(STATIC_DIR / "js").glob("*.js"), *(STATIC_DIR / "shared").glob("*.js")]
)

# Strings in the vendored Leaflet build that look like URLs but are never fetched by the page: the SVG XML
# namespace, and the "Leaflet" attribution link (map.js replaces that prefix with plain text).
VENDOR_NON_FETCHED = {"http://www.w3.org/2000/svg", "https://leafletjs.com"}


def config_of(html: str) -> dict[str, Any]:
    m = CONFIG_RE.search(html)
    assert m, "no #jogo-config script in the page"
    return json.loads(m.group(1))  # type: ignore[no-any-return]


def local_assets(html: str) -> list[str]:
    return [u for u in ASSET_RE.findall(html) if u.startswith(STATIC_PREFIX + "/")]


def external_urls(text: str) -> set[str]:
    return {u.rstrip(".,;") for u in URL_RE.findall(text)}


def strip_css_comments(css: str) -> str:
    return re.sub(r"/\*.*?\*/", "", css, flags=re.S)


def mini_client(**settings: Any) -> httpx.AsyncClient:
    """Only this router, with made-up settings (no database needed)."""
    application = FastAPI()
    application.state.settings = SimpleNamespace(**{"tile_url": "", "timezone": "Asia/Jakarta", **settings})
    application.include_router(page.router)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://test")


async def test_map_page_carries_the_config(client: httpx.AsyncClient, app: Any) -> None:
    r = await client.get("/map")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "{{CONFIG_JSON}}" not in r.text
    cfg = config_of(r.text)
    settings = app.state.settings
    assert cfg["tile_url"] == settings.tile_url
    assert cfg["timezone"] == settings.timezone == "Asia/Jakarta"
    assert cfg["center"] == [-7.9797, 112.6304]
    assert cfg["zoom"] == 13
    assert cfg["api_base"] == "/api/v1"
    assert cfg["live_path"] == "/api/v1/live"
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "connect-src 'self' ws: wss:" in csp


async def test_assets_the_page_references_are_served(client: httpx.AsyncClient) -> None:
    html = (await client.get("/map")).text
    assets = local_assets(html)
    expected = {
        f"{STATIC_PREFIX}/vendor/leaflet/leaflet.css",
        f"{STATIC_PREFIX}/vendor/leaflet/leaflet.js",
        f"{STATIC_PREFIX}/map.css",
        f"{STATIC_PREFIX}/map.js",
    }
    assert expected <= set(assets)
    kinds = {".js": "javascript", ".css": "text/css", ".png": "image/png"}
    checked = 0
    for url in assets:
        r = await client.get(url)
        assert r.status_code == 200, url
        ext = "." + url.rsplit(".", 1)[-1]
        assert kinds[ext] in r.headers["content-type"], (url, r.headers["content-type"])
        assert r.headers["x-content-type-options"] == "nosniff"
        checked += 1
        if ext == ".css":  # images the stylesheet points at (Leaflet's layer-control icons)
            for ref in re.findall(r"url\(([^)#]+)\)", strip_css_comments(r.text)):
                img = await client.get(urljoin(url, ref.strip("'\"")))
                assert img.status_code == 200, ref
                assert img.headers["content-type"] == "image/png"
                checked += 1
    assert checked >= 7
    lic = await client.get(f"{STATIC_PREFIX}/vendor/leaflet/LICENSE")
    assert lic.status_code == 200 and "Volodymyr Agafonkin" in lic.text
    head = await client.head(f"{STATIC_PREFIX}/vendor/leaflet/leaflet.js")
    assert head.status_code == 200 and int(head.headers["content-length"]) > 100_000


async def test_static_files_revalidate_with_etag(client: httpx.AsyncClient) -> None:
    r = await client.get(f"{STATIC_PREFIX}/map.js")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-cache"
    again = await client.get(f"{STATIC_PREFIX}/map.js", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304


@pytest.mark.parametrize(
    "path", ["..%2Fpage.py", "%2e%2e/page.py", "../page.py", "vendor/../../page.py", "nope.js", "", "vendor"]
)
async def test_static_route_serves_only_static_files(client: httpx.AsyncClient, path: str) -> None:
    r = await client.get(f"{STATIC_PREFIX}/{path}")
    assert r.status_code == 404
    assert "APIRouter" not in r.text
    assert r.json()["error"]["code"]


async def test_no_external_urls_but_the_tile_server(client: httpx.AsyncClient, app: Any) -> None:
    html = (await client.get("/map")).text
    tile_url = app.state.settings.tile_url
    assert tile_url and tile_url in html
    assert external_urls(html.replace(tile_url, "")) == set()
    for own in ("map.css", "map.html", *(str(m.relative_to(STATIC_DIR)) for m in MODULES)):
        r = await client.get(f"{STATIC_PREFIX}/{own}")
        assert r.status_code == 200
        assert external_urls(r.text) == set(), own
    for vendored in ("vendor/leaflet/leaflet.js", "vendor/leaflet/leaflet.css"):
        text = (await client.get(f"{STATIC_PREFIX}/{vendored}")).text
        if vendored.endswith(".css"):
            text = strip_css_comments(text)
        assert external_urls(text) <= VENDOR_NON_FETCHED, vendored


async def test_no_tiles_configured() -> None:
    async with mini_client(tile_url="") as c:
        r = await c.get("/map")
    assert r.status_code == 200
    cfg = config_of(r.text)
    assert cfg["tile_url"] == "" and cfg["tile_attribution"] == ""
    assert external_urls(r.text) == set()
    assert "img-src 'self' data: blob:;" in r.headers["content-security-policy"]


async def test_custom_tile_server_and_zone() -> None:
    url = "https://{s}.tiles.example.test/{z}/{x}/{y}.png"
    async with mini_client(tile_url=url, timezone="Asia/Makassar") as c:
        r = await c.get("/map")
    cfg = config_of(r.text)
    assert cfg["tile_url"] == url and cfg["timezone"] == "Asia/Makassar"
    assert "img-src 'self' data: blob: https://*.tiles.example.test;" in r.headers["content-security-policy"]


async def test_config_cannot_break_out_of_its_script_tag() -> None:
    evil = "https://t.example.test/{z}/{x}/{y}.png?a=</script><script>alert(1)</script><!--&"
    async with mini_client(tile_url=evil) as c:
        r = await c.get("/map")
    assert "<script>alert(1)" not in r.text
    assert r.text.count("</script>") == 3  # config, leaflet.js, map.js
    assert '<script type="module" src="/static/live/map.js">' in r.text
    assert config_of(r.text)["tile_url"] == evil


def test_template_and_vendored_files_are_in_place() -> None:
    assert (STATIC_DIR / "map.html").read_text().count("{{CONFIG_JSON}}") == 1
    leaflet = (STATIC_DIR / "vendor/leaflet/leaflet.js").read_text()
    assert leaflet.startswith("/* @preserve\n * Leaflet 1.9.")
    for name in ("layers.png", "layers-2x.png", "marker-icon.png", "marker-icon-2x.png", "marker-shadow.png"):
        assert (STATIC_DIR / "vendor/leaflet/images" / name).is_file()


async def test_every_module_the_entry_imports_is_served(client: httpx.AsyncClient) -> None:
    # transitively from map.js, by URL (relative imports resolve against the importing module's URL)
    seen: set[str] = set()
    todo = [f"{STATIC_PREFIX}/map.js"]
    while todo:
        url = todo.pop()
        seen.add(url)
        r = await client.get(url)
        assert r.status_code == 200 and "javascript" in r.headers["content-type"], url
        base = url.rsplit("/", 1)[0] + "/"
        todo += [
            u for m in IMPORT_RE.findall(r.text) if (u := posixpath.normpath(urljoin(base, m))) not in seen
        ]
    assert seen == {f"{STATIC_PREFIX}/{m.relative_to(STATIC_DIR)}" for m in MODULES}


def test_the_phone_app_keeps_the_shared_modules_offline() -> None:
    shared = {f"shared/{p.name}" for p in (STATIC_DIR / "shared").glob("*.js")}
    assert shared and shared == set(webapp.SHARED_SHELL)
    assert {f"{STATIC_PREFIX}/{p}" for p in shared} <= set(webapp.PAGE.shell_urls())
    prefix = "../../live/"  # the phone app's js/ reaches them only through this folder
    for path in webapp.STATIC_DIR.glob("js/*.js"):
        for m in IMPORT_RE.findall(path.read_text(encoding="utf-8")):
            if not m.startswith("./"):
                assert m.startswith(prefix + "shared/") and m[len(prefix) :] in shared, (path.name, m)


def _table_keys(name: str) -> tuple[set[str], set[str]]:
    """The Indonesian and English keys of one of the page's bilingual tables (js/strings.js, js/labels.js)."""
    text = (STATIC_DIR / "js" / name).read_text(encoding="utf-8")
    id_part, en_part = text.split("\n  en: {", 1)
    en_part = en_part.split("\n};", 1)[0]
    key = re.compile(r"^\s+'([\w.]+)': ", re.M)
    return set(key.findall(id_part)), set(key.findall(en_part))


def test_every_string_is_in_both_languages() -> None:
    ids, ens = _table_keys("strings.js")
    assert ids and ids == ens, ids ^ ens
    used: set[str] = set()
    for path in [*MODULES, STATIC_DIR / "map.html"]:
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"\bt\('([\w.]+)'", text))
        used |= set(re.findall(r'data-i18n(?:-placeholder|-title)?="([\w.]+)"', text))
    assert len(used) > 150 and used <= ids, used - ids
    # keys built at run time: `conn.${state}`, `priority.${p}`, `kpi.range_${k}`
    for state in ("live", "connecting", "reconnecting", "off"):
        assert f"conn.{state}" in ids
    for p in range(1, 6):
        assert f"priority.{p}" in ids
    for r in ("24h", "7d", "30d"):
        assert f"kpi.range_{r}" in ids


def test_every_code_has_a_label_in_both_languages() -> None:
    """The one table of code labels: every state, kind and source the server sends, in both languages."""
    ids, ens = _table_keys("labels.js")
    assert ids and ids == ens, ids ^ ens
    from jogo_dispatch.dispatch.lifecycle import INCIDENT_STATUSES, OFFER_STATUSES
    from jogo_dispatch.dispatch.models import INCIDENT_SOURCES

    wanted = {
        *(f"incident_status.{s}" for s in INCIDENT_STATUSES),
        *(f"offer_status.{s}" for s in OFFER_STATUSES),
        *(f"source.{s}" for s in INCIDENT_SOURCES),
        *(
            f"forward_status.{s}"
            for s in ("pending", "sent", "failed", "acknowledged", "in_progress", "closed")
        ),
        *(f"forward_role.{s}" for s in FORWARD_ROLES),
        *(f"unit_type.{u}" for u in ("car", "motorbike", "foot")),
        *(f"officer_status.{s}" for s in ("available", "busy", "off_duty")),
        *(f"report_status.{s}" for s in ("received", "verified", "rejected", "false")),
        *(
            f"alert_kind.{k}"
            for k in ("citizen_sos", "officer_distress", "offer_exhausted", "forward_failed")
        ),
        *(f"category.{c}" for c, *_ in _migration_categories()),
    }
    assert wanted <= ids, wanted - ids
    for path in MODULES:  # label('group', ...) names a group of the table
        for group in re.findall(r"\blabel\('(\w+)'", path.read_text(encoding="utf-8")):
            assert any(k.startswith(group + ".") for k in ids), (path.name, group)


def test_every_system_reason_has_a_label_with_its_values() -> None:
    """Each ``Reason(code, template, **values)`` the server records reads in both languages, naming the same
    values as its English template."""
    ids, _ = _table_keys("labels.js")
    labels = (STATIC_DIR / "js" / "labels.js").read_text(encoding="utf-8")
    src = Path(page.__file__).resolve().parents[1]
    made = re.compile(r'Reason\(\s*"(\w+)",\s*"([^"]*)"')
    found = {code: tpl for path in src.rglob("*.py") for code, tpl in made.findall(path.read_text("utf-8"))}
    assert len(found) >= 15
    for code, template in found.items():
        assert f"reason.{code}" in ids, code
        values = set(re.findall(r"\{(\w+)", template))
        for text in re.findall(rf"'reason\.{code}': '([^']*)'", labels):
            assert set(re.findall(r"\{(\w+)\}", text)) == values, (code, text)


def test_no_innerhtml_with_server_strings() -> None:
    # h() / fill() make text nodes; the only HTML strings are Leaflet divIcons built from numbers.
    for path in MODULES:
        text = re.sub(r"/\*.*?\*/|//[^\n]*", "", path.read_text(encoding="utf-8"), flags=re.S)
        assert "innerHTML" not in text and "insertAdjacentHTML" not in text, path.name


def test_no_module_is_too_long() -> None:
    tables = {"strings.js", "labels.js"}  # the bilingual tables: data, one key a line
    for path in MODULES:
        if path.name not in tables:
            assert len(path.read_text(encoding="utf-8").splitlines()) <= 400, path.name


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_map_js_parses(tmp_path: Path) -> None:
    for path in MODULES:  # ES modules: node checks .mjs files as modules
        copy = tmp_path / f"{path.parent.name}-{path.stem}.mjs"
        copy.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
        subprocess.run(["node", "--check", str(copy)], check=True, capture_output=True)
