"""The packaged predictor: a feature row in, scores and reasons out, saved without pickles.

`Predictor` holds the fitted models with everything they need at serving time (feature list and
feature-set version, category levels, calibrators, descriptions for the reasons). It saves to a
folder of LightGBM text models and one JSON manifest, which `CxPyfuncModel` loads for MLflow.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from mlflow.pyfunc import PythonModel, PythonModelContext
from numpy.typing import NDArray

from models.reasons import Picks, Reason, ReasonWriter, pick_strongest, top_reasons
from models.satisfaction import NPS_CLASSES, MetricModel, NpsClassifier
from models.schema import FEW_ROWS, EncodedRows, FeatureSchema
from models.tabular import ChurnModel, RiskClassifier
from models.tree_tables import share_ranks, tables_of

Kind = Literal["churn", "satisfaction"]
Reasons = bool | Literal["picks"]  # with reasons written, without, or as `Picks` left unwritten
MANIFEST = "manifest.json"
FORMAT_VERSION = 1
REASONS_SUFFIX = "_reasons"
EXPERIENCE_FILE = "experience.classes.txt"
HALF_FILE = "experience.half{k}.classes.txt"
PARALLEL_ROWS = 2048  # from this many rows the metrics are scored on threads of their own


@dataclass
class Predictor:
    """Fitted models of one kind plus what serving needs to explain them.

    Attributes:
        churn: the churn model (kind `churn`).
        metrics: survey metric -> its model (kind `satisfaction`).
        top: reasons kept per direction (risk up, risk down) for each prediction.
        experience: NPS classes from the experiences alone (kind `satisfaction`): its features leave
            out the customer's past answers. An answer given after a late parcel carries the parcel's
            hurt, so a model that reads it credits the answer, not the parcel; the what-ifs, which
            change experiences, read this one (`experience_nps`).
        experience_halves: the same model refitted on halves of the customers, in complementary
            pairs: how far a what-if's NPS change moves between them gives its interval
            (`training.insight.spread`). Empty: no interval.
    """

    kind: Kind
    feature_set: str
    descriptions: dict[str, str]
    churn: ChurnModel | None = None
    metrics: dict[str, MetricModel] = field(default_factory=dict)
    top: int = 3
    experience: NpsClassifier | None = None
    experience_halves: list[NpsClassifier] = field(default_factory=list)
    _writer: ReasonWriter | None = field(default=None, init=False, repr=False, compare=False)
    _ranks_shared: bool = field(default=False, init=False, repr=False, compare=False)

    @property
    def features(self) -> tuple[str, ...]:
        """The feature columns an input row must have."""
        return self._schema.features

    @property
    def categories(self) -> dict[str, tuple[str, ...]]:
        """Each categorical feature's levels as seen in training (another level reads as missing)."""
        return dict(self._schema.categories)

    @property
    def _schema(self) -> FeatureSchema:
        first = self.churn if self.churn is not None else next(iter(self.metrics.values())).negative_
        return first.schema_

    def encode(self, rows: pd.DataFrame | Sequence[Mapping[str, Any]]) -> EncodedRows:
        """Feature rows (a frame, or plain feature -> value rows) in the boosters' input form, once."""
        if isinstance(rows, pd.DataFrame):
            return self._schema.encode(rows)
        return self._schema.encode_records(rows)

    def predict(self, frame: pd.DataFrame, reasons: bool = True) -> pd.DataFrame:
        """Scores and reasons per input row (same index).

        Churn gives `churn_probability` and `churn_reasons`; each metric gives `<metric>_score`,
        `<metric>_negative_probability` and `<metric>_reasons`, NPS also `nps_detractor`,
        `nps_passive` and `nps_promoter`. Reasons are JSON lists of `Reason` dicts.

        Args:
            frame: the feature rows.
            reasons: False leaves out the `_reasons` columns; the scores are the same, at a fraction
                of the cost (no SHAP pushes are looked up or written).
        """
        return pd.DataFrame(self._columns(self.encode(frame), True, reasons), index=frame.index)

    def predict_picks(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Picks]]:
        """`predict`'s scores without reasons, and each model's strongest pushes as numbers.

        The scores are those `predict` gives with reasons (the same SHAP pass); the `Picks` (feature
        positions in `features`, pushes) are what the reasons are written from, left unwritten: for
        callers that aggregate reasons over many rows, the cost of writing and reading them back.

        Returns:
            (scores, model -> its picks), the model named as its `_reasons` column is (`churn`, `nps` …).
        """
        out = self._columns(self.encode(frame), False, "picks")
        picks = {
            name.removesuffix(REASONS_SUFFIX): out.pop(name)
            for name in list(out)
            if name.endswith(REASONS_SUFFIX)
        }
        return pd.DataFrame(out, index=frame.index), picks

    def outputs(self, rows: EncodedRows) -> dict[str, Any]:
        """`predict`'s columns (name -> one value per row), with reasons as `Reason` lists, not JSON.

        Every booster reads the same encoded rows: a row is cast once per call, not once per booster
        (rows encoded by another predictor of the same features are used as they are).
        """
        return self._columns(rows, False)

    def scores(self, rows: EncodedRows) -> dict[str, Any]:
        """`outputs` without the reasons: the same scores, at a fraction of the cost."""
        return self._columns(rows, False, reasons=False)

    def _columns(self, rows: EncodedRows, as_json: bool, reasons: Reasons = True) -> dict[str, Any]:
        rows = self._schema.encode(rows)
        if not self._ranks_shared:
            self._share_ranks()
        out: dict[str, Any] = {}
        if self.churn is not None and not reasons:
            out["churn_probability"] = self.churn.predict_proba(rows)
        elif self.churn is not None:
            out["churn_probability"], picks = self._explained(self.churn, rows)
            out[f"churn{REASONS_SUFFIX}"] = (
                picks if reasons == "picks" else self._written(picks, rows, as_json)
            )

        def metric(name: str) -> dict[str, Any]:
            return self._metric_columns(name, self.metrics[name], rows, as_json, reasons)

        if len(rows) >= PARALLEL_ROWS and len(self.metrics) > 1:
            # numpy and Arrow release the GIL in their loops: the metrics share the machine's cores,
            # the heaviest started first so that the last to start is the lightest
            names = sorted(self.metrics, key=lambda name: -_trees(self.metrics[name]))
            with ThreadPoolExecutor(min(len(self.metrics), os.cpu_count() or 1)) as pool:
                parts = dict(zip(names, pool.map(metric, names), strict=True))
        else:
            parts = {name: metric(name) for name in self.metrics}
        for name in self.metrics:  # columns in the metrics' own order, whoever finished first
            out.update(parts[name])
        return out

    def _metric_columns(
        self, name: str, model: MetricModel, rows: EncodedRows, as_json: bool, reasons: Reasons = True
    ) -> dict[str, Any]:
        out: dict[str, Any] = {f"{name}_score": model.score_.predict(rows)}
        if reasons:
            out[f"{name}_negative_probability"], picks = self._explained(model.negative_, rows)
        else:
            out[f"{name}_negative_probability"] = model.negative_.predict_proba(rows)
        if model.classes_ is not None:
            classes = model.classes_.predict_proba(rows)
            out.update({f"nps_{c}": classes[:, k] for k, c in enumerate(NPS_CLASSES)})
        if reasons:
            out[f"{name}{REASONS_SUFFIX}"] = (
                picks if reasons == "picks" else self._written(picks, rows, as_json)
            )
        return out

    def _explained(self, model: RiskClassifier, rows: EncodedRows) -> tuple[Any, Picks]:
        """The model's probabilities and each row's strongest pushes (positions in `self.features`)."""
        probabilities, pushes = model.explain_rows(rows)
        return probabilities, pick_strongest(pushes, model.explained_features, self.top)

    def _written(self, picks: Picks, rows: EncodedRows, as_json: bool) -> list[Any]:
        if self._writer is None:  # two threads may both make one: either serves
            self._writer = ReasonWriter(self.features, self.descriptions)
        encoded = self._schema.encode(rows)
        if as_json and len(encoded) <= FEW_ROWS:
            return self._writer.json_texts(picks, encoded)
        if as_json:
            return self._writer.json(picks, encoded).to_pandas().array
        return self._writer.reasons(picks, encoded.values_at)

    def experience_nps(
        self, frame: pd.DataFrame | EncodedRows, half: int | None = None
    ) -> NDArray[np.float64] | None:
        """Per row, P(promoter) − P(detractor) of the `experience` model; None without one.

        Args:
            frame: feature rows, or rows encoded for the experience model's schema (read as they are).
            half: read `experience_halves[half]` instead.
        """
        model = self.experience if half is None else self.experience_halves[half]
        if model is None:
            return None
        classes = model.predict_proba(frame)
        promoter, detractor = (NPS_CLASSES.index(c) for c in ("promoter", "detractor"))
        return np.asarray(classes[:, promoter] - classes[:, detractor], dtype=float)

    def explain(self, frame: pd.DataFrame, metric: str | None = None) -> list[list[Reason]]:
        """Reasons per row for the churn model, or for the negative side of `metric`."""
        model = self.churn if metric is None else self.metrics[metric].negative_
        if model is None:
            raise ValueError("this predictor holds no churn model; name a survey metric")
        return top_reasons(model.contributions(frame), frame, self.descriptions, self.top)

    def save(self, folder: Path) -> Path:
        """Write the manifest and one LightGBM text model per booster into `folder`."""
        folder.mkdir(parents=True, exist_ok=True)
        parts = {"churn": self.churn} if self.churn is not None else self.metrics
        models_meta, files = {}, {}
        for name, model in parts.items():
            models_meta[name], texts = model.to_state()
            files[name] = {part: f"{name}.{part}.txt" for part in texts}
            for part, text in texts.items():
                (folder / files[name][part]).write_text(text, encoding="utf-8")
        manifest: dict[str, Any] = {
            "format_version": FORMAT_VERSION,
            "kind": self.kind,
            "feature_set": self.feature_set,
            "features": list(self.features),
            "descriptions": self.descriptions,
            "top": self.top,
            "models": models_meta,
            "files": files,
        }
        if self.experience is not None:
            manifest["experience"], texts = self.experience.to_state()
            (folder / EXPERIENCE_FILE).write_text(texts["classes"], encoding="utf-8")
        manifest["experience_halves"] = [
            self._save_half(folder, k) for k in range(len(self.experience_halves))
        ]
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        return folder

    def _save_half(self, folder: Path, k: int) -> dict[str, Any]:
        """Write `experience_halves[k]`'s booster; its manifest entry."""
        meta, texts = self.experience_halves[k].to_state()
        (folder / HALF_FILE.format(k=k)).write_text(texts["classes"], encoding="utf-8")
        return meta

    @classmethod
    def load(cls, folder: Path) -> Predictor:
        """The predictor saved by `save`; needs only `models/` and LightGBM."""
        manifest: dict[str, Any] = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        predictor = cls(
            manifest["kind"], manifest["feature_set"], manifest["descriptions"], top=manifest["top"]
        )
        for name, meta in manifest["models"].items():
            texts = {
                p.name.split(".")[1]: p.read_text(encoding="utf-8") for p in folder.glob(f"{name}.*.txt")
            }
            if predictor.kind == "churn":
                predictor.churn = ChurnModel.from_state(meta, texts)
            else:
                predictor.metrics[name] = MetricModel.from_state(meta, texts)
        if "experience" in manifest:  # a predictor saved before it existed has none
            text = (folder / EXPERIENCE_FILE).read_text(encoding="utf-8")
            predictor.experience = NpsClassifier.from_state(manifest["experience"], {"classes": text})
        for k, meta in enumerate(manifest.get("experience_halves", [])):
            text = (folder / HALF_FILE.format(k=k)).read_text(encoding="utf-8")
            predictor.experience_halves.append(NpsClassifier.from_state(meta, {"classes": text}))
        predictor._share_schema()
        return predictor

    def _share_ranks(self) -> None:
        """Let the boosters that read the predictor's encoded rows rank each batch once between them."""
        schema = self._schema
        share_ranks([tables_of(m) for m in self._boosters() if m.schema_ is schema or m.schema_ == schema])
        self._ranks_shared = True

    def _boosters(self) -> list[Any]:
        """Every fitted part that holds a booster and a schema (the churn model, or each metric's)."""
        if self.churn is not None:
            return [self.churn]
        parts = [(m.score_, m.negative_, m.classes_) for m in self.metrics.values()]
        return [part for three in parts for part in three if part is not None]

    def _share_schema(self) -> None:
        """Give every model of equal features the same schema object.

        Each booster checks that the encoded rows are its own form: one `is` instead of comparing
        hundreds of feature names, several times per call.
        """
        schema = self._schema
        for part in self._boosters():
            if part.schema_ == schema:
                part.schema_ = schema


