"""A phone that loses its network votes anyway: the vote waits on the phone and is recorded once it is back.

Chromium's offline emulation fails new requests and websocket handshakes but leaves an already open
websocket running, whereas a real network loss ends it (at the latest when the client's heartbeat
hears nothing). So when the test takes the phone offline it also drops the open socket, from inside
the page, as the network would.
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.browser.pages import CODE, DESKTOP, PHONE, expect_live, open_console, open_poll, poll_id

pytestmark = pytest.mark.browser

CAR_T = "Refer for CAR T"
# Keep a handle on the page's sockets so the test can drop them when the network goes.
TRACK_SOCKETS = """
window.__sockets = [];
window.WebSocket = class extends window.WebSocket {
  constructor(...args) { super(...args); window.__sockets.push(this); }
};
"""
# What an offline phone legitimately logs: failed handshakes and fallback requests.
NETWORK_ERRORS = ("ERR_INTERNET_DISCONNECTED", "WebSocket connection to", "Failed to fetch", "Failed to load resource")


def test_vote_cast_offline_is_recorded_when_the_network_returns(demo, browser, contexts, moderator_storage):
    console = open_console(contexts(viewport=DESKTOP, storage_state=moderator_storage))
    poll = poll_id(console)
    open_poll(console, poll)

    # The phone's context is ours: the shared one fails a test on any console error, and an
    # offline phone logs its failed reconnects. Errors other than those still fail this test.
    phone_context = browser.new_context(base_url=demo.url, viewport=PHONE, is_mobile=True, has_touch=True)
    problems: list[str] = []
    try:
        phone_context.add_init_script(TRACK_SOCKETS)
        phone = phone_context.new_page()
        phone.on("pageerror", lambda exc: problems.append(f"uncaught {exc}"))
        phone.on(
            "console",
            lambda m: m.type == "error" and not any(e in m.text for e in NETWORK_ERRORS) and problems.append(m.text),
        )
        phone.goto(f"/e/{CODE}/")
        expect_live(phone)
        expect(phone.get_by_test_id("poll-state")).to_have_text("Poll open")

        phone_context.set_offline(True)
        phone.evaluate("window.__sockets.forEach((socket) => socket.close())")
        expect(phone.get_by_test_id("connection-status")).to_have_text("Offline: waiting for the network…")
        phone.get_by_role("button", name=CAR_T, exact=True).click()
        expect(phone.get_by_test_id("vote-receipt")).to_have_text("Saving…")
        expect(phone.get_by_role("button", name=CAR_T, exact=True)).to_have_attribute("aria-pressed", "true")
        outbox = json.loads(phone.evaluate(f"localStorage.getItem('caseboard:outbox:{CODE}')"))
        assert outbox["ref"]
        phone.wait_for_function("() => window.__sockets.length >= 3")  # two reconnects failed while offline
        expect(console.get_by_test_id(f"poll-count-{poll}")).to_have_text("0 responses")
        expect(phone.get_by_test_id("vote-receipt")).to_have_text("Saving…")

        phone_context.set_offline(False)
        expect(phone.get_by_test_id("vote-receipt")).to_have_text("Vote recorded")
        expect_live(phone)
        expect(console.get_by_test_id(f"poll-count-{poll}")).to_have_text("1 response")
        assert phone.evaluate(f"localStorage.getItem('caseboard:outbox:{CODE}')") is None
    finally:
        phone_context.close()
    assert problems == [], problems
