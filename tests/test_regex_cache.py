"""Compiled policy regexes kept across processes: a cached pattern matches exactly as re.compile's does."""

from __future__ import annotations

import re

import pytest

from guardrails.regex_cache import RegexCache

SAMPLES = ["i want to kill myself", "how many mg should i take", "i could kil myself tonite", "what time do you open",
           "cuántos mg debo tomar", "end my whole life", "my boss is going to kill me", "", "x" * 300,
           "ya no quiero vivir", "me muero de hambre", "je veux mourir", "我想死", "죽고 싶어", "không muốn sống nữa"]


def _policy_patterns(policy) -> list[str]:  # noqa: ANN001
    rules = [*policy.crisis.rules.rules, *policy.dosing.rules, *policy.medical.rules, *policy.scope.rules]
    lexicon = [pattern for _, pattern in policy.lexicon._crisis] + list(policy.lexicon._idioms)
    return [rule.regex.pattern for rule in rules] + [pattern.pattern for pattern in lexicon]


def test_a_cached_pattern_matches_as_re_compile_does(policy, tmp_path):
    patterns = _policy_patterns(policy)
    assert len(patterns) > 50
    first = RegexCache(tmp_path / "regex.marshal")
    for p in patterns:
        first.compile(p)
    first.save()
    again = RegexCache(tmp_path / "regex.marshal")       # a later process: every pattern from the file
    assert len(again._entries) == len(set(patterns))
    for p in patterns:
        cached, plain = again.compile(p), re.compile(p)
        assert (cached.pattern, cached.flags, cached.groups, dict(cached.groupindex)) == \
               (plain.pattern, plain.flags, plain.groups, dict(plain.groupindex))
        for text in SAMPLES:
            got, want = cached.search(text), plain.search(text)
            assert (got and got.span()) == (want and want.span()), (p[:80], text)


def test_flags_and_named_groups_survive(tmp_path):
    cache = RegexCache(tmp_path / "regex.marshal")
    cache.compile(r"(?P<word>ab+)c", re.IGNORECASE)
    cache.save()
    pattern = RegexCache(tmp_path / "regex.marshal").compile(r"(?P<word>ab+)c", re.IGNORECASE)
    assert pattern.search("xxABBC").group("word") == "ABB"
    assert pattern.flags & re.IGNORECASE


def test_a_damaged_file_only_costs_time(tmp_path):
    path = tmp_path / "regex.marshal"
    path.write_bytes(b"\x00not marshal at all")
    cache = RegexCache(path)
    assert cache.compile(r"\bsuicid").search("suicidal thoughts")
    cache.save()
    assert RegexCache(path).compile(r"\bsuicid").search("suicidal thoughts")   # rewritten


def test_a_bad_pattern_raises_as_re_compile_does(tmp_path):
    with pytest.raises(re.error):
        RegexCache(tmp_path / "regex.marshal").compile(r"(unclosed")
