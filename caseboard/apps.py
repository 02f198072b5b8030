from django.apps import AppConfig


class CaseboardConfig(AppConfig):
    """The project itself: deployment checks."""

    name = "caseboard"
    verbose_name = "Caseboard"

    def ready(self) -> None:
        from caseboard import checks  # noqa: F401 (registers the checks)
