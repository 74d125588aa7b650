"""OwnTracks HTTP mode: one JSON message per POST, identity from the caller rather than the payload.

Follows the booklet (owntracks.org/booklet/tech/json and /tech/http) and the apps' serialisers
(owntracks/android ``MessageLocation.kt``, owntracks/ios ``OwnTracking.m``): ``vel`` in km/h, ``tst``
epoch seconds, ``bs`` 0=unknown 1=unplugged 2=charging 3=full, ``topic`` only in HTTP payloads,
identity from ``X-Limit-U``/``X-Limit-D`` (or ``?u=&d=``) as the OwnTracks Recorder does. A location
needs a ``tst`` above 0, as the apps' own ``MessageLocationDeserializer`` / ``isValidMessage`` demand.
An ``encrypted`` message is handed back with its ``data`` for :mod:`.owntracks_crypto` to open.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from jogo_dispatch.errors import InvalidInput
from jogo_dispatch.tracking.protocols.common import (
    DeviceFix,
    bad_field,
    battery_pct,
    from_epoch,
    latitude,
    longitude,
    missing_device_id,
    non_negative,
    optional_number,
)

__all__ = ["KMH_TO_MPS", "OwnTracksMessage", "owntracks_identity", "parse_owntracks"]

KMH_TO_MPS = 1000.0 / 3600.0

# Keys decoded into DeviceFix fields; everything else in a location message lands in attributes.
_OWNTRACKS_DECODED = frozenset({"_type", "lat", "lon", "tst", "acc", "alt", "vel", "cog", "batt", "bs"})


@dataclass(frozen=True, slots=True)
class OwnTracksMessage:
    """An OwnTracks HTTP publish: its ``_type`` (None for an empty body) and, for locations, the fix."""

    msg_type: str | None
    fix: DeviceFix | None  # only for _type == "location"
    data: str | None = None  # only for _type == "encrypted": base64 of nonce + secret box


def _blank_to_none(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def owntracks_identity(
    user: str | None, device: str | None, body_topic: str | None
) -> tuple[str | None, str | None]:
    """Resolve (user, device) for an OwnTracks publish.

    ``user``/``device`` come from the caller (``X-Limit-U``/``X-Limit-D`` headers, ``?u=&d=``, or
    an authenticating proxy) and always win. Missing parts are taken from the payload's ``topic``
    (``owntracks/<user>/<device>[/suffix]``; the first level may be any prefix and a leading ``/`` is
    allowed, as the OwnTracks Recorder accepts) but only when the topic agrees with whatever the
    caller did supply, so a client cannot pair an authenticated user with another user's topic.
    The topic is client-asserted: trust it only behind authentication.
    """
    user = _blank_to_none(user)
    device = _blank_to_none(device)
    if (user is None or device is None) and body_topic:
        parts = body_topic.lstrip("/").split("/")
        if len(parts) >= 3 and parts[1] and parts[2]:
            topic_user, topic_device = parts[1], parts[2]
            if user in (None, topic_user) and device in (None, topic_device):
                user, device = topic_user, topic_device
    return user, device


def _owntracks_fix(data: dict[str, Any], device_id: str) -> DeviceFix:
    lat_raw, lon_raw = data.get("lat"), data.get("lon")
    lat = None if lat_raw is None else latitude(lat_raw, "lat")
    lon = None if lon_raw is None else longitude(lon_raw, "lon")
    if lat is None or lon is None:
        lat = lon = None

    tst = optional_number(data.get("tst"), "tst")
    vel = non_negative(optional_number(data.get("vel"), "vel"))
    charging: bool | None = None
    bs = optional_number(data.get("bs"), "bs")
    if bs is not None:
        if not bs.is_integer():
            bad_field("bs", "bs must be an integer")
        # 3 = full means still on the charger; "charging" here means "on external power".
        charging = True if bs in (2, 3) else False if bs == 1 else None
    accuracy = non_negative(optional_number(data.get("acc"), "acc"))
    heading = non_negative(optional_number(data.get("cog"), "cog"))
    # Unlike acc/vel/cog, a negative altitude is real (below sea level), so -1 is kept.
    altitude = optional_number(data.get("alt"), "alt")
    battery = battery_pct(optional_number(data.get("batt"), "batt"), "batt", 100.0)

    # Checked last, so that a malformed field is named first. The apps refuse such a location
    # themselves (Android's MessageLocationDeserializer: "missing 'tst'", "'tst' must be non-zero";
    # isValidMessage: tst > 0): it is no fix to store at the server's time either.
    if tst is None:
        bad_field("tst", "a location needs tst (epoch seconds)")
    if tst <= 0:
        bad_field("tst", "tst must be above 0")
    recorded_at = from_epoch(tst, "tst")

    return DeviceFix(
        device_id=device_id,
        lat=lat,
        lon=lon,
        recorded_at=recorded_at,
        accuracy_m=accuracy,
        speed_mps=None if vel is None else vel * KMH_TO_MPS,
        heading_deg=heading,
        altitude_m=altitude,
        battery_pct=battery,
        charging=charging,
        valid=True if lat is not None else None,
        alarm=None,  # OwnTracks has no alarm field
        attributes={k: v for k, v in data.items() if k not in _OWNTRACKS_DECODED},
    )


def parse_owntracks(
    body: bytes, *, user: str | None, device: str | None, topic_fallback: bool = True
) -> OwnTracksMessage:
    """Decode one OwnTracks HTTP-mode POST body.

    * Empty (or whitespace-only) body -> ``OwnTracksMessage(None, None)``: the booklet notes
      zero-length publishes happen and are best ignored.
    * Not JSON, or JSON that is not an object -> ``InvalidInput(code="invalid_json")``; no string
      ``_type`` -> ``bad_field``.
    * ``encrypted`` -> ``OwnTracksMessage("encrypted", None, data)``; ``data`` must be a non-empty
      string (``bad_field``). Opening it is the caller's: it knows the device's key.
    * ``_type`` other than ``location`` (transition, waypoint(s), lwt, status, card, cmd, beacon,
      steps, ...) -> ``OwnTracksMessage(type, None)``.
    * ``location`` -> a :class:`DeviceFix`: ``vel`` km/h -> m/s, ``tst`` epoch seconds (required and
      above 0, else ``bad_field``), ``batt`` percent, ``bs`` 2/3 -> charging, 1 -> not charging; a
      negative ``acc``/``vel``/``cog``/``batt`` means unknown (None). Every other key (``tid``,
      ``topic``, ``t``, ``conn``, ``created_at``, ``vac``, ``m``, ``inregions``, ``SSID``...) is kept in
      attributes, with its JSON type.

    Device identity: ``(user, device)`` from :func:`owntracks_identity` (the ``topic`` is consulted
    only when ``topic_fallback``). ``device_id`` is ``"<user>/<device>"`` when both are known, the
    Recorder's own key for a device. Otherwise it is the bare ``tid`` (the app's two-character tracker
    id, which defaults to the end of the topic): the only identity left, but not unique across a
    fleet, so deployments should send ``X-Limit-U``/``X-Limit-D``. With neither, a location raises
    ``missing_device_id``.
    """
    if not body.strip():
        return OwnTracksMessage(None, None)
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidInput("the body is not valid JSON", code="invalid_json") from None
    if not isinstance(data, dict):
        raise InvalidInput("an OwnTracks message must be a JSON object", code="invalid_json")
    msg_type = data.get("_type")
    if not isinstance(msg_type, str) or not msg_type:
        bad_field("_type", "_type must be a non-empty string")
    if msg_type == "encrypted":
        payload = data.get("data")
        if not isinstance(payload, str) or not payload.strip():
            bad_field("data", "an encrypted message needs data (a base64 string)")
        return OwnTracksMessage(msg_type, None, payload)
    if msg_type != "location":
        return OwnTracksMessage(msg_type, None)

    topic = data.get("topic")
    body_topic = topic if topic_fallback and isinstance(topic, str) else None
    resolved_user, resolved_device = owntracks_identity(user, device, body_topic)
    if resolved_user is not None and resolved_device is not None:
        device_id = f"{resolved_user}/{resolved_device}"
    else:
        tid = data.get("tid")
        tid_text = _blank_to_none(tid) if isinstance(tid, str) else None
        if tid_text is None:
            missing_device_id()
        device_id = tid_text
    return OwnTracksMessage(msg_type, _owntracks_fix(data, device_id))
