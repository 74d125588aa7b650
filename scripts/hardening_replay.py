#!/usr/bin/env python3
"""Replay the cases of the hardening issue (18) against a running server and print each with its result.

Sets up what it needs through the API as the admin (an officer with a device, an Open311 API key, a report
verified into an incident), then runs every case in ``CASES``: one line per case, ``name  expected  got
PASS|FAIL``; the exit code is 1 when any case fails.

    .venv/bin/jogo-dispatch serve --port 8000 &
    .venv/bin/python scripts/hardening_replay.py --base-url http://127.0.0.1:8000

A case is a small function ``(Ctx) -> Result`` registered with ``@case``; add new ones at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx


@dataclass
class Ctx:
    http: httpx.Client
    admin: dict[str, str]
    badge: str = ""
    password: str = ""
    officer_id: int = 0
    device: str = ""
    api_key: str = ""
    report_id: int = 0
    incident_id: int = 0
    notes: dict[str, Any] = field(default_factory=dict)


@dataclass
class Result:
    expected: str
    got: str
    ok: bool


Case = Callable[[Ctx], Result]
CASES: list[Case] = []


def case(fn: Case) -> Case:
    CASES.append(fn)
    return fn


def status_is(r: httpx.Response, expected: int, *, code: str | None = None, open311: bool = False) -> Result:
    """``expected`` status with the error body of its API: ``{"error": {"code"}}`` or Open311's
    ``[{"code", "description"}]``."""
    body: Any = None
    with contextlib.suppress(ValueError):
        body = r.json()
    got = f"{r.status_code}"
    ok = r.status_code == expected
    if open311:
        shaped = isinstance(body, list) and len(body) == 1 and set(body[0]) == {"code", "description"}
        got += " open311-shape" if shaped else " other-shape"
        ok = ok and shaped and body[0]["code"] == expected
        return Result(f"{expected} open311-shape", got, ok)
    if code is not None:
        got_code = body.get("error", {}).get("code") if isinstance(body, dict) else None
        got += f" {got_code}"
        ok = ok and got_code == code
        return Result(f"{expected} {code}", got, ok)
    return Result(str(expected), got, ok)


def now_iso(offset_s: float = 0) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + offset_s))


def deep_json(depth: int) -> str:
    """Built by hand: orjson and json refuse (or recurse) at such depths."""
    return '{"a":' * depth + '"x"' + "}" * depth


def track_points(ctx: Ctx) -> int:
    r = ctx.http.get(f"/api/v1/officers/{ctx.officer_id}/track", headers=ctx.admin)
    r.raise_for_status()
    return len(r.json()["features"]) - 1


# -- set-up -----------------------------------------------------------------------------------------------


def set_up(http: httpx.Client, user: str, password: str) -> Ctx:
    r = http.post("/api/v1/auth/token", data={"username": user, "password": password})
    r.raise_for_status()
    ctx = Ctx(http, {"Authorization": f"Bearer {r.json()['access_token']}"})
    tag = secrets.token_hex(3)
    ctx.badge, ctx.password, ctx.device = f"HR{tag}", secrets.token_urlsafe(12), f"hr-{tag}"
    r = http.post(
        "/api/v1/officers",
        headers=ctx.admin,
        json={
            "badge": ctx.badge,
            "name": "Hardening replay",
            "unit_type": "car",
            "password": ctx.password,
            "device_id": ctx.device,
        },
    )
    r.raise_for_status()
    ctx.officer_id = r.json()["id"]
    r = http.post("/api/v1/api-keys", headers=ctx.admin, json={"label": f"hardening replay {tag}"})
    r.raise_for_status()
    ctx.api_key = r.json()["key"]
    form = {
        "api_key": ctx.api_key,
        "service_code": "fallen_tree",
        "lat": "-7.9826",
        "long": "112.6308",
        "description": "Pohon tumbang (hardening replay)",
        "device_id": f"replay-{tag}",
    }
    r = http.post("/open311/v2/requests.json", data=form)
    r.raise_for_status()
    ctx.report_id = int(r.json()[0]["service_request_id"])
    r = http.post(f"/api/v1/reports/{ctx.report_id}/verify", headers=ctx.admin)
    r.raise_for_status()
    ctx.incident_id = r.json()["incident_id"]
    return ctx


# -- Open311 ----------------------------------------------------------------------------------------------


def _open311_date(name: str, value: str) -> Case:
    def run(ctx: Ctx) -> Result:
        r = ctx.http.get("/open311/v2/requests.json", params={name: value})
        return status_is(r, 400, open311=True)

    run.__name__ = f"open311_{name}_{value[:4]}_{value[-6:]}"
    return run


for _name in ("start_date", "end_date"):
    for _value in ("0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"):
        case(_open311_date(_name, _value))


@case
def open311_request_id_superscript(ctx: Ctx) -> Result:
    return status_is(ctx.http.get(f"/open311/v2/requests/{quote('²')}.json"), 404, open311=True)


@case
def open311_request_id_arabic_indic_digits(ctx: Ctx) -> Result:
    arabic = str(ctx.report_id).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    return status_is(ctx.http.get(f"/open311/v2/requests/{quote(arabic)}.json"), 404, open311=True)


@case
def open311_list_ids_unicode_digits(ctx: Ctx) -> Result:
    r = ctx.http.get("/open311/v2/requests.json", params={"service_request_id": f"{ctx.report_id},١٢٣"})
    return status_is(r, 400, open311=True)


@case
def open311_service_code_superscript(ctx: Ctx) -> Result:
    return status_is(ctx.http.get(f"/open311/v2/services/{quote('²')}.json"), 404, open311=True)


@case
def open311_lat_unicode_digits(ctx: Ctx) -> Result:
    form = {"api_key": ctx.api_key, "service_code": "fallen_tree", "lat": "-٧.٩٨", "long": "112.63"}
    return status_is(ctx.http.post("/open311/v2/requests.json", data=form), 400, open311=True)


# -- deep JSON in the phone protocols ---------------------------------------------------------------------


@case
def osmand_json_attribute_254_deep(ctx: Ctx) -> Result:
    before = track_points(ctx)
    body = (
        f'{{"device_id":"{ctx.device}","location":['
        f'{{"timestamp":"{now_iso(-20)}","coords":{{"latitude":-7.97,"longitude":112.63}}}},'
        f'{{"timestamp":"{now_iso(-10)}","coords":{{"latitude":-7.9701,"longitude":112.6301}},'
        f'"deep":{deep_json(254)}}}]}}'
    )
    r = ctx.http.post("/osmand", content=body, headers={"Content-Type": "application/json"})
    stored = track_points(ctx) - before
    return Result(
        "200, 2 fixes stored", f"{r.status_code}, {stored} fixes stored", r.status_code == 200 and stored == 2
    )


@case
def osmand_json_1500_deep(ctx: Ctx) -> Result:
    body = f'{{"device_id":"{ctx.device}","location":{deep_json(1500)}}}'
    r = ctx.http.post("/osmand", content=body, headers={"Content-Type": "application/json"})
    return status_is(r, 400, code="invalid_json")


@case
def owntracks_attribute_254_deep(ctx: Ctx) -> Result:
    before = track_points(ctx)
    body = (
        f'{{"_type":"location","lat":-7.9702,"lon":112.6302,"tst":{int(time.time()) - 2},'
        f'"tid":"hr","inregions":{deep_json(254)}}}'
    )
    r = ctx.http.post(
        "/owntracks",
        content=body,
        auth=(ctx.badge, ctx.password),
        headers={"Content-Type": "application/json", "X-Limit-U": ctx.badge, "X-Limit-D": ctx.device},
    )
    stored = track_points(ctx) - before
    ok = r.status_code == 200 and r.content.strip() == b"[]" and stored == 1
    return Result("200 [], 1 fix stored", f"{r.status_code} {r.text[:20]}, {stored} fix stored", ok)


# -- schemathesis findings --------------------------------------------------------------------------------


@case
def incidents_status_outside_the_schema(ctx: Ctx) -> Result:
    r = ctx.http.get("/api/v1/incidents", headers=ctx.admin, params={"status": "open,x"})
    return status_is(r, 422, code="validation_error")


@case
def positions_bbox_outside_the_schema(ctx: Ctx) -> Result:
    r = ctx.http.get("/api/v1/positions", headers=ctx.admin, params={"bbox": "1,2,3"})
    return status_is(r, 422, code="validation_error")


@case
def positions_bbox_whole_world(ctx: Ctx) -> Result:
    return status_is(
        ctx.http.get("/api/v1/positions", headers=ctx.admin, params={"bbox": "-180,-90,180,90"}), 200
    )


@case
def stats_until_unix_seconds(ctx: Ctx) -> Result:
    r = ctx.http.get("/api/v1/stats", headers=ctx.admin, params={"until": "1700000000"})
    return status_is(r, 422, code="validation_error")


@case
def stats_until_year_1_with_offset(ctx: Ctx) -> Result:
    r = ctx.http.get(
        "/api/v1/stats",
        headers=ctx.admin,
        params={"since": "0001-01-01T00:00:00+05:00", "until": "0001-01-02T00:00:00+05:00"},
    )
    return status_is(r, 400, code="bad_time_range")


@case
def batch_apply_as_a_string(ctx: Ctx) -> Result:
    r = ctx.http.post("/api/v1/dispatch/batch", headers=ctx.admin, json={"apply": "true"})
    return status_is(r, 422, code="validation_error")


def _allow(method: str, path: str, expected: set[str]) -> Case:
    def run(ctx: Ctx) -> Result:
        r = ctx.http.request(method, path.format(incident=ctx.incident_id))
        allowed = {m.strip() for m in r.headers.get("allow", "").split(",") if m.strip()}
        want = f"405 Allow: {', '.join(sorted(expected))}"
        return Result(
            want,
            f"{r.status_code} Allow: {', '.join(sorted(allowed))}",
            r.status_code == 405 and allowed == expected,
        )

    run.__name__ = f"allow_{method.lower()}_{path.strip('/').replace('/', '_').replace('{incident}', 'id')}"
    return run


case(_allow("DELETE", "/osmand", {"GET", "POST", "PUT"}))
case(_allow("PATCH", "/api/v1/incidents/{incident}/forwards", {"GET", "POST"}))
case(_allow("PUT", "/open311/v2/requests.json", {"GET", "POST"}))


@case
def repeated_forward_200_is_declared(ctx: Ctx) -> Result:
    url = f"/api/v1/incidents/{ctx.incident_id}/forwards"
    first = ctx.http.post(url, headers=ctx.admin)
    again = ctx.http.post(url, headers=ctx.admin)
    schema = ctx.http.get("/openapi.json").json()
    declared = sorted(schema["paths"]["/api/v1/incidents/{incident_id}/forwards"]["post"]["responses"])
    ok = first.status_code in (200, 201) and again.status_code == 200 and "200" in declared
    return Result(
        "repeat 200, declared 200",
        f"{first.status_code} then {again.status_code}, declared {','.join(declared)}",
        ok,
    )


# -- ingest, sockets, idempotency, headers, serve (the round's other findings) ------------------------------


def _login(ctx: Ctx, username: str, password: str) -> dict[str, str]:
    r = ctx.http.post("/api/v1/auth/token", data={"username": username, "password": password})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _officer(ctx: Ctx) -> dict[str, str]:
    if "officer" not in ctx.notes:
        ctx.notes["officer"] = _login(ctx, ctx.badge, ctx.password)
    headers: dict[str, str] = ctx.notes["officer"]
    return headers


def _ws_url(ctx: Ctx, path: str) -> str:
    return str(ctx.http.base_url).rstrip("/").replace("http://", "ws://").replace("https://", "wss://") + path


def _ping(offset_s: float = 0, **extra: Any) -> dict[str, Any]:
    return {"lat": -7.9666, "lon": 112.6326, "recorded_at": now_iso(offset_s), **extra}


@case
def pings_nan_and_infinity_refused_per_item(ctx: Ctx) -> Result:
    batch = [_ping(-30, altitude_m="NaN"), _ping(-29, speed_mps="Infinity"), _ping(-28)]
    r = ctx.http.post("/api/v1/pings", headers=_officer(ctx), json=batch)
    accepted = r.json().get("accepted") if r.status_code == 200 else None
    return Result("200 accepted 1", f"{r.status_code} accepted {accepted}", accepted == 1)


@case
def pings_year_9999_with_offset_per_item(ctx: Ctx) -> Result:
    batch = [_ping(-27) | {"recorded_at": "0001-01-01T00:00:00+05:00"},
             _ping(-26) | {"recorded_at": "9999-12-31T23:59:59-05:00"}, _ping(-25)]  # fmt: skip
    r = ctx.http.post("/api/v1/pings", headers=_officer(ctx), json=batch)
    rejected = len(r.json().get("rejected", [])) if r.status_code == 200 else None
    return Result("200 rejected 2", f"{r.status_code} rejected {rejected}", rejected == 2)


async def _stream_frames(url: str) -> tuple[str | None, dict[str, Any]]:
    import orjson
    import websockets

    async with websockets.connect(url) as ws:
        await ws.send(b"\x00binary")
        bad = _ping(-20) | {"recorded_at": "9999-12-31T23:59:59-05:00"}
        await ws.send(orjson.dumps({"type": "pings", "seq": 7, "pings": [bad, _ping(-19)]}).decode())
        seen: dict[str, Any] = {}
        deadline = time.monotonic() + 5
        while ("ack" not in seen or "error" not in seen) and time.monotonic() < deadline:
            msg = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
            seen.setdefault(msg["type"], msg)
    return seen.get("error", {}).get("error", {}).get("code"), seen.get("ack", {})


@case
def stream_binary_frame_and_year_9999_ping(ctx: Ctx) -> Result:
    token = _officer(ctx)["Authorization"].split()[1]
    err, ack = asyncio.run(_stream_frames(_ws_url(ctx, f"/api/v1/officers/stream?token={token}")))
    ok = err == "binary_frame" and ack.get("seq") == 7 and len(ack.get("rejected", [])) == 1
    return Result("binary_frame; ack 1 rejected", f"{err}; ack rejected {len(ack.get('rejected', []))}", ok)


async def _close_code(url: str, first: str | None, then: Callable[[], None] | None = None) -> int | None:
    import websockets

    async with websockets.connect(url) as ws:
        if first is not None:
            await ws.send(first)
        else:
            await asyncio.wait_for(ws.recv(), 5)  # hello
        if then is not None:
            await asyncio.to_thread(then)
        try:
            while True:
                await asyncio.wait_for(ws.recv(), 3)
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None
        except TimeoutError:
            return None


@case
def stream_auth_token_not_a_string(ctx: Ctx) -> Result:
    code = asyncio.run(_close_code(_ws_url(ctx, "/api/v1/officers/stream"), '{"type":"auth","token":123}'))
    return Result("close 4401", f"close {code}", code == 4401)


@case
def osmand_alarm_flood_one_alert(ctx: Ctx) -> Result:
    t = int(time.time())
    flood = [{"id": ctx.device, "lat": -7.97 + i * 1e-6, "lon": 112.63, "timestamp": t - 900 + i, "alarm": "sos"}
             for i in range(500)]  # fmt: skip
    r = ctx.http.post("/osmand", json=flood)
    alerts = ctx.http.get("/api/v1/alerts", headers=ctx.admin).json()
    alerts = alerts["items"] if isinstance(alerts, dict) else alerts
    mine = [a for a in alerts if a.get("officer_id") == ctx.officer_id and a["kind"] == "officer_distress"]
    return Result(
        "200, 1 open alert", f"{r.status_code}, {len(mine)} open", r.status_code == 200 and len(mine) == 1
    )


@case
def osmand_more_than_max_batch_is_413(ctx: Ctx) -> Result:
    t = int(time.time())
    big = [{"id": ctx.device, "lat": -7.97, "lon": 112.63, "timestamp": t - i} for i in range(20_001)]
    return status_is(ctx.http.post("/osmand", json=big), 413)


@case
def login_never_replayed_by_idempotency_key(ctx: Ctx) -> Result:
    key, tag, tokens = f"replay-{secrets.token_hex(4)}", secrets.token_hex(3), []
    for n in (1, 2):
        ctx.http.post("/api/v1/users", headers=ctx.admin,
                      json={"username": f"hr-u{n}-{tag}", "password": "replay-pw-1", "role": "dispatcher"})  # fmt: skip
        r = ctx.http.post("/api/v1/auth/token", headers={"Idempotency-Key": key},
                          data={"username": f"hr-u{n}-{tag}", "password": "replay-pw-1"})  # fmt: skip
        tokens.append(r.json().get("access_token", ""))
    me = ctx.http.get("/api/v1/me", headers={"Authorization": f"Bearer {tokens[1]}"}).json()
    return Result(f"me = hr-u2-{tag}", f"me = {me.get('username')}", me.get("username") == f"hr-u2-{tag}")


@case
def every_answer_says_nosniff(ctx: Ctx) -> Result:
    got = [ctx.http.get(p).headers.get("x-content-type-options") for p in ("/healthz", "/map", "/nope")]
    return Result("nosniff x3", ",".join(map(str, got)), got == ["nosniff"] * 3)


@case
def revoke_closes_the_open_stream_socket(ctx: Ctx) -> Result:
    headers = _login(ctx, ctx.badge, ctx.password)  # a login of its own: revoking it ends every earlier token
    token = headers["Authorization"].split()[1]
    started = time.monotonic()
    code = asyncio.run(
        _close_code(
            _ws_url(ctx, f"/api/v1/officers/stream?token={token}"),
            None,
            lambda: ctx.http.post("/api/v1/auth/revoke", headers=headers).raise_for_status(),
        )
    )
    took = time.monotonic() - started
    ctx.notes.pop("officer", None)
    return Result("close 4401 < 2 s", f"close {code} in {took:.1f} s", code == 4401 and took < 2)


@case
def serve_workers_with_memory_bus_refused(ctx: Ctx) -> Result:
    import os
    import subprocess
    from pathlib import Path

    exe = Path(sys.executable).with_name("jogo-dispatch")
    env = {**os.environ, "JOGO_PUBSUB": "memory"}
    env.setdefault("JOGO_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    done = subprocess.run([str(exe), "serve", "--workers", "2", "--port", "1"], env=env,
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    return Result("exit 2 (local check)", f"exit {done.returncode}", done.returncode == 2)


# -- photos, quotas, SOS availability, signing key, agencies ---------------------------------------------


def _citizen(ctx: Ctx, user_agent: str = "replay-phone") -> dict[str, str]:
    phone = f"0813{secrets.randbelow(10**8):08d}"
    r = ctx.http.post(
        "/api/v1/citizens", json={"phone": phone, "name": "Warga replay", "password": "replay-pw-1"}
    )
    r.raise_for_status()
    headers = _login(ctx, r.json()["username"], "replay-pw-1")
    return {**headers, "User-Agent": user_agent}


def _bomb_png(width: int = 6000, height: int = 6000, depth: int = 16) -> bytes:
    """280 KB of PNG that inflates to 288 MB (6000x6000 RGBA16), built row by row."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    deflate = zlib.compressobj(9)
    row = bytes(1 + width * 4 * depth // 8)
    idat = b"".join(deflate.compress(row) for _ in range(height)) + deflate.flush()
    header = struct.pack(">IIBBBBB", width, height, depth, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _report_form(**extra: str) -> dict[str, str]:
    return {"category": "fallen_tree", "description": "Pohon tumbang (replay)", "lat": "-7.9826",
            "lon": "112.6308", "reporter_lat": "-7.9827", "reporter_lon": "112.6308", **extra}  # fmt: skip


@case
def photo_rgba16_bomb_refused_before_decoding(ctx: Ctx) -> Result:
    me = _citizen(ctx)
    started = time.monotonic()
    r = ctx.http.post("/api/v1/reports", headers=me, data=_report_form(),
                      files={"photo": ("bomb.png", _bomb_png(), "image/png")})  # fmt: skip
    problem = r.json().get("error", {}).get("details", {}).get("problem") if r.status_code < 500 else None
    took = time.monotonic() - started
    return Result("400 bad_photo too_deep", f"{r.status_code} {problem} in {took:.1f} s",
                  r.status_code == 400 and problem == "too_deep")  # fmt: skip


@case
def refused_reports_do_not_use_up_the_quota(ctx: Ctx) -> Result:
    """More refused attempts than the hourly quota (20 per account), then a good report still goes in."""
    me = _citizen(ctx)
    refused = [ctx.http.post("/api/v1/reports", headers=me, data=_report_form(category="no_such_thing")).status_code
               for _ in range(25)]  # fmt: skip
    good = ctx.http.post("/api/v1/reports", headers=me, data=_report_form())
    return Result("25 x 4xx, then 201", f"{sorted(set(refused))}, then {good.status_code}",
                  all(400 <= c < 500 and c != 429 for c in refused) and good.status_code == 201)  # fmt: skip


@case
def sos_from_many_phones_behind_one_address_and_browser(ctx: Ctx) -> Result:
    """A carrier puts thousands of phones behind one address; same address + same browser, 40 callers."""
    codes = []
    for _ in range(40):
        me = _citizen(ctx, user_agent="Mozilla/5.0 (Linux; Android 13) Chrome/120 Mobile")
        codes.append(
            ctx.http.post("/api/v1/sos", headers=me, json={"lat": -7.9826, "lon": 112.6308}).status_code
        )
    return Result("40 x 201", f"{len([c for c in codes if c == 201])} x 201, others {sorted(set(codes) - {201})}",
                  codes == [201] * 40)  # fmt: skip


@case
def blocked_account_sos_reaches_the_operator_marked(ctx: Ctx) -> Result:
    me = _citizen(ctx)
    for _ in range(3):  # three false reports: the account is blocked
        r = ctx.http.post("/api/v1/reports", headers=me, json={k: v for k, v in _report_form().items()})
        r.raise_for_status()
        ctx.http.post(f"/api/v1/reports/{r.json()['id']}/reject", headers=ctx.admin,
                      json={"reason": "false"}).raise_for_status()  # fmt: skip
    blocked = ctx.http.post("/api/v1/reports", headers=me, json=_report_form())
    sos = ctx.http.post("/api/v1/sos", headers=me, json={"lat": -7.9826, "lon": 112.6308})
    record: dict[str, Any] = {}
    if sos.status_code == 201:
        incident = ctx.http.get(f"/api/v1/incidents/{sos.json()['incident_id']}", headers=ctx.admin).json()
        record = incident.get("data", {}).get("caller_record") or {}
    return Result("report 403, SOS 201 blocked", f"report {blocked.status_code}, SOS {sos.status_code} "
                  f"blocked={record.get('blocked')}",
                  blocked.status_code == 403 and sos.status_code == 201 and record.get("blocked") is True)  # fmt: skip


@case
def admin_token_forged_with_the_old_default_key_refused(ctx: Ctx) -> Result:
    import jwt

    forged = jwt.encode({"sub": "1", "role": "admin", "exp": int(time.time()) + 600},
                        "dev-only-insecure-signing-key-change-me", algorithm="HS256")  # fmt: skip
    r = ctx.http.get("/api/v1/officers", headers={"Authorization": f"Bearer {forged}"})
    return status_is(r, 401)


def _agency(ctx: Ctx, code: str) -> dict[str, str]:
    """A login of the region's agency ``code`` (made once per run)."""
    if code not in ctx.notes:
        agencies = ctx.http.get("/api/v1/agencies", headers=ctx.admin).json()
        items = agencies["items"] if isinstance(agencies, dict) else agencies
        agency_id = next(a["id"] for a in items if a["code"] == code)
        username, password = f"hr-{code.lower()}-{secrets.token_hex(3)}", secrets.token_urlsafe(12)
        ctx.http.post(f"/api/v1/agencies/{agency_id}/users", headers=ctx.admin,
                      json={"username": username, "password": password}).raise_for_status()  # fmt: skip
        ctx.notes[code] = (_login(ctx, username, password), agency_id)
    headers: dict[str, str] = ctx.notes[code][0]
    return headers


@case
def agency_reads_only_what_was_forwarded_to_it(ctx: Ctx) -> Result:
    dlh, pln = _agency(ctx, "DLH"), _agency(ctx, "PLN")
    ctx.http.post(f"/api/v1/incidents/{ctx.incident_id}/forwards", headers=ctx.admin,
                  json={"agency_ids": [ctx.notes["DLH"][1]]}).raise_for_status()  # fmt: skip
    own = ctx.http.get(f"/api/v1/incidents/{ctx.incident_id}", headers=dlh)
    hidden = (
        sorted({"reporter_id", "reports", "offers", "data"} & set(own.json()))
        if own.status_code == 200
        else []
    )
    checks = {
        "own 200": own.status_code == 200 and not hidden,
        "other agency 404": ctx.http.get(f"/api/v1/incidents/{ctx.incident_id}", headers=pln).status_code
        == 404,
        "report of another's 404": ctx.http.get(f"/api/v1/reports/{ctx.report_id}", headers=pln).status_code
        == 404,
        "officers 403": ctx.http.get("/api/v1/officers", headers=dlh).status_code == 403,
        "track 403": ctx.http.get(f"/api/v1/officers/{ctx.officer_id}/track", headers=dlh).status_code == 403,
    }
    failed = [name for name, ok in checks.items() if not ok] + [f"shows {h}" for h in hidden]
    return Result("own only, no reporter", "ok" if not failed else ",".join(failed), not failed)


async def _first_message(url: str) -> dict[str, Any]:
    import orjson
    import websockets

    async with websockets.connect(url) as ws:
        message: dict[str, Any] = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
        return message


@case
def agency_live_feed_carries_only_its_own_forwards(ctx: Ctx) -> Result:
    dlh = _agency(ctx, "DLH")
    ctx.http.post(f"/api/v1/incidents/{ctx.incident_id}/forwards", headers=ctx.admin,
                  json={"agency_ids": [ctx.notes["DLH"][1]]}).raise_for_status()  # fmt: skip
    token = dlh["Authorization"].split()[1]
    snap = asyncio.run(_first_message(_ws_url(ctx, f"/api/v1/live?token={token}")))
    shown = {k: len(snap.get(k, [])) for k in ("officers", "incidents", "alerts")}
    forwarded = [f["incident_id"] for f in snap.get("forwards", [])]
    ok = snap.get("type") == "snapshot" and not any(shown.values()) and forwarded == [ctx.incident_id]
    got = ",".join(f"{k}={v}" for k, v in shown.items()) + f",forwards={forwarded}"
    return Result("snapshot: its forward only", got, ok)


@case
def x_forwarded_for_does_not_reset_the_address_limit(ctx: Ctx) -> Result:
    """Last: it spends this address's failed-login budget for the window."""
    codes = []
    for i in range(60):
        r = ctx.http.post("/api/v1/auth/token", headers={"X-Forwarded-For": f"10.9.{i // 250}.{i % 250 + 1}"},
                          data={"username": f"nobody-{secrets.token_hex(4)}", "password": "guess"})  # fmt: skip
        codes.append(r.status_code)
        if r.status_code == 429:
            break
    return Result("429 before 60 guesses", f"{codes[-1]} after {len(codes)}", codes[-1] == 429)


# -- running ----------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--admin-user", default="admin")
    parser.add_argument("--admin-password", default="jogo-demo")
    args = parser.parse_args(argv)
    failed = 0
    with httpx.Client(base_url=args.base_url, timeout=30.0) as http:
        ctx = set_up(http, args.admin_user, args.admin_password)
        width = max(len(c.__name__) for c in CASES)
        for run in CASES:
            try:
                result = run(ctx)
            except Exception as exc:  # noqa: BLE001 - a case that crashes is a failed case
                result = Result("(no exception)", f"{type(exc).__name__}: {exc}"[:120], False)
            failed += not result.ok
            verdict = "PASS" if result.ok else "FAIL"
            print(f"{run.__name__:<{width}}  expected {result.expected:<28}  got {result.got:<36}  {verdict}")
    print(f"{len(CASES) - failed}/{len(CASES)} passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
