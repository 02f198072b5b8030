from channels.auth import AuthMiddleware
from django.urls import re_path

from polls.live import consumers

CODE = r"(?P<code>[A-Za-z0-9]{1,16})"

# Participants are anonymous: their route skips AuthMiddleware, whose user lookup would cost
# every phone of a join burst one more trip to the database thread. The session (outer
# middleware in caseboard/asgi.py) is all a participant needs.
websocket_urlpatterns = [
    re_path(rf"^ws/e/{CODE}/$", consumers.ParticipantConsumer.as_asgi()),
    re_path(rf"^ws/e/{CODE}/present/$", AuthMiddleware(consumers.PresenterConsumer.as_asgi())),
    re_path(rf"^ws/e/{CODE}/moderate/$", AuthMiddleware(consumers.ModeratorConsumer.as_asgi())),
    re_path(rf"^ws/e/{CODE}/panel/$", AuthMiddleware(consumers.PanelistConsumer.as_asgi())),
]
