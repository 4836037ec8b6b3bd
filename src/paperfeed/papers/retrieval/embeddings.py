"""The one place that encodes and decodes stored embeddings (papers' and library entries' `vector` columns), and
the one similarity that orders papers by meaning."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

DIMENSIONS = 384
STORED_DTYPE = np.float16  # half the space of float32; ranking and nearest neighbours need no more precision


def to_blob(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=STORED_DTYPE).tobytes()


def from_blob(blob: bytes | memoryview) -> np.ndarray:
    """One stored vector as float32 (what matrix products want)."""
    return np.frombuffer(bytes(blob), dtype=STORED_DTYPE).astype(np.float32)


def stored(blob: bytes | memoryview) -> np.ndarray:
    """One stored vector as stored (float16), without a copy to float32."""
    return np.frombuffer(bytes(blob), dtype=STORED_DTYPE)


def stack(blobs: Sequence[bytes | memoryview], as_float32: bool = True) -> np.ndarray:
    """Stored vectors as the rows of one matrix."""
    if not blobs:
        return np.zeros((0, DIMENSIONS), dtype=np.float32 if as_float32 else STORED_DTYPE)
    matrix = np.frombuffer(b"".join(bytes(b) for b in blobs), dtype=STORED_DTYPE).reshape(len(blobs), -1)
    return matrix.astype(np.float32) if as_float32 else matrix


def ranked(ids: Iterable[int], matrix: np.ndarray, vector: np.ndarray) -> list[tuple[int, float]]:
    """(id, similarity) of these stored vectors (the rows of `matrix`) to `vector`, best first, ties by id.

    The similarity is the dot product (the embeddings are unit vectors, stored rounded to float16), taken in float64
    so that it does not depend on which other rows are scored beside it: every way of searching by meaning (either
    vector store's candidates, an exact ranking of a filtered set) orders papers by this same number."""
    keys = np.fromiter(ids, dtype=np.int64)
    if not len(keys):
        return []
    scores = np.asarray(matrix, dtype=np.float64) @ np.asarray(vector, dtype=np.float64)
    order = np.lexsort((keys, -scores))
    return [(int(keys[i]), float(scores[i])) for i in order]
