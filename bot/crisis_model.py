"""The crisis classifier for this checkout: loaded from the model folder, or trained there from the repo's data.

    classifier = crisis_classifier(embeddings.embed)     # var/models/crisis-<hash>.npz, trained if missing

The cache name carries a hash of the training files, the encoder and the training settings, so
editing `guardrails/training/crisis_train/` (or the taxonomy) retrains it, and a build elsewhere from the
same files gives the same model: examples are read in file order, deduplicated, and fitted to a tight
tolerance. Training embeds about 12,000 texts (a minute or two on 2 cores with ONNX Runtime); `faqbot
index` does it once, so a server never trains on its first request.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bot.minilm import MODEL_ID
from bot.settings import models_dir
from guardrails.risk_model import MODEL_VERSION, REGULARISATION_C, TOLERANCE, CrisisClassifier
from guardrails.sentences import risk_units
from guardrails.training_data import Example, load_examples, training_digest

log = logging.getLogger("faqbot.crisis_model")


def model_path(folder: Path | None = None) -> Path:
    key = hashlib.sha256(f"{training_digest()}|{MODEL_ID}|{REGULARISATION_C}|{TOLERANCE}|"
                         f"{MODEL_VERSION}".encode()).hexdigest()[:16]
    return Path(folder or models_dir()) / f"crisis-{key}.npz"


# Parts of these messages are as harmless as the whole (an idiom's sentence, a side effect's); parts of
# fiction, news or a relative's story may quote risk language, so those are trained on whole only.
PART_CONSTRUCTS = frozenset({"ordinary", "medical_benign", "idiom_hyperbole"})


def training_rows(examples: list[Example], long_chars: int = 300) -> tuple[list[str], list[str]]:
    """Texts and labels to fit: every example whole, plus each sentence of the harmless multi-sentence ones,
    since the product judges messages sentence by sentence."""
    texts = [e.text for e in examples]
    labels = [e.label for e in examples]
    for e in examples:
        if e.label == "none" and e.construct in PART_CONSTRUCTS:
            parts = risk_units(e.text, long_chars)[:-1]   # the last unit is the whole message
            texts.extend(parts)
            labels.extend(["none"] * len(parts))
    return texts, labels


def train(examples: list[Example], embed: Callable[[list[str]], np.ndarray],
          c: float = REGULARISATION_C) -> CrisisClassifier:
    """Fit the classifier on these examples (every row weighs the same within its class)."""
    texts, labels = training_rows(examples)
    return CrisisClassifier.train(embed(texts), texts, labels, c=c)


def training_embed() -> Callable[[list[str]], np.ndarray]:
    """The fastest encoder for bulk work: ONNX Runtime on every core (exported now if needed)."""
    import os

    from bot.minilm import packaged_model_path
    from bot.onnx_minilm import OnnxMiniLM, export_onnx

    model_dir = packaged_model_path()
    encoder = OnnxMiniLM(export_onnx(model_dir, models_dir()), model_dir, threads=max(1, os.cpu_count() or 1))
    return encoder.encode


def crisis_classifier(embed: Callable[[list[str]], np.ndarray] | None = None,
                      folder: Path | None = None) -> CrisisClassifier:
    """The cached classifier for the repo's training data, trained and saved now when missing (with
    ``embed``, or the fastest encoder when none is given)."""
    path = model_path(folder)
    try:
        return CrisisClassifier.load(path)
    except (OSError, ValueError, KeyError):
        pass
    examples = load_examples()   # read and validated only when training
    start = time.perf_counter()
    classifier = train(examples, embed or training_embed())
    log.info("trained the crisis classifier on %d examples in %.0f s", len(examples), time.perf_counter() - start)
    try:
        classifier.save(path)
        for old in path.parent.glob("crisis-*.npz"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError:
        pass   # a read-only disk only costs start-up time
    return classifier
