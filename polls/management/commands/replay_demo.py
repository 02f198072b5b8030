"""`manage.py replay_demo`: the demo event played through (polls/demo_replay.py), and its report.

Rebuilds event CASE2 with every vote: run it on a scratch database (`make report-screenshots`
does), not on one whose demo event you want to keep.
"""

import shutil
import subprocess
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.template.loader import render_to_string

from polls.demo_replay import replay_demo
from polls.reports import build, files


class Command(BaseCommand):
    help = (
        "Delete and rebuild the demo event CASE2, then play it through as ten participants and a panel of "
        "three would (7 vs 3 on the first question, a second round, a rating, a number, a ranking, free "
        "text). --report-pdf writes its report; --screenshots DIR renders each PDF page to DIR/report-N.png."
    )

    def add_arguments(self, parser):
        parser.add_argument("--live", action="store_true", help="Leave the event live (its report is a snapshot).")
        parser.add_argument("--report-pdf", type=Path, help="Write the event report as a PDF here.")
        parser.add_argument("--screenshots", type=Path, help="Render the report's pages as PNG into this folder.")
        parser.add_argument("--resolution", type=int, default=60, help="Screenshot resolution in DPI (default 60).")

    def handle(self, *args, **options):
        replay = replay_demo(end=not options["live"])
        self.stdout.write(
            f"Replayed {replay.event.code}: {len(replay.audience)} participants, {len(replay.polls)} polls."
        )
        if not options["report_pdf"] and not options["screenshots"]:
            return
        html = render_to_string(
            "polls/report/report.html", {"report": build.event_report(event=replay.event), "pdf": True}
        )
        pdf = files.html_to_pdf(html)
        if options["report_pdf"]:
            options["report_pdf"].write_bytes(pdf)
            self.stdout.write(f"Wrote {options['report_pdf']}")
        if options["screenshots"]:
            self._screenshots(pdf, options["screenshots"], options["resolution"])

    def _screenshots(self, pdf: bytes, folder: Path, resolution: int) -> None:
        pdftoppm = shutil.which("pdftoppm")
        if pdftoppm is None:
            raise CommandError("pdftoppm is missing: install Debian's poppler-utils.")
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("report-*.png"):
            old.unlink()
        with tempfile.TemporaryDirectory() as scratch:
            source = Path(scratch) / "report.pdf"
            source.write_bytes(pdf)
            command = [pdftoppm, "-png", "-r", str(resolution), str(source), str(Path(scratch) / "page")]
            subprocess.run(command, check=True)  # noqa: S603 (our own paths and an int, no shell)
            pages = sorted(Path(scratch).glob("page-*.png"), key=lambda p: int(p.stem.split("-")[-1]))
            for page in pages:
                target = folder / f"report-{int(page.stem.split('-')[-1])}.png"
                shutil.move(page, target)
        self.stdout.write(f"Wrote {len(pages)} pages to {folder}/report-N.png")
