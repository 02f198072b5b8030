from django.urls import path

from polls import creditviews, reportviews, views

CODE = "<str:code>"

urlpatterns = [
    path("", views.landing, name="landing"),
    path("healthz", views.healthz, name="healthz"),
    path("moderate/", views.moderator_home, name="moderator-home"),
    path(f"e/{CODE}/", views.participant, name="participant"),
    path(f"e/{CODE}/state.json", views.participant_state, name="participant-state"),
    path(f"e/{CODE}/vote", views.participant_vote, name="participant-vote"),
    path(f"e/{CODE}/profile", views.participant_vote, name="participant-profile"),
    path(f"e/{CODE}/ask", views.participant_vote, name="participant-ask"),
    path(f"e/{CODE}/questions.csv", views.questions_export, name="questions-export"),
    path(f"e/{CODE}/present/", views.presenter, name="presenter"),
    path(f"e/{CODE}/moderate/", views.moderator, name="moderator"),
    path(f"e/{CODE}/panel/", views.panelist, name="panelist"),
    path(f"e/{CODE}/panel/<str:token>/", views.panelist_invitation_accept, name="panelist-invitation"),
    path(f"e/{CODE}/panelists/", views.panelist_invitations, name="panelist-invitations"),
    path(f"e/{CODE}/presence.json", views.event_presence, name="event-presence"),
    path(f"e/{CODE}/export.csv", reportviews.export_csv, name="event-export"),
    path(f"e/{CODE}/export.xlsx", reportviews.export_xlsx, name="event-export-xlsx"),
    path(f"e/{CODE}/report/", reportviews.report_page, name="event-report"),
    path(f"e/{CODE}/report.pdf", reportviews.report_pdf, name="event-report-pdf"),
    path(f"e/{CODE}/recap/", reportviews.recap_edit, name="event-recap"),
    path(f"e/{CODE}/recap.md", reportviews.recap_markdown, name="event-recap-md"),
    path(f"e/{CODE}/recap.pdf", reportviews.recap_pdf, name="event-recap-pdf"),
    path("recap/<str:token>/", reportviews.recap_public, name="recap-public"),
    path(f"e/{CODE}/polls/<int:poll_id>/results.json", views.poll_results, name="poll-results"),
    path(f"e/{CODE}/invite.ics", views.event_invitation, name="event-invitation"),
    path(f"e/{CODE}/images/<int:image_id>", views.case_image, name="case-image"),
    path(f"e/{CODE}/credit/", creditviews.credit_claim, name="credit-claim"),
    path(f"e/{CODE}/credit/<str:token>/", creditviews.credit_certificate, name="credit-certificate"),
    path(f"e/{CODE}/credit/<str:token>.pdf", creditviews.credit_certificate_pdf, name="credit-certificate-pdf"),
]
