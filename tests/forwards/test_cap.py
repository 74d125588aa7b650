"""The CAP 1.2 builder, read back with the standard library's XML parser."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest

from jogo_dispatch.forwards import cap

NS = {"cap": cap.CAP_NS}
SENT = datetime(2026, 11, 23, 3, 4, 5, 678_000, tzinfo=UTC)


def alert(**overrides: object) -> ET.Element:
    data = {
        "incident_id": 42,
        "category": "traffic_accident",
        "event": "Kecelakaan lalu lintas",
        "priority": 2,
        "lat": -7.9826,
        "lon": 112.6308,
        "sent": SENT,
        "description": "Tabrakan motor & mobil <2 korban>",
        "area_desc": "Jl. Basuki Rahmat, Klojen",
        "zone": "Asia/Jakarta",
        "sender": "polresta malang,kota",
        "sender_name": "Polresta Malang Kota",
        "parameters": {"jogo:forward_id": "7"},
    }
    data.update(overrides)
    xml = cap.build_alert(cap.AlertInput(**data))  # type: ignore[arg-type]
    assert xml.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    return ET.fromstring(xml)


def text(el: ET.Element, path: str) -> str:
    found = el.find(path, NS)
    assert found is not None, path
    return found.text or ""


def test_alert_has_the_required_cap_elements_in_schema_order():
    root = alert()
    assert root.tag == f"{{{cap.CAP_NS}}}alert"
    assert [c.tag.split("}")[1] for c in root] == [
        "identifier",
        "sender",
        "sent",
        "status",
        "msgType",
        "scope",
        "info",
    ]
    # No white space, commas or < & in identifier and sender (CAP 1.2, 3.2.1).
    assert text(root, "cap:identifier") == "polresta_malang_kota.incident.42"
    assert text(root, "cap:sender") == "polresta_malang_kota"
    assert text(root, "cap:sent") == "2026-11-23T10:04:05+07:00"
    assert (text(root, "cap:status"), text(root, "cap:msgType"), text(root, "cap:scope")) == (
        "Actual",
        "Alert",
        "Public",
    )
    info = root.find("cap:info", NS)
    assert info is not None
    order = [c.tag.split("}")[1] for c in info]
    assert order == [
        "language",
        "category",
        "category",
        "event",
        "urgency",
        "severity",
        "certainty",
        "eventCode",
        "senderName",
        "headline",
        "description",
        "parameter",
        "area",
    ]
    assert [c.text for c in info.findall("cap:category", NS)] == ["Transport", "Rescue"]
    assert text(info, "cap:event") == "Kecelakaan lalu lintas"
    assert (text(info, "cap:urgency"), text(info, "cap:severity"), text(info, "cap:certainty")) == (
        "Immediate",
        "Severe",
        "Observed",
    )
    assert text(info, "cap:description") == "Tabrakan motor & mobil <2 korban>"  # escaped and read back
    assert text(info, "cap:eventCode/cap:valueName") == "jogo:category"
    assert text(info, "cap:eventCode/cap:value") == "traffic_accident"
    assert text(info, "cap:parameter/cap:value") == "7"
    area = info.find("cap:area", NS)
    assert area is not None and [c.tag.split("}")[1] for c in area] == ["areaDesc", "circle"]
    assert text(area, "cap:areaDesc") == "Jl. Basuki Rahmat, Klojen"
    point, radius = text(area, "cap:circle").split(" ")
    lat, lon = map(float, point.split(","))
    assert (lat, lon, float(radius)) == (-7.9826, 112.6308, 0.5)


@pytest.mark.parametrize(
    ("category", "group", "expected"),
    [
        ("fire", None, ["Fire"]),
        ("medical", None, ["Health"]),
        ("crime", None, ["Security"]),
        ("power_outage", None, ["Infra"]),
        ("flood_landslide", None, ["Met", "Geo"]),
        ("sos", None, ["Rescue", "Security"]),
        ("other", None, ["Other"]),
        ("brand_new", "environment", ["Env"]),
        ("brand_new", None, ["Other"]),
    ],
)
def test_categories_map_to_cap_event_categories(category, group, expected):
    info = alert(category=category, group=group).find("cap:info", NS)
    assert info is not None
    got = [c.text for c in info.findall("cap:category", NS)]
    assert got == expected and set(got) <= set(cap.CAP_CATEGORIES)


@pytest.mark.parametrize(
    ("priority", "urgency", "severity"),
    [
        (1, "Immediate", "Extreme"),
        (3, "Expected", "Moderate"),
        (5, "Future", "Minor"),
        (9, "Future", "Minor"),
    ],
)
def test_priority_gives_urgency_and_severity(priority, urgency, severity):
    info = alert(priority=priority, verified=False).find("cap:info", NS)
    assert info is not None
    assert (text(info, "cap:urgency"), text(info, "cap:severity"), text(info, "cap:certainty")) == (
        urgency,
        severity,
        "Likely",
    )


def test_utc_is_written_minus_zero_and_naive_times_are_refused():
    assert cap.cap_time(SENT) == "2026-11-23T03:04:05-00:00"
    with pytest.raises(ValueError):
        cap.cap_time(datetime(2026, 1, 1))
    with pytest.raises(ValueError):
        alert(lat=95.0)
