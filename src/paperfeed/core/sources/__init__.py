"""Parsers of the places papers come from: bytes in, plain records out. No Django, no network.

Each module reads one format (arXiv OAI-PMH, arXiv announcement feeds, the arXiv API, Hugging Face daily
papers, the arXiv metadata snapshot). A response that cannot be read at all raises SourceError; a single
record that cannot be read is reported in the result's `skipped` list and the others are kept.
"""


class SourceError(ValueError):
    """A response or file that cannot be read at all (malformed XML, an HTML error page, wrong JSON shape).

    The message says what was expected and what came instead, in terms an operator can act on.
    """
