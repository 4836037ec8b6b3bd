"""The one place that encodes and decodes stored embeddings (papers' and library entries' `vector` columns)."""

from __future__ import annotations

from collections.abc import Sequence

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
