"""The console end to end, in Debian's Chromium against the real hub on loopback: two
parties in two browser contexts, a filing drawn with the mouse, the notice live on the
other side, its acknowledgement back on the first; the map renders; the time slider; a bad
token; a read-only observer."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from PIL import Image
from playwright.sync_api import Page, expect

from tests.api._hub import Party, activity_body, feature, spot
from tests.web.conftest import Consoles


def _utc_input(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def _show(page: Page, lat: float, lon: float, zoom: int) -> None:
    """Pan and zoom the map (as a user's drag and scroll would), and wait for it."""
    page.evaluate(  # returns nothing: serialising the map setView returns took 25 s a call
        "([lat, lon, z]) => { window.deconflictionConsole.map.setView([lat, lon], z, {animate: false}); }",
        [lat, lon, zoom],
    )


def _screen(page: Page, lat: float, lon: float) -> tuple[float, float]:
    """The page coordinates of a place on the map."""
    box = page.locator("#map").bounding_box()
    assert box is not None
    x, y = page.evaluate(
        "([lat, lon]) => { const p = window.deconflictionConsole.map.latLngToContainerPoint([lat, lon]);"
        " return [p.x, p.y]; }",
        [lat, lon],
    )
    return box["x"] + x, box["y"] + y


def _non_blank(png: Path) -> tuple[int, float]:
    """Distinct colours, and the share of the most common one (a blank page: 1 and 1.0)."""
    img = Image.open(png).convert("RGB").resize((350, 225))
    colours = img.getcolors(maxcolors=350 * 225) or []
    top = max(n for n, _ in colours)
    return len(colours), top / (350 * 225)


def test_a_files_over_b_b_acknowledges_live_a_sees_it(
    consoles: Consoles, console_parties: dict[str, Party], artifacts: Path
) -> None:
    blue, red = console_parties["Blue"], console_parties["Red"]
    lon, lat = spot()
    start = datetime.now(UTC) + timedelta(hours=3)
    red.file(activity_body("Red range day", feature(lon, lat, half=0.05, start=start, hours=2)))

    b = consoles.open(red.operator)  # B watches its inbox before A files
    expect(b.locator("#stream-status")).to_contain_text("live")
    a = consoles.open(blue.operator)
    expect(a.locator("#who")).to_contain_text("Blue")

    # A draws a polygon over B's area with the mouse, sets altitudes and times.
    a.get_by_role("tab", name="New activity").click()
    _show(a, lat, lon, 10)
    a.get_by_role("button", name="Draw polygon").click()
    corners = [
        (lat - 0.03, lon - 0.03),
        (lat - 0.03, lon + 0.03),
        (lat + 0.03, lon + 0.03),
        (lat + 0.03, lon - 0.03),
    ]
    for c in corners:
        a.mouse.click(*_screen(a, *c))
    a.mouse.click(*_screen(a, *corners[0]))  # back on the first corner: closes the ring
    expect(a.locator("#draw-shape")).to_contain_text("Polygon with 4 corners")
    a.get_by_label("Title", exact=True).fill("Blue helicopter transit")
    a.get_by_label("Lower", exact=True).fill("0")
    a.get_by_label("Upper", exact=True).fill("3000")
    a.get_by_label("Unit", exact=True).select_option("ft")
    a.get_by_label("Start", exact=True).fill(_utc_input(start + timedelta(minutes=30)))
    a.get_by_label("End", exact=True).fill(_utc_input(start + timedelta(minutes=90)))

    # The dry run shows the conflict before anything is filed.
    file_button = a.get_by_role("button", name="File activity")
    expect(file_button).to_be_disabled()
    a.get_by_role("button", name="Check conflicts").click()
    check = a.locator("[data-check=done]")
    expect(check).to_have_attribute("data-conflicts", "1")
    expect(check).to_contain_text("Red")
    assert not red.op.get("/v1/notices").json() or all(
        "Blue helicopter" not in n["summary"] for n in red.op.get("/v1/notices").json()
    )
    file_button.click()
    filed = a.locator("[data-filed]")
    expect(filed).to_contain_text("Told at once: Red")
    activity_id = filed.get_attribute("data-filed")

    # B's console shows the notice live (no reload) and B acknowledges it.
    card = b.locator("#notices li[data-notice]", has_text="Blue helicopter transit")
    expect(card).to_be_visible()
    expect(card).to_contain_text("CONFLICT")
    expect(card.locator(".countdown")).to_contain_text("answer due in")
    card.get_by_role("button", name="Acknowledge").click()

    # A's console shows the acknowledgement (details panel of the filing, kept live).
    row = a.locator(f'#owner-notices tr[data-recipient="{red.id}"]')
    expect(row).to_have_attribute("data-status", "acknowledged")
    expect(a.locator(".toast", has_text="Red acknowledged")).to_be_visible()

    notice = next(n for n in red.op.get("/v1/notices").json() if n["activity_id"] == activity_id)
    assert notice["status"] == "acknowledged"
    assert notice["delivered_via"] == "client"  # B's console confirmed receipt on the stream

    # The map rendered: screenshots, kept as artifacts. At the filing's time the two
    # volumes show (A's in conflict); over Europe the shipped basemap is far from blank.
    a.get_by_role("slider", name="Map time").focus()
    for _ in range(45):  # +3 h 45 min, 5 min a step
        a.keyboard.press("ArrowRight")
    expect(a.locator("#map-status")).to_have_attribute("data-shown", "2")
    _show(a, lat, lon, 10)
    a.wait_for_timeout(300)
    a.screenshot(path=str(artifacts / "console-conflict.png"))
    _show(a, 48.0, 5.0, 5)
    a.wait_for_timeout(500)
    shot = artifacts / "console-map.png"
    a.locator("#map").screenshot(path=str(shot))
    colours, top_share = _non_blank(shot)
    assert colours > 20, (colours, top_share)
    assert top_share < 0.8, (colours, top_share)


def test_the_time_slider_hides_a_volume_outside_the_chosen_time(
    consoles: Consoles, console_parties: dict[str, Party]
) -> None:
    green = console_parties["Green"]
    lon, lat = spot()
    start = datetime.now(UTC) + timedelta(hours=30)
    green.file(activity_body("Green convoy", feature(lon, lat, start=start, hours=1)))
    page = consoles.open(green.operator)
    status = page.locator("#map-status")
    expect(status).to_have_attribute("data-total", "1")
    expect(status).to_have_attribute("data-shown", "0")  # now: not live yet

    slider = page.get_by_role("slider", name="Map time")
    slider.focus()
    minutes = 30 * 60 + 30  # half-way through the volume, with the keyboard (5 min a step)
    page.keyboard.press("End")  # +48 h, then back
    for _ in range((48 * 60 - minutes) // 5):
        page.keyboard.press("ArrowLeft")
    expect(page.locator("#time-value")).to_contain_text("+30 h 30 min")
    expect(status).to_have_attribute("data-shown", "1")

    # The altitude filter: a band above the volume's (0–3,000 m) hides it.
    page.get_by_label("Altitude from").fill("20000")
    expect(status).to_have_attribute("data-shown", "0")
    page.get_by_label("Altitude from").fill("")
    expect(status).to_have_attribute("data-shown", "1")

    page.get_by_role("button", name="Now").click()
    expect(status).to_have_attribute("data-shown", "0")


def test_a_bad_token_shows_a_clear_error(consoles: Consoles) -> None:
    page = consoles.open()
    page.get_by_label("Party token").fill("not-a-real-token")
    page.get_by_role("button", name="Sign in").click()
    error = page.locator("#signin-error")
    expect(error).to_contain_text("not accepted by the hub")
    expect(page.locator("#top")).to_be_hidden()
    consoles.errors = [e for e in consoles.errors if "401" not in e]  # the refused request


def test_an_observer_sees_but_cannot_file_or_answer(
    consoles: Consoles, console_parties: dict[str, Party]
) -> None:
    red = console_parties["Red"]
    page = consoles.open(red.observer)
    expect(page.locator("#who")).to_contain_text("observer")
    expect(page.get_by_role("tab", name="New activity")).to_be_hidden()
    page.get_by_label("Waiting on me only").uncheck()
    expect(page.locator("#notices")).to_be_visible()
    expect(page.get_by_role("button", name="Acknowledge")).to_have_count(0)


def test_the_console_is_served_with_a_strict_policy(console_hub: object) -> None:
    url = console_hub.url  # type: ignore[attr-defined]
    r = httpx.get(url + "/")
    assert r.status_code == 200
    assert "Deconfliction Hotline" in r.text
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "unsafe-inline" not in csp
    assert httpx.get(url + "/static/vendor/leaflet/leaflet.js").status_code == 200
    assert httpx.get(url + "/console/config.json").json()["tiles"] is None
    # The API's own responses forbid framing only (the docs page loads its viewer).
    api = httpx.get(url + "/healthz").headers
    assert api["content-security-policy"] == "frame-ancestors 'none'"


_UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter((el) => el.offsetParent !== null)
  .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                  && !el.getAttribute('aria-labelledby') && !el.textContent.trim())
  .map((el) => el.outerHTML.slice(0, 120))"""


def test_every_control_is_labelled_and_the_panels_work_by_keyboard(
    consoles: Consoles, console_parties: dict[str, Party]
) -> None:
    page = consoles.open(console_parties["Green"].operator)
    for tab in ("Inbox", "Activities", "New activity", "Details"):
        page.get_by_role("tab", name=tab).click()
        assert page.evaluate(_UNLABELLED) == [], tab
    # The tabs move with the arrow keys, as a tablist does.
    page.get_by_role("tab", name="Inbox").focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("tab", name="Activities")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#panel-activities")).to_be_visible()
    # An area typed instead of drawn (no pointer needed), checked with the keyboard alone.
    page.get_by_role("tab", name="New activity").click()
    page.get_by_label("Area as text").fill("10.5,-140.5; 10.5,-140.4; 10.6,-140.4")
    page.get_by_role("button", name="Use", exact=True).press("Enter")
    expect(page.locator("#draw-shape")).to_contain_text("Polygon with 3 corners")
    page.get_by_label("Title", exact=True).fill("Keyboard filing")
    page.get_by_role("button", name="Check conflicts").press("Enter")
    expect(page.locator("[data-check=done]")).to_have_attribute("data-conflicts", "0")
    page.get_by_label("Area as text").fill("91,0; 1,1; 2,2")
    page.get_by_role("button", name="Use", exact=True).press("Enter")
    expect(page.locator("#draw-shape")).to_contain_text("Not understood")


def test_a_circle_drawn_with_the_mouse_is_checked_as_a_circle(
    consoles: Consoles, console_parties: dict[str, Party]
) -> None:
    green = console_parties["Green"]
    lon, lat = spot()
    page = consoles.open(green.operator)
    page.get_by_role("tab", name="New activity").click()
    _show(page, lat, lon, 10)
    page.get_by_role("button", name="Draw circle").click()
    page.mouse.click(*_screen(page, lat, lon))
    page.mouse.click(*_screen(page, lat, lon + 0.05))  # the edge, ~3.5 km east at this latitude
    shape = page.locator("#draw-shape")
    expect(shape).to_contain_text("Circle of")
    text = shape.inner_text()
    m = re.search(r"Circle of ([\d.]+) (k?m) radius", text)
    assert m is not None, text
    radius = float(m[1]) * (1000 if m[2] == "km" else 1)
    assert 2000 < radius < 5500, text
    page.get_by_label("Title", exact=True).fill("Green drone survey")
    page.get_by_role("button", name="Check conflicts").click()
    expect(page.locator("[data-check=done]")).to_have_attribute("data-conflicts", "0")
    page.get_by_role("button", name="File activity").click()
    filed = page.locator("[data-filed]")
    expect(filed).to_contain_text("Nobody else is affected")
    a = green.op.get(f"/v1/activities/{filed.get_attribute('data-filed')}").json()
    (vol,) = a["volumes"]["features"]
    assert vol["geometry"]["type"] == "Point"
    assert 2000 < vol["properties"]["radius_m"] < 5500
