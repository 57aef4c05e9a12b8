"""Compiled policy regexes kept across processes: every start used to spend about half a second parsing them.

Python cannot pickle a compiled pattern (pickling keeps only its source), but the engine's compiled form
is plain data: the opcode list the parser and code generator produce for a pattern string. This keeps
that list per (pattern, flags) in one file, keyed by the Python build and the regex engine's magic number,
and hands it straight to the engine on the next start. A pattern not in the file is compiled the usual
way and added. Any mismatch (another Python, an unreadable file, an engine that refuses the code) falls
back to `re.compile`, so the cache can only cost time, never change a match.

    cache = RegexCache.default()          # $FAQBOT_MODELS or var/models, beside the other built artefacts
    pattern = cache.compile(r"\\bsuicid")  # a re.Pattern, equal in behaviour to re.compile's
    cache.save()                          # writes only when something was added
"""

from __future__ import annotations

import marshal
import os
import re
import sys
from pathlib import Path
from typing import Any

try:   # the engine's internals, as CPython 3.11 lays them out; anything else uses re.compile
    import _sre
    from re import _compiler, _parser

    _FAST = sys.version_info[:2] == (3, 11) and hasattr(_compiler, "_code") and hasattr(_sre, "compile")
except ImportError:  # pragma: no cover - another Python
    _FAST = False

__all__ = ["RegexCache"]
_MAX_ENTRIES = 20_000   # a file past this is rewritten with only what this process used


def _default_dir() -> Path:
    # The same folder as bot.settings.models_dir(); guardrails does not import bot.
    return Path(os.environ.get("FAQBOT_MODELS", Path(__file__).resolve().parent.parent / "var" / "models"))


class RegexCache:
    """`compile(pattern, flags)` through a file of compiled forms; `save()` writes what was added."""

    _default: RegexCache | None = None

    def __init__(self, path: Path | None) -> None:
        self.path = Path(path) if path is not None else None
        self._entries: dict[tuple[str, int], tuple[Any, ...]] = {}
        self._used: set[tuple[str, int]] = set()
        self._added = False
        if self.path is not None and _FAST:
            try:
                data = marshal.loads(self.path.read_bytes())
                if isinstance(data, dict):
                    self._entries = data
            except (OSError, ValueError, EOFError, TypeError):
                pass   # missing or unreadable: compiled again and rewritten

    @classmethod
    def default(cls) -> RegexCache:
        """One cache per process, in the models folder, named by the Python build and the engine's magic."""
        if cls._default is None:
            tag = f"{sys.implementation.cache_tag}-{getattr(_sre, 'MAGIC', 0) if _FAST else 0}"
            cls._default = cls(_default_dir() / f"regex-{tag}.marshal")
        return cls._default

    def compile(self, pattern: str, flags: int = 0) -> re.Pattern[str]:
        if not _FAST or not isinstance(pattern, str):
            return re.compile(pattern, flags)
        flags = int(flags)
        key = (pattern, flags)
        self._used.add(key)
        saved = self._entries.get(key)
        if saved is not None:
            try:
                return _sre.compile(pattern, *saved)
            except Exception:  # noqa: BLE001 - a damaged entry: compile it again below
                pass
        parsed = _parser.parse(pattern, flags)   # raises re.error exactly as re.compile does
        code = [int(op) for op in _compiler._code(parsed, flags)]   # named opcodes are ints to the engine
        groupindex = dict(parsed.state.groupdict)
        indexgroup: list[str | None] = [None] * parsed.state.groups
        for name, number in groupindex.items():
            indexgroup[number] = name
        saved = (flags | parsed.state.flags, code, parsed.state.groups - 1, groupindex, tuple(indexgroup))
        self._entries[key] = saved
        self._added = True
        return _sre.compile(pattern, *saved)

    def save(self) -> None:
        """Write the file when patterns were added (atomically; a read-only disk only costs start-up time)."""
        if not self._added or self.path is None:
            return
        entries = self._entries
        if len(entries) > _MAX_ENTRIES:
            entries = {k: v for k, v in entries.items() if k in self._used}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            tmp.write_bytes(marshal.dumps(entries))
            os.replace(tmp, self.path)
            self._added = False
        except (OSError, ValueError):
            pass
