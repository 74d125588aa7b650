"""A small, complete world for the security tests: a logged-in caller of every role (and a second one of
the roles that own things), and one of each thing the API has an id for, made through the real API."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from tests.agencies.conftest import seed
from tests.reports.helpers import JPEG_16, MALANG, _catalogue, report_body  # noqa: F401  (_catalogue: fixture)

PASSWORD = "secret-pw"
_n = itertools.count(1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class World:
    client: httpx.AsyncClient
    headers: dict[str, dict[str, str]] = field(default_factory=dict)  # caller → headers
    usernames: dict[str, str] = field(default_factory=dict)  # caller → username
    ids: dict[str, Any] = field(default_factory=dict)  # path parameter → a real value
    api_key: str = ""
    device_identifier: str = ""

    async def login(self, username: str, password: str = PASSWORD) -> dict[str, str]:
        r = await self.client.post("/api/v1/auth/token", data={"username": username, "password": password})
        assert r.status_code == 200, r.text
        return bearer(r.json()["access_token"])

    async def relogin(self, caller: str) -> None:
        """After ``POST /auth/revoke`` the caller's earlier tokens are dead."""
        password = "rahasia-1" if caller.startswith("citizen") else PASSWORD
        self.headers[caller] = await self.login(self.usernames[caller], password)

    def of(self, caller: str) -> dict[str, str]:
        return dict(self.headers.get(caller, {}))


async def _user(app: Any, client: httpx.AsyncClient, role: str) -> tuple[str, dict[str, str]]:
    from jogo_dispatch.accounts import service

    username = f"sec-{role}-{next(_n)}"
    rt = app.state.runtime
    async with rt.sessions() as session:
        await service.create_user(session, rt.passwords, username=username, password=PASSWORD, role=role)
        await session.commit()
    r = await client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return username, bearer(r.json()["access_token"])


def _ok(r: httpx.Response, *codes: int) -> Any:
    assert r.status_code in (codes or (200, 201)), (
        r.request.method,
        str(r.request.url),
        r.status_code,
        r.text,
    )
    return r.json() if r.content else None


