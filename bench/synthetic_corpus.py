"""A deterministic synthetic arXiv corpus of any size, grown from the real papers, for benchmarking search at scale.

    .venv/bin/python bench/synthetic_corpus.py --papers 2700000 --out /tmp/synthetic \\
        [--seed 0] [--embeddings FILE.npz] [--source ../shared/data/arxiv-daily/papers.jsonl.gz]

Writes `OUT/papers.jsonl.gz` (gzip level 1), one paper per line in the JSON Lines format of the README (`id`,
`title`, `abstract`, `authors`, `categories`, `primary_category`, `first_listed`, `last_seen`, `comment`), ready
for `paperfeed load-jsonl`; with `--embeddings`, also `OUT/embeddings.npy`. The default size, 2.7 million papers,
is roughly all of arXiv.

What is real
    The first lines are the source papers (by default the 74,728 real papers of
    shared/data/arxiv-daily/papers.jsonl.gz), in source order, with the nine fields above copied unchanged (extra
    fields such as `abs_url` are dropped), so the synthetic corpus contains the real one. `--papers` smaller than
    the source keeps its first N papers.

What is synthetic
    Every later paper is derived from a *parent*, a real paper drawn uniformly at random, and 2 or 3 *donors*,
    real papers drawn uniformly from the parent's primary category (a donor may be the parent itself when the
    category is tiny):

    - title: the parent's title with 1 word (titles of up to 4 words), 2 (up to 9) or 3 (longer) words, at random
      positions, replaced by random words of the first donor's title;
    - abstract: as many sentences as the parent's abstract has (split after . ! ? before a capital letter; a final
      sentence without a full stop gets one): half of them (rounded up) drawn from the parent, the rest from the
      pooled sentences of the donors, then shuffled. So vocabulary, abstract length and the per-category mix of
      terms stay those of real abstracts, while no synthetic abstract repeats a real one sentence for sentence
      (unless it has a single sentence);
    - authors: as many as the parent has (so the count distribution is the real one), drawn from the author pool
      of the primary category, every authorship counted (prolific authors stay prolific), without repeats within a
      paper;
    - categories and primary_category: the parent's; comment: the last donor's (so about half are null, as real);
    - first_listed: a weekday (arXiv lists Monday to Friday) drawn uniformly from 2008-01-01 to 2024-12-31, which
      ignores arXiv's growth; last_seen: first_listed plus the parent's gap between its own two dates;
    - id: new-style `YYMM.NNNNN`, YYMM the month of first_listed (0801 to 2412), NNNNN numbering that month's
      synthetic papers from 00001 in order of first_listed (then of line), skipping every number a source paper
      holds in that month (the real corpus has a few ids from those years, e.g. 1812.06145). Every id is checked
      with paperfeed.core.arxiv_ids.parse_arxiv_id. 99,999 numbers a month over 204 months bound the corpus at
      about 20 million papers; more is refused.

Embeddings (`--embeddings FILE.npz`, arrays `ids`: arXiv ids of source papers, `vectors`: (n, d) float16/float32
unit vectors, e.g. MiniLM's 384 dimensions)
    `OUT/embeddings.npy` is float16 of shape (N, d), and row i belongs to line i of papers.jsonl.gz (0-based), so
    no separate id list is written: read the ids from the lines. A real paper's row is its own vector, unchanged
    (cast to float16). A synthetic paper's row is its parent's vector (renormalised) plus Gaussian noise
    N(0, σ²) in every dimension, renormalised to unit length. For a unit vector v and noise n with σ² per
    dimension, |n|² ≈ dσ² and v·n ≈ 0, so cos(v, v + n) ≈ 1/√(1 + dσ²); σ = √((1/c² − 1)/d) gives a cosine of
    c = 0.9 to the parent: σ ≈ 0.0247 for d = 384. Measured on the demo corpus's MiniLM vectors: cosine to the
    parent 0.900 on average (standard deviation 0.0075, range 0.87 to 0.93), while a real paper's nearest other
    real paper is at 0.64 on average, so a synthetic paper's nearest real paper is its parent. Every source paper
    must have a vector in FILE (its row is copied and any of them may be a parent); the run stops with a clear
    message otherwise. The text and the embeddings use separate random streams, so papers.jsonl.gz is the
    same with or without --embeddings.

Determinism
    The same source, --papers and --seed give byte-identical files (numpy Generators and a random.Random seeded
    from --seed; gzip written with mtime 0).

Scale
    The work is streamed in chunks of 10,000 papers (lines and embedding rows written as they are made, the
    compression running in a second thread), so memory stays well under 1 GB at 2.7 million papers (600 MB
    measured at 400,000 from the full source with vectors), mostly the source papers kept as sentences, words and
    author pools. Progress, with the rate, goes to stderr every 100,000 papers.
    Files are written under a `.part` name and renamed when complete.
"""

