"""The keyword engine: tantivy (block-max WAND BM25), every match considered, the top k returned without scoring
all of them. The only module that writes the engine's query syntax or touches its files.

Chosen by measurement over SQLite FTS5, which must score every match before it can return the best ten
(docs/benchmarks.md). A paper is one text field scored by BM25 in which the title counts TITLE_REPEATS times and
the authors AUTHOR_REPEATS times: like FTS5's weighted bm25 (and BM25F), a word's weighted occurrences saturate
together, so a title match lifts a paper without drowning the abstract's evidence. (A sum of per-field BM25
scores with the title boosted 5x, tried first, lost 0.13 nDCG@10 on SciFact: docs/search-quality.md.) Papers a
moderator hid are not in the index.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import tantivy
from django.utils.html import escape

from paperfeed.core.search_query import SearchQuery, Term, expansions_of
from paperfeed.papers.retrieval.request import Filters

# Bump when the schema or the analysis of text changes: an index of another version is rebuilt.
SCHEMA_VERSION = 3  # 3: `code`, whether the paper has a code link (the "with code" filter)
TITLE_REPEATS = 3  # chosen on SciFact's train split among 1, 2, 3 and 5 (docs/search-quality.md)
AUTHOR_REPEATS = 2
TEXT = "text"
ANALYZER = "paperfeed"  # letters and digits, lower case, accents folded, English (Porter 2) stems
SNIPPET_CHARS = 240
TITLE_CHARS = 2000
PREFIX_MARKS = 50  # a prefix* word marks its commonest completions on the page (it matches them all)
WRITER_HEAP = 64_000_000
NO_FILTERS = Filters()


def _analyzer(stem: bool) -> tantivy.TextAnalyzer:
    builder = (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(80))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
    )
    return (builder.filter(tantivy.Filter.stemmer("english")) if stem else builder).build()


_STEMMED = _analyzer(stem=True)
_FOLDED = _analyzer(stem=False)


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("paper_id", indexed=True, fast=True)
    builder.add_text_field(TEXT, tokenizer_name=ANALYZER)  # title, authors and abstract, as values of one field
    builder.add_text_field("category", tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("published", indexed=True, fast=True)  # days since 0001-01-01 (date.toordinal)
    builder.add_integer_field("code", indexed=True)  # 1 when the paper has a code link, else 0
    builder.add_integer_field("newest", fast=True)  # order of a search with no words: day, then arXiv number
    return builder.build()


SCHEMA = _schema()


@dataclass(frozen=True)
class Document:
    """What the index holds of one paper."""

    paper_id: int
    title: str
    abstract: str
    authors: Sequence[str]
    categories: Sequence[str]
    published: date | None
    external_id: str = ""  # its id at its source: newest first breaks ties of a day by it (higher arXiv numbers)
    has_code: bool = False  # it has a code link (Paper.code_url)


@dataclass(frozen=True)
class Marked:
    """A paper's title and a snippet of its abstract, escaped, with the searched words in <mark>."""

    title_html: str
    snippet_html: str


def _id_number(external_id: str) -> int:
    """The digits of an id (an arXiv id's number, a DOI's last part), for ordering papers of one day."""
    digits = re.sub(r"\D", "", external_id.split("v")[0] if "/" not in external_id else external_id.split("/")[-1])
    return int(digits[:12] or 0)


def _document(doc: Document) -> tantivy.Document:
    authors = ", ".join(doc.authors)
    text = [doc.title] * TITLE_REPEATS + ([authors] * AUTHOR_REPEATS if authors else []) + [doc.abstract]
    fields: dict = {"paper_id": doc.paper_id, TEXT: text, "category": list(doc.categories), "code": int(doc.has_code)}
    if doc.published is not None:
        fields["published"] = doc.published.toordinal()
        fields["newest"] = (doc.published.toordinal() << 40) + (_id_number(doc.external_id) % (1 << 40))
    else:
        fields["newest"] = _id_number(doc.external_id) % (1 << 40)
    return tantivy.Document(**fields)


# --- queries: built as objects from parsed words, never from a query string, so typed text is only ever text ---


def _tokens(words: Iterable[str], analyzer: tantivy.TextAnalyzer) -> list[str]:
    return [token for word in words for token in analyzer.analyze(word)]


