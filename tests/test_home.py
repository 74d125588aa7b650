"""The front door: a landing page that links what this server serves, and API docs without a CDN."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import iter_route_contexts


async def test_landing_page_links_the_mounted_pages(client, app):
    r = await client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    links = set(re.findall(r'href="([^"]+)"', r.text))
    assert {"/map", "/app", "/docs", "/open311/v2/services.json"} <= links
    mounted = {str(route.path) for route in iter_route_contexts(app.routes)}
    assert all(link in mounted for link in links), links - mounted  # never a link to a page that is not there
    assert "Peta langsung" in r.text and "Live map" in r.text


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_load_nothing_from_a_cdn(client, page):
    html = (await client.get(page)).text
    assets = re.findall(r'(?:src|href)=["\']([^"\']+)', html) + re.findall(r"url: ?'([^']+)'", html)
    assert assets and all(a.startswith("/") for a in assets), assets
    for asset in assets:
        got = await client.get(asset)
        assert got.status_code == 200, asset
    js = await client.get("/static/docs/swagger-ui-bundle.js")
    assert "SwaggerUIBundle" in js.text[:2000]  # Swagger UI 5: reads the OpenAPI 3.1 document FastAPI writes
    assert (await client.get("/openapi.json")).json()["openapi"].startswith("3.1")
