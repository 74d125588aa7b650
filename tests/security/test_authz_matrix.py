"""Every HTTP route × every caller (anonymous and each role) against the table in tests/security/routes.py,
with real ids; and ownership: another citizen's report, another agency's forward, another officer's offer
are not found."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from tests.reports.helpers import MALANG, report_body
from tests.security.conftest import PASSWORD, World, build_world
from tests.security.routes import ACCESS, CALLERS, OWN_AUTH, PUBLIC, http_routes

# What an allowed caller may get: done, redirected (/app/), or refused on the merits (bad input, not found,
# conflicting state) - never "who are you" (401) or "not you" (403).
ALLOWED = {200, 201, 204, 308, 400, 404, 409, 422}
STATIC_FILES = {
    "/static/live/{path:path}": "map.js",
    "/static/app/{path:path}": "app.css",
    "/static/admin/{path:path}": "admin.css",
}
# Routes that would lock a caller out (deactivating the officer who calls the next routes) act on a
# bystander: {path parameter: the World id used instead}.
BYSTANDER_IDS: dict[tuple[str, str], dict[str, str]] = {
    ("POST", "/api/v1/officers/{officer_id}/deactivate"): {"officer_id": "officer2_id"},
    ("POST", "/api/v1/officers/{officer_id}/activate"): {"officer_id": "officer2_id"},
}
_n = itertools.count(1)
STATIC_FILES["/static/agency/{path:path}"] = "agency.css"  # the agency portal's files


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _ping() -> dict[str, Any]:
    return {"lat": MALANG[0] + 0.001, "lon": MALANG[1], "recorded_at": _now()}


def _location() -> dict[str, Any]:
    return {
        "_type": "location",
        "lat": MALANG[0],
        "lon": MALANG[1],
        "tst": int(datetime.now(UTC).timestamp()),
    }


def _osmand(device: str) -> dict[str, Any]:
    return {
        "params": {
            "id": device,
            "lat": str(MALANG[0]),
            "lon": str(MALANG[1]),
            "timestamp": str(int(datetime.now(UTC).timestamp())),
        }
    }


# Requests that make sense for an allowed caller (anything else is sent without a body).
BODIES: dict[tuple[str, str], Callable[[World], dict[str, Any]]] = {
    ("POST", "/api/v1/auth/token"): lambda w: {
        "data": {"username": w.usernames["dispatcher"], "password": PASSWORD}
    },
    ("POST", "/api/v1/users"): lambda w: {
        "json": {"username": f"matrix-{next(_n)}", "password": PASSWORD, "role": "citizen"}
    },
    ("POST", "/api/v1/citizens"): lambda w: {
        "json": {"phone": f"0814{next(_n):08d}", "name": "Warga", "password": "rahasia-1"}
    },
    ("POST", "/api/v1/pings"): lambda w: {"json": _ping()},
    ("POST", "/api/v1/officers"): lambda w: {
        "json": {"badge": f"MX{next(_n):04d}", "name": "Bripda", "unit_type": "foot", "password": PASSWORD}
    },
    ("GET", "/api/v1/positions"): lambda w: {"params": {"bbox": "112.5,-8.1,112.8,-7.8"}},
    ("PUT", "/api/v1/officers/{officer_id}/status"): lambda w: {"json": {"status": "busy"}},
    ("PUT", "/api/v1/me/status"): lambda w: {"json": {"status": "busy"}},
    ("POST", "/api/v1/officers/{officer_id}/devices"): lambda w: {"json": {"identifier": f"mx-{next(_n)}"}},
    ("GET", "/osmand"): lambda w: _osmand(w.device_identifier),
    ("POST", "/osmand"): lambda w: _osmand(w.device_identifier),
    ("PUT", "/osmand"): lambda w: _osmand(w.device_identifier),
    ("POST", "/owntracks"): lambda w: {
        "json": _location(),
        "auth": (w.usernames["officer"], PASSWORD),
        "headers": {"X-Limit-U": w.usernames["officer"], "X-Limit-D": w.device_identifier},
    },
    ("GET", "/api/v1/responders/nearest"): lambda w: {"params": {"lat": MALANG[0], "lon": MALANG[1]}},
    ("GET", "/api/v1/route"): lambda w: {
        "params": {"category": "traffic_accident", "lat": MALANG[0], "lon": MALANG[1]}
    },
    ("POST", "/api/v1/routing-rules"): lambda w: {
        "json": {"category": "fire", "agency_code": "DAMKAR", "role": "always_notify"}
    },
    ("PUT", "/api/v1/routing-rules/{rule_id}"): lambda w: {
        "json": {"category": "fire", "agency_code": "DAMKAR", "role": "always_notify"}
    },
    ("POST", "/api/v1/appeals"): lambda w: {"json": {"text": "Mohon dibuka kembali"}},
    ("POST", "/api/v1/appeals/{appeal_id}/decide"): lambda w: {
        "json": {"decision": "uphold", "note": "tetap"}
    },
    ("POST", "/api/v1/reports"): lambda w: {"json": report_body(lat=MALANG[0] + 0.03)},
    ("POST", "/api/v1/reports/{report_id}/reject"): lambda w: {"json": {"reason": "not_incident"}},
    ("POST", "/api/v1/sos"): lambda w: {"json": {"lat": MALANG[0] + 0.02, "lon": MALANG[1]}},
    ("POST", "/api/v1/sos/{sos_id}/location"): lambda w: {
        "json": {"lat": MALANG[0] + 0.021, "lon": MALANG[1]}
    },
    ("POST", "/api/v1/incidents/{incident_id}/status"): lambda w: {"json": {"status": "en_route"}},
    ("POST", "/api/v1/incidents/{incident_id}/merge"): lambda w: {
        "json": {"other_incident_id": w.ids["incident_id"]}
    },
    ("POST", "/api/v1/incidents/{incident_id}/split"): lambda w: {
        "json": {"report_ids": [w.ids["other_report_id"]]}
    },
    ("POST", "/api/v1/incidents/{incident_id}/forwards"): lambda w: {
        "json": {"agency_ids": [w.ids["agency2_agency_id"]]}
    },
    ("POST", "/api/v1/agency/forwards/{forward_id}/notes"): lambda w: {"json": {"text": "Sudah ditangani"}},
    ("POST", "/api/v1/agencies/{agency_id}/users"): lambda w: {
        "json": {"username": f"mx-agency-{next(_n)}", "password": PASSWORD}
    },
    ("PUT", "/api/v1/agencies/{agency_id}/delivery"): lambda w: {"json": {"delivery": "inbox"}},
    ("POST", "/open311/v2/requests.json"): lambda w: {
        "data": {
            "api_key": w.api_key,
            "service_code": "road_damage",
            "lat": str(MALANG[0]),
            "long": str(MALANG[1]),
            "description": "Jalan rusak",
        }
    },
    ("POST", "/api/v1/api-keys"): lambda w: {"json": {"label": "matrix"}},
    # -- the admin console's routes
    ("POST", "/api/v1/officers/import"): lambda w: {
        "json": {"csv": f"badge,name,unit_type\nMX{next(_n):04d},Bripda Roster,car\n"}
    },
    ("PATCH", "/api/v1/officers/{officer_id}"): lambda w: {"json": {"name": "Bripda Matrix"}},
    ("PATCH", "/api/v1/users/{user_id}"): lambda w: {"json": {"full_name": "Warga Dua"}},
    ("POST", "/api/v1/users/{user_id}/password"): lambda w: {"json": {}},
    ("POST", "/api/v1/categories"): lambda w: {
        "json": {"code": f"mx_{next(_n)}", "name_id": "Uji", "name_en": "Test", "default_priority": 4}
    },
    ("PUT", "/api/v1/categories/{code}"): lambda w: {
        "json": {"name_id": "Jalan rusak", "name_en": "Road damage", "default_priority": 4, "sort_order": 60}
    },
}

# The same requests without their own credentials: an unknown device, no api_key, no HTTP Basic.
WITHOUT_OWN_CREDENTIALS: dict[tuple[str, str], Callable[[World], dict[str, Any]]] = {
    ("GET", "/osmand"): lambda w: _osmand("no-such-device"),
    ("POST", "/osmand"): lambda w: _osmand("no-such-device"),
    ("PUT", "/osmand"): lambda w: _osmand("no-such-device"),
    ("POST", "/owntracks"): lambda w: {"json": _location()},
    ("POST", "/open311/v2/requests.json"): lambda w: {
        "data": {"service_code": "road_damage", "lat": str(MALANG[0]), "long": str(MALANG[1])}
    },
}


# -- Open311 in XML and FixMyStreet's updates: the same bodies as requests.json; a citizen's update of the
# request the world filed; the dispatchers' routes on that Open311 request.
BODIES.update(
    {
        ("POST", "/open311/v2/requests.xml"): BODIES[("POST", "/open311/v2/requests.json")],
        ("POST", "/open311/v2/servicerequestupdates.json"): lambda w: {
            "data": {
                "api_key": w.api_key,
                "service_request_id": str(w.ids["service_request_id"]),
                "description": "Masih berlubang",
            }
        },
        ("POST", "/open311/v2/servicerequestupdates.xml"): lambda w: {
            "data": {
                "api_key": w.api_key,
                "service_request_id": str(w.ids["service_request_id"]),
                "description": "Masih berlubang",
            }
        },
        ("POST", "/api/v1/open311/requests/{report_id}/place"): lambda w: {
            "json": {"lat": MALANG[0], "lon": MALANG[1]}
        },
        ("POST", "/api/v1/open311/requests/{report_id}/public-notes"): lambda w: {
            "json": {"text": "Jalan sudah diperbaiki"}
        },
    }
)
WITHOUT_OWN_CREDENTIALS.update(
    {
        ("POST", "/open311/v2/requests.xml"): WITHOUT_OWN_CREDENTIALS[("POST", "/open311/v2/requests.json")],
        ("POST", "/open311/v2/servicerequestupdates.json"): lambda w: {
            "data": {"service_request_id": str(w.ids["service_request_id"]), "description": "x"}
        },
        ("POST", "/open311/v2/servicerequestupdates.xml"): lambda w: {
            "data": {"service_request_id": str(w.ids["service_request_id"]), "description": "x"}
        },
    }
)
BYSTANDER_IDS.update(
    {
        ("POST", "/api/v1/open311/requests/{report_id}/place"): {"report_id": "service_request_id"},
        ("POST", "/api/v1/open311/requests/{report_id}/public-notes"): {"report_id": "service_request_id"},
    }
)


def url_of(w: World, path: str, instead: dict[str, str] | None = None) -> str:
    if path in STATIC_FILES:
        return path.replace("{path:path}", STATIC_FILES[path])
    out = path
    for name, id_name in (instead or {}).items():
        out = out.replace("{" + name + "}", str(w.ids[id_name]))
    for name, value in w.ids.items():
        out = out.replace("{" + name + "}", str(value))
    assert "{" not in out, f"no id for {path}"
    return out


async def call(
    w: World, method: str, path: str, caller: str, build: Callable[[World], dict[str, Any]] | None = None
) -> httpx.Response:
    kwargs = (build or BODIES.get((method, path), lambda _: {}))(w)
    headers = {**w.of(caller), **kwargs.pop("headers", {})}
    url = url_of(w, path, BYSTANDER_IDS.get((method, path)))
    r = await w.client.request(method, url, headers=headers, **kwargs)
    if path == "/api/v1/auth/revoke" and r.status_code == 204:
        await w.relogin(caller)
    return r


async def test_every_route_has_an_entry(app: Any) -> None:
    routes = set(http_routes(app))
    missing = sorted(routes - ACCESS.keys())
    assert not missing, f"routes without an entry in tests/security/routes.py ACCESS: {missing}"
    gone = sorted(ACCESS.keys() - routes)
    assert not gone, f"entries in tests/security/routes.py for routes that no longer exist: {gone}"


async def test_every_route_for_every_caller(app: Any, client: httpx.AsyncClient) -> None:
    w = await build_world(app, client)
    wrong: list[str] = []
    calls = 0
    for method, path in sorted(http_routes(app), key=lambda mp: (mp[1], mp[0])):
        access = ACCESS[(method, path)]
        for caller in CALLERS:
            r = await call(w, method, path, caller)
            calls += 1
            got = f"{method} {path} as {caller}: {r.status_code} {r.text[:150]}"
            if r.status_code >= 500:
                wrong.append(got)
            elif access in (PUBLIC, OWN_AUTH) or caller in access:
                if r.status_code not in ALLOWED:
                    wrong.append(got)
            elif caller == "anonymous":
                if r.status_code != 401 or r.json()["error"]["code"] != "unauthorized":
                    wrong.append(got)
            elif r.status_code != 403 or r.json()["error"]["code"] != "wrong_role":
                wrong.append(got)
            if access == OWN_AUTH:
                # A bearer login is neither needed nor enough: without the route's own credentials, refused.
                r = await call(w, method, path, caller, WITHOUT_OWN_CREDENTIALS[(method, path)])
                calls += 1
                if r.status_code not in (400, 401, 403, 404):
                    wrong.append(f"{method} {path} as {caller} without its credentials: {r.status_code}")
    assert not wrong, "\n".join(wrong)
    assert calls >= 6 * len(ACCESS)


async def test_a_citizen_sees_only_their_own_reports_and_sos(app: Any, client: httpx.AsyncClient) -> None:
    w = await build_world(app, client)
    other = w.of("citizen2")
    report, sos = w.ids["report_id"], w.ids["sos_id"]
    for url in (f"/api/v1/reports/{report}", f"/api/v1/reports/{report}/photo", f"/api/v1/sos/{sos}"):
        assert (await client.get(url, headers=other)).status_code == 404, url
        assert (await client.get(url, headers=w.of("citizen"))).status_code == 200, url
    r = await client.post(
        f"/api/v1/sos/{sos}/location", headers=other, json={"lat": MALANG[0], "lon": MALANG[1]}
    )
    assert r.status_code == 404
    r = await client.post(f"/api/v1/sos/{sos}/end", headers=other)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "sos_not_found")
    assert (await client.get(f"/api/v1/sos/{sos}", headers=w.of("citizen"))).json()["ended_at"] is None
    mine = (await client.get("/api/v1/reports/mine", headers=other)).json()["items"]
    assert mine == []
    assert {
        i["id"] for i in (await client.get("/api/v1/reports/mine", headers=w.of("citizen"))).json()["items"]
    } >= {report}


async def test_an_agency_sees_only_its_own_forwards(app: Any, client: httpx.AsyncClient) -> None:
    w = await build_world(app, client)
    forward = w.ids["forward_id"]
    other = w.of("agency2")
    assert (await client.get(f"/api/v1/agency/forwards/{forward}", headers=other)).status_code == 404
    for action, body in (("ack", None), ("notes", {"text": "bukan urusan kami"}), ("close", None)):
        r = await client.post(f"/api/v1/agency/forwards/{forward}/{action}", headers=other, json=body)
        assert r.status_code == 404, (action, r.text)
    inbox = (await client.get("/api/v1/agency/inbox?status=all", headers=other)).json()
    assert forward not in {f["id"] for f in inbox["items"]}
    own = (await client.get("/api/v1/agency/inbox?status=all", headers=w.of("agency"))).json()
    assert forward in {f["id"] for f in own["items"]}
    # Nothing changed for the agency it belongs to.
    mine = (await client.get(f"/api/v1/agency/forwards/{forward}", headers=w.of("agency"))).json()
    assert mine["acknowledged_at"] is None and mine["notes"] == [] and mine["closed_at"] is None


async def test_an_officer_answers_only_their_own_offers(app: Any, client: httpx.AsyncClient) -> None:
    w = await build_world(app, client)
    # A pending offer to the second officer.
    report = await client.post(
        "/api/v1/reports", headers=w.of("citizen2"), json=report_body(category="crime", lat=MALANG[0] + 0.002)
    )
    assert report.status_code == 201, report.text
    verified = await client.post(f"/api/v1/reports/{report.json()['id']}/verify", headers=w.of("dispatcher"))
    incident = verified.json()["incident_id"]
    offer = await client.post(
        f"/api/v1/incidents/{incident}/dispatch",
        headers=w.of("dispatcher"),
        json={"officer_id": w.ids["officer2_id"]},
    )
    assert offer.status_code == 201, offer.text
    pending = offer.json()["id"]

    first = w.of("officer")
    for action in ("accept", "decline"):
        r = await client.post(f"/api/v1/offers/{pending}/{action}", headers=first)
        assert r.status_code == 404, (action, r.text)
    r = await client.post(f"/api/v1/offers/{w.ids['offer_id']}/decline", headers=w.of("officer2"))
    assert r.status_code == 404, r.text
    r = await client.post(f"/api/v1/incidents/{incident}/status", headers=first, json={"status": "en_route"})
    assert r.status_code == 404, r.text
    mine = (await client.get("/api/v1/me/offers?status=all", headers=first)).json()["items"]
    assert pending not in {o["id"] for o in mine}
    theirs = (await client.get("/api/v1/me/offers", headers=w.of("officer2"))).json()["items"]
    assert [o["id"] for o in theirs] == [pending] and theirs[0]["status"] == "pending"
