"""paperfeed recommend refit|show: keep users' recommendation models in step, and look at what they recommend."""

from __future__ import annotations

import signal
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from paperfeed.core.embedder import ModelError, default_embedder
from paperfeed.recommend.services import ranking, terms, training


class Command(BaseCommand):
    help = (
        "Recommendation models: `refit` embeds imported library entries that matched no paper and refits the "
        "models whose signals changed (every model with --all, one user's with --user; --watch repeats); "
        "`show USER` prints a user's For you list with the reason for each paper."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="refit|show")
        refit = actions.add_parser("refit", help="refit stale models (and embed new library entries)")
        refit.add_argument("--user", action="append", metavar="USER", help="only this user (repeatable)")
        refit.add_argument("--all", action="store_true", help="every user with signals, stale or not")
        refit.add_argument("--watch", type=float, metavar="SECONDS", help="run forever, every SECONDS")
        show = actions.add_parser("show", help="print a user's recommendations with their reasons")
        show.add_argument("user", metavar="USER")
        show.add_argument("--limit", type=int, default=10, metavar="N")

    def handle(self, *args, action: str, **options):
        if action == "show":
            self.show(options["user"], options["limit"])
            return
        watch = options["watch"]
        if watch is not None and watch <= 0:
            raise CommandError("--watch takes a number of seconds above 0", returncode=2)
        users = [self._user(name) for name in options["user"] or ()]
        if watch is None:
            self.refit(users, options["all"])
            return
        stopping: list[bool] = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        while not stopping:
            self.refit(users, options["all"], quiet=True)
            deadline = time.monotonic() + watch
            while not stopping and time.monotonic() < deadline:
                time.sleep(min(1.0, watch))

    def _user(self, name: str):
        user = get_user_model().objects.filter(Q(username=name) | Q(email__iexact=name)).first()
        if user is None:
            raise CommandError(f"there is no user {name!r} (give a username or an email address)", returncode=2)
        return user

    def refit(self, users: list, everyone: bool, quiet: bool = False) -> None:
        reason = terms.why_rebuild()
        if reason:
            self.stdout.write(f"Fitting the term index ({reason})…")
            self.stdout.flush()
            index = terms.rebuild()
            if index is not None:
                self.stdout.write(
                    f"The term index holds {index.features:,} words and pairs from {index.papers:,} papers."
                )
        matched = training.rematch_library_items()
        try:
            embedded = training.embed_library_items(default_embedder())
        except ModelError as error:
            self.stderr.write(f"Library entries that matched no paper cannot be embedded: {error}")
            embedded = 0
        if users:
            ids = [u.pk for u in users]
        elif everyone:
            ids = sorted(training.signal_service.fingerprint_table()[1] | set(training.stale_user_ids()))
        else:
            ids = training.stale_user_ids()
        refitted, removed = training.refit_users(ids)
        if quiet and not (matched or embedded or refitted or removed):
            return
        parts = [f"Refitted {refitted:,} model{'s' if refitted != 1 else ''}"]
        if removed:
            parts.append(f"removed {removed:,} of users who no longer have any signal")
        if embedded:
            parts.append(f"embedded {embedded:,} library entries")
        if matched:
            parts.append(f"matched {matched:,} library entries to papers that arrived since")
        self.stdout.write("; ".join(parts) + ".")
        self.stdout.flush()

    def show(self, name: str, limit: int) -> None:
        if not 1 <= limit <= 100:
            raise CommandError("--limit takes a number from 1 to 100", returncode=2)
        user = self._user(name)
        result = ranking.for_you(user, limit=limit)
        how = {
            "model": f"ranked by a model of {result.positives:,} papers {user.username} liked",
            "follows": "cold start: what they follow, then trending",
            "starter": "no signals and no follows: trending, then new",
        }[result.mode]
        self.stdout.write(f"For you, {user.username} ({how}):")
        if not result.items:
            self.stdout.write("  nothing to recommend.")
        for number, item in enumerate(result.items, 1):
            self.stdout.write(f"{number:3}. {item.card.paper.address}  {' '.join(item.card.paper.title.split())}")
            self.stdout.write(f"     {item.reason.text}")