def _words_clause(words: Sequence[str]) -> tantivy.Query | None:
    tokens = _tokens(words, _STEMMED)
    if not tokens:
        return None
    if len(tokens) == 1:
        return tantivy.Query.term_query(SCHEMA, TEXT, tokens[0])
    return tantivy.Query.phrase_query(SCHEMA, TEXT, tokens)


def _prefix_clause(word: str) -> tantivy.Query | None:
    # Every indexed term that starts with the word matches: exact, if unranked among themselves.
    tokens = _tokens([word], _FOLDED)
    if len(tokens) != 1:
        return None
    pattern = re.escape(tokens[0]) + ".*"
    return tantivy.Query.regex_query(SCHEMA, TEXT, pattern)


def _term_clause(term: Term, expand: bool) -> tantivy.Query | None:
    if term.prefix:
        return _prefix_clause(term.words[0])
    alternatives = [_words_clause(term.words)]
    if expand:
        alternatives += [_words_clause(tuple(form.split())) for form in expansions_of(term)]
    alternatives = [a for a in alternatives if a is not None]
    if len(alternatives) <= 1:
        return alternatives[0] if alternatives else None
    return tantivy.Query.boolean_query([(tantivy.Occur.Should, a) for a in alternatives])


def _filter_clauses(filters: Filters, among: Iterable[int] | None) -> list[tuple]:
    """The filters as clauses that only admit papers, never add to a score."""
    clauses = []
    if filters.category:
        query = tantivy.Query.term_query(SCHEMA, "category", filters.category)
        clauses.append((tantivy.Occur.Must, tantivy.Query.const_score_query(query, 0.0)))
    if filters.date_from or filters.date_to:
        query = tantivy.Query.range_query(
            SCHEMA,
            "published",
            tantivy.FieldType.Integer,
            filters.date_from.toordinal() if filters.date_from else None,
            filters.date_to.toordinal() if filters.date_to else None,
        )
        clauses.append((tantivy.Occur.Must, tantivy.Query.const_score_query(query, 0.0)))
    if filters.with_code:
        query = tantivy.Query.range_query(SCHEMA, "code", tantivy.FieldType.Integer, 1, 1)
        clauses.append((tantivy.Occur.Must, tantivy.Query.const_score_query(query, 0.0)))
    if among is not None:
        query = tantivy.Query.term_set_query(SCHEMA, "paper_id", sorted(among))
        clauses.append((tantivy.Occur.Must, tantivy.Query.const_score_query(query, 0.0)))
    return clauses


def compile_query(
    query: SearchQuery, match_all: bool, expand: bool, filters: Filters = NO_FILTERS, among=None
) -> tantivy.Query | None:
    """The engine query for these words: every positive term (else any), none of the negative ones, and the
    filters; None when no word can match anything."""
    positive = [c for c in (_term_clause(t, expand) for t in query.positive) if c is not None]
    if not positive:
        return None
    occur = tantivy.Occur.Must if match_all else tantivy.Occur.Should
    words = tantivy.Query.boolean_query([(occur, c) for c in positive]) if len(positive) > 1 else positive[0]
    clauses = [(tantivy.Occur.Must, words)]
    negative = [c for c in (_term_clause(t, True) for t in query.negative) if c is not None]
    clauses += [(tantivy.Occur.MustNot, c) for c in negative]
    clauses += _filter_clauses(filters, among)
    return words if len(clauses) == 1 else tantivy.Query.boolean_query(clauses)


def tiers(query: SearchQuery, match_all: bool, filters: Filters = NO_FILTERS, among=None) -> list[tantivy.Query]:
    """The queries to rank one after the other: the words as typed, then (when an acronym was expanded) the
    papers found only through the spelled-out forms ("MLP" then "multilayer perceptron")."""
    exact = compile_query(query, match_all, False, filters, among)
    if exact is None:
        return []
    if not any(expansions_of(t) for t in query.positive):
        return [exact]
    expanded = compile_query(query, match_all, True, filters, among)
    only_expanded = tantivy.Query.boolean_query([(tantivy.Occur.Must, expanded), (tantivy.Occur.MustNot, exact)])
    return [exact, only_expanded]


def all_papers(filters: Filters, among=None) -> tantivy.Query:
    clauses = _filter_clauses(filters, among)
    if not clauses:
        return tantivy.Query.all_query()
    return tantivy.Query.boolean_query([(tantivy.Occur.Must, tantivy.Query.all_query()), *clauses])


