"""The set-up links: what Traccar Client and OwnTracks read from them."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlsplit

from jogo_dispatch.tracking import phone_setup


def test_traccar_link_names_our_osmand_endpoint_and_the_identifier():
    link = phone_setup.traccar_link("https://jogo.example.id/", "84010001-hp1")
    parts = urlsplit(link)
    assert parts.scheme == "org.traccar.client"
    q = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert q["url"] == "https://jogo.example.id/osmand" and q["id"] == "84010001-hp1"
    assert q["interval"] == "10" and q["accuracy"] == "high"


def test_owntracks_link_is_an_inline_http_configuration_with_the_token():
    link = phone_setup.owntracks_link(
        phone_setup.owntracks_config("http://10.0.0.5:8000", "84010001", "hp1", "jd_x")
    )
    assert link.startswith("owntracks:///config?inline=")
    config = json.loads(base64.b64decode(link.split("=", 1)[1]))
    assert config == {
        "_type": "configuration",
        "mode": 3,
        "url": "http://10.0.0.5:8000/owntracks",
        "auth": True,
        "username": "84010001",
        "password": "jd_x",
        "deviceId": "hp1",
        "tid": "01",
        "monitoring": 2,
    }


def test_qr_is_an_svg_data_uri_and_local_addresses_are_flagged():
    uri = phone_setup.traccar("http://10.1.2.3:8000", "hp1").qr_svg
    assert uri.startswith("data:image/svg+xml")
    assert not phone_setup.reachable_from_phones("http://127.0.0.1:8000")
    assert not phone_setup.reachable_from_phones("http://localhost")
    assert phone_setup.reachable_from_phones("http://192.168.1.20:8000")
