import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from features.contract import DEFAULT_METRICS
from models.text.fitting import make_head, out_of_fold
from models.text.heads import LinearHead, TextInputs
from models.text.labels import weak_labels
from models.text.mlp import MLPHead


def _toy(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 16)).astype(np.float32)
    return X, (X[:, 0] + 0.5 * X[:, 1] + rng.normal(0, 0.3, n) > 0).astype(int)


def _vectors(X: np.ndarray) -> TextInputs:
    return TextInputs(np.array([""] * len(X), dtype=object), X)


def test_the_mlp_head_learns_and_is_reproducible() -> None:
    X, y = _toy()
    train, test = _vectors(X[:300]), _vectors(X[300:])
    first = MLPHead(epochs=60, random_state=1).fit(train, y[:300]).predict(test)
    again = MLPHead(epochs=60, random_state=1).fit(train, y[:300]).predict(test)

    assert roc_auc_score(y[300:], first) > 0.9
    np.testing.assert_array_equal(first, again)


def test_the_tfidf_head_reads_any_language() -> None:
    bad = ["Paquete llegó roto", "Lieferung kam zu spät", "Colis arrivé cassé", "Parcel arrived broken"]
    good = ["Todo perfecto, gracias", "Alles super, danke", "Tout parfait, merci", "All perfect, thanks"]
    texts = np.array(bad * 5 + good * 5, dtype=object)
    y = np.array([1] * 20 + [0] * 20)

    head = make_head("tfidf").fit(TextInputs(texts), y)

    p = head.predict(TextInputs(np.array(["Pedido llegó roto otra vez", "Super, danke schön"], dtype=object)))
    assert p[0] > 0.5 > p[1]


def test_unknown_head_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="tfidf, linear, mlp, stacked"):
        make_head("forest")  # type: ignore[arg-type]


def test_out_of_fold_predictions_never_see_their_own_customer() -> None:
    # Each customer's label is random and only a one-hot of the customer carries it: a head that
    # saw the customer memorises it, one that did not can only guess.
    rng = np.random.default_rng(0)
    customers = np.repeat(np.arange(60), 4)
    inputs = TextInputs(np.array([""] * len(customers), dtype=object), np.eye(60)[customers], customers)
    y = rng.integers(0, 2, 60)[customers]

    def head() -> LinearHead:
        return LinearHead("vectors", strength=100.0)

    in_sample = head().fit(inputs, y).predict(inputs)
    oof = out_of_fold(head, inputs, y)

    assert roc_auc_score(y, in_sample) > 0.99
    assert abs(roc_auc_score(y, oof) - 0.5) < 0.15


def test_a_text_is_labelled_by_its_customers_next_answer_within_the_horizon() -> None:
    at = pd.to_datetime(["2025-01-01", "2025-01-01", "2025-03-01", "2025-06-01"], utc=True)
    corpus = pd.DataFrame(
        {"customer_id": ["A", "B", "A", "A"], "at": at, "text": ["t"] * 4, "source": "tickets"}
    )
    surveys = pd.DataFrame(
        {
            "customer_id": ["A", "A", "B", "A"],
            "responded_at": pd.to_datetime(
                ["2025-01-10", "2025-01-10", "2025-01-05", "2025-03-01"], utc=True
            ),
            "metric": ["nps", "csat", "ces", "nps"],
            "score": [9.0, 2.0, 6.0, 10.0],
        }
    )

    labelled = weak_labels(corpus, surveys, DEFAULT_METRICS, horizon_days=30)

    assert labelled["negative"].tolist()[:3] == [1.0, 1.0, 0.0]  # csat 2 is negative; high CES effort too
    assert np.isnan(labelled["negative"].iloc[3])  # no answer after it
    assert labelled["satisfaction"].iloc[1] == pytest.approx(1 - 5 / 6)  # CES 6 on 1-7, reversed
    assert labelled["satisfaction"].iloc[2] == pytest.approx(1.0)
