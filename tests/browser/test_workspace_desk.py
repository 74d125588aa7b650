"""The incident desk's own work on the live map: a narrative note, an edit that meets someone else's change
(409 stale_incident: the latest is loaded, saving again goes through), merging a second call about the
same event, and cancelling with a reason; each on the timeline."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.workspace import dispatcher, open_map, seed_malang
from tests.reports.helpers import offset, rows

pytestmark = pytest.mark.browser
SCENE = (-7.9826, 112.6308)


async def test_note_edit_with_a_stale_version_merge_and_cancel(
    browser, live_server, server_api, actors, database_url
):
    api = server_api
    await seed_malang(actors)
    user = await dispatcher(actors)
    admin = await actors.user("admin")
    made = []
    for lat, lon in (SCENE, offset(*SCENE, 80, 0)):
        r = await api.post(
            "/api/v1/incidents",
            headers=admin,
            json={
                "category": "public_order",
                "lat": lat,
                "lon": lon,
                "source": "phone",
                "narrative": "Tawuran",
            },
        )
        assert r.status_code == 201, r.text
        made.append(r.json())
    first, second = made[0]["id"], made[1]["id"]
    assert [c["id"] for c in made[1]["link_candidates"]] == [first]

    m = await open_map(browser, live_server.url, user)
    page = m.page
    await page.click(f"#list-incidents .item[data-id='{first}']")
    await page.wait_for_selector("#timeline li[data-action='created']")

    # a note
    await page.fill("#note-text", "Penelepon kedua: sekitar 20 orang")
    await page.click("#note-add")
    await page.wait_for_selector("#desk .note .text:text('Penelepon kedua: sekitar 20 orang')")
    await page.wait_for_selector("#timeline li[data-action='note']")

    # an edit while someone else changed the incident: told, reloaded, saved again
    await page.click("#edit summary")
    await page.select_option("#edit-priority", "1")
    await page.fill("#edit-address", "Jl. Basuki Rahmat 1")
    (version,) = (await rows(database_url, "SELECT version FROM incidents WHERE id = %s", first))[0]
    edits: list[int] = []

    async def someone_else_first(route: Any) -> None:
        """The admin's edit lands while the dispatcher's save is on its way (however slow the machine)."""
        if route.request.method == "PATCH" and not edits:
            r = await api.patch(
                f"/api/v1/incidents/{first}",
                headers=admin,
                json={"version": version, "description": "Tawuran pelajar"},
            )
            edits.append(r.status_code)
        await route.continue_()

    await page.route(f"**/api/v1/incidents/{first}", someone_else_first)
    await page.click("#edit-save")
    await page.wait_for_selector("#edit .result.err:text('diubah orang lain')")
    await page.unroute(f"**/api/v1/incidents/{first}", someone_else_first)
    assert edits == [200]
    assert (await rows(database_url, "SELECT priority, address FROM incidents WHERE id = %s", first))[0] == (
        3,
        None,
    )
    assert await page.input_value("#edit-address") == "Jl. Basuki Rahmat 1"  # what was typed is kept
    await page.click("#edit-save")
    await page.wait_for_selector("#edit:not([open])")  # saved: the form folds away
    got = (
        await rows(database_url, "SELECT priority, address, description FROM incidents WHERE id = %s", first)
    )[0]
    assert got == (1, "Jl. Basuki Rahmat 1", "Tawuran pelajar")
    await page.wait_for_selector("#timeline li[data-action='edited'] >> nth=1")
    # the desk re-renders from the live incident event: wait for it rather than read it at once
    await page.wait_for_function(
        "() => (document.querySelector('#desk-title')?.textContent || '').startsWith('P1')"
    )
    changes = await page.locator("#timeline li[data-action='edited'] .changes").all_text_contents()
    assert "Alamat — → Jl. Basuki Rahmat 1 · Prioritas 3 → 1" in changes, changes

    # the second call about the same fight is merged in
    await page.select_option("#merge-other", str(second))
    await page.click("#merge-go")
    await page.locator("#desk .confirm:not([hidden]) .confirm-yes").click()
    await page.wait_for_selector("#timeline li[data-action='merged']")
    assert (await rows(database_url, "SELECT status, merged_into_id FROM incidents WHERE id = %s", second))[
        0
    ] == (
        "cancelled",
        first,
    )
    await page.wait_for_selector(f"#list-incidents .item[data-id='{second}']", state="detached")
    await m.shot("workspace-10-desk-edit-merge")

    # cancelled with a reason (required)
    await page.click("#close-cancel")
    box = page.locator("#desk .closing .confirm:not([hidden])")
    await box.locator(".confirm-yes").click()
    await page.wait_for_selector("#desk .closing textarea.invalid")
    await box.locator("textarea").fill("Sudah dibubarkan Samapta")
    await box.locator(".confirm-yes").click()
    await page.wait_for_selector("#desk .chip.st-cancelled")
    assert (await rows(database_url, "SELECT status FROM incidents WHERE id = %s", first))[0] == (
        "cancelled",
    )
    await page.wait_for_selector(f"#list-incidents .item[data-id='{first}']", state="detached")
    assert "Sudah dibubarkan Samapta" in (await page.text_content("#timeline") or "")
    # the stale edit, nothing else
    assert m.errors == [f"409 PATCH {live_server.url}/api/v1/incidents/{first}"]
    await m.context.close()
