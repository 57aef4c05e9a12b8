"""Topic slots for the retrieval topic guard (guardrails/policy/topic_slots.yaml). stdlib + yaml only.

    >>> guard = load_topic_guard()
    >>> sorted(guard.slots("what should I eat before my infusion?")["timing"])
    ['before']
    >>> guard.conflict(guard.slots("what should I eat before my infusion?"), {"timing": frozenset({"after"})})
    ('timing', 'before', 'after')
    >>> guard.conflict(guard.slots("how long is a session?"), {"timing": frozenset({"after"})}) is None
    True

A slot is a question's side of a pair that entries must not mix up: before or after a session; IV, IM, nasal,
oral or TMS; booking or rescheduling; the clinic's own contact or another service's (988, 911). A message
fills a slot when one of the value's phrases or patterns matches its normalised text. An entry's slots are
listed in the file (``entries:``), or, for an entry the file does not list, read from its question the same
way. The retriever sets an entry aside when the message fills a slot the entry also fills and they share no
value ("what should I eat BEFORE my infusion" is not answered by "should I drink water or eat AFTER my
session").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from .normalize import normalize
from .policy import DEFAULT_POLICY_DIR, Rule, _File, _load_spellings

__all__ = ["DEFAULT_TOPIC_FILE", "ON_CONFLICT", "TopicGuard", "load_topic_guard"]

DEFAULT_TOPIC_FILE = DEFAULT_POLICY_DIR / "topic_slots.yaml"
ON_CONFLICT = ("next", "abstain")

Slots = Mapping[str, frozenset[str]]


@dataclass(frozen=True)
class TopicGuard:
    """The slots and their values (rules over normalised text), plus the slots named for each entry."""

    values: Mapping[str, tuple[Rule, ...]]          # slot -> its values (rule id = value name)
    entries: Mapping[str, Slots]                    # entry id -> slot -> values, as listed in the file
    on_conflict: str                                # "next": take the next entry; "abstain": say so
    spellings: Mapping[str, str]
    source: Path = DEFAULT_TOPIC_FILE

    def slots(self, text: str) -> dict[str, frozenset[str]]:
        """The slots ``text`` fills (raw text; normalised here), each with the values found."""
        norm = normalize(text, self.spellings)
        found: dict[str, frozenset[str]] = {}
        for slot, rules in self.values.items():
            hits = frozenset(rule.id for rule in rules if rule.search(norm))
            if hits:
                found[slot] = hits
        return found

    def entry_slots(self, entry_id: str, question: str) -> dict[str, frozenset[str]]:
        """An entry's slots: as listed in the file, else read from its question."""
        listed = self.entries.get(entry_id)
        return dict(listed) if listed is not None else self.slots(question)

    @staticmethod
    def conflict(message: Slots, entry: Slots) -> tuple[str, str, str] | None:
        """The first slot both fill with no value in common: (slot, message values, entry values)."""
        for slot, said in message.items():
            has = entry.get(slot)
            if has and not (said & has):
                return slot, "/".join(sorted(said)), "/".join(sorted(has))
        return None


def load_topic_guard(path: Path | str | None = None) -> TopicGuard:
    """Read and validate the topic-slot file; raises ``PolicyError("<file>: <field>: <problem>")``."""
    file = Path(path) if path is not None else DEFAULT_TOPIC_FILE
    src = _File(file)
    on_conflict = src.get(src.data, "on_conflict", "on_conflict")
    if on_conflict not in ON_CONFLICT:
        raise src.fail("on_conflict", f"must be one of {list(ON_CONFLICT)}")
    raw_slots = src.get(src.data, "slots", "slots")
    if not isinstance(raw_slots, dict) or not raw_slots:
        raise src.fail("slots", "must be a mapping of slot name -> values")
    values: dict[str, tuple[Rule, ...]] = {}
    for slot, spec in raw_slots.items():
        fld = f"slots.{slot}"
        if not isinstance(slot, str) or not slot.isidentifier() or slot != slot.lower():
            raise src.fail(fld, "slot names are lowercase words")
        raw_values = spec.get("values") if isinstance(spec, dict) else None
        if not isinstance(raw_values, dict) or len(raw_values) < 2:
            raise src.fail(f"{fld}.values", "a slot needs at least two values, each with phrases and/or patterns")
        rules = []
        for name, rule in raw_values.items():
            if not isinstance(rule, dict):
                raise src.fail(f"{fld}.values.{name}", "must be a mapping with phrases and/or patterns")
            rules.append(src.rule({"id": name, **rule}, f"{fld}.values.{name}"))
        values[slot] = tuple(rules)
    raw_entries = src.get(src.data, "entries", "entries", required=False) or {}
    if not isinstance(raw_entries, dict):
        raise src.fail("entries", "must be a mapping of entry id -> {slot: [values]}")
    entries: dict[str, Slots] = {}
    for entry_id, spec in raw_entries.items():
        fld = f"entries.{entry_id}"
        if not isinstance(spec, dict):
            raise src.fail(fld, "must be a mapping of slot -> list of values (an empty mapping: no slots)")
        slots: dict[str, frozenset[str]] = {}
        for slot, names in spec.items():
            if slot not in values:
                raise src.fail(f"{fld}.{slot}", f"unknown slot (slots are {sorted(values)})")
            names = [names] if isinstance(names, str) else names
            known = {rule.id for rule in values[slot]}
            if not isinstance(names, list) or not names or not set(names) <= known:
                raise src.fail(f"{fld}.{slot}", f"must list values of {slot}: {sorted(known)}")
            slots[slot] = frozenset(names)
        entries[str(entry_id)] = MappingProxyType(slots)
    spelling_file = file.with_name("spellings.json")
    if not spelling_file.is_file():
        spelling_file = DEFAULT_POLICY_DIR / "spellings.json"
    spellings = _load_spellings(_File(spelling_file))
    return TopicGuard(MappingProxyType(values), MappingProxyType(entries), on_conflict, spellings, file)
