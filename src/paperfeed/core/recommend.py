"""Per-user recommendation maths: linear classifiers over paper embeddings and words, in the manner of arxiv-sanity.

A user's model has two parts fitted on the same papers: a logistic regression over the MiniLM embeddings, and one
over the papers' tf-idf words (core/terms.py) when a term index exists. A candidate's score is the sum of the two
parts' scores, each standardised over the candidates ranked together; measured, the sum beats each part alone and
arxiv-sanity's tf-idf SVM (docs/recommendation-quality.md). Without a term index the embedding part ranks alone.

A user's positives (upvotes, collection papers, imported library items) are class 1; their "not interested"
papers and a random background sample of the corpus (implicit negatives) are class 0. Classes are balanced, so a
handful of positives is not drowned by thousands of background papers. Scoring a candidate is one dot product,
so ranking 75,000 papers is a single matrix-vector product. Every vector is an L2-normalised embedding
(all-MiniLM-L6-v2, 384-d); inputs are normalised again here so callers cannot get it wrong.

Pure numpy and scikit-learn: no Django, so the evaluation and the benchmarks call exactly this code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Inverse regularisation strength of the logistic regression. Measured on 3,000 papers of ../shared/data (readers
# liking 5–50 papers of one primary category, MAP over the rest): C=0.03 0.54, 0.3 0.52, 1 0.49, 10 0.43; the
# centroid of the positives 0.46. Strong regularisation keeps the weights near "mean of the positives minus mean
# of the background" and lets the data bend them; docs/recommendation-quality.md has the full evaluation.
DEFAULT_C = 0.3
# How many background papers serve as implicit negatives; more adds fitting time and little accuracy.
DEFAULT_BACKGROUND = 2000
# A "not interested" click says more than a random background paper: it counts this many times.
DISMISSAL_WEIGHT = 3.0
# Background papers this close (cosine) to a positive are the positive itself, not a negative.
SAME_PAPER_COSINE = 0.999
# The words part: weak regularisation suits sparse tf-idf rows (chosen on seed-1 readers of the evaluation). A fit
# has ~50,000 non-zero weights (400 kB); only the TERMS_KEPT largest (by magnitude) are kept, stored as 6 bytes
# each: 18 kB a user. On 300 seed-1 readers, MAP@10 against keeping every weight: 3,000 kept −0.006, 1,000 −0.009,
# and ranking by |weight| × document frequency instead is worse (docs/recommendation-quality.md).
TERMS_C = 10.0
TERMS_KEPT = 3000


@dataclass(frozen=True)
class TermWeights:
    """The words part of a model: sparse weights over a term index's features, and the index they belong to."""

    indices: np.ndarray  # (k,) int32 feature columns, ascending
    values: np.ndarray  # (k,) float32
    bias: float
    index_version: str

    def dense(self, features: int) -> np.ndarray:
        """The weights as a (features,) float32 vector (zeros elsewhere)."""
        vector = np.zeros(features, dtype=np.float32)
        inside = self.indices < features
        vector[self.indices[inside]] = self.values[inside]
        return vector

    def to_bytes(self) -> bytes:
        """indices (uint32) then values (float16: ranking needs no more precision), little-endian."""
        return np.asarray(self.indices, dtype="<u4").tobytes() + np.asarray(self.values, dtype="<f2").tobytes()

    @classmethod
    def from_bytes(cls, blob: bytes, bias: float, index_version: str) -> TermWeights:
        if len(blob) % 6:
            raise ValueError(f"{len(blob)} bytes cannot be term weights (6 bytes a weight)")
        split = len(blob) // 6 * 4
        indices = np.frombuffer(blob[:split], dtype="<u4").astype(np.int32)
        values = np.frombuffer(blob[split:], dtype="<f2").astype(np.float32)
        return cls(indices, values, float(bias), index_version)


