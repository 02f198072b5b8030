"""The per-process fan-out hub: coalescing, ordering, one serialisation per broadcast, recovery.

Pacing is tested on virtual time (tests/live.py, VirtualTime): intervals are exact and nothing
depends on how fast the machine is.
"""

import asyncio
from types import SimpleNamespace

import pytest

from polls.live import coalescing
from polls.live import hub as live_hub
from polls.live.hub import Hub
from polls.protocol import outbound as frames
from tests.conftest import stop_live_runtime
from tests.live import VirtualTime, wait_until

CPU_PER_WRITE_S = 0.0004  # what writing a frame to one socket costs a slow server


class FakeSocket:
    def __init__(self, role="participant"):
        self.role = role
        self.received = []

    async def deliver(self, message):
        self.received.append(message)


def place(hub, event_id, sockets):
    """Put sockets on the hub as attach() would, without a channel layer."""
    hub.sockets[event_id] = set(sockets)
    hub.screens[event_id] = {socket for socket in sockets if socket.role != "participant"}


@pytest.fixture
async def hub():
    hub = Hub.current()
    yield hub
    if not hub._tasks:
        # Never started (tests that set a fake channel): it joined no channel-layer group.
        hub.sockets.clear()
    await stop_live_runtime()


@pytest.fixture
async def clock(hub, monkeypatch):
    """Virtual time for the hub's loop; the hub's own CPU-time measurements read the same clock."""
    with VirtualTime(asyncio.get_running_loop()) as virtual:
        monkeypatch.setattr(live_hub, "time", SimpleNamespace(perf_counter=virtual.time, monotonic=virtual.time))
        yield virtual


class SlowSocket(FakeSocket):
    """A socket whose write costs CPU time, as thousands of them do on a slow server."""

    def __init__(self, clock, role="participant"):
        super().__init__(role)
        self.clock = clock

    async def deliver(self, message):
        self.clock.spend(CPU_PER_WRITE_S)
        self.received.append(message)


async def test_a_burst_of_votes_yields_few_non_overlapping_flushes_and_a_final_one_after_the_last(
    hub, clock, monkeypatch, settings
):
    settings.CASEBOARD = {**settings.CASEBOARD, "RESULTS_MIN_INTERVAL_S": 0.2}
    calls, running = [], []

    async def publish(*, event_id, poll_id):
        running.append(1)
        assert len(running) == 1, "two flushes of one poll overlapped"
        calls.append(clock.time())
        await asyncio.sleep(0.05)  # a slow database read
        running.pop()

    monkeypatch.setattr(coalescing, "publish_results", publish)
    marks = []
    for _ in range(100):  # 100 votes over 0.5 s
        hub.mark_dirty(1, 7)
        marks.append(clock.time())
        await asyncio.sleep(0.005)
    await hub.drain()
    assert calls[0] == marks[0]  # the first vote is broadcast at once
    assert 2 <= len(calls) <= 5  # bounded by the interval, not by the number of votes
    assert calls[-1] >= marks[-1]  # the final frame is read after the last vote was marked
    gaps = [b - a for a, b in zip(calls, calls[1:], strict=False)]
    assert all(gap >= 0.2 - 1e-9 for gap in gaps), gaps
    assert calls[-1] - marks[-1] <= 0.2 + 1e-9  # and no later than one interval after it


async def test_polls_are_coalesced_independently(hub, monkeypatch):
    seen = []

    async def publish(*, event_id, poll_id):
        seen.append(poll_id)

    monkeypatch.setattr(coalescing, "publish_results", publish)
    for poll_id in (1, 2, 1, 2, 3):
        hub.mark_dirty(9, poll_id)
    await hub.drain()
    assert sorted(seen) == [1, 2, 3]


async def test_one_serialised_frame_reaches_every_socket_and_older_results_are_dropped(hub):
    hub.channel = "test-channel"  # no layer reader needed for dispatch
    phones = [FakeSocket() for _ in range(3)]
    console = FakeSocket("moderator")
    place(hub, 5, [*phones, console])
    newer = frames.frames_message(event_id=5, kind="results", poll_id=7, version=20, public="P20", moderator="M20")
    older = frames.frames_message(event_id=5, kind="results", poll_id=7, version=10, public="P10", moderator="M10")
    await hub.dispatch(newer)
    await hub.dispatch(older)
    await hub.drain()
    for phone in phones:
        assert phone.received == [newer]
    assert console.received == [newer]
    assert hub.latest_results(5, 7) is newer
    hub.sockets.clear()


async def test_state_versions_never_go_backwards_in_the_cache(hub):
    hub.channel = "test-channel"
    hub.sockets[5] = {FakeSocket()}
    first = frames.frames_message(event_id=5, kind="state", poll_id=None, version=3, public="s3", moderator="m3")
    stale = frames.frames_message(event_id=5, kind="state", poll_id=None, version=2, public="s2", moderator="m2")
    await hub.dispatch(first)
    await hub.dispatch(stale)
    assert hub._state[5][1] is first
    hub.sockets.clear()


