"""Interests moved from the email subscription to community.Interests (community 0004, digests 0003): a database
made before, with subscribers of every kind, migrates without losing a category, search, keyword, author or
organization, and migrates back as it was. Run on a site of the test's own (its SQLite file, or its own database on
the suite's PostgreSQL), as an operator's `paperfeed migrate` runs."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import SMALL, site_env

# One process per step, each reading the migration graph afresh, as `paperfeed migrate` does.
STEP = r"""
import json, os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "paperfeed.settings"
import django
django.setup()
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

OLD = [("digests", "0002_delivery_papers"), ("community", "0003_unique_username_case")]
step = sys.argv[1]


def old_models():
    state = MigrationExecutor(connection).loader.project_state(OLD)
    return state.apps.get_model("digests", "Subscription"), state.apps


def read_old():
    Subscription, apps = old_models()
    return {
        s.email: {
            "user": s.user.username if s.user_id else None,
            "status": s.status, "hour": s.hour, "max_papers": s.max_papers,
            "categories": s.categories, "saved_searches": s.saved_searches,
            "include_keywords": s.include_keywords, "exclude_keywords": s.exclude_keywords,
            "authors": sorted(a.name for a in s.authors.all()),
            "organizations": sorted(o.slug for o in s.organizations.all()),
        }
        for s in Subscription.objects.all()
    }


if step == "old":
    call_command("migrate", "papers", verbosity=0)
    for app, name in OLD:
        call_command("migrate", app, name, verbosity=0)
    from paperfeed.papers.services.loading import load_jsonl

    load_jsonl(sys.argv[2])
    Subscription, apps = old_models()
    User = apps.get_model("auth", "User")
    Author = apps.get_model("papers", "Author")
    Organization = apps.get_model("papers", "Organization")
    ada = User.objects.create(username="ada", email="ada@example.org")
    User.objects.create(username="grace", email="grace@example.org")  # a member without a digest
    lab = Organization.objects.create(name="Lab", slug="lab")
    other = Organization.objects.create(name="Other Lab", slug="other-lab")
    authors = list(Author.objects.order_by("name")[:3])
    member = Subscription.objects.create(
        email="ada@example.org", user=ada, status="active", hour=6, max_papers=30,
        categories=["cs.CL", "cs.LG"], saved_searches=[{"q": "long context", "mode": "hybrid"}, "bare string"],
        include_keywords=["ünïcode", "attention"], exclude_keywords=["survey"],
    )
    member.authors.set(authors[:2])
    member.organizations.set([lab, other])
    anonymous = Subscription.objects.create(
        email="reader@example.org", status="pending", categories=["hep-th"],
        saved_searches=[{"q": "strings", "mode": "keyword"}],
    )
    anonymous.authors.set(authors[1:])
    anonymous.organizations.set([lab])
    Subscription.objects.create(email="empty@example.org", status="unsubscribed")
    print(json.dumps(read_old()))
elif step == "forward":
    call_command("migrate", verbosity=0)
    from paperfeed.community.models import Interests
    from paperfeed.digests.models import Subscription

    print(json.dumps({
        "subscriptions": {
            s.email: {
                "user": s.user.username if s.user_id else None,
                "interests_user": s.interests.user.username if s.interests.user_id else None,
                "status": s.status, "hour": s.hour, "max_papers": s.max_papers,
                "categories": s.interests.categories, "saved_searches": s.interests.saved_searches,
                "include_keywords": s.interests.include_keywords, "exclude_keywords": s.interests.exclude_keywords,
                "authors": sorted(a.name for a in s.interests.authors.all()),
                "organizations": sorted(o.slug for o in s.interests.organizations.all()),
            }
            for s in Subscription.objects.select_related("user", "interests__user")
        },
        "interests": Interests.objects.count(),
        "members_with_interests": sorted(
            Interests.objects.filter(user__isnull=False).values_list("user__username", flat=True)
        ),
    }))
elif step == "back":
    for app, name in OLD:
        call_command("migrate", app, name, verbosity=0)
    print(json.dumps(read_old()))
"""

MOVED = ("categories", "saved_searches", "include_keywords", "exclude_keywords", "authors", "organizations")


def step(env: dict[str, str], name: str, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", STEP, name, *args], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_every_subscriptions_interests_move_to_community_and_back(tmp_path):
    env = site_env(tmp_path / "site")
    before = step(env, "old", str(SMALL))
    assert len(before) == 3 and before["ada@example.org"]["authors"] and before["reader@example.org"]["authors"]

    after = step(env, "forward")
    subscriptions = after["subscriptions"]
    assert set(subscriptions) == set(before)
    for email, old in before.items():
        new = subscriptions[email]
        for field in (*MOVED, "user", "status", "hour", "max_papers"):
            assert new[field] == old[field], (email, field)
    # A member's interests are theirs (For you reads them); an anonymous subscriber's belong to nobody else.
    assert subscriptions["ada@example.org"]["interests_user"] == "ada"
    assert subscriptions["reader@example.org"]["interests_user"] is None
    assert after["interests"] == 3 and after["members_with_interests"] == ["ada"]

    assert step(env, "back") == before
