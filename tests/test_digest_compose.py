"""Which papers a digest holds: periods in the subscriber's calendar, preferences, nothing twice, nothing hidden.

The 10-paper corpus is listed on 2026-06-26, 06-29, 06-30 and 07-01 (see tests/data/small.jsonl).
"""

from datetime import UTC, date, datetime, timedelta

import pytest
from conftest import digest_subscription
from django.contrib.auth.models import User

from paperfeed.digests.models import Delivery, Subscription
from paperfeed.digests.services.compose import compose_for, has_keyword, normalize_keyword
from paperfeed.digests.services.schedule import current_period, is_due, list_window
from paperfeed.papers.models import Author, Organization, Paper, Vote

pytestmark = pytest.mark.django_db

MORNING = datetime(2026, 7, 2, 8, 0, tzinfo=UTC)  # 08:00 UTC: the day after the last list, digests due at 07:00


def subscriber(email="ada@example.org", **preferences) -> Subscription:
    preferences = {"top_trending": 0, "status": Subscription.Status.ACTIVE, **preferences}
    return digest_subscription(email, **preferences)


def ids(digest, section=None) -> list[str]:
    items = digest.items if section is None else getattr(digest, section)
    return [item.card.paper.arxiv_id for item in items]


def record(digest) -> None:
    """Log the digest as sent, as a `digest send` run does."""
    Delivery.objects.create(
        subscription=digest.subscription,
        period=digest.period.key,
        status=Delivery.Status.SENT,
        papers=digest.paper_ids,
        listed_through=digest.listed_through,
    )


def upvote(arxiv_ids: list[str], at: datetime, voters: int = 1) -> None:
    for n in range(voters):
        user, _ = User.objects.get_or_create(username=f"voter{n}")
        for arxiv_id in arxiv_ids:
            Vote.objects.get_or_create(
                user=user, paper=Paper.objects.get(arxiv_id=arxiv_id), defaults={"created_at": at}
            )


# --- periods ---


def test_the_same_instant_is_a_different_day_in_tokyo_and_los_angeles():
    now = datetime(2026, 7, 1, 22, 30, tzinfo=UTC)  # Tokyo 07:30 on 2 July; Los Angeles 15:30 on 1 July
    tokyo = current_period("daily", 0, "Asia/Tokyo", 7, now)
    los_angeles = current_period("daily", 0, "America/Los_Angeles", 7, now)
    assert (tokyo.key, is_due(tokyo, now)) == ("daily:2026-07-02", True)
    assert (los_angeles.key, is_due(los_angeles, now)) == ("daily:2026-07-01", True)
    earlier = datetime(2026, 7, 1, 21, 0, tzinfo=UTC)  # Tokyo 06:00: its hour has not come yet
    assert not is_due(current_period("daily", 0, "Asia/Tokyo", 7, earlier), earlier)


def test_a_weekly_digest_is_due_from_its_weekday_and_hour_on_until_the_week_ends():
    # Thursday 2 July 2026 is in ISO week 27; weekday 3 is Thursday.
    thursday_morning = datetime(2026, 7, 2, 6, 0, tzinfo=UTC)
    period = current_period("weekly", 3, "Europe/Paris", 9, thursday_morning)  # 08:00 in Paris
    assert period.key == "weekly:2026-W27" and not is_due(period, thursday_morning)
    later = datetime(2026, 7, 2, 7, 0, tzinfo=UTC)  # 09:00 in Paris
    assert is_due(current_period("weekly", 3, "Europe/Paris", 9, later), later)
    saturday = datetime(2026, 7, 4, 12, 0, tzinfo=UTC)
    assert is_due(current_period("weekly", 3, "Europe/Paris", 9, saturday), saturday)
    monday = datetime(2026, 7, 6, 12, 0, tzinfo=UTC)  # a new week: not due before its Thursday
    period = current_period("weekly", 3, "Europe/Paris", 9, monday)
    assert period.key == "weekly:2026-W28" and not is_due(period, monday)


def test_an_unknown_time_zone_counts_as_utc_rather_than_stopping_the_run():
    period = current_period("daily", 0, "Mars/Olympus_Mons", 7, MORNING)
    assert period.key == "daily:2026-07-02" and period.due_at.utcoffset() == timedelta(0)


