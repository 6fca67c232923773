"""The console's panels in the browser: an activity's timeline and report download, the
lifecycle buttons, the hotline thread with an urgent message (banner and inbox flag), an
objection with its reason, and the links table."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from tests.api._hub import Party, activity_body, feature, spot
from tests.web.conftest import Consoles


def test_timeline_report_and_lifecycle_from_the_details_panel(
    consoles: Consoles, console_parties: dict[str, Party]
) -> None:
    blue = console_parties["Blue"]
    lon, lat = spot()
    filed = blue.file(activity_body("Blue survey flight", feature(lon, lat)))
    page = consoles.open(blue.operator)
    page.get_by_role("tab", name="Activities").click()
    page.get_by_role("button", name="Blue survey flight").click()
    details = page.locator(f'article[data-activity="{filed["activity"]["id"]}"]')
    expect(details).to_contain_text("notified")

    page.get_by_role("button", name="Timeline").click()
    expect(page.locator("#timeline table")).to_contain_text("filed")

    with page.expect_download() as download:
        page.get_by_role("button", name="Download report").click()
    path = download.value.path()
    html = Path(path).read_text(encoding="utf-8")
    assert "Blue survey flight" in html
    assert "<img" in html  # the pictures are embedded

    with page.expect_download() as kml:
        page.get_by_role("button", name="Download KML").click()
    assert b"<kml" in Path(kml.value.path()).read_bytes()[:200]
    page.get_by_role("button", name="NOTAM draft").click()
    expect(page.locator("#notam")).to_contain_text("NOTAMN")
    expect(page.locator("#notam")).to_contain_text("Q) ZZZZ/QWELW/")

    page.get_by_role("button", name="Activate").click()
    expect(details).to_contain_text("active")
    page.get_by_role("button", name="End", exact=True).click()
    expect(page.locator("article[data-activity]")).to_contain_text("ended")
    assert blue.op.get(f"/v1/activities/{filed['activity']['id']}").json()["state"] == "ended"


def test_an_urgent_message_and_an_objection(
    consoles: Consoles, console_parties: dict[str, Party]
) -> None:
    red, green = console_parties["Red"], console_parties["Green"]
    lon, lat = spot()
    red.file(activity_body("Red exercise", feature(lon, lat)))
    filed = green.file(activity_body("Green medical convoy", feature(lon, lat)))
    gid = filed["activity"]["id"]

    g = consoles.open(green.operator)
    r = consoles.open(red.operator)
    card = r.locator("#notices li[data-notice]", has_text="Green medical convoy")
    expect(card).to_be_visible()

    # Red objects, with its reason; Green's console shows it on the filing.
    card.get_by_role("button", name="Object…").click()
    card.get_by_label("Why do you object?").fill("live firing on that road until 1400Z")
    card.get_by_role("button", name="Send objection").click()
    expect(card).to_have_count(0)  # answered: off the "waiting on me" list
    r.get_by_label("Waiting on me only").uncheck()
    expect(card).to_have_attribute("data-status", "objected")
    expect(card).to_contain_text("live firing on that road")
    g.get_by_role("tab", name="Activities").click()
    g.get_by_role("button", name="Green medical convoy").click()
    expect(g.locator(f'#owner-notices tr[data-recipient="{red.id}"]')).to_contain_text(
        "live firing on that road"
    )

    # Red sends "cease — harm in progress" on Green's thread: Green's console cries out.
    r.get_by_role("tab", name="Activities").click()
    r.get_by_role("button", name="Green medical convoy").click()
    r.locator(f'article[data-activity="{gid}"]').wait_for()
    r.get_by_label("Template").select_option("cease_harm")
    r.get_by_label("Message").fill("stop the convoy now")
    r.get_by_role("button", name="Send on the hotline").click()
    expect(r.locator("#thread")).to_contain_text("stop the convoy now")
    banner = g.locator("#urgent")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("URGENT")
    urgent = g.locator("#notices li[data-notice]", has_text="stop the convoy now")
    expect(urgent).to_contain_text("URGENT")

    g.get_by_role("button", name="Links").click()
    expect(g.locator("#links-table")).to_contain_text("Red")
