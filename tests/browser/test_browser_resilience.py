"""A phone's vote survives dropped connections, reloads and networks that block websockets."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, WebSocketRoute, expect

from tests.browser.pages import CODE, DESKTOP, PHONE, open_console, open_poll, poll_id, vote

pytestmark = pytest.mark.browser

CAR_T = "Refer for CAR T"
SOCKET = re.compile(r"/ws/e/")

# A network that refuses websockets: every attempt closes before it opens, like a blocking proxy.
BLOCK_WEBSOCKETS = """
window.__socketAttempts = 0;
window.WebSocket = class extends EventTarget {
  static CONNECTING = 0; static OPEN = 1; static CLOSING = 2; static CLOSED = 3;
  constructor(url) {
    super();
    window.__socketAttempts += 1;
    this.url = url;
    this.readyState = 0;
    setTimeout(() => {
      this.readyState = 3;
      this.dispatchEvent(new CloseEvent("close", { code: 1006 }));
    }, 20);
  }
  send() { throw new DOMException("not open", "InvalidStateError"); }
  close() {}
};
"""


class VoteTap:
    """Routes the phone's websocket through the test: records vote frames and can hold them back."""

    def __init__(self, page: Page) -> None:
        self.votes: list[dict] = []
        self.hold = True
        self.held: list[tuple] = []
        page.route_web_socket(SOCKET, self.route)

    def route(self, ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            frame = json.loads(message)
            if frame.get("type") == "vote":
                self.votes.append(frame)
                if self.hold:
                    self.held.append((server, message))
                    return
            server.send(message)

        ws.on_message(from_page)

    def release(self) -> None:
        self.hold = False
        for server, message in self.held:
            server.send(message)
        self.held.clear()


def open_tapped_phone(contexts) -> tuple[Page, VoteTap]:
    page = contexts(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    tap = VoteTap(page)
    page.goto(f"/e/{CODE}/")
    expect(page.get_by_test_id("connection-status")).to_have_text("Live")
    return page, tap


def test_receipt_says_saving_until_the_ack_arrives(demo, contexts, moderator_storage):
    console = open_console(contexts(viewport=DESKTOP, storage_state=moderator_storage))
    open_poll(console, poll_id(console))
    phone, tap = open_tapped_phone(contexts)

    phone.get_by_role("button", name=CAR_T, exact=True).click()
    expect(phone.get_by_test_id("vote-receipt")).to_have_text("Saving…")
    expect(phone.get_by_role("button", name=CAR_T, exact=True)).to_have_attribute("aria-pressed", "true")
    tap.release()
    expect(phone.get_by_test_id("vote-receipt")).to_have_text("Vote recorded")


def test_unacked_vote_is_resent_with_the_same_ref_after_a_reload(demo, contexts, moderator_storage):
    console = open_console(contexts(viewport=DESKTOP, storage_state=moderator_storage))
    poll = poll_id(console)
    open_poll(console, poll)
    phone, tap = open_tapped_phone(contexts)

    phone.get_by_role("button", name=CAR_T, exact=True).click()
    expect(phone.get_by_test_id("vote-receipt")).to_have_text("Saving…")
    outbox = json.loads(phone.evaluate(f"localStorage.getItem('caseboard:outbox:{CODE}')"))
    assert outbox["ref"] == tap.votes[0]["ref"]

    tap.hold = False  # the held frame is lost with the page; the reloaded page must resend it
    phone.reload()
    expect(phone.get_by_test_id("vote-receipt")).to_have_text("Vote recorded")
    assert [v["ref"] for v in tap.votes] == [outbox["ref"], outbox["ref"]]
    assert phone.evaluate(f"localStorage.getItem('caseboard:outbox:{CODE}')") is None
    expect(console.get_by_test_id(f"poll-count-{poll}")).to_have_text("1 response")


def test_vote_lost_with_a_dropped_connection_is_resent_on_reconnect(demo, contexts, moderator_storage):
    console = open_console(contexts(viewport=DESKTOP, storage_state=moderator_storage))
    poll = poll_id(console)
    open_poll(console, poll)
    phone = contexts(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    sockets: list[WebSocketRoute] = []
    refs: list[str] = []

    def route(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()
        sockets.append(ws)

        def from_page(message: str | bytes) -> None:
            frame = json.loads(message)
            if frame.get("type") == "vote":
                refs.append(frame["ref"])
                if len(sockets) == 1:
                    ws.close(code=1011)  # the connection dies with the vote in flight
                    return
            server.send(message)

        ws.on_message(from_page)

    phone.route_web_socket(SOCKET, route)
    phone.goto(f"/e/{CODE}/")
    expect(phone.get_by_test_id("connection-status")).to_have_text("Live")
    phone.get_by_role("button", name=CAR_T, exact=True).click()
    expect(phone.get_by_test_id("vote-receipt")).to_have_text("Vote recorded")
    assert len(sockets) == 2 and len(refs) == 2 and refs[0] == refs[1]
    expect(phone.get_by_test_id("connection-status")).to_have_text("Live")
    expect(console.get_by_test_id(f"poll-count-{poll}")).to_have_text("1 response")


def test_phone_falls_back_to_http_when_websockets_are_blocked(demo, contexts, moderator_storage):
    console = open_console(contexts(viewport=DESKTOP, storage_state=moderator_storage))
    poll = poll_id(console)
    context = contexts(viewport=PHONE, is_mobile=True, has_touch=True)
    context.add_init_script(BLOCK_WEBSOCKETS)
    phone = context.new_page()
    phone.goto(f"/e/{CODE}/")
    expect(phone.get_by_test_id("connection-status")).to_have_text("Live (slow connection mode)")
    expect(phone.get_by_test_id("waiting")).to_contain_text("Waiting for the moderator")

    open_poll(console, poll)
    expect(phone.get_by_test_id("poll-state")).to_have_text("Poll open")  # picked up by polling state.json
    vote(phone, CAR_T)
    expect(console.get_by_test_id(f"poll-count-{poll}")).to_have_text("1 response")
    # The websocket keeps being retried in the background.
    attempts = phone.evaluate("window.__socketAttempts")
    phone.wait_for_function("n => window.__socketAttempts > n", arg=attempts)


def test_older_state_and_results_frames_are_dropped(server, contexts):
    page = contexts().new_page()
    page.goto("/")  # any page of the app: live.js is imported from its static URL
    seen = page.evaluate(
        """async () => {
          const { LiveConnection } = await import("/static/js/live.js");
          const seen = [];
          const live = new LiveConnection({ code: "TEST", ws_path: "/ws/none/" }, {
            onState: (s) => seen.push(`state ${s.version}`),
            onResults: (r) => seen.push(`results ${r.poll}@${r.version}`),
          });
          const event = { id: 1, code: "TEST", title: "t", status: "live" };
          const state = (version, results = null) => ({ type: "state", version, event, results });
          live.handleFrame(state(5), "ws");
          live.handleFrame(state(4), "ws");  // overtaken in flight: dropped
          live.handleFrame(state(5), "ws");  // the same version again (a resync): applied
          live.handleFrame({ type: "results", poll: 7, total: 2, version: 100 }, "ws");
          live.handleFrame({ type: "results", poll: 7, total: 1, version: 90 }, "ws");  // older: dropped
          live.handleFrame({ type: "results", poll: 8, total: 1, version: 50 }, "ws");  // another poll
          live.handleFrame(state(6, { type: "results", poll: 7, total: 0, version: 80 }), "ws");
          seen.push(`poll 7 total ${live.resultsFor(7).latest.total}`);
          return seen;
        }"""
    )
    assert seen == [
        "state 5",
        "state 5",
        "results 7@100",
        "results 8@50",
        "state 6",
        "poll 7 total 2",  # the state's embedded tally was older than the one already shown
    ]
