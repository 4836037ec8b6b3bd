"""medRxiv as a paper source: bioRxiv's sibling server, with the same DOIs (10.1101/…; a DOI names one preprint on
one of the two), the same API (https://api.biorxiv.org/details/medrxiv/…) and the same parser (biorxiv.py); its
papers are at www.medrxiv.org and addressed `medrxiv:10.1101/…`, its subjects ("epidemiology") their categories."""

from __future__ import annotations

from paperfeed.core.sources.biorxiv import MEDRXIV, source_for

SOURCE = source_for(MEDRXIV)