async def test_probe_notices_lost_group_membership_and_rejoin_restores_delivery(hub, monkeypatch):
    socket = FakeSocket()
    await hub.attach(42, socket)
    assert await hub.probe(42) and await hub.is_member(42)
    # A channel layer that restarted empty forgets its groups.
    await hub.layer.group_discard("event.42", hub.channel)
    assert not await hub.is_member(42)
    monkeypatch.setattr(live_hub, "PROBE_TIMEOUT_S", 0.3)
    assert not await hub.probe(42)  # its own probe never comes back
    monkeypatch.setattr(live_hub, "PROBE_TIMEOUT_S", 10)
    resynced = []

    async def resync_all():
        resynced.append(True)

    monkeypatch.setattr(hub, "resync_all", resync_all)
    assert await hub._rejoin()
    assert resynced and await hub.probe(42) and await hub.is_member(42)
    message = frames.frames_message(event_id=42, kind="results", poll_id=1, version=1, public="x", moderator="y")
    await hub.layer.group_send("event.42", message)
    await wait_until(lambda: socket.received, what="the frame reaching the socket")
    assert socket.received == [message]
    await hub.detach(42, socket)


async def test_a_large_fan_out_lets_other_work_through_and_spaces_the_next_results(hub, clock, settings):
    settings.CASEBOARD = {
        **settings.CASEBOARD,
        "RESULTS_MIN_INTERVAL_S": 0.25,
        "RESULTS_FANOUT_SHARE": 0.4,
        "FANOUT_CHUNK": 250,
    }
    sockets = [SlowSocket(clock) for _ in range(750)]
    place(hub, 1, sockets)
    assert hub.results_spacing(1) == 0.25  # nothing measured yet
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    other = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    before = ticks
    message = frames.frames_message(event_id=1, kind="results", poll_id=7, version=1, public="{}", moderator="{}")
    await hub.dispatch(message)
    await hub.drain()
    other.cancel()
    assert all(s.received == [message] for s in sockets)
    assert ticks - before >= 2  # the ticker ran between chunks, not only after the whole fan-out
    assert hub._fanout_s[1] == pytest.approx(len(sockets) * CPU_PER_WRITE_S)  # 0.3 s spent writing
    assert hub.results_spacing(1) == pytest.approx(0.3 / 0.4)  # 750 slow sockets: frames come less often
    assert hub.results_spacing(2) == 0.25  # another event is unaffected


async def test_screens_get_every_results_frame_and_phones_the_newest_at_their_pace(hub, clock, settings):
    settings.CASEBOARD = {
        **settings.CASEBOARD,
        "RESULTS_MIN_INTERVAL_S": 0.05,
        "RESULTS_FANOUT_SHARE": 0.4,
        "FANOUT_CHUNK": 1000,
    }
    hub.channel = "test-channel"
    phones = [SlowSocket(clock) for _ in range(500)]  # 0.2 s per fan-out: phones every 0.5 s
    projector, console, panelist = FakeSocket("presenter"), FakeSocket("moderator"), FakeSocket("panelist")
    place(hub, 3, [*phones, projector, console, panelist])
    sent = []
    for version in range(1, 6):
        message = frames.frames_message(
            event_id=3, kind="results", poll_id=7, version=version, public=f"P{version}", moderator=f"M{version}"
        )
        sent.append(message)
        await hub.dispatch(message)
        await asyncio.sleep(0.06)
    # The screens had every frame as it came, even while the phones were being written to.
    assert projector.received == console.received == panelist.received == sent
    await hub.drain()
    for phone in phones:
        # The first at once, then only the newest, in order: at most one frame per spacing, the last one always.
        assert phone.received[0] is sent[0]
        assert phone.received[-1] is sent[-1]
        assert len(phone.received) < len(sent)
        versions = [frame["version"] for frame in phone.received]
        assert versions == sorted(set(versions))
    assert hub.results_spacing(3) == pytest.approx(0.2 / 0.4)


async def test_results_broadcasts_slow_down_only_when_reading_the_tally_is_slow(hub, monkeypatch, settings):
    settings.CASEBOARD = {**settings.CASEBOARD, "RESULTS_MIN_INTERVAL_S": 0.25}
    assert hub.coalescer.spacing(7) == 0.25

    async def slow_read(*, event_id, poll_id):
        return 0.05  # the read held the database thread 50 ms

    monkeypatch.setattr(coalescing, "publish_results", slow_read)
    hub.mark_dirty(1, 7)
    await hub.drain()
    assert hub.coalescer.spacing(7) == pytest.approx(0.5)  # at most a tenth of the database thread
    assert hub.coalescer.spacing(8) == 0.25


async def test_a_room_upvoting_at_once_yields_few_questions_frames_and_a_final_one(hub, clock, monkeypatch, settings):
    settings.CASEBOARD = {**settings.CASEBOARD, "RESULTS_MIN_INTERVAL_S": 0.2}
    calls = []

    async def publish(*, event_id):
        calls.append((event_id, clock.time()))
        await asyncio.sleep(0.05)  # a slow database read

    monkeypatch.setattr(coalescing, "publish_questions", publish)
    marks = []
    for _ in range(200):  # 200 upvotes over 1 s
        hub.mark_questions_dirty(4)
        marks.append(clock.time())
        await asyncio.sleep(0.005)
    await hub.drain()
    assert {event for event, _ in calls} == {4}
    assert 3 <= len(calls) <= 8  # bounded by the interval, not by the number of upvotes
    assert calls[-1][1] >= marks[-1]  # the last frame is read after the last upvote
    assert all(b - a >= 0.2 - 1e-9 for (_, a), (_, b) in zip(calls, calls[1:], strict=False))
