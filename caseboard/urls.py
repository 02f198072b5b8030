from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    # set_language: the language switcher's POST (caseboard/i18n.py, templates/_language_switch.html).
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("polls.urls")),
]
