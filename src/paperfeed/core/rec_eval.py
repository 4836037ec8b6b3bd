"""Recommendation quality: simulated readers on a dated corpus, rankings compared by MAP@10 and nDCG@10.

The protocol (docs/recommendation-quality.md has the reasoning):
- A reader follows a *topic*: an arXiv category (cross-lists included) that covers at most 5% of the corpus, or
  an author (papers carrying that exact author name). Neither is written in a paper's title or abstract, which
  is all the rankings see, so no method can read the answer off its features.
- At a cut-off day the reader's library is the topic's last 10–30 papers listed before it (the size drawn at
  random); the candidates are every paper listed in the `window_days` from the cut-off on; the topic's papers
  among them are the held-out positives. Each method ranks the candidates for that reader.
- Readers alternate between the two kinds; topic and cut-off are drawn at random (seeded) and kept when the
  topic has enough papers before the cut-off and at least one in the window.
- Every reader also gets a background: a random sample of papers listed before the cut-off (library excluded),
  the implicit negatives a model contrasts the library with.

Pure Python, numpy and scikit-learn, no Django: the service loads the corpus and this module does the rest.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Protocol as TypingProtocol

import numpy as np

from paperfeed.core import recommend, terms
from paperfeed.core.evaluation import ndcg_at_k

K = 10
KINDS = ("category", "author")


class ProtocolError(ValueError):
    """The corpus cannot give the readers asked for; the message says what is missing."""


@dataclass(frozen=True)
class Protocol:
    """The protocol's knobs; the defaults are the documented protocol."""

    window_days: int = 7  # the candidates: every paper listed in the week from the cut-off
    min_library: int = 10
    max_library: int = 30
    history_days: int = 60  # a cut-off has at least this many days of corpus before it
    background: int = 10_000  # implicit negatives sampled from before the cut-off
    max_category_share: float = 0.05  # a category bigger than this share of the corpus is a field, not a topic
    kinds: tuple[str, ...] = KINDS


DEFAULT_PROTOCOL = Protocol()


@dataclass(frozen=True)
class EvalPaper:
    arxiv_id: str
    title: str
    abstract: str
    authors: tuple[str, ...]
    categories: tuple[str, ...]
    listed: date  # the first day it appeared in arXiv's daily listing


class EvalCorpus:
    """Papers in listing order (day, then arXiv id) with their embeddings as unit float32 rows.

    A paper's position is its age order: a higher index was listed later, which is what newest-first sorts by.
    """

    def __init__(self, papers: Sequence[EvalPaper], vectors: np.ndarray) -> None:
        if len(papers) != len(vectors):
            raise ValueError(f"{len(papers)} papers but {len(vectors)} vectors")
        order = sorted(range(len(papers)), key=lambda i: (papers[i].listed, papers[i].arxiv_id))
        self.papers: list[EvalPaper] = [papers[i] for i in order]
        self.vectors: np.ndarray = recommend.normalise(np.asarray(vectors)[order])
        self.days: np.ndarray = np.array([p.listed.toordinal() for p in self.papers], dtype=np.int64)
        self.ids: list[str] = [p.arxiv_id for p in self.papers]

    def __len__(self) -> int:
        return len(self.papers)

    @cached_property
    def tfidf(self):  # -> scipy.sparse.csr_matrix (n, features)
        """arxiv-sanity-lite's tf-idf features of every title and abstract (unsupervised, fitted on them all)."""
        return tfidf_features(paper_texts(self.papers), ARXIV_SANITY_TFIDF)

    @cached_property
    def tfidf_with_authors(self):  # -> scipy.sparse.csr_matrix
        """The same with author names appended, as arxiv-sanity-lite's compute.py does."""
        texts = [f"{text} {' '.join(p.authors)}" for text, p in zip(paper_texts(self.papers), self.papers, strict=True)]
        return tfidf_features(texts, ARXIV_SANITY_TFIDF)

    @cached_property
    def term_rows(self) -> tuple[str, object]:
        """(index version, tf-idf rows) of every title and abstract by the product's term index (core/terms.py),
        fitted on the whole corpus as `paperfeed index` fits it on the site's papers."""
        index, rows = terms.fit_term_index_with_rows(paper_texts(self.papers))
        return index.version, rows


def paper_texts(papers: Sequence[EvalPaper]) -> list[str]:
    return [f"{p.title} {p.abstract}" for p in papers]


@dataclass(frozen=True)
class Reader:
    """One simulated reader: what they have read, what they are shown, what they would pick (corpus indices)."""

    kind: str  # "category" | "author"
    topic: str
    cutoff: date
    library: np.ndarray  # the topic's last papers before the cut-off, oldest first
    candidates: np.ndarray  # every paper listed in the window, oldest first
    relevant: np.ndarray  # the topic's candidates: the held-out positives
    background: np.ndarray  # a sample of papers listed before the cut-off, the library left out


