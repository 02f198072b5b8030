from django.apps import AppConfig


class LiveConfig(AppConfig):
    """The live runtime: consumers, routing, the per-process hub, coalescing, the vote writer,
    poll timers and rate limits. It depends on the domain (polls), never the reverse."""

    name = "polls.live"
    label = "live"
    verbose_name = "Live runtime"

    def ready(self) -> None:
        from polls import announce
        from polls.live.broadcast import LIVE_BROADCAST

        announce.subscribe(LIVE_BROADCAST)
