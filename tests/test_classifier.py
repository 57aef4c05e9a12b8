"""The entry classifier: trained from the real index's vectors, cached by them, retrained when unreadable."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.classifier import EntryClassifier


@pytest.fixture(scope="module")
def index(pipeline):
    return pipeline.retriever.index


def test_trained_from_the_index_covers_every_entry(pipeline, corpus):
    classifier = pipeline.retriever.classifier
    assert set(classifier.entry_ids) == {e.id for e in corpus.entries} | {""}   # "" is the "none" class


def test_tells_neighbouring_entries_apart(pipeline, embed):
    classifier = pipeline.retriever.classifier
    for text, entry in [("I need to move my appointment to a different day", "contact-reschedule"),
                        ("how do I book my first visit", "contact-booking"),
                        ("does my health plan pay for any of this", "contact-insurance")]:
        probs = classifier.run(embed([text])[0])
        assert max(probs, key=probs.get) == entry, text
        assert 0.5 < sum(probs.values()) <= 1.0 + 1e-6   # the rest is the "none" class


@pytest.fixture(scope="module")
def negatives(embed):
    from bot.corpus import load_negatives

    return embed(list(load_negatives()))


def _cache_files() -> list[Path]:
    from bot.settings import models_dir

    return sorted((models_dir() / "entry-classifiers").glob("entry-*.npz"))


def test_cached_by_its_inputs_and_reused(pipeline, index, negatives):
    files = _cache_files()
    english = [f for f in files
               if np.array_equal(EntryClassifier.load(f).weights, pipeline.retriever.classifier.weights)]
    assert len(english) == 1
    again = EntryClassifier.for_index(index, negatives)
    np.testing.assert_array_equal(again.weights, pipeline.retriever.classifier.weights)
    assert _cache_files() == files                      # read from the cache, not trained again
    spanish = EntryClassifier.for_index(index, negatives, translations=True)
    assert not np.array_equal(spanish.weights, again.weights)   # the translated phrasings are another model


def test_unreadable_cache_is_retrained(pipeline, index, negatives, tmp_path):
    original = pipeline.retriever.classifier
    (english,) = [f for f in _cache_files() if np.array_equal(EntryClassifier.load(f).weights, original.weights)]
    cached = tmp_path / english.name             # the same key, in a cache whose file is garbage
    cached.write_bytes(b"not a numpy archive")
    retrained = EntryClassifier.for_index(index, negatives, cache_dir=tmp_path)
    assert retrained.entry_ids == original.entry_ids
    np.testing.assert_allclose(retrained.weights, original.weights, atol=1e-3)
    assert EntryClassifier.load(cached).entry_ids == original.entry_ids   # the cache was rewritten


def test_rejects_mismatched_weights():
    with pytest.raises(ValueError, match="do not match"):
        EntryClassifier(["a", "b"], np.zeros((3, 4)), np.zeros(2))
    with pytest.raises(ValueError, match="at least two"):
        EntryClassifier(["a"], np.zeros((1, 4)), np.zeros(1))


def test_negatives_leave_off_topic_questions_with_little_probability(pipeline, embed):
    """With the "none" class, an off-topic question no longer gets a confident entry."""
    classifier = pipeline.retriever.classifier
    assert "" in classifier.entry_ids   # trained with corpus/negatives/unanswerable.yaml
    on_topic, off_topic = embed(["how long does one ketamine session take", "how do I make sourdough starter"])
    assert sum(classifier.run(on_topic).values()) > 0.8
    assert sum(classifier.run(off_topic).values()) < 0.5