@dataclass(frozen=True)
class UserModel:
    """A fitted user model: score(x) = weights·x + bias; positives are kept to explain each recommendation."""

    weights: np.ndarray  # (d,) float32
    bias: float
    positives: np.ndarray  # (p, d) float32 unit rows, the vectors the model was fitted on as class 1
    terms: TermWeights | None = None  # the words part, when the model was fitted with a term index

    @property
    def dimensions(self) -> int:
        return int(self.weights.shape[0])


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length as float32 (zero rows stay zero); a single vector becomes a (1, d) matrix."""
    matrix = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms


def _rows(vectors: np.ndarray | None, dimensions: int) -> np.ndarray:
    if vectors is None or np.size(vectors) == 0:
        return np.zeros((0, dimensions), dtype=np.float32)
    return normalise(vectors)


def centroid_model(positives: np.ndarray) -> UserModel:
    """The model used when there is nothing to contrast positives with: cosine similarity to their mean."""
    pos = normalise(positives)
    mean = pos.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    weights = (mean / norm if norm else mean).astype(np.float32)
    return UserModel(weights=weights, bias=0.0, positives=pos)


def fit_user_model(
    positives: np.ndarray,
    negatives: np.ndarray | None,
    background: np.ndarray,
    *,
    c: float = DEFAULT_C,
    max_background: int = DEFAULT_BACKGROUND,
    dismissal_weight: float = DISMISSAL_WEIGHT,
    seed: int = 0,
    positive_terms=None,
    negative_terms=None,
    background_terms=None,
    index_version: str = "",
) -> UserModel:
    """Fit a balanced logistic regression: positives vs. explicit negatives plus background (implicit) negatives.

    positives: (p, d) embeddings of papers/items the user liked; at least one row (else use cold_start_scores).
    negatives: (n, d) embeddings of papers the user dismissed, or None.
    background: (b, d) random corpus embeddings; subsampled to max_background rows (seeded, so refits are stable);
        rows that are (nearly) identical to a positive are dropped, so a liked paper never counts against itself.
    c: inverse regularisation strength (scikit-learn's C).
    positive_terms, negative_terms, background_terms: the same papers' tf-idf rows (scipy sparse, one row per row
        above) from the term index `index_version`; when given, the words part is fitted on them too (TERMS_C,
        the TERMS_KEPT largest weights kept).
    With no negatives and no background at all, falls back to the centroid of the positives.
    Fitting the embedding part on up to 2,000 positives against 2,000 background rows takes 10–40 ms (one thread);
    with the words part, 5–50 positives take ~170 ms (bench/recs_speed.py).
    """
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    pos = normalise(positives) if np.size(positives) else None
    if pos is None:
        raise ValueError("fit_user_model needs at least one positive; use cold_start_scores for a new user")
    d = pos.shape[1]
    neg = _rows(negatives, d)
    bg = _rows(background, d)
    with_terms = positive_terms is not None and background_terms is not None
    if with_terms:
        _check_rows("positive", positive_terms, len(pos))
        _check_rows("background", background_terms, bg.shape[0])
        _check_rows("negative", negative_terms, neg.shape[0])
    kept = np.arange(bg.shape[0])
    if bg.shape[0] > max_background:
        rng = np.random.default_rng(seed)
        kept = np.sort(rng.choice(bg.shape[0], size=max_background, replace=False))
    if kept.shape[0]:
        kept = kept[(bg[kept] @ pos.T).max(axis=1) < SAME_PAPER_COSINE]
    bg = bg[kept]
    if neg.shape[0] + bg.shape[0] == 0:
        return centroid_model(pos)

    x = np.vstack([pos, neg, bg])
    y = np.concatenate([np.ones(len(pos)), np.zeros(len(neg) + len(bg))])
    sample_weight = np.concatenate([np.ones(len(pos)), np.full(len(neg), dismissal_weight), np.ones(len(bg))])
    classifier = LogisticRegression(C=c, class_weight="balanced", max_iter=1000)
    # One BLAS thread: on a busy machine (web workers, the indexer) threads fight and a 10 ms fit takes 500 ms.
    with threadpool_limits(limits=1):
        classifier.fit(x, y, sample_weight=sample_weight)
        terms = None
        if with_terms:
            terms = _fit_terms(positive_terms, negative_terms, background_terms[kept], y, sample_weight, index_version)
    weights = classifier.coef_[0].astype(np.float32)
    return UserModel(weights=weights, bias=float(classifier.intercept_[0]), positives=pos, terms=terms)


def _check_rows(name: str, matrix, rows: int) -> None:
    given = 0 if matrix is None else matrix.shape[0]
    if given != rows:
        raise ValueError(f"{given} {name} tf-idf rows for {rows} {name} embeddings")


def _fit_terms(positive_terms, negative_terms, background_terms, y, sample_weight, index_version: str) -> TermWeights:
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    parts = [positive_terms]
    if negative_terms is not None and negative_terms.shape[0]:
        parts.append(negative_terms)
    parts.append(background_terms)
    x = sparse.vstack(parts, format="csr")
    classifier = LogisticRegression(C=TERMS_C, class_weight="balanced", max_iter=1000)
    classifier.fit(x, y, sample_weight=sample_weight)
    coef = classifier.coef_[0]
    kept = np.nonzero(coef)[0]
    if kept.shape[0] > TERMS_KEPT:
        kept = np.sort(np.argpartition(-np.abs(coef), TERMS_KEPT - 1)[:TERMS_KEPT])
    return TermWeights(
        kept.astype(np.int32), coef[kept].astype(np.float32), float(classifier.intercept_[0]), index_version
    )


def _as_float32(candidates: np.ndarray) -> np.ndarray:
    # float16 matrix products do not use BLAS and are ~50x slower; callers should keep a float32 matrix around.
    return candidates if candidates.dtype == np.float32 else candidates.astype(np.float32)


def standardised(scores: np.ndarray) -> np.ndarray:
    """Scores shifted and scaled to mean 0 and standard deviation 1 over the candidates (constant → zeros)."""
    scores = np.asarray(scores, dtype=np.float64)
    spread = scores.std()
    return (scores - scores.mean()) / spread if spread > 0 else np.zeros_like(scores)


def uses_terms(model: UserModel, terms_version: str) -> bool:
    """Whether the model has a words part fitted on the term index `terms_version`."""
    return model.terms is not None and bool(terms_version) and model.terms.index_version == terms_version


def score(model: UserModel, candidates: np.ndarray, terms=None, terms_version: str = "") -> np.ndarray:
    """(n,) float32 scores of candidate embeddings (n, d), higher is better.

    terms: the candidates' tf-idf rows (scipy sparse, n rows) from the term index `terms_version`; when the model
    has a words part fitted on that index, the score is the sum of both parts standardised over these candidates,
    else the embedding part alone. Candidates should already be unit rows in a float32 matrix (as stored
    embeddings are) — they are not re-normalised here, to keep scoring 75,000 papers within a few milliseconds.
    """
    if candidates.shape[0] == 0:
        return np.zeros(0, dtype=np.float32)
    embedding = _as_float32(candidates) @ model.weights + np.float32(model.bias)
    if terms is None or not uses_terms(model, terms_version):
        return embedding
    words = terms @ model.terms.dense(terms.shape[1])
    return (standardised(embedding) + standardised(words)).astype(np.float32)


def score_many(models: Sequence[UserModel], candidates: np.ndarray, terms=None, terms_version: str = "") -> np.ndarray:
    """(len(models), n) scores for many users at once, as a digest run needs: row i is score(models[i], …)."""
    if not models:
        return np.zeros((0, candidates.shape[0]), dtype=np.float32)
    weights = np.vstack([m.weights for m in models]).astype(np.float32)
    biases = np.array([m.bias for m in models], dtype=np.float32)
    scores = weights @ _as_float32(candidates).T + biases[:, None]
    with_words = [i for i, m in enumerate(models) if terms is not None and uses_terms(m, terms_version)]
    if with_words and candidates.shape[0]:
        from scipy import sparse

        columns = [models[i].terms for i in with_words]
        matrix = sparse.csc_matrix(
            (
                np.concatenate([t.values for t in columns]),
                np.concatenate([t.indices for t in columns]),
                np.cumsum([0] + [len(t.indices) for t in columns]),
            ),
            shape=(terms.shape[1], len(columns)),
            dtype=np.float32,
        )
        words = np.asarray((terms @ matrix).todense()).T  # (users with words, n)
        for row, i in enumerate(with_words):
            scores[i] = standardised(scores[i]) + standardised(words[row])
    return scores


def top_indices(scores: np.ndarray, k: int, exclude: np.ndarray | None = None) -> np.ndarray:
    """Indices of the k best scores, best first; `exclude` is a boolean mask of candidates to leave out."""
    if exclude is not None:
        scores = np.where(exclude, -np.inf, scores)
        available = int((~exclude).sum())
    else:
        available = scores.shape[0]
    k = min(k, available)
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    part = np.argpartition(-scores, k - 1)[:k] if k < scores.shape[0] else np.arange(scores.shape[0])
    # Stable tie-break on index keeps the order deterministic (callers order candidates newest first).
    order = np.lexsort((part, -scores[part]))
    return part[order]


def reasons(model: UserModel, candidate_vectors: np.ndarray, positive_labels: Sequence | None = None) -> list[int]:
    """For each candidate, the index (into model.positives) of the positive it is closest to by cosine.

    That positive is the "because you liked …" shown under a recommendation. positive_labels, when given, is one
    label per positive row (paper ids, titles …); its length is checked so an index never names the wrong item.
    """
    if positive_labels is not None and len(positive_labels) != len(model.positives):
        raise ValueError(f"{len(positive_labels)} labels for {len(model.positives)} positives")
    if len(candidate_vectors) == 0:
        return []
    if len(model.positives) == 0:
        raise ValueError("the model has no positives to explain its recommendations with")
    similarities = normalise(candidate_vectors) @ model.positives.T
    return [int(i) for i in similarities.argmax(axis=1)]


def cold_start_scores(
    age_days: np.ndarray,
    followed_matches: np.ndarray,
    trending: np.ndarray | None = None,
    *,
    half_life_days: float = 7.0,
) -> np.ndarray:
    """Scores for a user with no positives yet: papers in followed categories/authors first, then trending, then new.

    age_days: (n,) days since each candidate was listed (≥ 0).
    followed_matches: (n,) how many of the user's followed categories and authors each candidate matches
        (0 = none); any match ranks above every non-match.
    trending: (n,) trending scores (votes decayed with age), or None.
    Within a group, trending (scaled to [0, 1]) counts as much as recency (1 when new, halving every
    half_life_days), so a well-voted paper from last week can beat an unvoted one from today.
    """
    age = np.maximum(np.asarray(age_days, dtype=np.float64), 0.0)
    recency = 0.5 ** (age / half_life_days)
    heat = np.zeros_like(recency)
    if trending is not None and np.size(trending):
        trending = np.asarray(trending, dtype=np.float64)
        top = float(trending.max())
        if top > 0:
            heat = trending / top
    matched = (np.asarray(followed_matches) > 0).astype(np.float64)
    # Recency + heat is at most 2, so a match bonus of 3 always wins.
    return (3.0 * matched + recency + heat).astype(np.float32)


def model_to_bytes(model: UserModel) -> bytes:
    """The weights as float32 bytes for storage (bias and positives are stored or rebuilt separately)."""
    return np.asarray(model.weights, dtype="<f4").tobytes()


def weights_from_bytes(blob: bytes) -> np.ndarray:
    """Inverse of model_to_bytes."""
    return np.frombuffer(blob, dtype="<f4").astype(np.float32)
