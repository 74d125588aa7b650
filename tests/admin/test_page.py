"""GET /admin and its files: served by the server, no CDN, the config injected."""

from __future__ import annotations

import json
import re


async def test_page_and_files(client):
    r = await client.get("/admin")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert "default-src 'self'" in r.headers["content-security-policy"]
    config = json.loads(
        re.search(r'<script id="jogo-config" type="application/json">(.*?)</script>', r.text).group(1)
    )
    assert config["api_base"] == "/api/v1" and config["static_base"] == "/static/admin"
    assert not re.search(r'(src|href)="(https?:)?//', r.text)  # nothing from a CDN
    for path in ("admin.css", "js/admin.js", "js/strings.js", "js/officers.js", "js/roster.js"):
        f = await client.get(f"/static/admin/{path}")
        assert f.status_code == 200, path
        assert not re.search(r"from '(https?:)?//", f.text), path
    assert (await client.get("/static/admin/../router.py")).status_code == 404


async def test_audit_log_is_admin_only_and_newest_first(client, actors):
    admin = await actors.user("admin")
    oid, _ = await actors.officer()
    await client.patch(f"/api/v1/officers/{oid}", headers=admin, json={"name": "Bripda Baru"})
    r = await client.get("/api/v1/audit", headers=admin, params={"entity_type": "officer", "entity_id": oid})
    assert r.status_code == 200
    assert [e["action"] for e in r.json()] == ["edited", "created"]
    older = await client.get(
        "/api/v1/audit", headers=admin, params={"before_id": r.json()[0]["id"], "entity_type": "officer"}
    )
    assert [e["action"] for e in older.json()] == ["created"]
    dispatcher = await actors.user("dispatcher")
    assert (await client.get("/api/v1/audit", headers=dispatcher)).status_code == 403