from __future__ import annotations

import argparse
import gzip
import math
import os
import queue
import random
import re
import resource
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import orjson

from paperfeed.core.arxiv_ids import parse_arxiv_id
from paperfeed.core.records import LineReader, RecordError, record_from_dict

DEFAULT_SOURCE = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "arxiv-daily" / "papers.jsonl.gz"
DEFAULT_PAPERS = 2_700_000
FIELDS = tuple("id title abstract authors categories primary_category first_listed last_seen comment".split())
PARENT_COSINE = 0.9
FIRST_DAY = date(2008, 1, 1)
LAST_DAY = date(2024, 12, 31)
MAX_NUMBER = 99_999  # five-digit numbers within a month
CHUNK = 10_000
PROGRESS_EVERY = 100_000

# A sentence ends at . ! or ? followed by a space and a capital letter: crude ("Fig. 2" stays whole, "e.g. The"
# splits), but it only has to give sentence-sized pieces of real text.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


class CorpusError(Exception):
    """The source or embeddings cannot be used; the message says why."""


def noise_sigma(dimensions: int, cosine: float = PARENT_COSINE) -> float:
    """σ of the per-dimension Gaussian noise that leaves a unit vector at about `cosine` to its noisy copy.

    cos(v, v + n) ≈ 1/√(1 + dσ²) for unit v and n ~ N(0, σ²·I_d), hence σ = √((1/cosine² − 1)/d).
    """
    return math.sqrt((1.0 / cosine**2 - 1.0) / dimensions)


def split_sentences(text: str) -> list[str]:
    """The sentences of an abstract, each ending in . ! or ? (a period is added to a last one that had none)."""
    return [s if s[-1] in ".!?" else s + "." for s in _SENTENCE_END.split(text) if s]


@dataclass
class Source:
    """The real papers, held as the pieces synthetic papers are made of (index = line order in the source)."""

    ids: list[str]
    title_words: list[list[str]]
    sentences: list[list[str]]
    author_counts: list[int]
    categories: list[tuple[str, ...]]
    primary: list[str]
    gaps: list[int]  # days from first_listed to last_seen
    comments: list[str | None]
    category_of: list[int]  # index into members/author_pools
    members: list[list[int]]  # per primary category: its papers
    author_pools: list[list[str]]  # per primary category: every authorship

    def __len__(self) -> int:
        return len(self.ids)


