"""A cross-worker smoke check for `make cluster --check` and tests/test_cluster.py.

It drives a running cluster only through what the cluster object hands it (`port`, `worker_ports`
and `manage_output`), so it imports nothing from deploy/cluster.py: the cluster runs the check,
never the other way round.
"""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from http.cookiejar import CookieJar

from websockets.sync.client import connect

MODERATOR_SESSION = """
from django.contrib.auth import get_user_model, BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.cached_db import SessionStore
user = get_user_model().objects.get(username="moderator")
s = SessionStore()
s[SESSION_KEY] = str(user.pk)
s[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
s[HASH_SESSION_KEY] = user.get_session_auth_hash()
s.create()
print(s.session_key)
"""


def participant_session(base: str) -> str:
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{base}/e/CASE2/", timeout=10).read()
    return next(c.value for c in jar if c.name == "sessionid")


def frames_until(ws, predicate, seconds: float = 10) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        frame = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        if predicate(frame):
            return frame
    raise TimeoutError("expected frame did not arrive")


def cross_worker_vote(cluster) -> str:
    """A phone on worker A votes; the moderator console on worker B sees it counted."""
    base = f"http://127.0.0.1:{cluster.port}"
    port_a, port_b = cluster.worker_ports[0], cluster.worker_ports[-1]
    moderator_key = cluster.manage_output("shell", "-c", MODERATOR_SESSION).strip().splitlines()[-1]
    phone_key = participant_session(base)
    with connect(
        f"ws://127.0.0.1:{port_b}/ws/e/CASE2/moderate/",
        # Straight to a worker, past nginx: the origin is that worker's own (origins are compared whole).
        origin=f"http://127.0.0.1:{port_b}",
        additional_headers={"Cookie": f"sessionid={moderator_key}"},
    ) as console:
        state = frames_until(console, lambda f: f["type"] == "state")
        poll = state["agenda"][0]["polls"][0]
        if poll["state"] != "open":
            console.send(json.dumps({"type": "open_poll", "ref": "check-open", "poll": poll["id"]}))
            frames_until(console, lambda f: f.get("ref") == "check-open")
        with connect(
            f"ws://127.0.0.1:{port_a}/ws/e/CASE2/",
            origin=f"http://127.0.0.1:{port_a}",
            additional_headers={"Cookie": f"sessionid={phone_key}"},
        ) as phone:
            frames_until(phone, lambda f: f["type"] == "state")
            option = poll["options"][0]["id"]
            phone.send(json.dumps({"type": "vote", "ref": uuid.uuid4().hex, "poll": poll["id"], "options": [option]}))
            ack = frames_until(phone, lambda f: f["type"] in {"ack", "error"})
            assert ack["type"] == "ack", ack
        results = frames_until(
            console, lambda f: f["type"] == "results" and f["poll"] == poll["id"] and f["counts"][str(option)] >= 1
        )
    return f"ok: vote on worker :{port_a} reached the console on worker :{port_b} (total {results['total']})"
