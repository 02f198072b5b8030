"""ASGI app of the naive baseline: `daphne -b 127.0.0.1 -p PORT bench.naive.asgi:application`."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseboard.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import re_path  # noqa: E402

from bench.naive.consumers import NaiveConsumer, NaiveModeratorConsumer  # noqa: E402

CODE = r"(?P<code>[A-Za-z0-9]{1,16})"

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(
                URLRouter(
                    [
                        re_path(rf"^ws/e/{CODE}/$", NaiveConsumer.as_asgi()),
                        re_path(rf"^ws/e/{CODE}/moderate/$", NaiveModeratorConsumer.as_asgi()),
                    ]
                )
            )
        ),
    }
)