def read_source(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, decoded object) for each paper of a JSON Lines file (plain or gzip)."""
    with LineReader(path) as reader:
        try:
            for lineno, line in reader:
                try:
                    yield lineno, orjson.loads(line)
                except orjson.JSONDecodeError as error:
                    raise CorpusError(f"{path}:{lineno}: not valid JSON: {error}") from None
        except RecordError as error:
            raise CorpusError(f"{path}:{reader.lineno}: {error}") from None


def load_source(path: Path) -> Source:
    """The source papers, each checked as `paperfeed load-jsonl` would; CorpusError says what is wrong."""
    src = Source([], [], [], [], [], [], [], [], [], [], [])
    category_index: dict[str, int] = {}
    seen: set[str] = set()
    for lineno, obj in read_source(path):
        try:
            record = record_from_dict(obj)
        except RecordError as error:
            raise CorpusError(f"{path}:{lineno}: {error}") from None
        if record.arxiv_id in seen:
            raise CorpusError(f"{path}:{lineno}: {record.arxiv_id} appears twice")
        seen.add(record.arxiv_id)
        cat = category_index.setdefault(record.primary_category, len(category_index))
        if cat == len(src.members):
            src.members.append([])
            src.author_pools.append([])
        src.members[cat].append(len(src.ids))
        src.author_pools[cat].extend(record.authors)
        src.ids.append(record.arxiv_id)
        src.title_words.append(record.title.split())
        src.sentences.append(split_sentences(record.abstract))
        src.author_counts.append(len(record.authors))
        src.categories.append(record.categories)
        src.primary.append(record.primary_category)
        listed, seen_last = record.listed_on, record.updated
        src.gaps.append((seen_last - listed).days if listed and seen_last else 0)
        src.comments.append(record.comment)
        src.category_of.append(cat)
    if not src.ids:
        raise CorpusError(f"{path}: no papers")
    return src


def real_lines(path: Path, limit: int) -> Iterator[bytes]:
    """The first `limit` source papers as output lines: the README's nine fields, values unchanged."""
    for count, (_, obj) in enumerate(read_source(path)):
        if count >= limit:
            return
        yield orjson.dumps({field: obj.get(field) for field in FIELDS})


