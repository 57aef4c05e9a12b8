"""Okapi BM25 over whole corpus entries, so exact terms ("esketamine", "TMS", "CRPS") are not lost.

    bm25 = BM25({"tms": "What is TMS? transcranial magnetic ...", ...})
    bm25.run("is tms the same as ketamine")   # {"tms": 7.1, ...}
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter

_WORD = re.compile(r"[a-z0-9]+")
STOPWORDS = frozenset("""
a about after again all am an and any are as at be been before being both but by can could did do does
doing don during each few for from further had has have having he her here hers him his how i if in into
is it its itself just me more most my myself no nor not now of off on once only or other our ours out
over own same she should so some such than that the their theirs them then there these they this those
through to too under until up very was we were what when where which while who whom why will with would
you your yours yourself im ive id dont doesnt get got go going really much many thing things ok okay
please hi hello hey thanks thank also like know want wanna gonna u ur r
""".split())
SPANISH_STOPWORDS = STOPWORDS | frozenset("""
el la los las un una unos unas de del al en y e o u que es son esta estan estoy soy como cuando donde quien
por porque para con sin mi mis me tu tus su sus se le les lo nos yo usted ustedes hay puedo puede pueden
debo tengo tiene quiero necesito muy mas tambien ya eso esto este esa ese hola gracias favor algo
""".split())


def _stem(word: str) -> str:
    # Just enough folding for plurals and -ing/-ed forms; the dense model handles the rest.
    for suffix in ("ing", "ies", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def tokenize(text: str, stopwords: frozenset[str] = STOPWORDS) -> list[str]:
    # Accents folded: patients type "sesion" as often as "sesión", and [a-z] would split the word.
    folded = text.lower()
    if not folded.isascii():   # only [a-z0-9] makes a token, so dropping what is left of accents is enough
        folded = unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode("ascii")
    return [_stem(w) for w in _WORD.findall(folded) if w not in stopwords]


class BM25:
    """BM25 scores of a query against named documents."""

    def __init__(self, docs: dict[str, str], k1: float = 1.2, b: float = 0.75,
                 stopwords: frozenset[str] = STOPWORDS) -> None:
        if not docs:
            raise ValueError("BM25 needs at least one document")
        if k1 <= 0 or not 0 <= b <= 1:
            raise ValueError("BM25 needs k1 > 0 and 0 <= b <= 1")
        self.k1, self.b = k1, b
        self.stopwords = stopwords
        self.ids = list(docs)
        self.tf = [Counter(tokenize(docs[i], stopwords)) for i in self.ids]
        self.lengths = [sum(tf.values()) for tf in self.tf]
        self.avg_length = sum(self.lengths) / len(self.lengths) or 1.0
        df: Counter[str] = Counter()
        for tf in self.tf:
            df.update(tf.keys())
        n = len(self.ids)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}

    def run(self, query: str, weights: dict[str, float] | None = None) -> dict[str, float]:
        """Score every document that shares a term with the query; `weights` scales query terms."""
        terms = Counter(tokenize(query, self.stopwords))
        if weights:
            for term, weight in weights.items():
                terms[term] = terms.get(term, 0) + weight
        scores: dict[str, float] = {}
        for i, tf in enumerate(self.tf):
            score = 0.0
            norm = self.k1 * (1 - self.b + self.b * self.lengths[i] / self.avg_length)
            for term, q_weight in terms.items():
                f = tf.get(term)
                if f:
                    score += q_weight * self.idf[term] * f * (self.k1 + 1) / (f + norm)
            if score > 0:
                scores[self.ids[i]] = score
        return scores