def topics(corpus: EvalCorpus, protocol: Protocol = DEFAULT_PROTOCOL) -> dict[str, list[tuple[str, np.ndarray]]]:
    """kind -> [(topic, corpus indices in listing order)] for topics with more papers than the smallest library."""
    members: dict[str, dict[str, list[int]]] = {kind: defaultdict(list) for kind in KINDS}
    for index, paper in enumerate(corpus.papers):
        for category in set(paper.categories):
            members["category"][category].append(index)
        for author in set(paper.authors):
            members["author"][author].append(index)
    largest_category = protocol.max_category_share * len(corpus)
    found: dict[str, list[tuple[str, np.ndarray]]] = {}
    for kind in protocol.kinds:
        if kind not in members:
            raise ValueError(f"unknown reader kind {kind!r}; the kinds are {', '.join(KINDS)}")
        found[kind] = [
            (name, np.array(indices, dtype=np.int64))
            for name, indices in sorted(members[kind].items())
            if len(indices) > protocol.min_library and (kind != "category" or len(indices) <= largest_category)
        ]
    return found


def _eligible_cutoffs(corpus: EvalCorpus, members: np.ndarray, cutoffs: np.ndarray, protocol: Protocol) -> list[int]:
    """The cut-offs at which a topic has a full library before and at least one paper in the window after."""
    member_days = corpus.days[members]  # ascending: the corpus is in listing order
    before = np.searchsorted(member_days, cutoffs, side="left")
    through_window = np.searchsorted(member_days, cutoffs + protocol.window_days, side="left")
    return cutoffs[(before >= protocol.min_library) & (through_window > before)].tolist()


def make_readers(corpus: EvalCorpus, count: int, seed: int, protocol: Protocol = DEFAULT_PROTOCOL) -> list[Reader]:
    """`count` distinct readers drawn with `seed`; the same corpus, count and seed always give the same readers.

    Kinds take turns (one runs out: the other goes on); within a kind the topic is drawn uniformly among those with
    a cut-off left to use, then the cut-off uniformly among that topic's unused ones.
    """
    if count < 1:
        raise ValueError(f"the number of readers must be at least 1, not {count}")
    if protocol.min_library < 1 or protocol.max_library < protocol.min_library:
        raise ValueError("the library sizes must satisfy 1 <= min_library <= max_library")
    days = corpus.days
    listing_days = np.unique(days)
    cutoffs = listing_days
    if len(corpus):
        cutoffs = listing_days[
            (listing_days >= days[0] + protocol.history_days) & (listing_days + protocol.window_days <= days[-1] + 1)
        ]
    open_topics: dict[str, list[tuple[str, np.ndarray, list[int]]]] = {}
    for kind, found in topics(corpus, protocol).items():
        eligible = [(name, members, _eligible_cutoffs(corpus, members, cutoffs, protocol)) for name, members in found]
        open_topics[kind] = [topic for topic in eligible if topic[2]]
    available = sum(len(topic[2]) for found in open_topics.values() for topic in found)
    if not available:
        raise ProtocolError(
            f"the corpus ({len(corpus):,} papers over {len(listing_days)} listing days) is too small for this "
            f"protocol: it needs topics with {protocol.min_library} papers listed at least "
            f"{protocol.history_days} days into it and one more in the {protocol.window_days} days after"
        )
    if count > available:
        raise ProtocolError(
            f"only {available} of the {count} readers asked for could be drawn from this corpus (one per topic and "
            f"cut-off day with {protocol.min_library}+ papers before it and one in the {protocol.window_days} days "
            f"after); ask for fewer readers"
        )
    rng = np.random.default_rng(seed)
    kinds = [kind for kind in protocol.kinds if open_topics.get(kind)]
    readers: list[Reader] = []
    while len(readers) < count:
        kind = kinds[len(readers) % len(kinds)]
        found = open_topics[kind]
        name, members, unused = found[int(rng.integers(len(found)))]
        cutoff = unused.pop(int(rng.integers(len(unused))))
        if not unused:
            found[:] = [topic for topic in found if topic[2]]
        if not found:
            kinds.remove(kind)
        start = int(np.searchsorted(days, cutoff, side="left"))
        end = int(np.searchsorted(days, cutoff + protocol.window_days, side="left"))
        before = members[members < start]
        size = int(rng.integers(protocol.min_library, protocol.max_library + 1))
        library = before[-size:]
        sample = rng.choice(start, size=min(protocol.background, start), replace=False)
        readers.append(
            Reader(
                kind=kind,
                topic=name,
                cutoff=date.fromordinal(cutoff),
                library=library,
                candidates=np.arange(start, end, dtype=np.int64),
                relevant=members[(members >= start) & (members < end)],
                background=np.setdiff1d(sample, library),  # sorted, so the order does not depend on the sampler
            )
        )
    return readers


