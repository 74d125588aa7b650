"""Open311's XML and the FixMyStreet extension, through the app: text XML cannot carry, errors of the
framework in the format asked for, racing retries, a citizen's update before there is an incident, and
refused filings giving the rate-limit attempt back on every path."""

from __future__ import annotations

import asyncio
from urllib.parse import quote, urlencode

from defusedxml import ElementTree

from tests.forwards.conftest import rows
from tests.open311.conftest import post_form
from tests.open311.test_requests import request_body


def xml_of(r):
    assert r.headers["content-type"] == "text/xml; charset=utf-8", r.headers
    return ElementTree.fromstring(r.content)


async def test_text_xml_cannot_carry_is_dropped_and_markup_escaped(client, api_key):
    text = "Pohon <besar> & \x0bdahan\x01 \"patah\" 'lagi'\ttab"
    r = await client.post(
        "/open311/v2/requests.xml",
        content=request_body(api_key, description=quote(text)).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 201, r.text
    request_id = xml_of(r).findtext("request/service_request_id")
    one = xml_of(await client.get(f"/open311/v2/requests/{request_id}.xml"))
    assert one.findtext("request/description") == "Pohon <besar> & dahan \"patah\" 'lagi'\ttab"


async def test_framework_errors_answer_in_the_format_of_the_path(client):
    r = await client.delete("/open311/v2/services.xml")
    assert r.status_code == 405
    error = xml_of(r).find("error")
    assert error.findtext("code") == "405" and error.findtext("description")
    r = await client.delete("/open311/v2/services.json")
    assert r.status_code == 405 and r.json()[0]["code"] == 405
    # A query parameter the JSON route types (lang) is read leniently in XML: no 422 in any format.
    r = await client.get("/open311/v2/services.json", params={"lang": "fr"})
    assert r.status_code == 400 and r.json()[0]["code"] == 400
    assert (await client.get("/open311/v2/services.xml", params={"lang": "fr"})).status_code == 200


async def test_racing_retries_file_one_request(client, api_key, database_url):
    body = request_body(api_key, device_id="race-phone", description="Banjir+setinggi+lutut")
    answers = await asyncio.gather(*(post_form(client, body) for _ in range(4)))
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 201], [a.text for a in answers]
    assert len({a.json()[0]["service_request_id"] for a in answers}) == 1
    assert await rows(database_url, "SELECT count(*) FROM reports") == [(1,)]
    # Another place, or another person, is another request.
    assert (await post_form(client, request_body(api_key, lat="-7.9500"))).status_code == 201
    assert (await post_form(client, request_body(api_key, account_id="other"))).status_code == 201


async def test_a_citizen_update_before_verification_is_a_note_on_the_report(client, api_key, database_url):
    filed = await post_form(client, request_body(api_key))
    request_id = filed.json()[0]["service_request_id"]
    update = urlencode(
        {
            "api_key": api_key,
            "service_request_id": request_id,
            "status": "CLOSED",
            "description": "Sudah dipotong warga",
            "first_name": "Dewi",
            "last_name": "-",
            "update_id": "c-1",
        }
    )
    r = await client.post(
        "/open311/v2/servicerequestupdates.json",
        content=update.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 201, r.text
    (answer,) = r.json()
    assert set(answer) == {"update_id"}
    notes = await rows(
        database_url,
        "SELECT action, reason FROM audit_log WHERE entity_type = 'report' AND entity_id = %s AND action = 'note'",
        int(request_id),
    )
    assert len(notes) == 1 and "Sudah dipotong warga" in notes[0][1] and "CLOSED" in notes[0][1]
    # A citizen's CLOSED does not close our request.
    (one,) = (await client.get(f"/open311/v2/requests/{request_id}.json")).json()
    assert one["status"] == "open"
    for bad, fragment in [
        ({"service_request_id": "999999"}, "not found"),
        ({"service_request_id": ""}, "service_request_id is required"),
        ({"description": "", "status": "", "update_id": "c-2"}, "needs a description"),
        ({"status": "<b>", "update_id": "c-3"}, "status"),
        ({"updated_datetime": "kemarin", "update_id": "c-4"}, "updated_datetime"),
        ({"api_key": "nope"}, "invalid api_key"),
    ]:
        fields = {
            "api_key": api_key,
            "service_request_id": request_id,
            "description": "x",
            **bad,
        }
        r = await client.post(
            "/open311/v2/servicerequestupdates.xml",
            content=urlencode(fields).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert r.status_code in (400, 403, 404), r.text
        assert fragment in xml_of(r).findtext("error/description"), (bad, r.text)
    assert await rows(database_url, "SELECT count(*) FROM open311_updates") == [(1,)]


async def test_a_refused_address_only_request_gives_the_attempt_back(app, client, api_key, monkeypatch):
    """The address-only path files without the intake's duplicate search: its refusals give the rate-limit
    attempt back too (without the refund the sixth is 429)."""
    from jogo_dispatch.errors import InvalidInput
    from jogo_dispatch.reports import service as reports

    monkeypatch.setattr(app.state.runtime.settings, "report_limit_per_device", 2)
    real = reports.new_report

    async def refusing(*args, **kwargs):
        raise InvalidInput("refused by the reports service", code="bad_field")

    monkeypatch.setattr(reports, "new_report", refusing)
    body = request_body(api_key, lat=None, long=None, device_id="quota-refund-2")
    for _ in range(5):
        assert (await post_form(client, body)).status_code == 400
    monkeypatch.setattr(reports, "new_report", real)
    r = await post_form(client, body)
    assert r.status_code == 201, r.text
