from django.urls import path

from polls import creditviews, followupviews, reportviews, views

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
    path(f"e/{CODE}/presence.json", views.event_presence, name="event-presence"),
    path(f"e/{CODE}/export.csv", reportviews.export_csv, name="event-export"),
    path(f"e/{CODE}/export.xlsx", reportviews.export_xlsx, name="event-export-xlsx"),
    path(f"e/{CODE}/report/", reportviews.report_page, name="event-report"),
    path(f"e/{CODE}/report.pdf", reportviews.report_pdf, name="event-report-pdf"),
    path(f"e/{CODE}/outcomes/", reportviews.outcomes_page, name="event-outcomes"),
    path(f"e/{CODE}/outcomes.pdf", reportviews.outcomes_pdf, name="event-outcomes-pdf"),
    path(f"e/{CODE}/claims.csv", reportviews.claims_csv, name="event-claims-csv"),
    path(f"e/{CODE}/recap/", reportviews.recap_edit, name="event-recap"),
    path(f"e/{CODE}/recap.md", reportviews.recap_markdown, name="event-recap-md"),
    path(f"e/{CODE}/recap.pdf", reportviews.recap_pdf, name="event-recap-pdf"),
    path("recap/<str:token>/", reportviews.recap_public, name="recap-public"),
    path(f"e/{CODE}/polls/<int:poll_id>/results.json", views.poll_results, name="poll-results"),
    path(f"e/{CODE}/invite.ics", views.event_invitation, name="event-invitation"),
    path(f"e/{CODE}/images/<int:image_id>", views.case_image, name="case-image"),
    # The claim's public address is /claim/ (issue 15); /credit/ stays for links already sent.
    path(f"e/{CODE}/claim/", creditviews.credit_claim, name="event-claim"),
    path(f"e/{CODE}/credit/", creditviews.credit_claim, name="credit-claim"),
    path(f"e/{CODE}/followup/", followupviews.followup_signup, name="event-followup"),
    path("f/<str:token>/", followupviews.followup_answer, name="followup-answer"),
    path("f/<str:token>/unsubscribe/", followupviews.followup_unsubscribe, name="followup-unsubscribe"),
    path(f"e/{CODE}/credit/<str:token>/", creditviews.credit_certificate, name="credit-certificate"),
    path(f"e/{CODE}/credit/<str:token>.pdf", creditviews.credit_certificate_pdf, name="credit-certificate-pdf"),
]