def load_vectors(path: Path, ids: list[str]) -> np.ndarray:
    """The source papers' vectors in source order, float16 or float32 as stored; CorpusError if any is missing."""
    with np.load(path) as npz:
        missing_arrays = [name for name in ("ids", "vectors") if name not in npz.files]
        if missing_arrays:
            raise CorpusError(f"{path}: no array {' or '.join(missing_arrays)} (it has {', '.join(npz.files)})")
        file_ids, vectors = npz["ids"], npz["vectors"]
    if vectors.ndim != 2 or len(file_ids) != len(vectors):
        raise CorpusError(f"{path}: `vectors` {vectors.shape} does not match `ids` ({len(file_ids)})")
    if vectors.dtype not in (np.float16, np.float32):
        raise CorpusError(f"{path}: `vectors` must be float16 or float32, not {vectors.dtype}")
    row_of: dict[str, int] = {}
    for row, raw in enumerate(file_ids.tolist()):
        parsed = parse_arxiv_id(raw.decode() if isinstance(raw, bytes) else str(raw))
        if parsed is not None:
            row_of[parsed.id] = row
    rows = [row_of.get(arxiv_id, -1) for arxiv_id in ids]
    missing = [arxiv_id for arxiv_id, row in zip(ids, rows, strict=True) if row < 0]
    if missing:
        raise CorpusError(
            f"{path} has no vector for {len(missing):,} of the {len(ids):,} source papers (e.g. "
            f"{', '.join(missing[:3])}); every source paper needs one, since its own row is copied into "
            f"embeddings.npy and any of them may be a parent. Embed them all, or pass the --source they came from."
        )
    return vectors[np.asarray(rows, dtype=np.int64)]


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    matrix = matrix.astype(np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    if not np.all(norms > 0):
        raise CorpusError("a source vector is all zeros")
    return matrix / norms


def listing_days() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The weekdays of FIRST_DAY..LAST_DAY as ordinals, each one's month index, and the months as YYMM."""
    ordinals = np.arange(FIRST_DAY.toordinal(), LAST_DAY.toordinal() + 1)
    ordinals = ordinals[(ordinals - 1) % 7 < 5]  # date.fromordinal(1) is a Monday
    months = np.array([(d.year - FIRST_DAY.year) * 12 + d.month - 1 for d in map(date.fromordinal, ordinals)])
    yymm = [f"{(FIRST_DAY.year + m // 12) % 100:02d}{m % 12 + 1:02d}" for m in range(int(months.max()) + 1)]
    return ordinals, months, yymm


def synthetic_dates_and_ids(
    count: int, rng: np.random.Generator, taken: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """First-listed ordinals, month indexes and numbers of `count` synthetic papers, and the months as YYMM.

    Paper i is `f"{yymm[month[i]]}.{number[i]:05d}"`; the ids avoid `taken` (the source ids). Kept as arrays, not
    strings, to save memory (about 200 MB at 2.7 million papers).
    """
    ordinals, months, yymm = listing_days()
    pick = rng.integers(0, len(ordinals), size=count)
    day = ordinals[pick].astype(np.int64)
    month = months[pick]
    # Number each month's papers in order of first_listed, then of line: rank within the month after a stable sort.
    order = np.argsort(day, kind="stable")  # by day, then line; days sort months too
    sorted_month = month[order]
    starts = np.searchsorted(sorted_month, np.arange(len(yymm)))
    rank = np.arange(count) - starts[sorted_month]
    numbers = np.empty(count, dtype=np.int64)
    numbers[order] = rank + 1
    # Skip the numbers real papers hold in these months.
    month_of_yymm = {value: index for index, value in enumerate(yymm)}
    held: dict[int, set[int]] = {}
    for arxiv_id in taken:
        prefix, _, number = arxiv_id.partition(".")
        if prefix in month_of_yymm and number.isdigit():
            held.setdefault(month_of_yymm[prefix], set()).add(int(number))
    per_month = np.bincount(month, minlength=len(yymm))
    for m, size in enumerate(per_month.tolist()):
        if size > MAX_NUMBER - len(held.get(m, ())):
            raise CorpusError(
                f"{count:,} synthetic papers do not fit the id space ({MAX_NUMBER:,} a month over {len(yymm)} "
                f"months): ask for fewer"
            )
    for m, numbers_held in held.items():
        free = np.setdiff1d(np.arange(1, MAX_NUMBER + 1), np.fromiter(numbers_held, dtype=np.int64))
        mine = month == m
        numbers[mine] = free[numbers[mine] - 1]
    return day, month.astype(np.int16), numbers.astype(np.int32), yymm


@dataclass
class Chunk:
    data: bytearray  # `count` lines, each ending in a newline
    count: int
    vectors: np.ndarray | None  # float16 (count, d), row i for line i
    parents: np.ndarray  # source index each line derives from (a real line: itself)

    def lines(self) -> list[bytes]:
        return bytes(self.data).splitlines()


class SyntheticCorpus:
    """Makes the corpus chunk by chunk: `chunks()` yields the real papers, then the synthetic ones."""

    def __init__(
        self, source_path: Path, papers: int, seed: int = 0, embeddings: Path | None = None, chunk: int = CHUNK
    ) -> None:
        if papers < 1:
            raise CorpusError("--papers must be at least 1")
        self.source_path = Path(source_path)
        self.papers = papers
        self.chunk = chunk
        self.source = load_source(self.source_path)
        self.real = min(papers, len(self.source))
        self.synthetic = papers - self.real
        self.vectors = load_vectors(Path(embeddings), self.source.ids) if embeddings else None
        self.unit = unit_rows(self.vectors) if self.vectors is not None and self.synthetic else None
        self.dimensions = self.vectors.shape[1] if self.vectors is not None else 0
        self.sigma = noise_sigma(self.dimensions) if self.dimensions else 0.0
        # Separate streams: the structure (dates, parents), the text, the noise.
        self.rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))
        self.noise_rng = np.random.default_rng(np.random.SeedSequence([seed, 2]))
        self.text_rng = random.Random(seed)
        self.days, self.months, self.numbers, self.yymm = synthetic_dates_and_ids(
            self.synthetic, self.rng, self.source.ids
        )
        self.parents = self.rng.integers(0, len(self.source), size=self.synthetic)
        first = FIRST_DAY.toordinal()
        last = LAST_DAY.toordinal() + max(self.source.gaps, default=0) + 1
        self._iso = [date.fromordinal(o).isoformat() for o in range(first, last)]
        self._first = first

    def chunks(self) -> Iterator[Chunk]:
        # Lines go straight into a bytearray: orjson's bytes carry a large spare capacity (about 16 KB each in
        # orjson 3.13), so a list of them would take ten times the memory of the text.
        data, count, start = bytearray(), 0, 0
        for line in real_lines(self.source_path, self.real):
            data += line
            data += b"\n"
            count += 1
            if count == self.chunk or start + count == self.real:
                yield self._real_chunk(data, count, start)
                data, count, start = bytearray(), 0, start + count
        for start in range(0, self.synthetic, self.chunk):
            yield self._synthetic_chunk(start, min(start + self.chunk, self.synthetic))

    def _real_chunk(self, data: bytearray, count: int, start: int) -> Chunk:
        stop = start + count
        vectors = self.vectors[start:stop].astype(np.float16) if self.vectors is not None else None
        return Chunk(data, count, vectors, np.arange(start, stop))

    def _synthetic_chunk(self, start: int, stop: int) -> Chunk:
        parents = self.parents[start:stop]
        src, rnd, iso, first = self.source, self.text_rng, self._iso, self._first
        random_, yymm, dumps = rnd.random, self.yymm, orjson.dumps
        data = bytearray()
        months, numbers = self.months[start:stop].tolist(), self.numbers[start:stop].tolist()
        rows = zip(parents.tolist(), self.days[start:stop].tolist(), months, numbers, strict=True)
        for parent, day, month, number in rows:
            arxiv_id = f"{yymm[month]}.{number:05d}"
            if parse_arxiv_id(arxiv_id) is None:
                raise AssertionError(f"made an invalid arXiv id {arxiv_id!r}")
            cat = src.category_of[parent]
            members = src.members[cat]
            size = len(members)
            donors = [members[int(random_() * size)] for _ in range(2 if random_() < 0.5 else 3)]
            # Title: a few words swapped for words of a donor's title.
            words = list(src.title_words[parent])
            donor_words = src.title_words[donors[0]]
            swaps = 1 if len(words) <= 4 else 2 if len(words) <= 9 else 3
            for position in rnd.sample(range(len(words)), swaps):
                words[position] = donor_words[int(random_() * len(donor_words))]
            # Abstract: the parent's number of sentences, half of them its own, the rest the donors', shuffled.
            own = src.sentences[parent]
            keep = (len(own) + 1) // 2
            need = len(own) - keep
            if need:
                order = rnd.sample(range(len(own)), len(own))
                sentences = [own[i] for i in order[:keep]]
                pool = [s for d in donors for s in src.sentences[d]]
                if len(pool) >= need:
                    sentences += rnd.sample(pool, need)
                else:  # tiny donors: all of theirs, the rest from the parent's unused sentences
                    sentences += pool + [own[i] for i in order[keep : keep + need - len(pool)]]
                rnd.shuffle(sentences)
            else:
                sentences = own
            # Authors: the parent's count, from the category's authorships, no repeats.
            wanted = src.author_counts[parent]
            pool = src.author_pools[cat]
            authors = dict.fromkeys(pool[int(random_() * len(pool))] for _ in range(wanted))
            if len(authors) < wanted:  # repeats: draw more, then walk the pool from a random place
                for _ in range(2 * wanted):
                    authors[pool[int(random_() * len(pool))]] = None
                if len(authors) < wanted:
                    at = int(random_() * len(pool))
                    for name in pool[at:] + pool[:at]:
                        authors[name] = None
                        if len(authors) == wanted:
                            break
                authors = dict.fromkeys(list(authors)[:wanted])
            offset = day - first
            data += dumps(
                {
                    "id": arxiv_id,
                    "title": " ".join(words),
                    "abstract": " ".join(sentences),
                    "authors": list(authors),
                    "categories": src.categories[parent],
                    "primary_category": src.primary[parent],
                    "first_listed": iso[offset],
                    "last_seen": iso[offset + src.gaps[parent]],
                    "comment": src.comments[donors[-1]],
                }
            )
            data += b"\n"
        vectors = None
        if self.unit is not None:
            vectors = self.unit[parents]
            vectors += self.noise_rng.standard_normal(vectors.shape, dtype=np.float32) * np.float32(self.sigma)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            vectors = vectors.astype(np.float16)
        return Chunk(data, stop - start, vectors, parents)


