"""Finding 9 (issue 11): 150 wrong passwords on /accounts/login/ and /admin/login/, then a
successful login. django-axes now limits one account from one address (5 failures) and one
address across accounts (30), with a short cool-off, keyed on the client address by the
trusted-proxy rule. Attacked through the ASGI application and through daphne."""

from __future__ import annotations

import asyncio
import urllib.parse
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async

from tests.factories import make_moderator
from tests.security.asgi import Browser
from tests.security.conftest import Client

asgi = pytest.mark.django_db(transaction=True)
PASSWORD = "pw-for-tests-only"  # tests.factories.make_moderator


async def log_in(browser: Browser, username: str, password: str, path: str = "/accounts/login/") -> int:
    if "csrftoken" not in browser.cookies:
        await browser.get(path)
    form = {"username": username, "password": password, "csrfmiddlewaretoken": browser.cookies["csrftoken"]}
    if path == "/accounts/login/":
        form["next"] = "/"
    else:
        form["next"] = "/admin/"
    status, _ = await browser.request(
        "POST",
        path,
        urllib.parse.urlencode(form).encode(),
        {"content-type": "application/x-www-form-urlencoded", "referer": "http://testserver/"},
    )
    return status


@asgi
async def test_one_account_from_one_address_is_throttled_and_nobody_else(asgi_sockets):
    moderator = await database_sync_to_async(make_moderator)()
    attacker = Browser("198.51.100.60")
    statuses = [
        await log_in(attacker, moderator.username, f"wrong-{n}", path)
        for n in range(20)
        for path in ("/accounts/login/", "/admin/login/")
    ]
    assert statuses[:4] == [200] * 4 and set(statuses[5:]) == {429}, statuses
    assert await log_in(attacker, moderator.username, PASSWORD) == 429  # the right password too
    # The moderator on another network logs in: the attacker cannot lock the account out.
    assert await log_in(Browser("203.0.113.61"), moderator.username, PASSWORD) == 302
    # Another account from the attacker's address is not locked by this one's failures.
    other = await database_sync_to_async(make_moderator)()
    assert await log_in(Browser("198.51.100.60"), other.username, PASSWORD) == 302


@asgi
async def test_one_address_spraying_usernames_is_throttled(asgi_sockets):
    moderator = await database_sync_to_async(make_moderator)()
    sprayer = Browser("198.51.100.62")
    statuses = [await log_in(sprayer, f"user{n}", "guess") for n in range(35)]
    assert statuses[:29] == [200] * 29 and set(statuses[30:]) == {429}, statuses
    assert await log_in(Browser("198.51.100.62"), moderator.username, PASSWORD) == 429


@asgi
async def test_the_lockout_ends_after_the_cool_off_and_follows_the_trusted_proxy_rule(asgi_sockets, settings):
    settings.AXES_COOLOFF_TIME = timedelta(seconds=2)
    settings.CASEBOARD = {**settings.CASEBOARD, "TRUSTED_PROXIES": ["10.0.0.0/24"]}
    moderator = await database_sync_to_async(make_moderator)()
    attacker = Browser("10.0.0.5", forwarded_for="198.51.100.63")
    for n in range(5):
        await log_in(attacker, moderator.username, f"wrong-{n}")
    assert await log_in(attacker, moderator.username, PASSWORD) == 429
    # Another client of the same proxy is another address.
    assert await log_in(Browser("10.0.0.5", forwarded_for="198.51.100.64"), moderator.username, PASSWORD) == 302
    await asyncio.sleep(2.5)
    assert await log_in(attacker, moderator.username, PASSWORD) == 302


def test_through_daphne_150_wrong_passwords_do_not_end_in_a_login(daphne):
    attacker = Client(daphne, source="127.0.0.61")
    statuses = []
    for n in range(75):
        for path, after in (("/accounts/login/", "/"), ("/admin/login/", "/admin/")):
            attacker.get(path)
            form = {
                "username": "moderator",
                "password": f"wrong-{n}",
                "csrfmiddlewaretoken": attacker.cookie("csrftoken"),
                "next": after,
            }
            status, _ = attacker.post(path, urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded")
            statuses.append(status)
    assert statuses.count(200) == 4 and statuses[-100:] == [429] * 100, statuses[:10]
    with pytest.raises(AssertionError, match=r"\(429\)"):
        attacker.login()
    Client(daphne, source="127.0.0.62").login()  # the moderator, elsewhere
