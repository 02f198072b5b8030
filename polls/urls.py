from django.urls import path

from polls import views

CODE = "<str:code>"

urlpatterns = [
    path("", views.landing, name="landing"),
    path("healthz", views.healthz, name="healthz"),
    path("moderate/", views.moderator_home, name="moderator-home"),
    path(f"e/{CODE}/", views.participant, name="participant"),
    path(f"e/{CODE}/state.json", views.participant_state, name="participant-state"),
    path(f"e/{CODE}/vote", views.participant_vote, name="participant-vote"),
    path(f"e/{CODE}/profile", views.participant_vote, name="participant-profile"),
    path(f"e/{CODE}/present/", views.presenter, name="presenter"),
    path(f"e/{CODE}/moderate/", views.moderator, name="moderator"),
    path(f"e/{CODE}/panel/", views.panelist, name="panelist"),
    path(f"e/{CODE}/presence.json", views.event_presence, name="event-presence"),
    path(f"e/{CODE}/export.csv", views.event_export, name="event-export"),
    path(f"e/{CODE}/polls/<int:poll_id>/results.json", views.poll_results, name="poll-results"),
]
