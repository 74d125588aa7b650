"""The public phone apps' protocols: OsmAnd (Traccar Client) and OwnTracks HTTP mode.

Both decode with tracking.protocols and end in the same Ingest as POST /api/v1/pings.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl

import orjson
import structlog
from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import HTTPBasic, HTTPBasicCredentials

from jogo_dispatch.alerts.service import raise_once_per_officer
from jogo_dispatch.deps import RuntimeDep
from jogo_dispatch.errors import InvalidInput, NotFound, PayloadTooLarge, Unauthorized
from jogo_dispatch.platform.body_limit import parse_json, read_body
from jogo_dispatch.platform.db import session_scope, utcnow
from jogo_dispatch.platform.idempotency import IdempotentRoute
from jogo_dispatch.platform.ratelimit import guard_login
from jogo_dispatch.platform.security import DEVICE_TOKEN_PREFIX
from jogo_dispatch.runtime import Runtime
from jogo_dispatch.tracking.devices import KnownDevice
from jogo_dispatch.tracking.filters import Fix
from jogo_dispatch.tracking.ingest import IngestResult
from jogo_dispatch.tracking.protocols import (
    DeviceFix,
    parse_osmand_json,
    parse_osmand_params,
    parse_owntracks,
)

log = structlog.get_logger(__name__)
router = APIRouter(route_class=IdempotentRoute, tags=["phone protocols"])
basic = HTTPBasic(auto_error=False, realm="jogo-dispatch")


# How many objects or arrays deep an attribute's value may go. A phone sends flat extras; a deeper value is
# dropped from the fix (the position is kept): orjson writes at most 255 levels, and the walk stays short.
MAX_ATTRIBUTE_DEPTH = 16


class _TooDeep(Exception):
    pass


def _storable(value: Any, depth: int = 0) -> Any:
    """``value`` as jsonb can hold it: without NUL characters (one stray NUL from a phone would fail the
    whole group commit, and with it every other officer's pings in that batch), at most
    ``MAX_ATTRIBUTE_DEPTH`` containers deep (else ``_TooDeep``)."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict | list):
        if depth >= MAX_ATTRIBUTE_DEPTH:
            raise _TooDeep
        if isinstance(value, list):
            return [_storable(v, depth + 1) for v in value]
        return {str(k).replace("\x00", ""): _storable(v, depth + 1) for k, v in value.items()}
    return value


def _attributes(fix: DeviceFix) -> str | None:
    extra: dict[str, Any] = {}
    dropped: list[str] = []
    for key, value in fix.attributes.items():
        try:
            extra[str(key).replace("\x00", "")] = _storable(value)
        except _TooDeep:
            dropped.append(str(key)[:64])
    if dropped:
        log.info("fix attributes dropped: nested too deep", device_id=fix.device_id, keys=dropped[:10])
    for key in ("charging", "valid", "alarm"):
        value = getattr(fix, key)
        if value is not None:
            extra[key] = _storable(value)
    if not extra:
        return None
    try:
        return orjson.dumps(extra, default=str).decode()
    except orjson.JSONEncodeError:  # e.g. a key orjson cannot write; the fix is kept without attributes
        log.info("fix attributes dropped: not JSON", device_id=fix.device_id)
        return None


def to_fix(fix: DeviceFix, now: datetime) -> Fix | None:
    if fix.lat is None or fix.lon is None:
        return None
    return Fix(
        fix.lat,
        fix.lon,
        fix.recorded_at or now,
        fix.accuracy_m,
        fix.speed_mps,
        fix.heading_deg,
        fix.altitude_m,
        fix.battery_pct,
        _attributes(fix),
    )


async def ingest_device_fixes(
    rt: Runtime, items: list[tuple[DeviceFix, KnownDevice]], source: str
) -> IngestResult:
    """Store the fixes, and raise an officer-in-distress alert for every ``alarm=sos``."""
    now = utcnow()
    accepted: list[tuple[int, int, Fix]] = []
    rejected: list[tuple[int, str]] = []
    for index, (dfix, dev) in enumerate(items):
        fix = to_fix(dfix, now)
        if fix is None:
            if dfix.alarm is None:
                rejected.append((index, "no_position"))
        elif dfix.valid is False:
            rejected.append((index, "invalid_fix"))
        else:
            accepted.append((index, dev.officer_id, fix))
    # Distress first: it must not wait for (or depend on) the position being plausible.
    alarmed: set[int] = set()
    for dfix, dev in items:
        if dfix.alarm and dfix.alarm.lower() == "sos" and dev.officer_id not in alarmed:
            alarmed.add(dev.officer_id)
            await officer_distress(rt, dev, dfix)
    # One device per request in practice; the device id is only recorded when it is unambiguous.
    device_ids = {dev.device_id for _, dev in items}
    return await rt.ingest.submit(
        accepted,
        source=source,
        rejected=rejected,
        device_id=device_ids.pop() if len(device_ids) == 1 else None,
    )


async def officer_distress(rt: Runtime, dev: KnownDevice, fix: DeviceFix) -> None:
    """One open distress alert per officer: while it is unacknowledged, a repeated alarm raises none; the
    hooks still hear it (the officer's SOS incident follows the phone)."""
    alert = None
    async for session in session_scope(rt.sessions):
        alert = await raise_once_per_officer(
            session,
            rt.bus,
            "officer_distress",
            f"Officer {dev.badge} pressed SOS",
            officer_id=dev.officer_id,
            lat=fix.lat,
            lon=fix.lon,
            data={"device": fix.device_id, "recorded_at": (fix.recorded_at or utcnow()).isoformat()},
        )
    if alert is None:
        log.info("officer distress repeated", officer_id=dev.officer_id, badge=dev.badge)
    else:
        log.warning("officer distress", officer_id=dev.officer_id, badge=dev.badge, lat=fix.lat, lon=fix.lon)
    for hook in rt.hooks.officer_distress:
        await hook(dev, fix)


async def _known(rt: Runtime, fix: DeviceFix, request: Request, status_if_unknown: int) -> KnownDevice:
    dev = await rt.devices.find(fix.device_id)
    if dev is None:
        client = request.client.host if request.client else None
        log.warning("unknown device", device_id=fix.device_id, protocol="osmand", client=client)
        cls = NotFound if status_if_unknown == 404 else InvalidInput
        raise cls(f"unknown device {fix.device_id!r}", code="unknown_device")
    return dev


async def osmand(request: Request, rt: RuntimeDep) -> Response:
    """OsmAnd protocol as the Traccar server decodes it: query string, form body, or Traccar Client JSON."""
    body = await read_body(request, rt.settings.max_body_bytes)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if request.url.query:
        fixes, unknown_status = [parse_osmand_params(request.query_params.multi_items())], 400
    elif content_type == "application/json":
        fixes, unknown_status = parse_osmand_json(parse_json(body)), 404
    else:
        pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        fixes, unknown_status = [parse_osmand_params(pairs)], 400
    if len(fixes) > rt.settings.max_batch:
        raise PayloadTooLarge(
            f"at most {rt.settings.max_batch} fixes per request", details={"limit": rt.settings.max_batch}
        )
    items = [(f, await _known(rt, f, request, unknown_status)) for f in fixes]
    result = await ingest_device_fixes(rt, items, "osmand")
    if result.rejected:
        # The phone must not retry an implausible fix forever: it is answered 200 like Traccar does.
        log.info("osmand fixes rejected", rejected=result.rejected[:10])
    return Response(status_code=200)


for _method in ("GET", "POST", "PUT"):
    router.add_api_route(
        "/osmand",
        osmand,
        methods=[_method],
        response_class=Response,
        operation_id=f"osmand_{_method.lower()}",
        responses={200: {"description": "stored (empty body)"}},
    )


def _owntracks_identity(request: Request) -> tuple[str | None, str | None]:
    q = request.query_params
    return (request.headers.get("x-limit-u") or q.get("u"), request.headers.get("x-limit-d") or q.get("d"))


@router.post("/owntracks", responses={200: {"description": "always the JSON array []"}})
async def owntracks(
    request: Request, rt: RuntimeDep, creds: Annotated[HTTPBasicCredentials | None, Depends(basic)]
) -> Response:
    """OwnTracks HTTP mode. Basic auth: the officer's badge and password (or a device token as password)."""
    if creds is None:
        raise Unauthorized(
            "HTTP Basic credentials required",
            code="credentials_required",
            headers={"WWW-Authenticate": 'Basic realm="jogo-dispatch"'},
        )
    # A badge and a password not checked a moment ago: the failed-login limits of /api/v1/auth/token (a
    # device token is random, and a phone already known keeps posting while someone guesses its badge).
    if creds.password.startswith(DEVICE_TOKEN_PREFIX) or rt.auth.known_basic(creds.username, creds.password):
        principal = await rt.auth.basic(creds.username, creds.password)
    else:
        principal = await guard_login(
            rt.limiter,
            rt.settings,
            creds.username,
            request.client.host if request.client else None,
            lambda: rt.auth.basic(creds.username, creds.password),
        )
    if principal.role != "officer" or principal.officer_id is None:
        raise Unauthorized(
            "these credentials are not an officer's",
            code="not_an_officer",
            headers={"WWW-Authenticate": 'Basic realm="jogo-dispatch"'},
        )
    user, device = _owntracks_identity(request)
    message = parse_owntracks(await read_body(request, rt.settings.max_body_bytes), user=user, device=device)
    if message.fix is not None:
        dev = await _owntracks_device(
            rt, message.fix, user, device, principal.officer_id, principal.device_id
        )
        await ingest_device_fixes(rt, [(message.fix, dev)], "owntracks")
    return Response(b"[]", media_type="application/json")


async def _owntracks_device(
    rt: Runtime,
    fix: DeviceFix,
    user: str | None,
    device: str | None,
    officer_id: int,
    token_device: int | None,
) -> KnownDevice:
    candidates = [c for c in (fix.device_id, device, fix.attributes.get("tid")) if isinstance(c, str) and c]
    dev = await rt.devices.find_first(candidates)
    if dev is not None and dev.officer_id == officer_id:
        return dev
    if token_device is not None and dev is None:
        # Authenticated by the device's own token: that token names the device.
        return KnownDevice(token_device, officer_id, user or "")
    log.warning("unknown device", device_id=fix.device_id, protocol="owntracks", officer_id=officer_id)
    raise NotFound(f"device {fix.device_id!r} is not registered to this officer", code="unknown_device")
