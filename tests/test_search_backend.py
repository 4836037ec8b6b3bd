"""The keyword engine's two fast paths for hybrid search: ids-only ranking for fusion, and marks on a shown page."""

import pytest

from paperfeed.core.search_query import parse_query
from paperfeed.papers.models import Paper
from paperfeed.papers.services.cards import author_names
from paperfeed.papers.services.search import SearchDocument, SearchFilters, get_backend
from paperfeed.papers.services.search.sqlite_fts import TABLE, TOKENIZER

pytestmark = pytest.mark.django_db
EVERYTHING = SearchFilters()


def documents(ids: list[int]) -> list[SearchDocument]:
    names = author_names(ids)
    papers = Paper.objects.in_bulk(ids)
    return [SearchDocument(pid, papers[pid].title, papers[pid].abstract, names.get(pid, ())) for pid in ids]


def test_the_marking_table_tokenizes_like_the_index(corpus):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT sql FROM sqlite_master WHERE name = %s", [TABLE])
        assert f"'{TOKENIZER}'" in cursor.fetchone()[0]


@pytest.mark.parametrize(
    "text", ["learning", "retrieval", "protein zebra", "graph transformers", '"deep learning"', "transform*", "Knuth"]
)
def test_marks_on_a_shown_page_are_the_ones_the_index_makes(corpus, text):
    backend = get_backend()
    query = parse_query(text)
    page = backend.search(query, EVERYTHING, offset=0, limit=20)
    assert page.hits, text
    marked = {
        hit.paper_id: hit for hit in backend.highlights(query, documents([h.paper_id for h in page.hits]), page.relaxed)
    }
    assert [marked.get(hit.paper_id) for hit in page.hits] == page.hits
    assert any("<mark>" in hit.title_html + hit.snippet_html for hit in page.hits) or text == "Knuth"


def test_marks_include_spelled_out_acronyms_and_skip_papers_without_the_words(corpus):
    backend = get_backend()
    ids = list(Paper.objects.order_by("id").values_list("id", flat=True))
    marked = backend.highlights(parse_query("MLP"), documents(ids), relaxed=False)
    assert marked and len(marked) < len(ids)
    text = " ".join(hit.title_html + hit.snippet_html for hit in marked)
    assert "<mark>MLP</mark>" in text and "<mark>multilayer perceptron</mark>" in text
    assert backend.highlights(parse_query("zebra"), documents(ids), relaxed=False) == []


def test_the_fusion_ranking_is_the_keyword_order_within_the_cap(corpus):
    backend = get_backend()
    query = parse_query("learning")
    page = backend.search(query, EVERYTHING, offset=0, limit=20)
    ranked = [hit.paper_id for hit in page.hits]
    assert len(ranked) >= 3
    assert backend.ranking(query, EVERYTHING, limit=20, cap=1000) == (ranked, False)
    assert backend.ranking(query, EVERYTHING, limit=2, cap=1000) == (ranked[:2], False)
    # With a cap of 2, only the two most recently added matches are ranked, still by BM25.
    newest = set(sorted(ranked)[-2:])
    assert backend.ranking(query, EVERYTHING, limit=20, cap=2) == ([pid for pid in ranked if pid in newest], False)


def test_the_fusion_ranking_relaxes_filters_and_finds_nothing_politely(corpus):
    backend = get_backend()
    ids, relaxed = backend.ranking(parse_query("protein zebra"), EVERYTHING, limit=20, cap=1000)
    assert relaxed and [Paper.objects.get(id=pid).title for pid in ids] == [
        "Protein Folding with Geometric Deep Learning"
    ]
    assert backend.ranking(parse_query("zebra"), EVERYTHING, limit=20, cap=1000) == ([], False)
    only_ir = SearchFilters(category="cs.IR")
    page = backend.search(parse_query("retrieval"), only_ir, offset=0, limit=20)
    assert backend.ranking(parse_query("retrieval"), only_ir, limit=20, cap=1000) == (
        [h.paper_id for h in page.hits],
        False,
    )
