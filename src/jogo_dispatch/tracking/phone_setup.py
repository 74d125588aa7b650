"""Links and QR codes that set up an officer's phone app in one scan (pure: no database, no HTTP).

* **Traccar Client** (Android, iOS): ``org.traccar.client://setup?url=…&id=…&…`` — the app's own scheme;
  it opens from the phone's camera (the app asks to apply the settings) and its settings screen has a QR
  scanner that reads the same link. ``url`` is our OsmAnd endpoint, ``id`` the device identifier the
  phone is registered with; ``interval``/``distance``/``angle`` (s, m, °), ``accuracy``
  (highest|high|medium|low) and ``buffer`` are the app's own setting names. The OsmAnd protocol carries no
  secret: the identifier is the credential, so it is all the phone needs.
* **OwnTracks** (HTTP mode): ``owntracks:///config?inline=<base64 of an .otrc configuration>`` with mode 3
  (HTTP), our ``/owntracks`` URL, Basic auth with the badge as username and the device token as password,
  and the identifier as ``deviceId`` (sent as ``X-Limit-D``). It holds the token, so it can only be made
  while the token is known: right after registering the phone.

QR codes are SVG, made here with segno, and handed out as ``data:`` URIs the page shows in an ``<img>``.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import segno

TRACCAR_SCHEME = "org.traccar.client"
OWNTRACKS_CONFIG = "owntracks:///config?inline="
# One fix every 10 s while moving, as the live map and the ETAs want; the app's defaults are 300 s / 75 m.
TRACCAR_SETTINGS = {"interval": "10", "distance": "0", "angle": "0", "accuracy": "high", "buffer": "true"}
OWNTRACKS_MOVE_MODE = 2  # "monitoring": move mode, frequent fixes while the officer moves
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "0.0.0.0")  # noqa: S104 - a name to warn about, not a bind


@dataclass(frozen=True, slots=True)
class AppLink:
    link: str
    qr_svg: str  # data:image/svg+xml URI


def qr_data_uri(text: str) -> str:
    # Medium error correction survives a phone camera at an angle; the border is the standard quiet zone.
    return segno.make(text, error="m", micro=False).svg_data_uri(scale=4, border=4, dark="#111")


def server_root(url: str) -> str:
    return url.rstrip("/")


def reachable_from_phones(url: str) -> bool:
    """False for an address only this machine answers (a phone would send its fixes nowhere)."""
    host = (urlsplit(url).hostname or "").lower()
    return bool(host) and host not in LOCAL_HOSTS


def traccar_link(root: str, identifier: str) -> str:
    query = urlencode({"url": f"{server_root(root)}/osmand", "id": identifier, **TRACCAR_SETTINGS})
    return f"{TRACCAR_SCHEME}://setup?{query}"


def owntracks_config(root: str, badge: str, identifier: str, token: str) -> dict[str, object]:
    return {
        "_type": "configuration",
        "mode": 3,
        "url": f"{server_root(root)}/owntracks",
        "auth": True,
        "username": badge,
        "password": token,
        "deviceId": identifier,
        "tid": (badge[-2:] or "JO").upper(),
        "monitoring": OWNTRACKS_MOVE_MODE,
    }


def owntracks_link(config: dict[str, object]) -> str:
    raw = json.dumps(config, separators=(",", ":")).encode()
    return OWNTRACKS_CONFIG + base64.b64encode(raw).decode()


def traccar(root: str, identifier: str) -> AppLink:
    link = traccar_link(root, identifier)
    return AppLink(link, qr_data_uri(link))


def owntracks(root: str, badge: str, identifier: str, token: str) -> AppLink:
    link = owntracks_link(owntracks_config(root, badge, identifier, token))
    return AppLink(link, qr_data_uri(link))
