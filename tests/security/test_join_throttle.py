"""Finding 8 (issue 11): ten wrong codes from one address locked a whole room out for a minute,
and behind a proxy every phone shared the proxy's address. Finding 11: join codes could be
probed through `state.json` and `present/` without counting as wrong joins.

Attacked through the ASGI application (addresses as daphne would report them) and through a
real daphne, alone and behind the nginx of `make cluster`.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from channels.db import database_sync_to_async

from caseboard import clientip
from tests.daphne import ROOT, free_port, serve_demo
from tests.factories import make_case, make_event, make_moderator
from tests.security.asgi import Browser
from tests.security.conftest import Client, receive_type

LIMIT = 10  # CASEBOARD_JOIN_FAILURES_PER_MINUTE
NAT = "198.51.100.20"  # a hotel's one public address
ELSEWHERE = "203.0.113.77"

asgi = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def two_events():
    moderator = make_moderator()
    room = make_event(cases=[make_case()], moderators=[moderator])
    other = make_event(cases=[make_case()])
    return room, other, moderator


async def guess_until_blocked(guesser: Browser) -> None:
    for n in range(LIMIT):
        status, _ = await guesser.get("/", code=f"ZZZZ{n:04d}")
        assert status == 404
    status, _ = await guesser.get("/", code="ZZZZWXYZ")
    assert status == 429


@asgi
async def test_a_guesser_behind_the_rooms_nat_does_not_lock_the_room_out(asgi_sockets):
    room, other, _ = await two_events()
    early_phone = Browser(NAT)
    assert (await early_phone.get(f"/e/{room.code}/"))[0] == 200  # the room is in use at this address

    guesser = Browser(NAT)
    await guess_until_blocked(guesser)

    # The phones already joined reload and reconnect: never limited.
    assert (await early_phone.get(f"/e/{room.code}/"))[0] == 200
    assert (await early_phone.get(f"/e/{room.code}/state.json"))[0] == 200
    socket, ok, _ = await early_phone.ws(f"/ws/e/{room.code}/")
    asgi_sockets.append(socket)
    assert ok
    # A latecomer on the same network types the room's code and gets in.
    late_phone = Browser(NAT)
    assert (await late_phone.get("/", code=room.code.lower()))[0] == 302
    assert (await late_phone.get(f"/e/{room.code}/"))[0] == 200
    # The guesser learns nothing new: another real event and a wrong code get the same answer.
    assert (await guesser.get("/", code=other.code))[0] == 429
    assert (await guesser.get(f"/e/{other.code}/"))[0] == 429
    assert (await guesser.get(f"/e/{other.code}/present/"))[0] == 429
    assert (await guesser.get("/", code="ZZZZQQQQ"))[0] == 429
    # Another address is not affected.
    assert (await Browser(ELSEWHERE).get(f"/e/{other.code}/"))[0] == 200


@asgi
async def test_the_rooms_projector_opens_its_code_for_the_network_even_after_a_guesser_came_first(
    asgi_sockets,
):
    room, _, moderator = await two_events()
    await guess_until_blocked(Browser(NAT))
    assert (await Browser(NAT).get(f"/e/{room.code}/"))[0] == 429  # nobody of the room yet

    projector = Browser(NAT)
    status, _ = await projector.get(f"/e/{room.code}/present/", key=room.presenter_token)
    assert status == 302  # the secret link works from a blocked address (it cannot be guessed)
    assert (await projector.get(f"/e/{room.code}/present/"))[0] == 200
    assert (await Browser(NAT).get(f"/e/{room.code}/"))[0] == 200


@asgi
async def test_probes_of_state_json_present_and_vote_count_as_wrong_joins(asgi_sockets):
    room, _, _ = await two_events()
    for path in ("state.json", "present/"):
        prober = Browser(f"192.0.2.{10 + len(path)}")
        for n in range(LIMIT):
            status, _ = await prober.get(f"/e/QQQQ{n:04d}/{path}")
            assert status == 404, (path, status)
        # Over the budget: the real code and a wrong one look the same.
        assert (await prober.get(f"/e/{room.code}/{path}"))[0] == 429, path
        assert (await prober.get(f"/e/QQQQWXYZ/{path}"))[0] == 429, path
        assert (await prober.get("/", code="QQQQWXYZ"))[0] == 429, path
    voter = Browser("192.0.2.30")
    for n in range(LIMIT):
        status, body = await voter.post_json(f"/e/QQQQ{n:04d}/vote", {"type": "vote", "ref": "r", "poll": 1})
        assert (status, body["code"]) == (404, "unknown_event")
    status, body = await voter.post_json(f"/e/{room.code}/vote", {"type": "vote", "ref": "r", "poll": 1})
    assert (status, body["code"]) == (429, "rate_limited")


# ------------------------------------------------------------------ behind a proxy


@pytest.fixture
def behind_proxy(settings):
    settings.CASEBOARD = {**settings.CASEBOARD, "TRUSTED_PROXIES": ["10.0.0.0/24"]}


@asgi
async def test_behind_a_trusted_proxy_each_client_has_its_own_address(asgi_sockets, behind_proxy):
    room, other, _ = await two_events()
    proxy = "10.0.0.5"
    # The guesser forges the header's left part; the proxy appends what it saw (right to left).
    guesser = Browser(proxy, forwarded_for=f"1.1.1.1, {NAT}")
    await guess_until_blocked(guesser)
    guesser.forwarded_for = f"9.9.9.9, {NAT}"
    assert (await guesser.get(f"/e/{other.code}/"))[0] == 429
    socket, ok, code = await guesser.ws(f"/ws/e/{other.code}/present/")
    asgi_sockets.append(socket)
    assert (ok, code) == (False, 4429)
    # Other clients of the same proxy (and a second proxy hop) are not affected.
    assert (await Browser(proxy, forwarded_for=ELSEWHERE).get(f"/e/{other.code}/"))[0] == 200
    assert (await Browser(proxy, forwarded_for=f"{ELSEWHERE}, 10.0.0.9").get(f"/e/{room.code}/"))[0] == 200
    socket, ok, code = await Browser(proxy, forwarded_for=ELSEWHERE).ws("/ws/e/QQQQWXYZ/")
    asgi_sockets.append(socket)
    assert (ok, code) == (False, 4404)


@asgi
async def test_the_header_of_an_untrusted_peer_is_ignored(asgi_sockets, behind_proxy):
    _, other, _ = await two_events()
    guesser = Browser(NAT)  # not a trusted proxy: rotating X-Forwarded-For does not help
    for n in range(LIMIT):
        guesser.forwarded_for = f"1.2.3.{n}"
        assert (await guesser.get("/", code=f"ZZZZ{n:04d}"))[0] == 404
    guesser.forwarded_for = "1.2.3.200"
    assert (await guesser.get(f"/e/{other.code}/"))[0] == 429


@pytest.mark.parametrize(
    ("peer", "header", "client"),
    [
        ("10.0.0.5", "203.0.113.9", "203.0.113.9"),
        ("10.0.0.5", "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # the left part is the client's to forge
        ("10.0.0.5", "203.0.113.9, 10.0.0.7", "203.0.113.9"),  # two trusted hops
        ("10.0.0.5", "10.0.0.8, 10.0.0.7", "10.0.0.8"),  # only proxies: the leftmost
        ("10.0.0.5", "not-an-ip, 10.0.0.7", "10.0.0.7"),  # garbage beyond the trusted hops
        ("10.0.0.5", "2001:db8::1", "2001:db8::1"),
        ("10.0.0.5", "", "10.0.0.5"),
        ("203.0.113.50", "6.6.6.6", "203.0.113.50"),  # untrusted peer: header ignored
        ("::ffff:10.0.0.5", "203.0.113.9", "203.0.113.9"),
    ],
)
def test_forwarded_for_is_read_right_to_left_skipping_trusted_proxies(settings, peer, header, client):
    settings.CASEBOARD = {**settings.CASEBOARD, "TRUSTED_PROXIES": ["10.0.0.0/24"]}
    assert clientip.resolve(peer, [header] if header else []) == client


def test_without_trusted_proxies_the_header_is_never_read(settings):
    settings.CASEBOARD = {**settings.CASEBOARD, "TRUSTED_PROXIES": []}
    assert clientip.resolve("127.0.0.1", ["6.6.6.6"]) == "127.0.0.1"


# ------------------------------------------------------------------ through daphne (and nginx)


def guess_until_blocked_over_http(guesser) -> None:
    for n in range(LIMIT):
        status, _ = guesser.get(f"/?code=ZZZZ{n:04d}")
        assert status == 404
    assert guesser.get("/?code=ZZZZWXYZ")[0] == 429


def test_through_daphne_the_room_keeps_joining_beside_a_guesser(daphne):
    early = Client(daphne, source="127.0.0.21").join()
    guesser = Client(daphne, source="127.0.0.21")
    guess_until_blocked_over_http(guesser)
    assert early.get("/e/CASE2/")[0] == 200
    assert early.get("/e/CASE2/state.json")[0] == 200
    with early.ws("/ws/e/CASE2/") as socket:
        assert receive_type(socket, "state")["type"] == "state"
    Client(daphne, source="127.0.0.21").join()  # a latecomer on the same network
    assert Client(daphne, source="127.0.0.22").get("/?code=ZZZZ0000")[0] == 404  # another address
    # Where the event is not in use, a blocked guesser cannot tell the real code from a wrong one.
    lone = Client(daphne, source="127.0.0.23")
    guess_until_blocked_over_http(lone)
    assert [lone.get(path)[0] for path in ("/?code=CASE2", "/e/CASE2/", "/e/CASE2/present/")] == [429] * 3


@pytest.fixture(scope="module")
def behind_nginx(tmp_path_factory):
    """daphne trusting 127.0.0.1, behind nginx on 127.0.0.1 rendered from deploy/nginx.conf.template
    as `make cluster` renders it; clients connect to nginx from 127.0.0.31, .32, …"""
    workdir = tmp_path_factory.mktemp("caseboard-nginx")
    server = serve_demo(workdir, CASEBOARD_TRUSTED_PROXIES="127.0.0.1")
    nginx = None
    try:
        port = free_port()
        conf = (
            (ROOT / "deploy" / "nginx.conf.template")
            .read_text()
            .format(
                run_dir=workdir,
                upstreams=f"        server 127.0.0.1:{server.port};",
                host="127.0.0.1",
                port=port,
                static_root=ROOT / "staticfiles",
            )
        )
        (workdir / "nginx.conf").write_text(conf)
        nginx = subprocess.Popen(
            [shutil.which("nginx") or "/usr/sbin/nginx", "-c", str(workdir / "nginx.conf"), "-g", "daemon off;"],
            cwd=workdir,
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2):  # noqa: S310 (local)
                    break
            except OSError:
                if time.monotonic() > deadline or nginx.poll() is not None:
                    raise
                time.sleep(0.2)  # waiting for a subprocess to listen
        yield server, url
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(timeout=10)
        server.stop()


@pytest.mark.skipif(not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()), reason="nginx not installed")
def test_behind_the_clusters_nginx_each_phone_keeps_its_own_address(behind_nginx):
    server, url = behind_nginx
    early = Client(server, source="127.0.0.31", url=url).join()
    guesser = Client(server, source="127.0.0.31", url=url)
    for n in range(LIMIT):
        # A forged left part does not move the guesser: nginx appends the address it saw.
        status, _ = guesser.get(f"/?code=ZZZZ{n:04d}", **{"X-Forwarded-For": f"10.9.9.{n}"})
        assert status == 404
    assert guesser.get("/?code=ZZZZWXYZ", **{"X-Forwarded-For": "10.9.9.99"})[0] == 429
    assert early.get("/e/CASE2/")[0] == 200
    # A phone elsewhere, through the same nginx, is not the guesser.
    elsewhere = Client(server, source="127.0.0.32", url=url)
    assert elsewhere.get("/?code=ZZZZ0001")[0] == 404
    elsewhere.join()
    with elsewhere.ws("/ws/e/CASE2/") as socket:
        assert receive_type(socket, "state")["type"] == "state"


# ------------------------------------------------------------------ code length (finding 11)


@pytest.mark.django_db
def test_a_new_event_in_the_admin_gets_a_long_random_code(admin_client):
    import re

    from polls.models import JOIN_CODE_ALPHABET, JOIN_CODE_REGEX

    codes = {admin_client.get("/admin/polls/event/add/").context["adminform"].form.initial["code"] for _ in range(3)}
    assert len(codes) == 3
    for code in codes:
        assert len(code) >= 8 and set(code) <= set(JOIN_CODE_ALPHABET) and re.match(JOIN_CODE_REGEX, code)
    assert len(JOIN_CODE_ALPHABET) ** 8 > 10**12  # docs/protocol.md, Limits: the guessing math