def test_a_daily_digest_picks_up_the_lists_where_the_last_one_stopped():
    period = current_period("daily", 0, "UTC", 7, MORNING)
    assert list_window(period, None, date(2026, 7, 1)).start == date(2026, 7, 1)  # first: the newest list only
    assert list_window(period, date(2026, 6, 29), date(2026, 7, 1)).start == date(2026, 6, 29)
    assert list_window(period, date(2026, 5, 1), date(2026, 7, 1)).start == date(2026, 6, 26)  # a week at most
    assert list_window(period, None, date(2026, 5, 1)).start is None  # nothing recent at all


# --- preferences ---


def test_a_daily_digest_holds_the_newest_list_in_the_subscribers_categories(corpus):
    digest = compose_for(subscriber(categories=["cs.LG"]), MORNING)
    # 1 July's list: 2606.00005 (cs.RO, cs.LG) and 2606.00008 (cs.CL … cs.LG); 2606.00006 is cs.CR only.
    assert sorted(ids(digest)) == ["2606.00005", "2606.00008"]
    assert digest.listed_through == date(2026, 7, 1)
    assert all(item.reasons == ("in cs.LG",) for item in digest.items)


def test_nothing_is_sent_twice_and_a_list_that_grows_later_is_still_covered(corpus):
    subscription = subscriber(categories=["cs.LG"])
    first = compose_for(subscription, MORNING)
    record(first)
    next_morning = compose_for(subscription, MORNING + timedelta(days=1))
    assert next_morning.is_empty, "the same papers again"
    # A paper added to 1 July's list after the digest went out comes with the next one.
    late = Paper.objects.get(arxiv_id="2606.00010")  # q-bio.BM, cs.LG; listed on 26 June
    late.daily_entries.create(day=date(2026, 7, 1))
    assert ids(compose_for(subscription, MORNING + timedelta(days=1))) == ["2606.00010"]


def test_a_weekly_digest_holds_the_seven_days_up_to_its_day(corpus):
    digest = compose_for(subscriber(frequency="weekly", weekday=3, categories=["cs.CL"]), MORNING)
    assert digest.period.key == "weekly:2026-W27"
    # 26 June to 2 July: both cs.CL papers, the most upvoted first (neither has votes: the newest first).
    assert ids(digest) == ["2606.00008", "2606.00009"]


def test_saved_keyword_searches_find_papers_with_every_word_and_spelled_out_acronyms(corpus):
    weekly = {"frequency": "weekly", "weekday": 3}
    digest = compose_for(subscriber(saved_searches=[{"q": "MLP", "mode": "keyword"}], **weekly), MORNING)
    # "MLP" also finds "multilayer perceptron" (2606.00007), as the search page does.
    assert sorted(ids(digest)) == ["2606.00001", "2606.00002", "2606.00007"]
    assert "matches “MLP”" in digest.items[0].reasons
    both = compose_for(
        subscriber("b@example.org", saved_searches=[{"q": "graph attention", "mode": "keyword"}], **weekly), MORNING
    )
    assert ids(both) == ["2606.00002"]


def test_include_and_exclude_keywords_match_whole_words_in_any_case(corpus):
    weekly = {"frequency": "weekly", "weekday": 3, "categories": ["cs.LG", "cs.CL"]}
    included = compose_for(subscriber(include_keywords=["ATTENTION"], **weekly), MORNING)
    assert sorted(ids(included)) == ["2606.00002", "2606.00009"]
    partial_word = compose_for(subscriber("b@example.org", include_keywords=["attent"], **weekly), MORNING)
    assert partial_word.is_empty
    excluded = compose_for(
        subscriber("c@example.org", exclude_keywords=["Survey", "small language"], **weekly), MORNING
    )
    assert "2606.00007" not in ids(excluded)  # "A Survey of Multilayer Perceptron Training"
    assert "2606.00008" not in ids(excluded)  # "… with Small Language Models"
    assert "2606.00002" in ids(excluded)  # "a small MLP baseline": "small" alone is not the phrase


def test_keyword_matching_is_whole_word_and_phrase_aware():
    text = "graph transformers scale with sparse attention.\nwe compare a small mlp-mixer baseline"
    assert has_keyword(text, ["attention"]) and has_keyword(text, ["mlp"]) and has_keyword(text, ["sparse  attention"])
    assert not has_keyword(text, ["transformer"]) and not has_keyword(text, ["mix"])
    assert normalize_keyword("  Sparse\r\nAttention ") == "sparse attention"


