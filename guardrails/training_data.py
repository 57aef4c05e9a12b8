"""The crisis classifier's labelled training data: the taxonomy and the example files, validated.

    taxonomy = load_taxonomy()                       # guardrails/training/taxonomy.yaml
    examples = load_examples(taxonomy=taxonomy)      # guardrails/training/crisis_train/*.jsonl
    examples[0].text, examples[0].label, examples[0].writer

Every problem names the file, the line and the field. Standard library and PyYAML only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from .yaml_text import parse_yaml

__all__ = ["LABELS", "Example", "TrainingDataError", "load_examples", "load_taxonomy", "training_digest",
           "training_dir"]

LABELS = ("none", "concern", "crisis")   # the classifier's classes, in this order
STYLES = frozenset({"short", "plain", "lowercase", "typos", "slang", "emoji", "euphemism", "religious", "metaphor",
                    "narrative", "question_mixed", "third_person", "forum", "multi_sentence", "conversation"})
MAX_TEXT = 4000


class TrainingDataError(ValueError):
    """A taxonomy or training file is malformed; the message names file, line and field."""


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    construct: str
    style: str
    lang: str
    writer: str          # the file's stem: examples are split by writer, never at random


def training_dir() -> Path:
    return Path(__file__).resolve().parent / "training"


def load_taxonomy(path: Path | None = None) -> dict[str, str]:
    """{construct id: label} from the taxonomy file."""
    path = path or training_dir() / "taxonomy.yaml"
    try:
        data = parse_yaml(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TrainingDataError(f"{path}: cannot read: {exc}") from exc
    constructs = data.get("constructs") if isinstance(data, dict) else None
    if not isinstance(constructs, list) or not constructs:
        raise TrainingDataError(f"{path}: constructs: must be a non-empty list")
    out: dict[str, str] = {}
    for i, item in enumerate(constructs):
        where = f"{path}: constructs[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise TrainingDataError(f"{where}.id: must be a string")
        if item.get("label") not in LABELS:
            raise TrainingDataError(f"{where}.label: must be one of {LABELS}")
        if not isinstance(item.get("definition"), str) or not item["definition"].strip():
            raise TrainingDataError(f"{where}.definition: must be a non-empty string")
        if item["id"] in out:
            raise TrainingDataError(f"{where}.id: {item['id']!r} repeats")
        out[item["id"]] = item["label"]
    return out


def load_examples(files: Sequence[Path] | None = None, taxonomy: dict[str, str] | None = None) -> list[Example]:
    """Every example of every file, validated; duplicates (same text and label) are kept once."""
    taxonomy = taxonomy if taxonomy is not None else load_taxonomy()
    files = sorted(files) if files is not None else sorted((training_dir() / "crisis_train").glob("*.jsonl"))
    if not files:
        raise TrainingDataError(f"{training_dir() / 'crisis_train'}: no *.jsonl training files")
    seen: set[tuple[str, str]] = set()
    out: list[Example] = []
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            where = f"{path.name}:{number}"
            try:
                raw = json.loads(line)
            except ValueError as exc:
                raise TrainingDataError(f"{where}: not valid JSON ({exc.msg})") from exc
            if not isinstance(raw, dict):
                raise TrainingDataError(f"{where}: must be a JSON object")
            text = raw.get("text")
            if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
                raise TrainingDataError(f"{where}: text: must be non-empty text of at most {MAX_TEXT} characters")
            label = raw.get("label")
            if label not in LABELS:
                raise TrainingDataError(f"{where}: label: must be one of {LABELS}, got {label!r}")
            construct = raw.get("construct")
            if construct not in taxonomy:
                raise TrainingDataError(f"{where}: construct: {construct!r} is not in the taxonomy")
            style = raw.get("style")
            if style not in STYLES:
                raise TrainingDataError(f"{where}: style: {style!r} is not one of {sorted(STYLES)}")
            lang = raw.get("lang")
            if not isinstance(lang, str) or not 2 <= len(lang) <= 5:
                raise TrainingDataError(f"{where}: lang: must be a language code such as 'en'")
            key = (" ".join(text.lower().split()), label)
            if key in seen:
                continue
            seen.add(key)
            out.append(Example(text.strip(), label, construct, style, lang, path.stem))
    return out


def training_digest() -> str:
    """A hash of the taxonomy and every training file, byte for byte: it keys the cached model.

    Hashing the files (not the parsed examples) keeps start-up from reading and validating 15,000 lines
    only to find the cache, and also retrains when a construct or style changes, since training reads them.
    """
    digest = hashlib.sha256()
    folder = training_dir()
    for path in [folder / "taxonomy.yaml", *sorted((folder / "crisis_train").glob("*.jsonl"))]:
        digest.update(path.name.encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