# --- metrics ---


def average_precision_at_k(ranked: Sequence[str], relevant: set[str] | frozenset[str], k: int = K) -> float:
    """AP@k: precision at each relevant paper within the first k, summed, over min(|relevant|, k).

    Divided by min(|relevant|, k) rather than |relevant|, so a perfect first page scores 1 even when more than k
    papers are relevant; 0 when nothing is relevant. A repeated id counts once, at its first rank.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    if not relevant:
        return 0.0
    hits, total, seen = 0, 0.0, set()
    for rank, paper in enumerate(ranked[:k], start=1):
        if paper in relevant and paper not in seen:
            hits += 1
            total += hits / rank
        seen.add(paper)
    return total / min(len(relevant), k)


def binary_ndcg_at_k(ranked: Sequence[str], relevant: set[str] | frozenset[str], k: int = K) -> float:
    """nDCG@k with every relevant paper worth 1 (the search evaluation's ndcg_at_k, trec_eval's ndcg_cut)."""
    return ndcg_at_k(ranked, dict.fromkeys(relevant, 1), k)


@dataclass(frozen=True)
class Estimate:
    """A mean with its 95% bootstrap interval (percentile method over readers)."""

    mean: float
    low: float
    high: float


def bootstrap(values: np.ndarray, seed: int = 0, resamples: int = 2_000, level: float = 0.95) -> Estimate:
    """The mean of `values` and a percentile bootstrap interval, resampling readers with replacement (seeded)."""
    values = np.asarray(values, dtype=np.float64)
    if not len(values):
        return Estimate(math.nan, math.nan, math.nan)
    rng = np.random.default_rng(seed)
    means = values[rng.integers(len(values), size=(resamples, len(values)))].mean(axis=1)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return Estimate(float(values.mean()), float(low), float(high))


def paired_difference(a: np.ndarray, b: np.ndarray, seed: int = 0) -> Estimate:
    """Mean of a - b over the same readers, with a bootstrap interval that resamples readers (pairs kept)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"{len(a)} and {len(b)} readers: a paired difference needs the same readers")
    return bootstrap(a - b, seed)


# --- the rankings compared ---


class RankingMethod(TypingProtocol):
    name: str

    def scores(self, corpus: EvalCorpus, reader: Reader) -> np.ndarray:
        """One score per reader.candidates entry, higher first."""
        ...


class NewestFirst:
    """The daily list as it is: the last listing day first, and within a day the highest arXiv id first."""

    name = "newest-first"

    def scores(self, corpus: EvalCorpus, reader: Reader) -> np.ndarray:
        return reader.candidates.astype(np.float64)


# arxiv-sanity-lite's settings: compute.py (TfidfVectorizer) and send_emails.py / serve.py (LinearSVC).
ARXIV_SANITY_TFIDF = terms.ARXIV_SANITY_TFIDF
ARXIV_SANITY_SVM = dict(class_weight="balanced", verbose=False, max_iter=10000, tol=1e-6, C=0.01)


def tfidf_features(texts: Sequence[str], settings: dict):  # -> scipy.sparse.csr_matrix
    """tf-idf rows (float32, unit length) of the texts, fitted on them; on a small corpus every word is kept."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    settings = dict(settings)
    if len(texts) < terms.SMALL_CORPUS:
        settings.update(min_df=1, max_df=1.0)
    return TfidfVectorizer(**settings).fit_transform(texts).astype(np.float32).tocsr()


def arxiv_sanity_scores(features, reader: Reader) -> np.ndarray:
    """arxiv-sanity-lite's recommendation, as its send_emails.py computes it for a tag.

    A LinearSVC (C=0.01, balanced classes) over the tf-idf rows of every paper it holds — here the background
    sample and the candidates themselves, which arxiv-sanity also has in its database — with the library as the
    only positives; the candidates are then sorted by the decision function.
    """
    from sklearn.svm import LinearSVC

    rows = np.concatenate([reader.library, reader.background, reader.candidates])
    labels = np.zeros(len(rows))
    labels[: len(reader.library)] = 1
    classifier = LinearSVC(**ARXIV_SANITY_SVM)
    classifier.fit(features[rows], labels)
    return classifier.decision_function(features[reader.candidates])


class ArxivSanity:
    """The baseline: arxiv-sanity-lite's tf-idf and SVM, over title and abstract (optionally author names too)."""

    def __init__(self, with_authors: bool = False) -> None:
        self.with_authors = with_authors
        self.name = "arxiv-sanity+authors" if with_authors else "arxiv-sanity"

    def scores(self, corpus: EvalCorpus, reader: Reader) -> np.ndarray:
        features = corpus.tfidf_with_authors if self.with_authors else corpus.tfidf
        return arxiv_sanity_scores(features, reader)


