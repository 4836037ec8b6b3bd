"""Cards: the ORM path against the hand-written SQL it replaced, on a full page, in one run (issue 15, item 5).

    PAPERFEED_DATA_DIR=.test-data/load/sqlite python bench/cards_paths.py [--pages 60]

The issue's rule: cards go back on the ORM unless the hand-written path is more than twice as fast on a full page.
This script measures exactly that, on the site's own data (any data directory with papers: the demo corpus that
`make serve` or bench/load.py loads will do). The hand-written path is the module as it was at commit 65a78cd,
read from git (so it is not kept twice in the tree); both are patched in turn into the places that call cards, and
the daily list (50 cards) and a paper page are rendered through Django's test client, the page cache off, for a
visitor and for a member, alternating the two paths so both see the same machine. Prints a Markdown table of CPU
milliseconds per page and the ratio; exits 1 if the two paths render different pages.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HAND_WRITTEN_AT = "65a78cd"
MODULE = "src/paperfeed/papers/services/cards.py"


def hand_written_module():
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{HAND_WRITTEN_AT}:{MODULE}"], capture_output=True,
                            text=True, check=True).stdout  # fmt: skip
    spec = importlib.util.spec_from_loader("cards_hand_written", loader=None)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    exec(compile(source, f"{HAND_WRITTEN_AT}:{MODULE}", "exec"), module.__dict__)
    return module


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=60, help="renders per page, path and visitor (default 60)")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paperfeed.settings")
    os.environ["PAPERFEED_CACHE_URL"] = "dummy://"  # every request renders: the page cache would measure itself
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.test import Client

    from paperfeed.papers.models import Paper
    from paperfeed.papers.services import cards as orm
    from paperfeed.papers.services import listing
    from paperfeed.site import pages as views

    settings.ALLOWED_HOSTS = ["*"]
    if not Paper.objects.exists():
        sys.exit("no papers here: point PAPERFEED_DATA_DIR at a site with papers (make serve loads the demo)")
    hand = hand_written_module()
    member, _ = User.objects.get_or_create(username="cards-bench")
    visitor, signed_in = Client(), Client()
    signed_in.force_login(member)
    paper = Paper.objects.visible().order_by("-published").values_list("arxiv_id", flat=True).first()
    pages = {"daily list (50 cards)": "/", "paper page (similar cards)": f"/papers/{paper}"}
    paths = {"ORM": orm, "hand-written SQL": hand}

    def use(module) -> None:
        for place in (views, listing):
            place.cards_for_ids = module.cards_for_ids
        listing.with_upvotes = module.with_upvotes

    rows, differ = [], []
    for page_name, url in pages.items():
        for who, client in (("visitor", visitor), ("member", signed_in)):
            spent = {name: 0.0 for name in paths}
            bodies = {}
            for name, module in paths.items():  # once each, unmeasured: imports, templates, connection
                use(module)
                # A form's CSRF token is masked afresh on every render: compared without it.
                bodies[name] = re.sub(rb'name="csrfmiddlewaretoken" value="[^"]*"', b"", client.get(url).content)
            if bodies["ORM"] != bodies["hand-written SQL"]:
                differ.append(f"{page_name}, {who}")
            for _ in range(args.pages):
                for name, module in paths.items():
                    use(module)
                    started = time.process_time()
                    response = client.get(url)
                    spent[name] += time.process_time() - started
                    assert response.status_code == 200, (url, response.status_code)
            orm_ms, hand_ms = (1000 * spent[n] / args.pages for n in paths)
            rows.append(f"| {page_name}, {who} | {orm_ms:.1f} | {hand_ms:.1f} | {orm_ms / hand_ms:.2f}× |")
    use(orm)
    print(f"Papers: {Paper.objects.count():,}; {args.pages} renders per page, path and visitor; CPU time.\n")
    print("| page | ORM ms | hand-written SQL ms | ORM ÷ hand-written |")
    print("|---|---:|---:|---:|")
    print("\n".join(rows))
    if differ:
        print(f"\nThe two paths rendered different pages: {differ}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
