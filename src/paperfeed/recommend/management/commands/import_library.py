"""paperfeed import-library USER FILE: import a reference library (BibTeX, RIS, CSL JSON) as a user's signals.

Exit status 0 when every entry was read, 1 when some entries could not be read (each reported as FILE: entry N
(line L, key): what is wrong; the good ones are imported), 2 when nothing could be imported (unknown user, a file
that cannot be read as a library, too big). Unlike the web upload, the command embeds the entries that matched no
paper and refits the user's model at once.
"""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from paperfeed.core.embedder import ModelError, default_embedder
from paperfeed.core.library import MAX_BYTES
from paperfeed.recommend.services import training
from paperfeed.recommend.services.library import LibraryError, import_library

SOME_UNREADABLE = 1


class Command(BaseCommand):
    help = (
        "Import a reference library (BibTeX .bib, RIS .ris or CSL JSON .json) for a user: entries are matched to "
        "papers by arXiv id, DOI or title; the others count through their title and abstract."
    )

    def add_arguments(self, parser):
        parser.add_argument("user", metavar="USER", help="username or email address")
        parser.add_argument("file", type=Path, metavar="FILE")
        parser.add_argument(
            "--no-embed",
            action="store_true",
            help="leave embedding unmatched entries and refitting to the task queue (`paperfeed worker`)",
        )

    def handle(self, *args, user: str, file: Path, no_embed: bool, **options):
        account = get_user_model().objects.filter(Q(username=user) | Q(email__iexact=user)).first()
        if account is None:
            raise CommandError(f"there is no user {user!r} (give a username or an email address)", returncode=2)
        try:
            if file.stat().st_size > MAX_BYTES:
                size = file.stat().st_size / 1024 / 1024
                raise CommandError(
                    f"{file}: the file is {size:.1f} MB; the limit is {MAX_BYTES // 1024 // 1024} MB. "
                    "Import the library in parts. Nothing was imported.",
                    returncode=2,
                )
            data = file.read_bytes()
        except OSError as error:
            raise CommandError(f"cannot read {file}: {error.strerror}", returncode=2) from None
        try:
            report = import_library(account, data, file.name)
        except LibraryError as error:
            raise CommandError(f"{file}: {error}. Nothing was imported.", returncode=2) from None
        for problem in report.problems:
            self.stderr.write(f"{file}: {problem.describe()}")
        self.stdout.write(f"{file} ({report.format_name}) for {account.username}: {report.summary()}")
        if not no_embed and report.added:
            try:
                embedded = training.embed_library_items(default_embedder())
            except ModelError as error:
                self.stderr.write(f"Entries kept by their text will count once the model can run: {error}")
            else:
                if embedded:
                    self.stdout.write(f"Embedded the title and abstract of {embedded:,} unmatched entries.")
            state = training.refit(account)
            if state is not None:
                self.stdout.write(f"Recommendations for {account.username} now learn from {state.positives:,} papers.")
        if report.problems:
            raise SystemExit(SOME_UNREADABLE)