class PaperfeedEmbeddings:
    """The product model's embedding part alone (core/recommend.py without a term index): an ablation."""

    name = "paperfeed-embeddings"

    def scores(self, corpus: EvalCorpus, reader: Reader) -> np.ndarray:
        vectors = corpus.vectors
        model = recommend.fit_user_model(vectors[reader.library], None, vectors[reader.background])
        return recommend.score(model, vectors[reader.candidates])


class Paperfeed:
    """The product's model as /for-you and the digests use it: the embedding part plus the words part (tf-idf rows
    of the product's term index), fitted by recommend.fit_user_model and scored by recommend.score."""

    name = "paperfeed"

    def scores(self, corpus: EvalCorpus, reader: Reader) -> np.ndarray:
        version, rows = corpus.term_rows
        vectors = corpus.vectors
        model = recommend.fit_user_model(
            vectors[reader.library],
            None,
            vectors[reader.background],
            positive_terms=rows[reader.library],
            background_terms=rows[reader.background],
            index_version=version,
        )
        # As the site keeps it: the words part through its storage format (float16 weights).
        terms = model.terms and recommend.TermWeights.from_bytes(model.terms.to_bytes(), model.terms.bias, version)
        stored = recommend.UserModel(model.weights, model.bias, model.positives, terms)
        return recommend.score(stored, vectors[reader.candidates], rows[reader.candidates], version)


def method_factories() -> dict[str, Callable[[], RankingMethod]]:
    """The methods by name, in the order reports list them."""
    return {
        "newest-first": NewestFirst,
        "arxiv-sanity": ArxivSanity,
        "arxiv-sanity+authors": lambda: ArxivSanity(with_authors=True),
        "paperfeed": Paperfeed,
        "paperfeed-embeddings": PaperfeedEmbeddings,
    }


METHODS = tuple(method_factories())
DEFAULT_METHODS = ("newest-first", "arxiv-sanity", "paperfeed", "paperfeed-embeddings")


# --- running it ---


def ranked_ids(corpus: EvalCorpus, reader: Reader, scores: np.ndarray, k: int = K) -> list[str]:
    """The arXiv ids of the first k candidates by score, ties broken newest first (so every run is the same)."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.shape != reader.candidates.shape:
        raise ValueError(f"{scores.shape[0]} scores for {len(reader.candidates)} candidates")
    order = np.lexsort((-reader.candidates, -scores))[:k]
    return [corpus.ids[i] for i in reader.candidates[order]]


@dataclass
class MethodResult:
    """Per-reader AP@10 and nDCG@10 of one method, in reader order."""

    name: str
    kinds: list[str] = field(default_factory=list)
    average_precision: list[float] = field(default_factory=list)
    ndcg: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def estimates(self, kind: str | None = None, seed: int = 0) -> tuple[Estimate, Estimate]:
        """(MAP@10, nDCG@10) with bootstrap intervals, over all readers or those of one kind."""
        keep = [i for i, k in enumerate(self.kinds) if kind is None or k == kind]
        ap = np.array([self.average_precision[i] for i in keep])
        ndcg = np.array([self.ndcg[i] for i in keep])
        return bootstrap(ap, seed), bootstrap(ndcg, seed)


def evaluate(
    corpus: EvalCorpus,
    readers: Sequence[Reader],
    methods: Sequence[RankingMethod],
    on_progress: Callable[[str, int, int], None] | None = None,
) -> list[MethodResult]:
    """Each method ranks each reader's candidates; on_progress(method, readers done, readers) after each."""
    results = []
    for method in methods:
        result = MethodResult(method.name)
        started = time.perf_counter()
        for done, reader in enumerate(readers, start=1):
            relevant = {corpus.ids[i] for i in reader.relevant}
            top = ranked_ids(corpus, reader, method.scores(corpus, reader))
            result.kinds.append(reader.kind)
            result.average_precision.append(average_precision_at_k(top, relevant))
            result.ndcg.append(binary_ndcg_at_k(top, relevant))
            if on_progress:
                on_progress(method.name, done, len(readers))
        result.seconds = time.perf_counter() - started
        results.append(result)
    return results
