"""Digest sections behind one protocol: a section written here, not registered, is composed, cut and rendered
with no other change; composition's rules (nothing twice, nothing sent before, keywords, the maximum) hold for it.

The 10-paper corpus is listed on 2026-06-26, 06-29, 06-30 and 07-01 (see tests/data/small.jsonl).
"""

from datetime import UTC, datetime

import pytest
from conftest import digest_subscription

from paperfeed.digests.models import Delivery, Subscription
from paperfeed.digests.services.compose import DigestComposer, _cut, follows, histories
from paperfeed.digests.services.render import DigestRenderer
from paperfeed.digests.services.schedule import current_period
from paperfeed.digests.services.sections import SECTIONS, Chosen, Section
from paperfeed.papers.models import Paper

pytestmark = pytest.mark.django_db

MORNING = datetime(2026, 7, 2, 8, 0, tzinfo=UTC)
WEEKLY = {"frequency": "weekly", "weekday": 3}  # the week up to Thursday 2 July: every list of the corpus


class MentionsMLPs(Section):
    """Papers of the digest's lists whose title or abstract says "MLP", in arXiv id order."""

    key = "mlps"
    heading = "About MLPs"
    note = "Because this test asked for them."

    def title(self, weekly: bool) -> str:
        return "About MLPs this week" if weekly else self.heading

    def choose(self, run, reader):
        found = sorted((pid for pid, text in reader.papers.text.items() if "mlp" in text), key=_arxiv_id)
        return [Chosen(pid, ("mentions MLPs",)) for pid in found]

    def reasons(self, run, reader, paper_id):
        return ("mentions MLPs",) if "mlp" in reader.papers.text.get(paper_id, "") else ()


def _arxiv_id(pid: int) -> str:
    return Paper.objects.get(pk=pid).arxiv_id


def subscriber(email="ada@example.org", **preferences) -> Subscription:
    preferences = {"top_trending": 0, "status": Subscription.Status.ACTIVE, **preferences}
    return digest_subscription(email, **preferences)


def compose(subscription: Subscription, sections=SECTIONS):
    period = current_period(
        subscription.frequency, subscription.weekday, subscription.time_zone, subscription.hour, MORNING
    )
    history = histories({subscription.pk: period})[subscription.pk]
    followed = follows([subscription.pk])[subscription.pk]
    return DigestComposer(MORNING).compose(subscription, period, history, followed, sections=sections)


def ids(items) -> list[str]:
    return [item.card.paper.arxiv_id for item in items]


MLP_PAPERS = ["2606.00001", "2606.00002"]  # the two papers of the corpus that say "MLP"


def test_the_corpus_is_what_these_tests_assume(corpus):
    texts = {p.arxiv_id: f"{p.title} {p.abstract}".lower() for p in Paper.objects.all()}
    assert sorted(a for a, text in texts.items() if "mlp" in text) == MLP_PAPERS


def test_a_section_not_registered_is_composed_and_rendered_with_no_other_change(corpus, settings):
    settings.PAPERFEED_SITE_URL = "https://papers.example.org"
    subscription = subscriber(**WEEKLY)
    assert compose(subscription).is_empty  # no interests: the registered sections have nothing
    digest = compose(subscription, SECTIONS + (MentionsMLPs(),))
    assert ids(digest.items_of("mlps")) == MLP_PAPERS
    assert [item.reasons for item in digest.items] == [("mentions MLPs",)] * 2
    assert [section.key for section, _ in digest.sections] == [s.key for s in SECTIONS] + ["mlps"]
    message = DigestRenderer().message(digest)
    assert "ABOUT MLPS THIS WEEK\nBecause this test asked for them." in message.body
    assert "1. MLP-Mixer Revisited" in message.body and "· mentions MLPs" in message.body
    html = message.alternatives[0][0]
    assert "About MLPs this week</h2>" in html and "Because this test asked for them." in html
    assert "TRENDING" not in message.body  # sections without papers are not shown


def test_a_paper_shows_once_in_the_first_section_with_the_reasons_of_the_later_ones(corpus):
    subscription = subscriber(categories=["cs.CV"], **WEEKLY)  # 2606.00001 is the corpus's one cs.CV paper
    digest = compose(subscription, SECTIONS + (MentionsMLPs(),))
    assert ids(digest.items_of("interests")) == ["2606.00001"]
    assert digest.items_of("interests")[0].reasons == ("in cs.CV", "mentions MLPs")
    assert ids(digest.items_of("mlps")) == ["2606.00002"]
    # Placed first, the new section takes the paper, and the interest is given as a further reason.
    digest = compose(subscription, (MentionsMLPs(), *SECTIONS))
    assert ids(digest.items_of("mlps")) == MLP_PAPERS and not digest.items_of("interests")
    assert digest.items[0].reasons == ("mentions MLPs", "in cs.CV")


def test_papers_sent_before_and_keywords_filter_a_new_section_too(corpus):
    subscription = subscriber(exclude_keywords=["graph"], **WEEKLY)  # 2606.00002 is "Graph Transformers at Scale"
    assert ids(compose(subscription, SECTIONS + (MentionsMLPs(),)).items) == ["2606.00001"]
    subscription = subscriber("b@example.org", **WEEKLY)
    Delivery.objects.create(
        subscription=subscription,
        period="weekly:2026-W26",
        status=Delivery.Status.SENT,
        papers=[Paper.objects.get(arxiv_id="2606.00001").pk],
    )
    assert ids(compose(subscription, SECTIONS + (MentionsMLPs(),)).items) == ["2606.00002"]


def test_a_section_keeps_at_most_its_own_size_and_the_maximum(corpus):
    class OneMLP(MentionsMLPs):
        most = 1

    assert ids(compose(subscriber(**WEEKLY), SECTIONS + (OneMLP(),)).items) == ["2606.00001"]
    both = subscriber("b@example.org", categories=["cs.CV", "cs.RO"], max_papers=2, **WEEKLY)
    digest = compose(both, SECTIONS + (MentionsMLPs(),))
    # Two sections of two (the cs.CV paper is in the first): one each.
    assert [len(items) for section, items in digest.sections if items] == [1, 1]


def test_the_cut_takes_from_the_longest_section_and_from_the_later_of_equals():
    assert _cut([3, 5], 4) == [2, 2]  # as before sections were pluggable: the longer one first, then the second
    assert _cut([1, 5], 4) == [1, 3]
    assert _cut([2, 2, 2], 4) == [2, 1, 1]
    assert _cut([0, 9, 1], 3) == [0, 2, 1]
    assert _cut([4, 4], 10) == [4, 4] and _cut([4, 4], 0) == [0, 0]


def test_a_section_kept_whole_keeps_its_place_and_the_others_make_room(corpus):
    class KeptMLPs(MentionsMLPs):
        kept_whole = True

    subscription = subscriber(categories=["cs.CL"], max_papers=3, **WEEKLY)  # two cs.CL papers, neither says MLP
    shared = compose(subscription, SECTIONS + (MentionsMLPs(),))
    assert (len(shared.items_of("interests")), len(shared.items_of("mlps"))) == (2, 1)  # equals: the later is cut
    kept = compose(subscription, SECTIONS + (KeptMLPs(),))
    assert (len(kept.items_of("interests")), ids(kept.items_of("mlps"))) == (1, MLP_PAPERS)
