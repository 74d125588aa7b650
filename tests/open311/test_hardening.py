"""Open311 inputs an attack found answered 500 or misread: dates at the ends of the calendar with an offset,
and ids or coordinates in Unicode digits (``int()``, ``float()`` and ``str.isdigit()`` take ``²``, ``١٢٣``)."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.open311.conftest import post_form
from tests.open311.test_requests import assert_error, request_body

# (parameter, value, what answers): a clean 400 naming the parameter or "range", or 200 and no requests.
EDGES = [
    ("start_date", "0001-01-01T00:00:00+05:00", "start_date"),
    ("end_date", "0001-01-01T00:00:00+05:00", "end_date"),
    ("start_date", "9999-12-31T23:59:59-05:00", "start_date"),
    ("end_date", "9999-12-31T23:59:59-05:00", "end_date"),
    ("end_date", "0001-01-01T00:00:00Z", "range"),  # 90 days before it are before year 1
    ("start_date", "9999-12-31T23:59:59Z", "range"),  # 90 days after it are after year 9999
    ("start_date", "0001-01-01T00:00:00Z", None),
    ("end_date", "9999-12-31T23:59:59Z", None),
]


@pytest.mark.parametrize(("name", "when", "fragment"), EDGES)
async def test_dates_at_the_ends_of_the_calendar_are_a_clean_400(client, name, when, fragment):
    r = await client.get("/open311/v2/requests.json", params={name: when})
    if fragment is None:
        assert r.status_code == 200 and r.json() == [], r.text
    else:
        assert_error(r, 400, fragment)


async def test_both_dates_at_the_ends_of_the_calendar_are_a_clean_400(client):
    for start, end in [
        ("0001-01-01T00:00:00+05:00", "0001-01-02T00:00:00Z"),
        ("9999-12-30T00:00:00Z", "9999-12-31T23:59:59-05:00"),
    ]:
        r = await client.get("/open311/v2/requests.json", params={"start_date": start, "end_date": end})
        assert_error(r, 400, "range")


async def test_unicode_digits_are_not_request_ids(client, api_key):
    filed = await post_form(client, request_body(api_key))
    assert filed.status_code == 201, filed.text
    report_id = filed.json()[0]["service_request_id"]
    arabic = report_id.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    for raw in ["²", "¹²³", arabic, "١٢٣", "𝟙"]:
        assert_error(await client.get(f"/open311/v2/requests/{quote(raw)}.json"), 404, "not found")
        r = await client.get("/open311/v2/requests.json", params={"service_request_id": raw})
        assert_error(r, 400, "not a request id")
        r = await client.get("/open311/v2/requests.json", params={"service_request_id": f"{report_id},{raw}"})
        assert_error(r, 400, "not a request id")
        assert_error(await client.get(f"/open311/v2/services/{quote(raw)}.json"), 404, "service_code")
        r = await client.get("/open311/v2/requests.json", params={"service_code": raw})
        assert r.status_code == 200 and r.json() == [], r.text
    (found,) = (await client.get(f"/open311/v2/requests/{report_id}.json")).json()
    assert found["service_request_id"] == report_id


async def test_coordinates_in_unicode_digits_or_not_numbers_are_refused(client, api_key, database_url):
    from tests.forwards.conftest import rows

    for lat in ["-٧.٩٨٢٦", "-7_9", "nan", "-inf", "²"]:
        assert_error(
            await post_form(client, request_body(api_key, lat=quote(lat))), 400, "lat must be a number"
        )
    for long in ["١١٢.٦", "infinity"]:
        r = await post_form(client, request_body(api_key, long=quote(long)))
        assert_error(r, 400, "long must be a number")
    assert await rows(database_url, "SELECT count(*) FROM reports") == [(0,)]
    ok = await post_form(client, request_body(api_key, lat="-7.98e0", long="+112.6308"))
    assert ok.status_code == 201, ok.text


async def test_a_request_refused_after_the_rate_limit_gives_the_attempt_back(
    app, client, api_key, monkeypatch
):
    """Refused reports must not use up the quota: with room for two, five requests refused by the intake
    and then a good one still go through (without the refund the sixth is 429)."""
    from jogo_dispatch.dispatch import intake
    from jogo_dispatch.errors import InvalidInput
    from tests.open311.test_requests import request_body

    settings = app.state.runtime.settings
    monkeypatch.setattr(settings, "report_limit_per_device", 2)
    real = intake.create_report

    async def refusing(*args, **kwargs):
        raise InvalidInput("refused by the intake", code="bad_field")

    monkeypatch.setattr(intake, "create_report", refusing)
    body = request_body(api_key, device_id="quota-refund-1")
    for _ in range(5):
        r = await post_form(client, body)
        assert r.status_code == 400, r.text
    monkeypatch.setattr(intake, "create_report", real)
    r = await post_form(client, body)
    assert r.status_code == 201, r.text
