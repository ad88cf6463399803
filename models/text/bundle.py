"""The fitted text models of a workspace and how they are trained, saved and loaded.

A bundle holds the negative-side head, a satisfaction regressor on the same inputs, the themes and
the encoder id they were fitted with; loading refuses an encoder with another id, whose vectors
would mean nothing to the heads. Nothing is pickled: settings and vocabularies are JSON, numbers are
safetensors, and loading builds only the project's own head classes from them. Whoever can write the
workspace can thus change what the models say, never run code in the service. A pickled bundle of
an older release is refused unread.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from safetensors import SafetensorError
from safetensors.numpy import load_file, save_file

from models.text.fitting import HEAD_CLASSES
from models.text.heads import Head, HeadKind
from models.text.themes import Theme, ThemeModel

TEXT_MODELS_FOLDER = "_text_models"  # inside the workspace; `_` keeps it out of the contract's tables
MANIFEST, SETTINGS, ARRAYS = "text-models.json", "text-heads.json", "text-models.safetensors"
PICKLED = "text-models.joblib"  # what older releases wrote; never loaded
FORMAT = 2
VECTOR_CACHE = "cache.db"  # the encoder's vector cache, beside the models it serves
CONTACT_SOURCES = ("tickets", "calls")  # a contact is about a problem whatever its tone
_PARTS = ("negative", "satisfaction", "themes")


@dataclass
class TextModels:
    """Fitted text models; `encoder_id` is None when they read TF-IDF and need no encoder."""

    head_kind: HeadKind
    encoder_id: str | None
    negative_head: Head
    satisfaction_head: Head
    themes: ThemeModel | None
    metrics: dict[str, Any]
    encoder: dict[str, Any] | None = None  # the encoder's settings (`EncoderConfig` fields) at training

    def save(self, folder: Path) -> None:
        """Write settings, arrays and a readable manifest into `folder` (created if missing).

        Each file is written beside its final name and then renamed, the manifest last, so a bundle
        is either whole or absent under its names; an older pickled bundle is removed.
        """
        folder.mkdir(parents=True, exist_ok=True)
        settings: dict[str, Any] = {}
        arrays: dict[str, np.ndarray] = {}
        for part, model in zip(
            _PARTS, (self.negative_head, self.satisfaction_head, self.themes), strict=True
        ):
            if model is not None:
                own, numbers = model.state()
                settings[part] = {"class": getattr(model, "name", "themes"), **own}
                arrays |= {f"{part}.{k}": np.ascontiguousarray(v) for k, v in numbers.items()}
        themes = [] if self.themes is None else settings["themes"]["themes"]
        manifest = {
            "format": FORMAT,
            "head": self.head_kind,
            "encoder_id": self.encoder_id,
            "encoder": self.encoder,
            "themes": themes,
        }
        _write(folder / ARRAYS, lambda path: save_file(arrays, str(path)))
        _write(folder / SETTINGS, lambda path: path.write_text(json.dumps(settings)))
        manifest_text = json.dumps(manifest | {"metrics": self.metrics}, indent=2, default=float) + "\n"
        _write(folder / MANIFEST, lambda path: path.write_text(manifest_text))
        (folder / PICKLED).unlink(missing_ok=True)

    @classmethod
    def load(cls, folder: Path) -> TextModels:
        """Read a bundle written by `save`.

        Raises:
            FileNotFoundError: the folder holds no text models.
            ValueError: the bundle is a pickle (refused unread) or its files are not what `save` writes.
        """
        manifest = _manifest(folder)
        settings, arrays = _settings(folder), _arrays(folder)
        parts: dict[str, Any] = {}
        for part in _PARTS:
            if part in settings:
                own = {k.removeprefix(f"{part}."): v for k, v in arrays.items() if k.startswith(f"{part}.")}
                parts[part] = _build(part, settings[part], own, folder)
        return cls(
            manifest["head"],
            manifest["encoder_id"],
            parts["negative"],
            parts["satisfaction"],
            parts.get("themes"),
            manifest["metrics"],
            manifest.get("encoder"),
        )

    def theme_of(self, theme_id: int) -> Theme | None:
        """The theme with this id."""
        return None if self.themes is None else self.themes.themes_[theme_id]

    def theme_name(self, theme_id: int) -> str | None:
        """`#3 late / courier / parcel`: the id keeps names unique, the terms make them readable.

        The name is the value of `text_scores.theme`, which the feature catalogue counts per theme.
        """
        theme = self.theme_of(int(theme_id))
        return None if theme is None else f"#{theme.theme_id} {theme.label}"


def _write(path: Path, write: Any) -> None:
    partial = path.with_name(path.name + ".partial")
    write(partial)
    partial.replace(path)


def _refuse_pickle(folder: Path) -> ValueError:
    return ValueError(
        f"{folder / PICKLED}: a pickled text bundle from an older cxpredict; pickles can run code when "
        "loaded, so it is not read: retrain the text models (cxpredict text train)"
    )


def _manifest(folder: Path) -> dict[str, Any]:
    if not (folder / MANIFEST).is_file():
        if (folder / PICKLED).exists():
            raise _refuse_pickle(folder)
        raise FileNotFoundError(
            f"{folder}: no {MANIFEST}; train the text models first (cxpredict text train)"
        )
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{folder / MANIFEST}: not JSON ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        if (folder / PICKLED).exists():
            raise _refuse_pickle(folder)
        raise ValueError(
            f"{folder / MANIFEST}: not a text bundle of format {FORMAT}; retrain the text models"
        )
    return manifest


def _settings(folder: Path) -> dict[str, Any]:
    try:
        settings = json.loads((folder / SETTINGS).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{folder / SETTINGS}: unreadable ({exc}); retrain the text models") from exc
    if not isinstance(settings, dict):
        raise ValueError(f"{folder / SETTINGS}: not a JSON object; retrain the text models")
    return settings


def _arrays(folder: Path) -> dict[str, np.ndarray]:
    try:
        return load_file(str(folder / ARRAYS))
    except (OSError, SafetensorError) as exc:
        raise ValueError(
            f"{folder / ARRAYS}: not a safetensors file ({exc}); retrain the text models"
        ) from exc


def _build(part: str, settings: dict[str, Any], arrays: dict[str, np.ndarray], folder: Path) -> Any:
    """One fitted part from its settings and arrays: only the project's own classes are built."""
    name = settings.get("class")
    try:
        if part == "themes":
            return ThemeModel.from_state(settings, arrays)
        if name not in HEAD_CLASSES:
            raise ValueError(f"unknown head class {name!r}")
        return HEAD_CLASSES[name].from_state(settings, arrays)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise ValueError(f"{folder / SETTINGS}: its {part} part cannot be rebuilt ({exc})") from exc


def negative_mask(sources: pd.Series, p_negative: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Which texts are complaints: every ticket and call, and other texts the head finds negative."""
    return sources.isin(CONTACT_SOURCES).to_numpy() | (p_negative >= threshold)
