"""The fast NumPy query path computes the same vectors as sentence-transformers, from the packaged model."""

import numpy as np
import pytest

TEXTS = [
    "how long is a session?",
    "Can ketamine help with suicidal thoughts and depression that hasn't responded to other treatments?",
    "esketamine nasal spray",
    "TMS",
    "wat r the side efects",
    "¿Qué es la ketamina?",
    "a" * 3000,   # longer than the model's 256-token window: both truncate the same way
]


@pytest.fixture(scope="module")
def reference():
    from bot.embeddings import MiniLMEmbeddings

    return MiniLMEmbeddings(backend="sentence-transformers")


def test_numpy_backend_matches_sentence_transformers(embeddings, reference):
    ours = embeddings.embed(TEXTS)
    theirs = reference.embed(TEXTS)
    assert ours.shape == theirs.shape == (len(TEXTS), 384)
    cosines = (ours * theirs).sum(axis=1)
    assert cosines.min() >= 0.9999, cosines


def test_vectors_are_unit_length_and_meaningful(embeddings):
    vectors = embeddings.embed(["how long does a session last", "how many minutes is an infusion",
                                "what is the capital of peru"])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2


def test_langchain_interface(embeddings):
    query = embeddings.embed_query("hello")
    docs = embeddings.embed_documents(["hello", "bye"])
    assert len(query) == 384 and len(docs) == 2
    assert abs(float(np.dot(query, docs[0])) - 1.0) < 1e-5


def test_unknown_backend_is_refused():
    from bot.embeddings import MiniLMEmbeddings

    with pytest.raises(ValueError, match="unknown embeddings backend"):
        MiniLMEmbeddings(backend="openai")


def test_cached_vectors_are_reused_and_recomputed_when_the_encoder_changes(embeddings, tmp_path, monkeypatch):
    import bot.embeddings
    from bot.embeddings import CachedEmbed

    calls = []

    def counting(texts):
        calls.append(list(texts))
        return embeddings.embed(texts)

    texts = ["I want to end my life", "how long is a session?"]
    first = CachedEmbed(counting, tmp_path)(texts)
    again = CachedEmbed(counting, tmp_path)(texts)          # a new process would read the file
    assert len(calls) == 1 and np.array_equal(first, again)
    monkeypatch.setattr(bot.embeddings, "ENCODER_VERSION", bot.embeddings.ENCODER_VERSION + 1)
    CachedEmbed(counting, tmp_path)(texts)
    assert len(calls) == 2                                    # old vectors are not mixed with a new encoder