class CxPyfuncModel(PythonModel):
    """MLflow's face of a `Predictor`: its state arrives as the `predictor` artifact folder."""

    def load_context(self, context: PythonModelContext) -> None:
        """Load the predictor from the model's artifacts."""
        self.predictor = Predictor.load(Path(context.artifacts["predictor"]))

    def predict(
        self, context: PythonModelContext, model_input: pd.DataFrame, params: Any = None
    ) -> pd.DataFrame:
        """Scores and reasons for each feature row (see `Predictor.predict`)."""
        return self.predictor.predict(model_input)


def _trees(model: MetricModel) -> int:
    """The trees a metric's boosters hold: what scoring its rows costs, roughly."""
    parts = (model.score_, model.negative_, model.classes_)
    return sum(part.booster_.num_trees() for part in parts if part is not None)


def plain_input(frame: pd.DataFrame) -> pd.DataFrame:
    """Feature rows as a client sends them: categories as plain strings, numbers as floats.

    The pyfunc signature is written from this form, so callers need no pandas `category` dtype.
    """
    out = frame.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.CategoricalDtype):
            out[column] = out[column].astype(object).where(out[column].notna(), None)
        elif pd.api.types.is_numeric_dtype(out[column]):
            out[column] = out[column].astype("float64")
    return out
