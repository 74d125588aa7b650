"""Forwarding from the map: a fallen tree's routing decision names DLH with its reasons, one click forwards
it, and the agency's acknowledgement and note (made through the API by a DLH login) arrive on the incident
live; the forward's history joins the incident's timeline."""

from __future__ import annotations

import pytest

from tests.browser.workspace import dispatcher, open_map, seed_malang
from tests.reports.helpers import rows

pytestmark = pytest.mark.browser
KLOJEN = (-7.9826, 112.6308)


async def test_fallen_tree_is_forwarded_to_dlh_and_the_acknowledgement_arrives(
    browser, live_server, server_api, actors, database_url
):
    api = server_api
    await seed_malang(actors)
    user = await dispatcher(actors)
    admin = await actors.user("admin")
    r = await api.post(
        "/api/v1/incidents",
        headers=admin,
        json={
            "category": "fallen_tree",
            "lat": KLOJEN[0],
            "lon": KLOJEN[1],
            "source": "phone",
            "address": "Jl. Kawi 20",
            "narrative": "Pohon mahoni tumbang menutup jalan",
        },
    )
    assert r.status_code == 201, r.text
    incident_id = r.json()["id"]
    (dlh_id,) = (
        await rows(database_url, "SELECT id FROM agencies WHERE region = 'malang' AND code = 'DLH'")
    )[0]

    m = await open_map(browser, live_server.url, user)
    page = m.page
    await page.click(f"#list-incidents .item[data-id='{incident_id}']")
    # the routing decision, pre-filled: DLH responsible, with its reasons
    target = page.locator("#route .target[data-agency='DLH']")
    await target.wait_for()
    assert await target.get_attribute("data-role") == "responsible"
    assert await target.locator("input").is_checked()
    # the response plan of a fallen tree: no police unit, BPBD suggested (not chosen)
    bpbd = page.locator("#route .target[data-agency='BPBD']")
    assert await bpbd.get_attribute("data-role") == "suggest"
    assert not await bpbd.locator("input").is_checked()
    assert "tanpa unit polisi" in (await page.text_content("#desk-body") or "")
    await page.click("#route details.reasons summary")
    reasons = await page.text_content("#route details.reasons ul") or ""
    assert "fallen_tree -> responsible DLH" in reasons and "Klojen" in reasons, reasons
    await page.click("#forward-go")
    sent = page.locator("#forward-list .forward[data-status='sent']")
    await sent.wait_for()
    assert "DLH" in (await sent.text_content() or "") and "penanggung jawab" in (
        await sent.text_content() or ""
    )
    ((forward_id, status),) = await rows(
        database_url,
        "SELECT id, status FROM forwards WHERE incident_id = %s AND agency_id = %s",
        incident_id,
        dlh_id,
    )
    assert status == "sent"
    assert await rows(database_url, "SELECT count(*) FROM forwards WHERE incident_id = %s", incident_id) == [
        (1,)
    ]
    await m.shot("workspace-04-forwarded")

    # DLH's duty officer acknowledges and writes a note, through the agency API
    r = await api.post(
        f"/api/v1/agencies/{dlh_id}/users",
        headers=admin,
        json={"username": "piket-dlh", "password": "agency-pw", "full_name": "Piket DLH"},
    )
    assert r.status_code == 201, r.text
    t = await api.post("/api/v1/auth/token", data={"username": "piket-dlh", "password": "agency-pw"})
    dlh = {"Authorization": f"Bearer {t.json()['access_token']}"}
    r = await api.post(f"/api/v1/agency/forwards/{forward_id}/ack", headers=dlh)
    assert r.status_code == 200, r.text
    acked = page.locator(f"#forward-list .forward[data-forward='{forward_id}'][data-status='acknowledged']")
    await acked.wait_for()
    assert "diterima instansi" in (await acked.text_content() or "")
    toast = page.locator("#toasts .toast", has_text=f"DLH: insiden #{incident_id}")
    await toast.wait_for()
    r = await api.post(
        f"/api/v1/agency/forwards/{forward_id}/notes",
        headers=dlh,
        json={"text": "Tim gergaji berangkat 10 menit lagi"},
    )
    assert r.status_code == 201, r.text
    note = page.locator(f"#forward-list .forward[data-forward='{forward_id}'] .agency-note")
    await note.wait_for()
    assert "Tim gergaji berangkat" in (await note.text_content() or "")
    await page.wait_for_selector("#timeline li.tl-forward[data-action='acknowledged']")
    chip = page.locator(f"#list-incidents .item[data-id='{incident_id}'] .chip.fw-acknowledged")
    await chip.wait_for()
    assert await chip.text_content() == "DLH: diterima instansi"
    assert "Diterima instansi DLH" in (await page.text_content("#timeline") or "")
    await m.shot("workspace-05-agency-acknowledged")
    assert m.errors == []
    await m.context.close()
