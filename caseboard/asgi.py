"""ASGI entry point: HTTP through Django, websockets through Channels with origin and session checks."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseboard.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.sessions import SessionMiddlewareStack  # noqa: E402

from caseboard.bodylimit import RequestBodyLimit  # noqa: E402
from caseboard.clientip import TrustedProxyMiddleware  # noqa: E402
from caseboard.origins import SameOriginValidator  # noqa: E402
from polls.live.routing import websocket_urlpatterns  # noqa: E402

# The client's address is resolved once, for both protocols (CASEBOARD_TRUSTED_PROXIES).
application = TrustedProxyMiddleware(
    ProtocolTypeRouter(
        {
            # Too large a body is refused on its header, before Django reads it (caseboard/bodylimit.py).
            "http": RequestBodyLimit(django_asgi_app),
            "websocket": SameOriginValidator(SessionMiddlewareStack(URLRouter(websocket_urlpatterns))),
        }
    )
)
