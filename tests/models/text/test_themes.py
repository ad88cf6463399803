import numpy as np

from models.text.quality import theme_agreement
from models.text.themes import ThemeModel, class_tfidf_terms

TOPICS = {
    "late": ["parcel late again", "delivery late by a week", "late parcel never on time"],
    "refund": ["refund still missing", "waiting for my refund", "refund not received"],
    "rude": ["agent was rude", "rude agent hung up", "the agent was so rude"],
}


def _blobs(seed: int = 0) -> tuple[np.ndarray, list[str], np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, 8))
    truth = np.repeat(np.arange(3), 20)
    vectors = centres[truth] + rng.normal(0, 0.1, (60, 8))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    texts = [TOPICS[list(TOPICS)[t]][i % 3] for i, t in enumerate(truth)]
    sources = ["calls" if i % 2 else "verbatims" for i in range(60)]
    return vectors, texts, truth, sources


def test_themes_recover_planted_topics_and_name_them_by_their_words() -> None:
    vectors, texts, truth, sources = _blobs()

    model = ThemeModel(3, random_state=0).fit(vectors, texts, sources)

    assert theme_agreement(model.labels_, truth)["nmi"] > 0.95
    top_terms = [set(theme.terms[:2]) for theme in model.themes_]
    assert sorted(topic for topic in TOPICS for terms in top_terms if topic in terms) == sorted(TOPICS)
    assert all(len(theme.examples) == 3 for theme in model.themes_)
    np.testing.assert_array_equal(model.predict(vectors, sources), model.labels_)


def test_themes_are_the_same_on_every_run() -> None:
    vectors, texts, _, sources = _blobs()

    first = ThemeModel(3, random_state=7).fit(vectors, texts, sources)
    again = ThemeModel(3, random_state=7).fit(vectors, texts, sources)

    np.testing.assert_array_equal(first.labels_, again.labels_)
    assert first.themes_ == again.themes_


def test_class_tfidf_never_names_a_theme_by_a_placeholder() -> None:
    texts = ["<ORDER> parcel late", "<ORDER> late parcel", "<NAME> refund missing", "<NAME> refund late"]

    terms = class_tfidf_terms(texts, np.array([0, 0, 1, 1]))

    assert not any(t in ("order", "name") for ts in terms.values() for term in ts for t in term.split())


def test_handles_tags_urls_and_terms_in_most_texts_never_name_a_theme() -> None:
    # Social posts: every one addresses the brand, most say "flight"; the topics are the other words.
    topics = ["bags lost", "seat broken", "crew rude"]
    texts = [
        f"@skyways{' flight' if i % 5 else ''} {topics[i % 3]} #travel https://t.co/x{i % 2} www.sky.com"
        for i in range(60)
    ]
    labels = np.arange(60) % 3

    terms = class_tfidf_terms(texts, labels)

    named = {t for words in terms.values() for t in words}
    assert {"bags", "seat", "crew"} <= named  # the topics do name their themes
    assert not named & {"skyways", "flight", "travel", "https", "co", "www", "sky", "com"}
    assert not any(word in t for t in named for word in ("flight", "skyways"))  # nor in word pairs


def test_a_fitted_theme_model_survives_its_state() -> None:
    vectors, texts, _, sources = _blobs()
    model = ThemeModel(3, random_state=0).fit(vectors, texts, sources)
    settings, arrays = model.state()

    again = ThemeModel.from_state(settings, arrays)

    assert again.themes_ == model.themes_
    np.testing.assert_array_equal(again.predict(vectors, sources), model.predict(vectors, sources))
