from django.urls import re_path

from polls import consumers

CODE = r"(?P<code>[A-Za-z0-9]{1,16})"

websocket_urlpatterns = [
    re_path(rf"^ws/e/{CODE}/$", consumers.ParticipantConsumer.as_asgi()),
    re_path(rf"^ws/e/{CODE}/present/$", consumers.PresenterConsumer.as_asgi()),
    re_path(rf"^ws/e/{CODE}/moderate/$", consumers.ModeratorConsumer.as_asgi()),
    re_path(rf"^ws/e/{CODE}/panel/$", consumers.PanelistConsumer.as_asgi()),
]
