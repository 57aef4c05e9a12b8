"""One YAML reader for every data file (policy, corpus, settings, lexicon, taxonomy): libyaml when present.

    data = parse_yaml(path.read_text(encoding="utf-8"))

PyYAML's pure-Python loader reads the corpus and policy in about a second on a small CPU; libyaml's
`CSafeLoader` reads the same files in a few hundredths. Both are safe loaders (plain data, no tags) and
raise `yaml.YAMLError` with the line and column, so callers' error messages are unchanged.
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["SAFE_LOADER", "parse_yaml"]

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str) -> Any:
    """The data in ``text`` (str or an open text file); raises yaml.YAMLError."""
    return yaml.load(text, Loader=SAFE_LOADER)  # noqa: S506 - a safe loader, C or Python
