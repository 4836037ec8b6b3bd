"""The words of papers as tf-idf features: the second half of a user's recommendation model (core/recommend.py).

An index is a vocabulary with each word's inverse document frequency, fitted on the titles and abstracts of the
whole corpus (no user data: it is unsupervised), saved in the data directory as one .npz file (words and idf, no
pickle), and used to turn any title and abstract into a unit-length sparse row. The settings are
arxiv-sanity-lite's (words and word pairs, English stop words removed, sublinear term frequency) with a five times
wider vocabulary that keeps rarer words and pairs (in 2+ papers): the names of a group's methods and data sets.
They were chosen on seed-1 readers of the recommendation evaluation (docs/recommendation-quality.md).

Pure Python, numpy, scipy and scikit-learn: no Django.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# arxiv-sanity-lite's settings (its compute.py's TfidfVectorizer): the recommendation evaluation's baseline uses them.
ARXIV_SANITY_TFIDF = dict(
    input="content",
    encoding="utf-8",
    decode_error="replace",
    strip_accents="unicode",
    lowercase=True,
    analyzer="word",
    stop_words="english",
    token_pattern=r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b",
    ngram_range=(1, 2),
    max_features=20000,
    norm="l2",
    use_idf=True,
    smooth_idf=True,
    sublinear_tf=True,
    max_df=0.1,
    min_df=5,
)
# paperfeed's: the same with a five times wider vocabulary and the words and pairs found in 2+ papers.
SETTINGS = {**ARXIV_SANITY_TFIDF, "max_features": 100_000, "min_df": 2}
# Below this many papers (tests, a new site) min_df and max_df=0.1 leave next to no vocabulary: every word is kept.
SMALL_CORPUS = 1_000
FORMAT = 1  # bumped when the file layout or SETTINGS change, so an old file is rebuilt, never misread


class TermIndexError(ValueError):
    """A term index file that cannot be used; the message names the file and what is wrong."""


def _settings_for(papers: int) -> dict:
    settings = dict(SETTINGS)
    if papers < SMALL_CORPUS:
        settings.update(min_df=1, max_df=1.0)
    return settings


def _vectorizer(settings: dict, vocabulary: dict[str, int] | None = None):
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(**settings, vocabulary=vocabulary, dtype=np.float32)


@dataclass(frozen=True)
class TermIndex:
    """A fitted vocabulary and idf: `transform` turns texts into (n, features) float32 unit rows."""

    vectorizer: object  # a fitted sklearn TfidfVectorizer
    papers: int  # how many texts it was fitted on
    version: str  # identifies vocabulary, idf and settings: a model fitted on another version cannot be scored here

    @property
    def features(self) -> int:
        return len(self.vectorizer.vocabulary_)

    def transform(self, texts: Sequence[str]):  # -> scipy.sparse.csr_matrix
        if not len(texts):
            from scipy import sparse

            return sparse.csr_matrix((0, self.features), dtype=np.float32)
        return self.vectorizer.transform(texts).astype(np.float32).tocsr()

    def save(self, path: Path) -> None:
        """Written to a temporary file and moved into place, so a reader never sees half a file."""
        vocabulary = self.vectorizer.vocabulary_
        words = np.empty(len(vocabulary), dtype=object)
        for word, column in vocabulary.items():
            words[column] = word
        path = Path(path)
        partial = path.with_name(path.name + ".partial")
        with open(partial, "wb") as out:
            np.savez_compressed(
                out,
                words=np.array(words.tolist(), dtype=np.str_),
                idf=np.asarray(self.vectorizer.idf_, dtype=np.float32),
                meta=np.array(json.dumps({"format": FORMAT, "papers": self.papers, "version": self.version})),
            )
        os.replace(partial, path)


def _version(words: Iterable[str], idf: np.ndarray, papers: int) -> str:
    digest = hashlib.sha256(f"{FORMAT}|{papers}|{json.dumps(SETTINGS, sort_keys=True)}".encode())
    digest.update("\n".join(words).encode())
    digest.update(np.asarray(idf, dtype="<f4").tobytes())
    return digest.hexdigest()[:16]


def fit_term_index(texts: Sequence[str]) -> TermIndex:
    """An index fitted on these texts (a paper's title and abstract each). 75,000 papers take about a minute."""
    return fit_term_index_with_rows(texts)[0]


def fit_term_index_with_rows(texts: Sequence[str]):  # -> tuple[TermIndex, scipy.sparse.csr_matrix]
    """The index fitted on these texts and their rows, in one pass (the rows cost nothing more)."""
    if not len(texts):
        raise ValueError("a term index needs at least one text")
    vectorizer = _vectorizer(_settings_for(len(texts)))
    try:
        rows = vectorizer.fit_transform(texts)
    except ValueError as error:  # "empty vocabulary": only stop words, or max_df removed every word
        raise ValueError(f"no words to index in {len(texts)} texts ({error})") from None
    words = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
    index = TermIndex(vectorizer, len(texts), _version(words, vectorizer.idf_, len(texts)))
    return index, rows.astype(np.float32).tocsr()


def load_term_index(path: Path) -> TermIndex:
    """The index saved at `path`; TermIndexError when it is unreadable or was written by another format."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as stored:
            words = [str(w) for w in stored["words"]]
            idf = np.asarray(stored["idf"], dtype=np.float32)
            meta = json.loads(str(stored["meta"]))
    except (OSError, KeyError, ValueError, EOFError) as error:
        raise TermIndexError(f"{path}: not a readable term index ({error}); `paperfeed index` rebuilds it") from None
    if meta.get("format") != FORMAT:
        raise TermIndexError(f"{path}: written in format {meta.get('format')}, this version reads {FORMAT}")
    if len(words) != len(idf) or not words:
        raise TermIndexError(f"{path}: {len(words)} words but {len(idf)} idf values")
    papers = int(meta.get("papers", 0))
    version = _version(words, idf, papers)
    if meta.get("version") != version:
        raise TermIndexError(f"{path}: its contents do not match its version (a damaged or edited file)")
    vectorizer = _vectorizer(_settings_for(papers), {word: column for column, word in enumerate(words)})
    vectorizer.idf_ = idf
    return TermIndex(vectorizer, papers, version)
