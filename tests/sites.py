"""Sites of a test's own for the copy, backup and restore tests: a data directory whose database holds every kind
of row paperfeed keeps (papers, accounts, votes, comments, collections, tokens, embeddings, digests, sessions, the
admin log…), and `paperfeed` run on it as an operator runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import SMALL, site_env

FILL = r"""
import json, os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "paperfeed.settings"
import django
django.setup()
from datetime import date, datetime, timedelta, timezone
import numpy as np
from django.core.management import call_command
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.backends.db import SessionStore
from paperfeed.api.models import ApiToken
from paperfeed.community.models import AuthorClaim, Collection, CollectionItem, Comment, Interests, Profile, RateEvent
from paperfeed.digests.models import Delivery, Subscription
from paperfeed.papers.models import Author, HarvestState, Organization, Paper, PaperEmbedding, Vote
from paperfeed.papers.services.loading import load_jsonl
from paperfeed.recommend.models import Dismissal, LibraryItem, UserModelState

call_command("migrate", verbosity=0)
load_jsonl(sys.argv[1])
papers = list(Paper.objects.order_by("id"))
at = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=timezone.utc)
org = Organization.objects.create(name="Zürich Lab", slug="zurich-lab", url="https://example.org")
Paper.objects.filter(id=papers[0].id).update(organization=org, hidden=True)
ada = User.objects.create_user("ada", "ada@example.org", "a long enough password", first_name="Ada")
zoe = User.objects.create_user("Zoë", "zoe@example.org", "another long password", is_staff=True)
for user in (ada, zoe):
    Profile.objects.create(user=user, display_name=user.username, email_verified=True)
moderators = Group.objects.create(name="moderators")
moderators.permissions.add(Permission.objects.get(codename="change_paper"))
zoe.groups.add(moderators)
zoe.user_permissions.add(Permission.objects.get(codename="delete_comment"))
for i, paper in enumerate(papers[:6]):
    Vote.objects.create(user=ada if i % 2 else zoe, paper=paper, created_at=at + timedelta(minutes=i))
first = Comment.objects.create(paper=papers[1], author=ada, body="Nice: $x^2$", body_html="<p>Nice</p>", created_at=at)
Comment.objects.create(
    paper=papers[1], author=zoe, parent=first, body="Agreed 👍", body_html="<p>Agreed 👍</p>",
    edited_at=at + timedelta(hours=1),
)
reading = Collection.objects.create(owner=ada, name="Reading group", slug="reading-group", public=True)
CollectionItem.objects.create(collection=reading, paper=papers[2])
CollectionItem.objects.create(collection=reading, paper=papers[3])
AuthorClaim.objects.create(user=ada, paper=papers[2], author=papers[2].authorships.first().author)
ApiToken.objects.create(user=ada, name="bot", digest="ab" * 32, prefix="pf_abcd", last_used_at=at)
RateEvent.objects.create(scope="signin", key="127.0.0.1", at=at)
vectors = np.random.default_rng(7).standard_normal((len(papers), 384)).astype(np.float16)
for paper, vector in zip(papers, vectors):
    PaperEmbedding.objects.create(paper=paper, model="test-model", vector=vector.tobytes())
HarvestState.objects.create(name="arxiv-oai:cs", state={"token": None, "page": 3, "from": "2026-03-01", "ratio": 0.25})
HarvestState.objects.update(updated_at=at)  # auto_now: a copy must keep the stored time, not stamp its own
Interests.objects.create(
    user=ada, categories=["cs.CL", "cs.LG"], saved_searches=[{"query": "retrieval", "mode": "keyword"}],
    include_keywords=["ünïcode"],
)
subscription = Subscription.objects.create(email="ada@example.org", user=ada, status="active", confirmed_at=at)
subscription.interests.authors.add(Author.objects.order_by("id").first())
subscription.interests.organizations.add(org)
Delivery.objects.create(
    subscription=subscription, period="daily:2026-03-01", status="sent", sent_at=at, paper_count=2,
    papers=[papers[0].id, papers[1].id], listed_through=date(2026, 3, 1),
)
LibraryItem.objects.create(user=ada, title="Attention", source_format="bibtex", year=2017, paper=papers[4],
                           embedding=bytes(range(256)))
Dismissal.objects.create(user=zoe, paper=papers[5])
UserModelState.objects.create(
    user=ada, weights=np.arange(384, dtype=np.float32).tobytes(), bias=-0.1234567890123, term_bias=1e-300,
    embedding_model="test-model", fingerprint="f" * 64, positives=3,
)
LogEntry.objects.create(
    user=zoe, content_type=ContentType.objects.get_for_model(Paper), object_id=str(papers[0].id),
    object_repr=papers[0].title[:200], action_flag=CHANGE, change_message="Hidden", action_time=at,
)
session = SessionStore()
session["member"] = ada.id
session.create()
from paperfeed.papers.retrieval import keyword_problem, sync_keyword_index
sync_keyword_index()  # as the running site would have, after the paper hidden above
assert keyword_problem() is None
print(json.dumps({"papers": len(papers)}))
"""


def paperfeed(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """`paperfeed ARGS` in a subprocess, as an operator runs it."""
    return subprocess.run(
        [sys.executable, "-m", "paperfeed", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def python(env: dict[str, str], script: str, *args: str) -> dict:
    """A Python script in a paperfeed process of that site; its last line of output, read as JSON."""
    done = subprocess.run([sys.executable, "-c", script, *args], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def sqlite_env(data_dir: Path) -> dict[str, str]:
    """A site on SQLite in `data_dir`, whichever database the suite runs on."""
    env = site_env(data_dir)
    env.pop("PAPERFEED_DATABASE_URL", None)
    return env


def filled_site(env: dict[str, str]) -> int:
    """Fill the site's database with the small corpus and one or more rows of every kind; returns the papers."""
    Path(env["PAPERFEED_DATA_DIR"]).mkdir(parents=True, exist_ok=True)
    return python(env, FILL, str(SMALL))["papers"]


def with_database(env: dict[str, str], url: str | None) -> dict[str, str]:
    changed = {**env}
    if url:
        changed["PAPERFEED_DATABASE_URL"] = url
    else:
        changed.pop("PAPERFEED_DATABASE_URL", None)
    return changed


def pgserver_bin() -> str:
    """The bin folder of PyPI's pgserver: pg_dump and pg_restore as new as its PostgreSQL."""
    import pgserver

    return str(Path(pgserver.__file__).parent / "pginstall" / "bin")


def with_path_first(env: dict[str, str], folder: str) -> dict[str, str]:
    return {**env, "PATH": folder + os.pathsep + env.get("PATH", "")}
