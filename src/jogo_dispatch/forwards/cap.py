"""OASIS Common Alerting Protocol 1.2 alerts for forwarded incidents. Pure: no database, no FastAPI.

One alert per incident (``identifier`` = sender + incident id), so every agency an incident goes to gets the
same alert. Elements come in the order the CAP 1.2 schema requires (it is a sequence).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
CAP_MEDIA_TYPE = "application/cap+xml"
CAP_CATEGORIES = (
    "Geo",
    "Met",
    "Safety",
    "Security",
    "Rescue",
    "Fire",
    "Health",
    "Env",
    "Transport",
    "Infra",
    "CBRNE",
    "Other",
)

# Our report categories (and the SOS sources) in CAP's event categories.
CATEGORY_MAP: dict[str, tuple[str, ...]] = {
    "traffic_accident": ("Transport", "Rescue"),
    "traffic_jam": ("Transport",),
    "crime": ("Security",),
    "public_order": ("Security",),
    "fire": ("Fire",),
    "medical": ("Health",),
    "fallen_tree": ("Safety", "Env"),
    "power_outage": ("Infra",),
    "water_outage": ("Infra",),
    "flood_landslide": ("Met", "Geo"),
    "road_damage": ("Infra", "Transport"),
    "sos": ("Rescue", "Security"),
    "officer_sos": ("Security",),
    "other": ("Other",),
}
# Categories a region pack adds later fall back on their group.
GROUP_MAP: dict[str, tuple[str, ...]] = {
    "traffic": ("Transport",),
    "environment": ("Env",),
    "utilities": ("Infra",),
    "infrastructure": ("Infra",),
    "disaster": ("Geo",),
    "security": ("Security",),
    "emergency": ("Rescue",),
}

# Our priority (1 most urgent .. 5) in CAP urgency and severity.
PRIORITY_MAP: dict[int, tuple[str, str]] = {
    1: ("Immediate", "Extreme"),
    2: ("Immediate", "Severe"),
    3: ("Expected", "Moderate"),
    4: ("Expected", "Minor"),
    5: ("Future", "Minor"),
}

# Serialise CAP as the default namespace (no ns0: prefixes).
ET.register_namespace("", CAP_NS)

# CAP forbids white space, commas and the XML-reserved < and & in identifiers and sender.
_NOT_IN_ID = re.compile(r"[\s,<&]+")


def cap_categories(category: str, group: str | None = None) -> tuple[str, ...]:
    return CATEGORY_MAP.get(category) or GROUP_MAP.get(group or "") or ("Other",)


def urgency_severity(priority: int) -> tuple[str, str]:
    return PRIORITY_MAP[min(5, max(1, priority))]


def cap_time(t: datetime, zone: str = "UTC") -> str:
    """CAP's dateTime: seconds precision with an explicit offset; UTC is written ``-00:00``, never ``Z``."""
    if t.tzinfo is None:
        raise ValueError("CAP times need a time zone")
    local = t.astimezone(ZoneInfo(zone)).replace(microsecond=0)
    s = local.isoformat()
    return s[:-6] + "-00:00" if s.endswith("+00:00") else s


def cap_id(*parts: object) -> str:
    return _NOT_IN_ID.sub("_", ".".join(str(p) for p in parts))


@dataclass(frozen=True, slots=True)
class AlertInput:
    incident_id: int
    category: str
    event: str  # human name of the category
    priority: int
    lat: float
    lon: float
    sent: datetime
    description: str = ""
    headline: str | None = None
    area_desc: str | None = None
    verified: bool = True
    group: str | None = None
    radius_km: float = 0.5
    language: str = "id-ID"
    sender: str = "jogo-dispatch"
    sender_name: str | None = None
    zone: str = "UTC"
    parameters: dict[str, str] = field(default_factory=dict)


def _sub(parent: ET.Element, tag: str, value: str | None = None) -> ET.Element:
    el = ET.SubElement(parent, f"{{{CAP_NS}}}{tag}")
    if value is not None:
        el.text = value
    return el


def build_alert(a: AlertInput) -> bytes:
    """The CAP 1.2 ``<alert>`` for an incident, UTF-8 with an XML declaration."""
    if not (-90 <= a.lat <= 90 and -180 <= a.lon <= 180):
        raise ValueError("position out of range")
    urgency, severity = urgency_severity(a.priority)
    alert = ET.Element(f"{{{CAP_NS}}}alert")
    _sub(alert, "identifier", cap_id(a.sender, "incident", a.incident_id))
    _sub(alert, "sender", cap_id(a.sender))
    _sub(alert, "sent", cap_time(a.sent, a.zone))
    _sub(alert, "status", "Actual")
    _sub(alert, "msgType", "Alert")
    _sub(alert, "scope", "Public")
    info = _sub(alert, "info")
    _sub(info, "language", a.language)
    for category in cap_categories(a.category, a.group):
        _sub(info, "category", category)
    _sub(info, "event", a.event or a.category)
    _sub(info, "urgency", urgency)
    _sub(info, "severity", severity)
    # A dispatcher verified it (or it is an SOS, which is acted on at once): observed; otherwise likely.
    _sub(info, "certainty", "Observed" if a.verified else "Likely")
    code = _sub(info, "eventCode")
    _sub(code, "valueName", "jogo:category")
    _sub(code, "value", a.category)
    if a.sender_name:
        _sub(info, "senderName", a.sender_name)
    _sub(info, "headline", (a.headline or f"{a.event} #{a.incident_id}")[:160])
    if a.description:
        _sub(info, "description", a.description)
    for name, value in a.parameters.items():
        param = _sub(info, "parameter")
        _sub(param, "valueName", name)
        _sub(param, "value", value)
    area = _sub(info, "area")
    _sub(area, "areaDesc", a.area_desc or f"{a.lat:.5f}, {a.lon:.5f}")
    _sub(area, "circle", f"{a.lat:.6f},{a.lon:.6f} {a.radius_km:g}")
    xml: bytes = ET.tostring(alert, encoding="utf-8", xml_declaration=True)
    return xml
