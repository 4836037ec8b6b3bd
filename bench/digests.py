"""Benchmark: compose, render and send the email digests of 10,000 subscribers with mixed preferences.

    export PAPERFEED_DATA_DIR=/tmp/pf-digest-bench     # a scratch data directory: its subscribers are replaced
    .venv/bin/python bench/digests.py [--subscribers 10000] [--sink locmem|smtp] [--seed 7]

On an empty database it loads the bundled demo corpus first (5,921 papers listed over 21 days, with their
embeddings and vector index, as `paperfeed serve` does); with PAPERFEED_DATA_DIR pointing at a loaded full corpus
it uses that. It adds 400 voters' recent upvotes (so trending has something to show), then replaces all
subscribers with `--subscribers` new ones: trending only, categories, include/exclude keywords, saved keyword
searches, a few semantic and hybrid searches (when a vector index exists), followed authors and organizations;
three in ten weekly; spread over 16 time zones, every one of them due at the benchmark's clock.

Then it times, at that clock:
1. `digest send --dry-run`: finding who is due and composing every digest (no rendering, nothing written);
2. `digest send`: claiming, composing, rendering (text + HTML) and sending every digest, and logging each —
   to Django's in-memory backend (`--sink locmem`, the default: each message is built as for SMTP and kept), or
   to a real SMTP server on loopback (`--sink smtp`: aiosmtpd's Sink handler in its own process, which reads
   and discards every message; it is pure Python and shares the machine's two cores, so it takes a good part of
   the time itself);
3. the next cron tick, when every digest of the period is done.
The machine is shared: the last line says how busy the rest of it was.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paperfeed.settings")
import django  # noqa: E402

django.setup()
from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core import mail  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402
from django.db.models import Count, Max  # noqa: E402

from paperfeed.community.models import Interests  # noqa: E402
from paperfeed.digests.models import Delivery, Subscription  # noqa: E402
from paperfeed.digests.services import sending  # noqa: E402
from paperfeed.papers.models import Author, Authorship, DailyEntry, Organization, Paper, Vote  # noqa: E402
from paperfeed.papers.retrieval import vectors  # noqa: E402
from paperfeed.papers.services import demo  # noqa: E402

TIME_ZONES = [
    "UTC", "Europe/London", "Europe/Paris", "Europe/Berlin", "Europe/Moscow", "Asia/Kolkata", "Asia/Shanghai",
    "Asia/Tokyo", "Australia/Sydney", "Pacific/Auckland", "America/Sao_Paulo", "America/New_York",
    "America/Chicago", "America/Denver", "America/Los_Angeles", "Pacific/Honolulu",
]  # fmt: skip
KEYWORD_SEARCHES = [
    "diffusion models", "large language model reasoning", "gaussian splatting", "reinforcement learning",
    "graph neural network", "retrieval augmented generation", "vision transformer", "medical image segmentation",
    "autonomous driving", "speech recognition", "federated learning", "contrastive learning", "LLM agents",
    "video generation", "3D reconstruction", "code generation", "multimodal", "benchmark", "robot manipulation",
    "quantization", "mixture of experts", "chain of thought", "hallucination", "object detection", "point cloud",
    "text-to-image", "knowledge distillation", "in-context learning", "low-rank adaptation", "tokenizer",
]  # fmt: skip
MEANING_SEARCHES = [
    "making language models explain their answers", "robots learning from human demonstrations",
    "detecting tumours in medical scans", "generating videos from text descriptions",
    "faster inference for large models on small devices", "fairness and bias in machine learning",
]  # fmt: skip
KEYWORDS = ["survey", "benchmark", "dataset", "transformer", "diffusion", "efficient", "agent", "medical", "robot"]


def machine_busy() -> tuple[int, int]:
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    return sum(fields) - fields[3] - fields[4], sum(fields)


def ensure_corpus() -> None:
    call_command("migrate", verbosity=0)
    if demo.needs_demo():
        start = time.perf_counter()
        summary = demo.load_demo()
        embedded = demo.load_demo_embeddings()
        print(f"(loaded the demo corpus: {summary.new:,} papers, {embedded:,} embeddings, "
              f"{time.perf_counter() - start:.0f} s)", file=sys.stderr)  # fmt: skip


def add_votes(now: datetime, rng: random.Random, voters: int = 400) -> None:
    """Recent upvotes, skewed towards a few papers of the last lists, so that trending is realistic."""
    last = DailyEntry.objects.aggregate(day=Max("day"))["day"]
    recent = list(DailyEntry.objects.filter(day__gte=last - timedelta(days=6)).values_list("paper_id", flat=True))
    Vote.objects.filter(user__username__startswith="bench-voter").delete()
    users = User.objects.bulk_create(
        [User(username=f"bench-voter{n}") for n in range(voters)], ignore_conflicts=True, batch_size=500
    )
    users = list(User.objects.filter(username__startswith="bench-voter"))
    votes = []
    for user in users:
        for pid in {rng.choice(recent[: max(len(recent) // 10, 1)]) for _ in range(3)} | {rng.choice(recent)}:
            votes.append(Vote(user=user, paper_id=pid, created_at=now - timedelta(hours=rng.uniform(1, 72))))
    Vote.objects.bulk_create(votes, ignore_conflicts=True, batch_size=1000)


def make_subscribers(count: int, now: datetime, rng: random.Random, semantic: bool) -> dict[str, int]:
    """`count` new subscribers, all due at `now`; returns how many of each kind."""
    Delivery.objects.all().delete()
    Subscription.objects.all().delete()
    Interests.objects.filter(user__isnull=True).delete()
    categories = [
        c for c, _ in Paper.objects.values_list("primary_category").annotate(n=Count("id")).order_by("-n")[:25]
    ]
    last = DailyEntry.objects.aggregate(day=Max("day"))["day"]
    recent_authors = list(
        Authorship.objects.filter(paper__daily_entries__day__gte=last - timedelta(days=7))
        .values_list("author_id", flat=True)
        .distinct()[:5000]
    )
    authors = recent_authors or list(Author.objects.values_list("id", flat=True)[:5000])
    organizations = list(Organization.objects.values_list("id", flat=True))
    kinds: dict[str, int] = {}
    rows, interests, follows = [], [], []
    for n in range(count):
        zone = rng.choice(TIME_ZONES)
        local = now.astimezone(ZoneInfo(zone))
        weekly = rng.random() < 0.3
        prefs = {
            "email": f"reader{n:05d}@bench.example.org",
            "status": Subscription.Status.ACTIVE,
            "frequency": "weekly" if weekly else "daily",
            "weekday": local.weekday(),
            "time_zone": zone,
            "hour": rng.randint(0, local.hour),
            "top_trending": 0,
            "max_papers": rng.choice([10, 20, 20, 30]),
        }
        chosen: dict[str, object] = {}
        roll = rng.random()
        if roll < 0.25:
            kind = "trending only"
            prefs["top_trending"] = rng.choice([5, 10, 10, 20])
        elif roll < 0.55:
            kind = "categories"
            chosen["categories"] = rng.sample(categories[:12], rng.randint(1, 3))
            prefs["top_trending"] = rng.choice([0, 5, 10])
        elif roll < 0.65:
            kind = "categories + include/exclude keywords"
            chosen["categories"] = rng.sample(categories[:12], rng.randint(1, 2))
            chosen["include_keywords"] = rng.sample(KEYWORDS, rng.randint(0, 2))
            chosen["exclude_keywords"] = rng.sample(KEYWORDS, 1)
        elif roll < 0.88:
            kind = "saved keyword searches"
            chosen["saved_searches"] = [
                {"q": q, "mode": "keyword"} for q in rng.sample(KEYWORD_SEARCHES, rng.randint(1, 3))
            ]
            prefs["top_trending"] = rng.choice([0, 5])
        elif roll < 0.93 and semantic:
            kind = "semantic / hybrid searches"
            chosen["saved_searches"] = [{"q": rng.choice(MEANING_SEARCHES), "mode": rng.choice(["semantic", "hybrid"])}]
        else:
            kind = "followed authors / organizations"
            prefs["top_trending"] = rng.choice([0, 10])
            follows.append((n, rng.sample(authors, min(5, len(authors))), organizations[:1] if organizations else []))
        kinds[kind] = kinds.get(kind, 0) + 1
        rows.append(Subscription(**prefs))
        interests.append(Interests(**chosen))
    with transaction.atomic():
        made = Interests.objects.bulk_create(interests, batch_size=1000)
        for row, own in zip(rows, made, strict=True):
            row.interests = own
        Subscription.objects.bulk_create(rows, batch_size=1000)
        author_links, organization_links = [], []
        for n, followed_authors, followed_organizations in follows:
            iid = made[n].id
            author_links += [Interests.authors.through(interests_id=iid, author_id=a) for a in followed_authors]
            organization_links += [
                Interests.organizations.through(interests_id=iid, organization_id=o) for o in followed_organizations
            ]
        Interests.authors.through.objects.bulk_create(author_links, batch_size=1000)
        Interests.organizations.through.objects.bulk_create(organization_links, batch_size=1000)
    kinds["weekly (of all)"] = sum(1 for r in rows if r.frequency == "weekly")
    return kinds


def smtp_sink() -> tuple[subprocess.Popen, int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Sink"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the aiosmtpd sink did not start")


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--sink", choices=["locmem", "smtp"], default="locmem")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    ensure_corpus()
    last = DailyEntry.objects.aggregate(day=Max("day"))["day"]
    # The evening after the last list in UTC: morning of the next day in Asia, afternoon of that list's day in
    # the Americas — every zone has a due digest and the newest list to put in it.
    now = datetime.combine(last, datetime.min.time(), tzinfo=UTC) + timedelta(hours=23, minutes=30)
    add_votes(now, rng)
    semantic = vectors.available("all-MiniLM-L6-v2-int8")
    kinds = make_subscribers(args.subscribers, now, rng, semantic)

    sink = None
    if args.sink == "smtp":
        sink, port = smtp_sink()
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    else:
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        mail.outbox = []
    busy_before, total_before = machine_busy()
    cpu_before = time.process_time()
    try:
        dry, dry_seconds = timed(lambda: sending.send_due(now, dry_run=True))
        run, run_seconds = timed(lambda: sending.send_due(now))
        tick, tick_seconds = timed(lambda: sending.send_due(now + timedelta(minutes=15)))
    finally:
        if sink is not None:
            sink.terminate()
    cpu = time.process_time() - cpu_before
    busy_after, total_after = machine_busy()

    papers = Paper.objects.count()
    sent_papers = sum(Delivery.objects.filter(status="sent").values_list("paper_count", flat=True))
    print(f"## Email digests, run of {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC")
    print()
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"{papers:,} papers (lists up to {last}), {Vote.objects.count():,} upvotes, vector index: "
        f"{'yes' if semantic else 'no'}; clock {now:%Y-%m-%d %H:%M} UTC; sink: "
        f"{'aiosmtpd Sink on 127.0.0.1 (own process)' if args.sink == 'smtp' else 'Django locmem backend'}."
    )
    print()
    print("| subscribers | count |")
    print("|---|---:|")
    for kind, n in kinds.items():
        print(f"| {kind} | {n:,} |")
    print()
    print("| phase | digests | emails sent | empty | seconds | digests/s |")
    print("|---|---:|---:|---:|---:|---:|")
    print(f"| due + compose (`--dry-run`) | {dry.due:,} | – | {dry.empty:,} | {dry_seconds:.1f} | "
          f"{dry.due / dry_seconds:,.0f} |")  # fmt: skip
    print(f"| **claim + compose + render + send + log** | {run.due:,} | {run.sent:,} | {run.empty:,} | "
          f"**{run_seconds:.1f}** | **{run.due / run_seconds:,.0f}** |")  # fmt: skip
    print(f"| next cron tick (all done) | {tick.due:,} | {tick.sent} | {tick.empty} | {tick_seconds:.2f} | – |")
    print()
    print(f"Papers in the sent digests: {sent_papers:,} ({sent_papers / max(run.sent, 1):.1f} per email); "
          f"failed {run.failed}, not sent {run.not_sent}.")  # fmt: skip
    share = 100 * (busy_after - busy_before) / max(total_after - total_before, 1)
    print(f"This process used {cpu:.0f} s of CPU; the whole machine was {share:.0f}% busy meanwhile.")


if __name__ == "__main__":
    main()
