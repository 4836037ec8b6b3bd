"""The fast paths of search and cards give exactly what the plain ORM and the straightforward order of work give."""

from datetime import date

import numpy as np
import pytest
from conftest import member
from django.db.models import Min

from paperfeed.community.models import Comment, Profile
from paperfeed.papers.models import Authorship, DailyEntry, Organization, Paper, Vote
from paperfeed.papers.services.cards import PaperCard, cards_for_ids

pytestmark = pytest.mark.django_db


def reference_cards(paper_ids, extra=None, first_day_from=None) -> list[PaperCard]:
    """Cards built the slow, obvious way, paper by paper and figure by figure: the reference."""
    since = {"day__gte": first_day_from} if first_day_from is not None else {}
    cards = []
    for pid in paper_ids:
        paper = Paper.objects.visible().select_related("organization").filter(id=pid).first()
        if paper is None:
            continue
        entries = DailyEntry.objects.filter(paper=paper, **since)
        submission = (
            entries.filter(source=DailyEntry.Source.SUBMISSION, submitted_by__isnull=False)
            .order_by("day", "id")
            .first()
        )
        paper.upvotes = Vote.objects.filter(paper=paper).count()
        paper.listed_on = entries.aggregate(first=Min("day"))["first"]
        paper.submitted_by = submission.submitter_name if submission else None
        paper.comment_count = Comment.objects.filter(paper=paper, hidden=False).exclude(body="").count()
        names = Authorship.objects.filter(paper=paper).order_by("position").values_list("author__name", flat=True)
        cards.append(
            PaperCard(
                paper,
                paper.upvotes,
                paper.listed_on or paper.published,
                tuple(names),
                submitted_by=paper.submitted_by or "",
                comment_count=paper.comment_count,
                **(extra or {}).get(pid, {}),
            )
        )
    return cards


def loaded(paper: Paper) -> dict:
    """Everything a card's paper carries: its fields and annotations (with their types), and its organization."""
    fields = {name: (value, type(value)) for name, value in vars(paper).items() if name != "_state"}
    organization = paper._state.fields_cache["organization"]  # loaded with the paper: no query when shown
    organization = organization and {k: v for k, v in vars(organization).items() if k != "_state"}
    return fields | {"organization": organization, "adding": paper._state.adding, "db": paper._state.db}


@pytest.fixture
def busy_corpus(corpus):
    """The test corpus with what cards count and show: votes, listings, submissions, comments, an organization."""
    papers = list(Paper.objects.order_by("arxiv_id"))
    ada, alan = member("ada"), member("alan")
    lab = Organization.objects.create(name="Analytical Engines Lab", slug="ael", url="https://example.org/ael")
    Paper.objects.filter(id__in=[papers[0].id, papers[3].id]).update(organization=lab, hf_upvotes=7)
    Vote.objects.create(user=ada, paper=papers[0])
    Vote.objects.create(user=alan, paper=papers[0])
    Vote.objects.create(user=ada, paper=papers[2])
    DailyEntry.objects.create(paper=papers[1], day=date(2026, 5, 2), source=DailyEntry.Source.HUGGINGFACE)
    DailyEntry.objects.create(
        paper=papers[1],
        day=date(2026, 7, 3),
        source=DailyEntry.Source.SUBMISSION,
        submitted_by=ada,
        submitter_name="ada",
    )
    DailyEntry.objects.create(
        paper=papers[1],
        day=date(2026, 7, 8),
        source=DailyEntry.Source.SUBMISSION,
        submitted_by=alan,
        submitter_name="alan",
    )
    gone = member("gone")
    DailyEntry.objects.create(
        paper=papers[2],
        day=date(2026, 7, 1),
        source=DailyEntry.Source.SUBMISSION,
        submitted_by=gone,
        submitter_name="gone",
    )
    Profile.objects.filter(user=gone).delete()
    gone.delete()  # the submission stays, without its user: no submitter shown
    Comment.objects.create(paper=papers[0], author=ada, body="Nice.", body_html="<p>Nice.</p>")
    Comment.objects.create(paper=papers[0], author=alan, body="spam", body_html="<p>spam</p>", hidden=True)
    Comment.objects.create(paper=papers[0], author=alan, body="", body_html="")  # deleted, kept for its replies
    papers[4].hidden = True
    papers[4].save()
    return papers


@pytest.mark.parametrize(
    ("first_day_from", "listed", "submitter"),
    [(None, date(2026, 5, 2), "ada"), (date(2026, 7, 5), date(2026, 7, 8), "alan"), (date(2030, 1, 1), None, "")],
)
def test_cards_are_what_the_slow_obvious_way_builds(busy_corpus, first_day_from, listed, submitter):
    ids = [p.id for p in reversed(busy_corpus)] + [10_000_000, busy_corpus[0].id]  # an unknown id, a repeated one
    extra = {busy_corpus[1].id: {"title_html": "<mark>x</mark>", "snippet_html": "y"}}
    expected = reference_cards(ids, extra, first_day_from)
    found = cards_for_ids(ids, extra, first_day_from)
    assert found == expected
    assert [loaded(card.paper) for card in found] == [loaded(card.paper) for card in expected]
    assert busy_corpus[4].id not in [card.paper.id for card in found]  # hidden
    by_id = {card.paper.id: card for card in found}
    assert by_id[busy_corpus[0].id].upvotes == 2 and by_id[busy_corpus[0].id].comment_count == 1
    assert by_id[busy_corpus[0].id].paper.organization.slug == "ael"
    assert by_id[busy_corpus[2].id].submitted_by == ""  # its submitter's account is gone
    submitted = by_id[busy_corpus[1].id]
    assert (submitted.submitted_by, submitted.day) == (submitter, listed or submitted.paper.published)


def test_a_card_list_takes_two_queries_and_its_organizations_none_more(busy_corpus, django_assert_num_queries):
    with django_assert_num_queries(2):
        cards = cards_for_ids([p.id for p in busy_corpus])
        assert [card.paper.organization for card in cards if card.paper.organization]  # already loaded
    with django_assert_num_queries(0):
        assert cards_for_ids([]) == []


def test_cards_take_ids_of_any_integer_type(busy_corpus):
    ids = [p.id for p in busy_corpus[:3]]
    assert cards_for_ids(np.array(ids, dtype=np.int64).tolist()) == cards_for_ids(ids)
    assert [c.paper.id for c in cards_for_ids(list(np.array(ids, dtype=np.int64)))] == ids


@pytest.fixture
def embedded(corpus, settings, tmp_path):
    """The test corpus embedded, with its vector index in this test's own data directory."""
    from paperfeed.papers.services.embedding import embed_pending

    settings.DATA_DIR = tmp_path
    assert embed_pending().embedded == 10


@pytest.mark.parametrize("category", [None, "cs.CL", "math.CO"])
def test_search_by_meaning_looks_further_when_filters_drop_the_first_neighbours(embedded, category):
    from paperfeed.papers.retrieval import Filters, vectors
    from paperfeed.papers.retrieval import meaning as meaning_side

    meaning = meaning_side.in_background("teaching robot arms from human demonstrations", depth=2).result()
    everything = vectors.nearest(meaning.model, meaning.vector, 10)
    assert meaning.nearest == everything[:2]  # looked up on the worker thread, beside the keyword pass
    categories = dict(Paper.objects.values_list("id", "categories"))
    passing = [pid for pid, _ in everything if category is None or category in categories[pid]]
    assert meaning_side.ranking(meaning, Filters(category=category)) == passing[:2]