class _Writer:
    """Writes chunks in a background thread (zlib releases the GIL, so compression runs on the second core)."""

    def __init__(self, papers_path: Path, vectors_path: Path | None, shape: tuple[int, int]) -> None:
        self.paths = [papers_path] + ([vectors_path] if vectors_path else [])
        self._raw = open(_part(papers_path), "wb")  # noqa: SIM115 - closed in close()
        self._gz = gzip.GzipFile(filename="papers.jsonl", mode="wb", compresslevel=1, fileobj=self._raw, mtime=0)
        self._npy = None
        if vectors_path:
            self._npy = open(_part(vectors_path), "wb")  # noqa: SIM115 - closed in close()
            header = {"descr": np.lib.format.dtype_to_descr(np.dtype("<f2")), "fortran_order": False, "shape": shape}
            np.lib.format.write_array_header_1_0(self._npy, header)
        self._queue: queue.Queue = queue.Queue(maxsize=2)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._error is not None:
                continue
            try:
                data, vectors = item
                self._gz.write(data)
                if vectors is not None:
                    self._npy.write(vectors.tobytes())
            except BaseException as error:  # reported by put() or close()
                self._error = error

    def put(self, chunk: Chunk) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put((chunk.data, chunk.vectors))

    def close(self, complete: bool) -> None:
        """Finishes the files: renamed into place when `complete` and all went well, removed otherwise."""
        self._queue.put(None)
        self._thread.join()
        try:
            self._gz.close()
            self._raw.close()
            if self._npy:
                self._npy.close()
        except BaseException as error:
            self._error = self._error or error
        for path in self.paths:
            if complete and self._error is None:
                os.replace(_part(path), path)
            else:
                _part(path).unlink(missing_ok=True)
        if self._error is not None:
            raise self._error