# --- the index on disk ---


class IndexDamaged(Exception):
    """The index directory cannot be opened as this version's index."""


class KeywordIndex:
    """A tantivy index in a directory; `state.json` beside its files records the change it reflects."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.state_path = path / "paperfeed-state.json"
        self._index: tantivy.Index | None = None

    # The state note: which version wrote the index and the last database change it applied.

    def read_state(self) -> dict | None:
        try:
            state = json.loads(self.state_path.read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(state, dict) or state.get("version") != SCHEMA_VERSION:
            return None
        if not isinstance(state.get("change"), int) or not isinstance(state.get("stamp"), int):
            return None
        return state

    def write_state(self, change: int, stamp: int, papers: int) -> None:
        state = {"version": SCHEMA_VERSION, "change": change, "stamp": stamp, "papers": papers}
        state["generation"] = (self.read_state() or {}).get("generation") or secrets.token_hex(8)
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state))
        tmp.replace(self.state_path)

    def close(self) -> None:
        self._index = None

    def replace_with(self, built: KeywordIndex) -> None:
        """Put a freshly built index (another directory) in this one's place, in two renames."""
        old = self.path.with_name(self.path.name + ".old")
        if old.exists():
            shutil.rmtree(old)
        if self.path.exists():
            self.path.rename(old)
        built.path.rename(self.path)
        self._index = None
        if old.exists():
            shutil.rmtree(old, ignore_errors=True)

    def open(self) -> tantivy.Index:
        """The index, opened once per process (raises IndexDamaged when its files cannot be read)."""
        if self._index is None:
            try:
                index = tantivy.Index.open(str(self.path))
            except (OSError, ValueError) as error:
                raise IndexDamaged(f"the keyword index at {self.path} cannot be opened ({error})") from None
            index.register_tokenizer(ANALYZER, _STEMMED)
            self._index = index
        return self._index

    def create(self) -> tantivy.Index:
        """A new, empty index in place of whatever was there."""
        self._index = None
        if self.path.exists():
            shutil.rmtree(self.path)
        self.path.mkdir(parents=True)
        index = tantivy.Index(SCHEMA, path=str(self.path))
        index.register_tokenizer(ANALYZER, _STEMMED)
        self._index = index
        return index

    def reload(self) -> None:
        if self._index is not None:
            self._index.reload()

    def writer(self, threads: int = 1) -> tantivy.IndexWriter:
        return self.open().writer(WRITER_HEAP * threads, threads)

    def searcher(self) -> tantivy.Searcher:
        return self.open().searcher()


def replace_documents(writer: tantivy.IndexWriter, paper_ids: Iterable[int], documents: Iterable[Document]) -> None:
    """Delete these papers from the index and add these documents (uncommitted)."""
    for pid in paper_ids:
        writer.delete_documents_by_term("paper_id", pid)
    add_documents(writer, documents)


def held(searcher: tantivy.Searcher, paper_ids: Sequence[int]) -> list[int]:
    """Those of these papers that are in the index."""
    if not paper_ids:
        return []
    return ranked(searcher, all_papers(NO_FILTERS, paper_ids), len(paper_ids), count=False).ids


def add_documents(writer: tantivy.IndexWriter, documents: Iterable[Document]) -> None:
    for doc in documents:
        writer.add_document(_document(doc))


# --- reading ---


@dataclass(frozen=True)
class Ranked:
    ids: list[int]
    total: int


def _paper_ids(searcher: tantivy.Searcher, hits) -> list[int]:
    return [int(v) for v in searcher.fast_field_values("paper_id", [address for _, address in hits])]


def ranked(searcher: tantivy.Searcher, query: tantivy.Query, limit: int, offset: int = 0, count: bool = True) -> Ranked:
    """The ids of the best matches [offset, offset + limit) by score, ties by paper id, and (if count) how many
    match in all.

    The engine lists matches of equal score in the order its index took them in, which differs between two indexes
    of the same papers (two web nodes, or SQLite and PostgreSQL). So the matches tied with the last one of the page
    are all fetched and ordered by paper id: every index answers alike. (A large tie, as a lone prefix gives, costs
    a longer fetch.)"""
    if limit <= 0:
        if not count:
            return Ranked([], 0)
        found = searcher.search(query, 1, count=True)
        return Ranked([], found.count)
    wanted = offset + limit
    fetch = wanted + 1
    while True:
        found = searcher.search(query, fetch, count=count)
        hits = found.hits
        if len(hits) < fetch:  # every match is here
            break
        boundary = hits[wanted - 1][0]
        if hits[-1][0] < boundary:  # the fetch reaches past the tie at the page's end
            break
        fetch *= 4
    ids = _paper_ids(searcher, hits)
    order = sorted(range(len(hits)), key=lambda i: (-hits[i][0], ids[i]))
    return Ranked([ids[i] for i in order[offset:wanted]], found.count if count else 0)


