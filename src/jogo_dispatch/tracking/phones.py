"""The public phone apps' protocols: OsmAnd (Traccar Client) and OwnTracks HTTP mode.

Both decode with tracking.protocols and end in the same Ingest as POST /api/v1/pings. A report without
a fix (Traccar Client's heartbeat, a cell/Wi-Fi-only message) and a fix the phone marks ``valid=false``
are kept in history as approximate: they refresh presence and battery, never the position dispatch uses.
Every refused fix is logged once with its reason and device; accepted ones are not.
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
from jogo_dispatch.errors import AppError, Conflict, InvalidInput, NotFound, PayloadTooLarge, Unauthorized
from jogo_dispatch.platform.body_limit import parse_json, read_body
from jogo_dispatch.platform.db import session_scope, utcnow
from jogo_dispatch.platform.idempotency import IdempotentRoute
from jogo_dispatch.platform.ratelimit import guard_login
from jogo_dispatch.platform.security import DEVICE_TOKEN_PREFIX, Principal
from jogo_dispatch.runtime import Runtime
from jogo_dispatch.tracking.devices import KnownDevice
from jogo_dispatch.tracking.filters import INVALID, LAST_KNOWN, Fix
from jogo_dispatch.tracking.ingest import IngestResult
from jogo_dispatch.tracking.owntracks_keys import router as owntracks_keys_router
from jogo_dispatch.tracking.protocols import (
    DeviceFix,
    OwnTracksMessage,
    decrypt_payload,
    parse_osmand_json,
    parse_osmand_params,
    parse_owntracks,
)

log = structlog.get_logger(__name__)
router = APIRouter(route_class=IdempotentRoute, tags=["phone protocols"])
router.include_router(owntracks_keys_router)
basic = HTTPBasic(auto_error=False, realm="jogo-dispatch")
# Every 401 of the OwnTracks endpoint: the app (and a browser) then knows to send Basic credentials.
BASIC_CHALLENGE = {"WWW-Authenticate": 'Basic realm="jogo-dispatch", charset="UTF-8"'}
# How much of a client-claimed device id goes into a log line.
LOGGED_ID_CHARS = 128


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


def to_fix(fix: DeviceFix, now: datetime) -> Fix:
    """The report as ingest takes it. No coordinates (a heartbeat, a cell/Wi-Fi-only or alarm-only
    message): ``LAST_KNOWN``, stored at the last known position. ``valid=false``: ``INVALID``, kept with
    its own coordinates. Both are history only; neither moves the position dispatch uses."""
    if fix.lat is None or fix.lon is None:
        approximate: str | None = LAST_KNOWN
    elif fix.valid is False:
        approximate = INVALID
    else:
        approximate = None
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
        approximate,
    )


async def ingest_device_fixes(
    rt: Runtime, items: list[tuple[DeviceFix, KnownDevice]], source: str
) -> IngestResult:
    """Store the fixes, and raise an officer-in-distress alert for every ``alarm=sos``."""
    now = utcnow()
    accepted = [(index, dev.officer_id, to_fix(dfix, now)) for index, (dfix, dev) in enumerate(items)]
    # Distress first: it must not wait for (or depend on) the position being plausible.
    alarmed: set[int] = set()
    for dfix, dev in items:
        if dfix.alarm and dfix.alarm.lower() == "sos" and dev.officer_id not in alarmed:
            alarmed.add(dev.officer_id)
            await officer_distress(rt, dev, dfix)
    # One device per request in practice; the device id is only recorded when it is unambiguous.
    device_ids = {dev.device_id for _, dev in items}
    identifiers = {dfix.device_id for dfix, _ in items}
    return await rt.ingest.submit(
        accepted,
        source=source,
        device_id=device_ids.pop() if len(device_ids) == 1 else None,
        device=identifiers.pop()[:LOGGED_ID_CHARS] if len(identifiers) == 1 else None,
    )


def log_refused(source: str, error: AppError, device: str | None, **context: Any) -> None:
    """One line for a fix refused before ingest (malformed, unknown device, no key): why and whose."""
    log.info(
        "fix rejected",
        reason=error.code,
        detail=error.message[:200],
        source=source,
        device=device[:LOGGED_ID_CHARS] if device else None,
        **context,
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
        cls = NotFound if status_if_unknown == 404 else InvalidInput
        error = cls(f"unknown device {fix.device_id!r}", code="unknown_device")
        log_refused("osmand", error, fix.device_id, client=request.client.host if request.client else None)
        raise error
    return dev


def _osmand_fixes(request: Request, body: bytes, content_type: str) -> tuple[list[DeviceFix], int]:
    if request.url.query:
        return [parse_osmand_params(request.query_params.multi_items())], 400
    if content_type == "application/json":
        return parse_osmand_json(parse_json(body)), 404
    pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    return [parse_osmand_params(pairs)], 400


def _claimed_osmand_device(request: Request, body: bytes, content_type: str) -> str | None:
    """The device id a refused OsmAnd request names, for the log line (best effort, never raises)."""
    if request.url.query:
        return request.query_params.get("id") or request.query_params.get("deviceid")
    if content_type != "application/json":
        pairs = dict(parse_qsl(body.decode("utf-8", "replace")))
        return pairs.get("id") or pairs.get("deviceid")
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    first = parsed[0] if isinstance(parsed, list) and parsed else parsed
    if not isinstance(first, dict):
        return None
    claimed = first.get("device_id", first.get("id", first.get("deviceid")))
    return str(claimed) if isinstance(claimed, str | int) and not isinstance(claimed, bool) else None


async def osmand(request: Request, rt: RuntimeDep) -> Response:
    """OsmAnd protocol as the Traccar server decodes it: query string, form body, or Traccar Client JSON.
    A refused fix of a well-formed request is answered 200 like Traccar does (the phone must not resend
    an implausible fix forever) and logged."""
    body = await read_body(request, rt.settings.max_body_bytes)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        fixes, unknown_status = _osmand_fixes(request, body, content_type)
    except InvalidInput as error:
        log_refused("osmand", error, _claimed_osmand_device(request, body, content_type))
        raise
    if len(fixes) > rt.settings.max_batch:
        too_many = PayloadTooLarge(
            f"at most {rt.settings.max_batch} fixes per request", details={"limit": rt.settings.max_batch}
        )
        log_refused("osmand", too_many, fixes[0].device_id, fixes=len(fixes))
        raise too_many
    items = [(f, await _known(rt, f, request, unknown_status)) for f in fixes]
    await ingest_device_fixes(rt, items, "osmand")
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


@router.post(
    "/owntracks",
    responses={
        200: {"description": "the JSON array [] (also when a fix was refused as implausible: logged)"},
        409: {"description": "an encrypted payload no key of this officer's phones opens (the app keeps it)"},
    },
)
async def owntracks(
    request: Request, rt: RuntimeDep, creds: Annotated[HTTPBasicCredentials | None, Depends(basic)]
) -> Response:
    """OwnTracks HTTP mode. Basic auth: the officer's badge and password (or a device token as password).
    ``_type: encrypted`` is opened with the OwnTracks key set for the officer's phone (PUT
    .../devices/{id}/owntracks-key); without one it is 409 and logged, and the app keeps the message."""
    principal = await _owntracks_principal(request, rt, creds)
    officer_id = principal.officer_id
    assert officer_id is not None  # _owntracks_principal admits officers only
    user, device = _owntracks_identity(request)
    claimed = "/".join(p for p in (user, device) if p) or None
    try:
        message = parse_owntracks(
            await read_body(request, rt.settings.max_body_bytes), user=user, device=device
        )
        if message.msg_type == "encrypted":
            message = await _decrypted(rt, message, user, device, officer_id, principal.device_id)
    except (InvalidInput, Conflict) as error:
        log_refused("owntracks", error, claimed, officer_id=officer_id)
        raise
    if message.fix is not None:
        dev = await _owntracks_device(rt, message.fix, user, device, officer_id, principal.device_id)
        await ingest_device_fixes(rt, [(message.fix, dev)], "owntracks")
    return Response(b"[]", media_type="application/json")


async def _owntracks_principal(
    request: Request, rt: Runtime, creds: HTTPBasicCredentials | None
) -> Principal:
    """The officer behind the Basic credentials; every 401 carries the Basic challenge."""
    if creds is None:
        raise Unauthorized(
            "HTTP Basic credentials required", code="credentials_required", headers=BASIC_CHALLENGE
        )
    try:
        # A badge and a password not checked a moment ago: the failed-login limits of /api/v1/auth/token
        # (a device token is random, and a known phone keeps posting while someone guesses its badge).
        if creds.password.startswith(DEVICE_TOKEN_PREFIX) or rt.auth.known_basic(
            creds.username, creds.password
        ):
            principal = await rt.auth.basic(creds.username, creds.password)
        else:
            principal = await guard_login(
                rt.limiter,
                rt.settings,
                creds.username,
                request.client.host if request.client else None,
                lambda: rt.auth.basic(creds.username, creds.password),
            )
    except Unauthorized as error:
        raise Unauthorized(
            error.message, code=error.code, details=error.details, headers=BASIC_CHALLENGE
        ) from None
    if principal.role != "officer" or principal.officer_id is None:
        raise Unauthorized(
            "these credentials are not an officer's", code="not_an_officer", headers=BASIC_CHALLENGE
        )
    return principal


async def _decrypted(
    rt: Runtime,
    message: OwnTracksMessage,
    user: str | None,
    device: str | None,
    officer_id: int,
    token_device: int | None,
) -> OwnTracksMessage:
    """The message inside an ``encrypted`` one, opened with the officer's phones' keys (the phone that
    sent it first: the device token's, else the one the identity headers name). No key, or none that
    opens it: 409, so that the app keeps the message and sends it again once the key is set."""
    assert message.data is not None
    keys = await rt.devices.owntracks_keys(officer_id)
    claimed = "/".join(p for p in (user, device) if p) or None
    if not keys:
        log.error("owntracks payload encrypted but no key is set", officer_id=officer_id, device=claimed)
        raise Conflict(
            "this phone encrypts its payloads and no OwnTracks key is set for it: an admin sets the key "
            "the app uses (PUT /api/v1/officers/{officer_id}/devices/{device_id}/owntracks-key)",
            code="owntracks_key_missing",
        )
    sender = token_device
    if sender is None:
        named = [f"{user}/{device}"] if user and device else []
        found = await rt.devices.find_first([*named, *([device] if device else [])])
        sender = found.device_id if found is not None and found.officer_id == officer_id else None
    ordered = sorted(keys, key=lambda item: item[0] != sender)
    plaintext = decrypt_payload(message.data, [key for _, key in ordered])
    if plaintext is None:
        log.error("owntracks payload opened by no key", officer_id=officer_id, device=claimed, keys=len(keys))
        raise Conflict(
            "no OwnTracks key set for this officer's phones opens this payload: the key in the app and the "
            "one set on the server differ",
            code="owntracks_key_mismatch",
        )
    inner = parse_owntracks(plaintext, user=user, device=device)
    if inner.msg_type == "encrypted":
        raise InvalidInput(
            "an encrypted message inside an encrypted one", code="bad_field", details={"field": "data"}
        )
    return inner


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
    error = NotFound(f"device {fix.device_id!r} is not registered to this officer", code="unknown_device")
    log_refused("owntracks", error, fix.device_id, officer_id=officer_id)
    raise error
