"""A paper's address: how URLs and references name it, from its source and its id there.

A paper is identified by its source and the id it has there (`arxiv` and `2503.11731`, `biorxiv` and
`10.1101/2024.01.01.575001`). arXiv papers, most of the site, are addressed by their arXiv id alone, as they always
were (/papers/2503.11731); a paper of any other source by `source:id` (/papers/biorxiv:10.1101/2024.01.01.575001).
Which sources there are is core.sources.registry's business; this module only writes addresses.
"""

from __future__ import annotations

DEFAULT_SOURCE = "arxiv"  # whose papers are addressed by their id alone


def paper_address(source: str, external_id: str) -> str:
    """`2503.11731` for an arXiv paper, `biorxiv:10.1101/…` for a paper of another source."""
    return external_id if source == DEFAULT_SOURCE else f"{source}:{external_id}"