def _part(path: Path) -> Path:
    return path.with_name(path.name + ".part")


def write_corpus(
    out: Path,
    papers: int,
    seed: int = 0,
    source: Path = DEFAULT_SOURCE,
    embeddings: Path | None = None,
    progress=sys.stderr,
) -> dict:
    """Writes OUT/papers.jsonl.gz (and OUT/embeddings.npy with `embeddings`); returns counts and timings."""
    started = time.perf_counter()
    corpus = SyntheticCorpus(source, papers, seed=seed, embeddings=embeddings)
    prepared = time.perf_counter() - started
    if progress:
        print(
            f"source: {len(corpus.source):,} papers in {len(corpus.source.members)} primary categories "
            f"({prepared:.1f} s); writing {corpus.real:,} real + {corpus.synthetic:,} synthetic papers"
            + (f", embeddings d={corpus.dimensions} sigma={corpus.sigma:.4f}" if corpus.vectors is not None else ""),
            file=progress,
            flush=True,
        )
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    vectors_path = out / "embeddings.npy" if embeddings else None
    writer = _Writer(out / "papers.jsonl.gz", vectors_path, (papers, corpus.dimensions))
    done, complete = 0, False
    loop_start = time.perf_counter()
    try:
        for chunk in corpus.chunks():
            writer.put(chunk)
            before, done = done, done + chunk.count
            if progress and done // PROGRESS_EVERY > before // PROGRESS_EVERY:
                elapsed = time.perf_counter() - loop_start
                print(
                    f"{done:>12,} / {papers:,} papers  {done / elapsed:,.0f} papers/s  {elapsed:,.0f} s",
                    file=progress,
                    flush=True,
                )
        complete = True
    finally:
        writer.close(complete)
    elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if progress:
        print(
            f"wrote {done:,} papers to {out} in {elapsed:,.1f} s ({done / elapsed:,.0f} papers/s overall), "
            f"peak memory {peak_mb:,.0f} MB",
            file=progress,
            flush=True,
        )
    return {"papers": done, "real": corpus.real, "synthetic": corpus.synthetic, "seconds": elapsed, "peak_mb": peak_mb}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--papers", type=int, default=DEFAULT_PAPERS, help="papers in all, real ones included")
    parser.add_argument("--out", type=Path, required=True, help="directory for papers.jsonl.gz (and embeddings.npy)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--embeddings", type=Path, help=".npz with `ids` and `vectors` of the source papers")
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="real papers, JSON Lines (plain or gzip)")
    args = parser.parse_args(argv)
    try:
        write_corpus(args.out, args.papers, seed=args.seed, source=args.source, embeddings=args.embeddings)
    except (CorpusError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