def newest(searcher: tantivy.Searcher, query: tantivy.Query, limit: int, offset: int) -> Ranked:
    found = searcher.search(query, max(limit, 1), count=True, order_by_field="newest", offset=offset)
    return Ranked(_paper_ids(searcher, found.hits)[: max(limit, 0)], found.count)


def count(searcher: tantivy.Searcher, query: tantivy.Query) -> int:
    return searcher.search(query, 1, count=True).count


# --- marking the searched words on a page of papers ---


def _marks_query(searcher: tantivy.Searcher, query: SearchQuery, match_all: bool) -> tantivy.Query | None:
    """The words to mark: as searched, with acronyms' spelled-out forms, and a prefix's commonest completions."""
    compiled = compile_query(query, match_all, expand=True)
    extra = []
    for term in query.positive:
        if term.prefix:
            tokens = _tokens(term.words, _FOLDED)
            for text, _ in searcher.terms_with_prefix(TEXT, tokens[0] if tokens else "", limit=PREFIX_MARKS):
                extra.append((tantivy.Occur.Should, tantivy.Query.term_query(SCHEMA, TEXT, text)))
    if compiled is None:
        return None
    if not extra:
        return compiled
    return tantivy.Query.boolean_query([(tantivy.Occur.Should, compiled), *extra])


_JOINER = re.compile(rb"[\s\-]{0,3}")  # marks this close together read as one: "multi-layer perceptron"


def _to_html(fragment: str, ranges) -> str:
    """The fragment escaped, with <mark> around the engine's highlighted byte ranges (neighbours merged)."""
    raw = fragment.encode()
    spans: list[list[int]] = []
    for r in sorted(ranges, key=lambda r: r.start):
        if spans and r.start <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], r.end)
        elif spans and _JOINER.fullmatch(raw[spans[-1][1] : r.start]):
            spans[-1][1] = r.end
        else:
            spans.append([r.start, r.end])
    out, last = [], 0
    for start, end in spans:
        out.append(escape(raw[last:start].decode(errors="replace")))
        out.append("<mark>" + escape(raw[start:end].decode(errors="replace")) + "</mark>")
        last = end
    out.append(escape(raw[last:].decode(errors="replace")))
    return "".join(out)


class Marker:
    """Marks one query's words in any paper's title and abstract (for a page of results)."""

    def __init__(self, searcher: tantivy.Searcher, query: SearchQuery, match_all: bool) -> None:
        compiled = _marks_query(searcher, query, match_all)
        self._title = self._abstract = None
        if compiled is not None:
            self._title = tantivy.SnippetGenerator.create(searcher, compiled, SCHEMA, TEXT)
            self._title.set_max_num_chars(TITLE_CHARS)
            self._abstract = tantivy.SnippetGenerator.create(searcher, compiled, SCHEMA, TEXT)
            self._abstract.set_max_num_chars(SNIPPET_CHARS)

    def mark(self, title: str, abstract: str) -> Marked | None:
        """The marked title and snippet; None when neither has a searched word."""
        if self._title is None:
            return None
        title_snippet = self._title.snippet_from_doc(tantivy.Document(**{TEXT: title}))
        title_ranges = title_snippet.highlighted()
        title_html = _to_html(title, title_ranges) if title_ranges else ""
        snippet = self._abstract.snippet_from_doc(tantivy.Document(**{TEXT: abstract}))
        ranges = snippet.highlighted()
        if not ranges and not title_ranges:
            return None
        snippet_html = ""
        if ranges:
            fragment = snippet.fragment()
            snippet_html = _to_html(fragment, ranges)
            start = abstract.find(fragment)
            if start > 0:
                snippet_html = "…" + snippet_html
            if start < 0 or start + len(fragment) < len(abstract):
                snippet_html += "…"
        return Marked(title_html or escape(title), snippet_html)
