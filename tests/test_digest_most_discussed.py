"""The Most discussed section: the papers of the digest's list days with the most visible comments.

The 10-paper corpus is listed on 2026-06-26 (2606.00007, 00009, 00010), 06-29 (00003, hep-th/9901001),
06-30 (00001, 00002) and 07-01 (00005, 00006, 00008); see tests/data/small.jsonl.
"""

from datetime import UTC, datetime, timedelta

import pytest
from conftest import digest_subscription
from django.contrib.auth.models import User

from paperfeed.community.models import Comment
from paperfeed.digests.models import Subscription
from paperfeed.digests.services.compose import compose_for
from paperfeed.digests.services.render import DigestRenderer
from paperfeed.papers.models import Paper

pytestmark = pytest.mark.django_db

MORNING = datetime(2026, 7, 2, 8, 0, tzinfo=UTC)  # a first daily digest holds the 07-01 list; a weekly one all four
WEEKLY = {"frequency": "weekly", "weekday": 3}


def subscriber(email="ada@example.org", **preferences) -> Subscription:
    return digest_subscription(email, top_trending=0, status=Subscription.Status.ACTIVE, **preferences)


def comments(arxiv_id: str, count: int, body: str = "Interesting.", at: datetime = MORNING, **fields) -> None:
    author, _ = User.objects.get_or_create(username="commenter")
    paper = Paper.objects.get(arxiv_id=arxiv_id)
    for _ in range(count):
        Comment.objects.create(
            paper=paper,
            author=author,
            body=body,
            body_html=f"<p>{body}</p>",
            created_at=at - timedelta(hours=1),
            **fields,
        )


def discussed(digest) -> list[tuple[str, tuple[str, ...]]]:
    return [(item.card.paper.arxiv_id, item.reasons) for item in digest.items_of("most_discussed")]


def test_the_papers_with_the_most_comments_come_first_with_their_count(corpus):
    comments("2606.00006", 2)
    comments("2606.00005", 4)
    comments("2606.00008", 3)
    digest = compose_for(subscriber(), MORNING)
    assert discussed(digest) == [
        ("2606.00005", ("4 comments",)),
        ("2606.00008", ("3 comments",)),
        ("2606.00006", ("2 comments",)),
    ]


def test_hidden_comments_and_deleted_placeholders_do_not_count(corpus):
    comments("2606.00005", 1)
    comments("2606.00005", 3, hidden=True)
    comments("2606.00005", 3, body="")  # deleted, kept for their replies
    comments("2606.00008", 2)
    comments("2606.00008", 5, body="")
    assert discussed(compose_for(subscriber(), MORNING)) == [("2606.00008", ("2 comments",))]


def test_fewer_than_two_comments_is_not_a_discussion(corpus):
    comments("2606.00005", 1)
    comments("2606.00006", 1)
    assert compose_for(subscriber(), MORNING).is_empty


def test_only_papers_of_the_digests_own_list_days(corpus):
    comments("2606.00001", 9)  # listed on 06-30: in the weekly digest, not in the daily one of 07-02
    comments("2606.00008", 2)
    assert discussed(compose_for(subscriber(), MORNING)) == [("2606.00008", ("2 comments",))]
    weekly = compose_for(subscriber("b@example.org", **WEEKLY), MORNING)
    assert discussed(weekly) == [("2606.00001", ("9 comments",)), ("2606.00008", ("2 comments",))]


def test_comments_written_after_the_run_do_not_count(corpus):
    comments("2606.00008", 2, at=MORNING + timedelta(hours=3))
    assert compose_for(subscriber(), MORNING).is_empty


def test_hidden_papers_are_never_sent(corpus):
    comments("2606.00008", 5)
    Paper.objects.filter(arxiv_id="2606.00008").update(hidden=True)
    assert compose_for(subscriber(), MORNING).is_empty


def test_three_at_most_and_none_already_in_the_digest(corpus):
    for n, arxiv_id in enumerate(["2606.00007", "2606.00009", "2606.00010", "2606.00003", "2606.00008"]):
        comments(arxiv_id, 6 - n)
    weekly = compose_for(subscriber(**WEEKLY), MORNING)
    assert [a for a, _ in discussed(weekly)] == ["2606.00007", "2606.00009", "2606.00010"]
    # 2606.00009 is cs.CL: the subscriber's interests show it first, and the next most discussed takes its place.
    weekly = compose_for(subscriber("b@example.org", categories=["cs.CL"], **WEEKLY), MORNING)
    assert [a for a, _ in discussed(weekly)] == ["2606.00007", "2606.00010", "2606.00003"]


def test_the_maximum_cuts_the_longer_section_first(corpus):
    comments("2606.00009", 4)  # cs.CL, hep-th and cs.CR: none of them in the subscriber's category
    comments("hep-th/9901001", 3)
    comments("2606.00006", 2)
    subscription = subscriber(categories=["cs.LG"], max_papers=4, **WEEKLY)  # seven cs.LG papers on the lists
    digest = compose_for(subscription, MORNING)
    # Four matches and three discussed, cut to four: 3 + 3, then the later of the equals, 3 + 2, then 2 + 2.
    assert len(digest.matches) == 2
    assert discussed(digest) == [("2606.00009", ("4 comments",)), ("hep-th/9901001", ("3 comments",))]


def test_the_section_is_shown_in_the_email(corpus, settings):
    settings.PAPERFEED_SITE_URL = "https://papers.example.org"
    comments("2606.00008", 2)
    message = DigestRenderer().message(compose_for(subscriber(), MORNING))
    assert "MOST DISCUSSED\n\n1. Cross-Lingual" in message.body and "· 2 comments" in message.body
    assert "Most discussed</h2>" in message.alternatives[0][0]
