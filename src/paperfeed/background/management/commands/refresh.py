"""paperfeed refresh github|hf-artifacts: one refresh pass now, as the worker runs them in the background."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from paperfeed.papers.services.refresh import github, hf_artifacts

PASSES = {"github": github.refresh, "hf-artifacts": hf_artifacts.refresh}


class Command(BaseCommand):
    help = (
        "Run one refresh pass now: `github` asks GitHub for the stars of the code repositories of the papers due a "
        "check, `hf-artifacts` asks Hugging Face for the models, datasets and Spaces citing them. The worker runs "
        "both in the background. Exit code 0: papers were checked; 1: none was due or none could be checked."
    )

    def add_arguments(self, parser):
        parser.add_argument("what", choices=sorted(PASSES), help="which refresh to run")
        parser.add_argument(
            "--batch", type=int, default=None, help="papers to check at most (default: as the worker does)"
        )
        parser.add_argument("--pause", type=float, default=1.0, help="seconds between two requests (default 1)")

    def handle(self, *args, what: str, batch: int | None, pause: float, **options):
        if batch is not None and batch < 1:
            raise CommandError("--batch must be at least 1", returncode=2)
        if pause < 0:
            raise CommandError("--pause must be at least 0", returncode=2)
        report = PASSES[what](batch, pause)
        self.stdout.write(report.line())
        if not report.checked:
            raise SystemExit(1)
