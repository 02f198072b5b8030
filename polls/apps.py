from django.apps import AppConfig


class PollsConfig(AppConfig):
    name = "polls"
    verbose_name = "Events and polls"

    def ready(self) -> None:
        # Access ends with the session or the account, not with the socket: a logout, a
        # deactivation or a removal from an event closes that user's consoles within seconds.
        from django.contrib.auth import get_user_model
        from django.contrib.auth.signals import user_logged_out
        from django.db.models.signals import m2m_changed, post_save

        from polls import announce
        from polls.models import Event
        from polls.services.access import user_access_changed

        def logged_out(sender, request, user, **kwargs) -> None:
            user_access_changed(user=user)

        def account_saved(sender, instance, created, update_fields=None, **kwargs) -> None:
            # Every login saves last_login: that changes nobody's rights.
            if not created and set(update_fields or ()) != {"last_login"}:
                user_access_changed(user=instance)

        def moderators_changed(sender, instance, action, **kwargs) -> None:
            if action in ("post_remove", "post_clear") and isinstance(instance, Event):
                announce.access_changed(event_id=instance.pk)

        # weak=False: these receivers are local to ready(), and a weak reference would let the
        # garbage collector disconnect them (silently, some time after start-up).
        user_logged_out.connect(logged_out, weak=False, dispatch_uid="caseboard-logout-access")
        post_save.connect(account_saved, sender=get_user_model(), weak=False, dispatch_uid="caseboard-account-access")
        m2m_changed.connect(
            moderators_changed, sender=Event.moderators.through, weak=False, dispatch_uid="caseboard-moderators"
        )