def test_followed_authors_and_organizations_bring_their_papers(corpus):
    lab = Organization.objects.create(name="Robotics Lab", slug="robotics-lab")
    Paper.objects.filter(arxiv_id="2606.00005").update(organization=lab)
    lecun = Author.objects.get(name="Yann LeCun")
    weekly = {"frequency": "weekly", "weekday": 3}
    digest = compose_for(subscriber(authors=[lecun], organizations=[lab], **weekly), MORNING)
    reasons = {item.card.paper.arxiv_id: item.reasons for item in digest.items}
    assert reasons == {"2606.00007": ("by Yann LeCun",), "2606.00005": ("from Robotics Lab",)}


def test_the_top_trending_papers_come_first_and_only_once(corpus):
    upvote(["2606.00003"], MORNING - timedelta(hours=2), voters=3)
    upvote(["hep-th/9901001"], MORNING - timedelta(hours=2), voters=2)
    upvote(["2606.00009"], MORNING - timedelta(hours=2), voters=1)
    subscription = subscriber(top_trending=2, categories=["cs.CL"])
    digest = compose_for(subscription, MORNING)
    assert ids(digest, "trending") == ["2606.00003", "hep-th/9901001"]
    assert digest.trending[0].reasons == ("trending #1",)
    assert ids(digest, "matches") == ["2606.00008"]
    record(digest)
    # The next day the same two are still on top: they are not sent again.
    assert compose_for(subscription, MORNING + timedelta(days=1)).is_empty


def test_without_recent_votes_there_is_no_trending_section(corpus):
    assert compose_for(subscriber(top_trending=10), MORNING).is_empty


def test_hidden_papers_are_never_sent(corpus):
    upvote(["2606.00008"], MORNING - timedelta(hours=1))
    Paper.objects.filter(arxiv_id="2606.00008").update(hidden=True)
    digest = compose_for(subscriber(top_trending=5, categories=["cs.LG"]), MORNING)
    assert ids(digest) == ["2606.00005"]


def test_the_maximum_cuts_the_longer_section_first(corpus):
    upvote(["2606.00001", "2606.00002", "2606.00003"], MORNING - timedelta(hours=1))
    weekly = {"frequency": "weekly", "weekday": 3, "categories": ["cs.LG", "cs.CL", "cs.CR"]}
    digest = compose_for(subscriber(top_trending=3, max_papers=4, **weekly), MORNING)
    assert len(digest.trending) == 2 and len(digest.matches) == 2
    assert len(compose_for(subscriber("b@example.org", top_trending=1, max_papers=4, **weekly), MORNING).matches) == 3


def test_a_subscriber_with_nothing_new_gets_an_empty_digest(corpus):
    digest = compose_for(subscriber(categories=["hep-ex"]), MORNING)
    assert digest.is_empty and digest.listed_through == date(2026, 7, 1)


# --- search by meaning ---


@pytest.fixture
def own_data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path  # the vector index lives here, apart from other tests'


def test_a_semantic_saved_search_finds_papers_by_meaning(corpus, own_data_dir):
    from paperfeed.papers.services.embedding import embed_pending

    assert embed_pending().embedded == 10
    weekly = {"frequency": "weekly", "weekday": 3}
    search = [{"q": "teaching robots to grasp objects", "mode": "semantic"}]
    digest = compose_for(subscriber(saved_searches=search, **weekly), MORNING)
    # Found by meaning, at a cosine similarity of about 0.49 to "Diffusion Policies for Robot Manipulation".
    assert ids(digest) == ["2606.00005"]  # and nothing else: MLPs and protein folding are not near enough
    assert digest.items[0].reasons == ("matches “teaching robots to grasp objects”",)


def test_without_a_vector_index_a_semantic_search_answers_by_keyword(corpus, own_data_dir):
    weekly = {"frequency": "weekly", "weekday": 3}
    digest = compose_for(subscriber(saved_searches=[{"q": "protein folding", "mode": "semantic"}], **weekly), MORNING)
    assert ids(digest) == ["2606.00010"]