async def build_world(app: Any, client: httpx.AsyncClient) -> World:
    """Two citizens, two officers and two agency logins (the second of each owns nothing of the first's),
    a dispatcher and an admin; a report with a photo, its verified incident, an offer accepted by the first
    officer, a forward to the first agency, an SOS, an alert, an appeal, an API key, a device."""
    from jogo_dispatch.alerts.service import raise_alert

    w = World(client)
    await seed(app)
    for role in ("admin", "dispatcher"):
        w.usernames[role], w.headers[role] = await _user(app, client, role)
    admin, dispatcher = w.headers["admin"], w.headers["dispatcher"]

    # Officers (login = badge), each with a fresh fix near the incident so they can be offered it.
    for caller in ("officer", "officer2"):
        n = next(_n)
        badge, identifier = f"SEC{n:04d}", f"sec-phone-{n}"
        body = _ok(
            await client.post(
                "/api/v1/officers",
                headers=admin,
                json={
                    "badge": badge,
                    "name": f"Bripda {n}",
                    "unit_type": "motorbike",
                    "password": PASSWORD,
                    "device_id": identifier,
                },
            ),
            201,
        )
        w.ids[f"{caller}_id"] = body["id"]
        w.usernames[caller], w.headers[caller] = badge, await w.login(badge)
        if caller == "officer":
            w.device_identifier = identifier
        _ok(
            await client.post(
                "/api/v1/pings",
                headers=w.headers[caller],
                json={
                    "lat": MALANG[0] + (0.001 if caller == "officer" else 0.002),
                    "lon": MALANG[1],
                    "recorded_at": datetime.now(UTC).isoformat(),
                },
            )
        )
    # A second phone of the first officer: the one the tests may revoke.
    spare = _ok(
        await client.post(
            f"/api/v1/officers/{w.ids['officer_id']}/devices",
            headers=admin,
            json={"identifier": f"sec-spare-{next(_n)}"},
        ),
        201,
    )
    w.ids["device_id"] = spare["id"]

    # Citizens (login = normalised phone).
    for caller in ("citizen", "citizen2", "blocked"):
        phone = f"0813{next(_n):08d}"
        body = _ok(
            await client.post(
                "/api/v1/citizens", json={"phone": phone, "name": f"Warga {caller}", "password": "rahasia-1"}
            ),
            201,
        )
        w.usernames[caller] = body["username"]
        w.headers[caller] = await w.login(body["username"], "rahasia-1")
        w.ids[f"{caller}_user_id"] = body["id"]

    # Agency logins for two different agencies.
    agencies = {a["code"]: a["id"] for a in _ok(await client.get("/api/v1/agencies", headers=admin))}
    for caller, code in (("agency", "SATLANTAS"), ("agency2", "PLN")):
        username = f"sec-{code.lower()}-{next(_n)}"
        _ok(
            await client.post(
                f"/api/v1/agencies/{agencies[code]}/users",
                headers=admin,
                json={"username": username, "password": PASSWORD},
            ),
            201,
        )
        w.usernames[caller], w.headers[caller] = username, await w.login(username)
        w.ids[f"{caller}_agency_id"] = agencies[code]
    w.ids["agency_id"] = w.ids["agency_agency_id"]

    # The first citizen's report (with a photo), verified into an incident.
    fields = {k: str(v) for k, v in report_body().items()}
    report = _ok(
        await client.post(
            "/api/v1/reports",
            headers=w.headers["citizen"],
            data=fields,
            files={"photo": ("p.jpg", JPEG_16, "image/jpeg")},
        ),
        201,
    )
    w.ids["report_id"] = report["id"]
    verified = _ok(await client.post(f"/api/v1/reports/{report['id']}/verify", headers=dispatcher))
    w.ids["incident_id"] = verified["incident_id"]
    # A second report of the same citizen elsewhere: something to split off or reject.
    other = _ok(
        await client.post(
            "/api/v1/reports",
            headers=w.headers["citizen"],
            json=report_body(category="fire", lat=MALANG[0] + 0.05),
        ),
        201,
    )
    w.ids["other_report_id"] = other["id"]

    # Offered to, and accepted by, the first officer.
    offer = _ok(
        await client.post(
            f"/api/v1/incidents/{w.ids['incident_id']}/dispatch",
            headers=dispatcher,
            json={"officer_id": w.ids["officer_id"]},
        ),
        201,
    )
    w.ids["offer_id"] = offer["id"]
    _ok(await client.post(f"/api/v1/offers/{offer['id']}/accept", headers=w.headers["officer"]))

    # Forwarded to the first agency.
    fw = _ok(
        await client.post(
            f"/api/v1/incidents/{w.ids['incident_id']}/forwards",
            headers=dispatcher,
            json={"agency_ids": [w.ids["agency_id"]]},
        ),
        201,
    )
    w.ids["forward_id"] = fw["forwards"][0]["id"]
    # A note id that names no note of it: the note photo route answers 404 to whoever may ask.
    w.ids["note_id"] = 999_999

    # The first citizen's SOS.
    sos = _ok(
        await client.post(
            "/api/v1/sos", headers=w.headers["citizen"], json={"lat": MALANG[0] + 0.02, "lon": MALANG[1]}
        ),
        201,
    )
    w.ids["sos_id"] = sos["sos_id"]

    # A citizen blocked after false reports, with a pending appeal.
    for i in range(app.state.settings.strikes_to_block):
        false = _ok(
            await client.post(
                "/api/v1/reports",
                headers=w.headers["blocked"],
                json=report_body(category="crime", lat=MALANG[0] - 0.01 * (i + 1)),
            ),
            201,
        )
        _ok(
            await client.post(
                f"/api/v1/reports/{false['id']}/reject", headers=dispatcher, json={"reason": "false"}
            )
        )
    appeal = _ok(
        await client.post(
            "/api/v1/appeals", headers=w.headers["blocked"], json={"text": "Maaf, salah tekan"}
        ),
        201,
    )
    w.ids["appeal_id"] = appeal["id"]

    rt = app.state.runtime
    async with rt.sessions() as session:
        alert = await raise_alert(
            session, rt.bus, "officer_distress", "test alert", officer_id=w.ids["officer_id"]
        )
        await session.commit()
        w.ids["alert_id"] = alert.id

    key = _ok(await client.post("/api/v1/api-keys", headers=admin, json={"label": "security tests"}), 201)
    w.api_key = key["key"]
    spare_key = _ok(await client.post("/api/v1/api-keys", headers=admin, json={"label": "to revoke"}), 201)
    w.ids["key_id"] = spare_key["id"]
    filed = _ok(
        await client.post(
            "/open311/v2/requests.json",
            data={
                "api_key": w.api_key,
                "service_code": "road_damage",
                "lat": str(MALANG[0]),
                "long": str(MALANG[1]),
                "description": "Jalan berlubang",
            },
        ),
        201,
    )
    w.ids["service_request_id"] = filed[0]["service_request_id"]
    w.ids["service_code"] = "road_damage"

    rules = _ok(await client.get("/api/v1/routing-rules", headers=admin))
    w.ids["rule_id"] = rules[0]["id"]
    plans = _ok(await client.get("/api/v1/response-plans", headers=admin))
    w.ids["plan_id"] = plans["items"][0]["id"]
    w.ids["code"] = "road_damage"  # a category
    w.ids["user_id"] = w.ids["citizen2_user_id"]  # a login the admin console may edit (not a caller)
    return w
