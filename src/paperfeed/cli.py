"""The `paperfeed` command: Django's management commands, with dashes allowed (load-jsonl = load_jsonl)."""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    argv[0] = "paperfeed"
    if len(argv) > 1 and not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paperfeed.settings")
    from django.core.management import execute_from_command_line
    from django.db import DatabaseError

    try:
        execute_from_command_line(argv)
    except DatabaseError as error:
        from paperfeed.site.middleware import database_trouble

        reason = database_trouble(error)
        if reason is None:
            raise
        # What was committed before stays; the transaction in hand was rolled back. Run the command again later.
        sys.exit(
            f"paperfeed {argv[1] if len(argv) > 1 else ''}: {reason} ({error}). Nothing of the step in hand "
            "was saved; run the command again once that is fixed."
        )


if __name__ == "__main__":
    main()
