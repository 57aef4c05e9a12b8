"""Which language a patient writes in, offline, in microseconds: English, Spanish, or another language.

    detector = LanguageDetector()
    detector.run("¿cuánto dura una sesión?").lang           # "es"
    choose_language("ok", history=("¿cuánto cuesta?",))      # "es": a message with no signal keeps the last one

A tested heuristic rather than a library: the product serves two languages and only has to tell them apart
from each other and from the rest, on messages of a few words with typos and no accents. Function words are
the strongest signal at that length (libraries such as langdetect are trained on longer, cleaner text, are
random on three-word messages unless seeded, and add a dependency). The rules:

- letters of a non-Latin script (Chinese, Korean, Cyrillic, Arabic, ...) make up most of the message → that
  script's language (``other``);
- otherwise count function words and marks per language (``¿ ¡ ñ`` and accents for Spanish, ``ã õ ç`` for
  Portuguese, Vietnamese tone marks, ...); the language with the most wins when it has at least two and
  leads the runner-up; Spanish also wins a tie with Portuguese (the served language is the safer guess);
- no signal ("ok", "988", an emoji) → ``None``: the conversation keeps its language.

English and Spanish are served; anything else is ``other`` (a bilingual note; the crisis path still works).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

SERVED = ("en", "es")

# Function words and very common clinic words, lowercase, accents stripped (patients often drop them).
_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset("""
        the an is are was were be been am i im i'm my me you your we our it its this that these those what
        how when where who why which can could should would will do does did don't dont not no yes and or but
        if with without for from to of in on at after before about there here have has had get got need want
        much many long take session sessions treatment side effects infusion appointment clinic drive after
        anyone someone any some just really please thanks thank hi hello ketamine bye""".split()),
    "es": frozenset("""
        el la los las un una unos unas es son esta estan estoy soy que como cuando donde quien por porque
        para con sin de del al en y o pero si no mi mis me tu tus su sus usted ustedes yo nos hay puedo
        puede pueden debo tengo tiene tienen quiero necesito hacer despues antes cuanto cuanta cuantos cuantas
        cuesta dura sesion sesiones tratamiento efectos secundarios infusion cita clinica manejar puedes
        seguro segura gracias hola buenas buenos dias tardes noches ayuda alguien algo muy mas tambien ya
        le lo se eso este esto ese hoy manana semana vez veces dolor medico medicina pastillas ketamina
        quiero morir sentir siento adios""".split()),
    "pt": frozenset("""
        o os um uma e sao estou sou que como quando onde quem por porque para com sem de do da dos
        das no na nos nas em ou se nao meu minha eu voce voces ele ela tem tenho posso pode quero preciso
        fazer depois quanto quanta custa sessao sessoes tratamento efeitos colaterais consulta clinica
        obrigado obrigada ola oi muito mais tambem hoje amanha vezes isso isto""".split()),
    "fr": frozenset("""
        le la les un une des est sont je j'ai tu il elle nous vous ils elles mon ma ton ta tes sa
        ses que qui quoi comment quand ou pourquoi pour avec sans de du au aux en et mais si ne pas
        suis ai avez peux peut veux dois combien coute seance seances traitement effets secondaires rendez
        vous merci bonjour salut tres aussi deja aujourd'hui demain semaine fois c'est ca cette""".split()),
    "tl": frozenset("""
        ang ng mga sa ni ay ako ikaw siya kami tayo sila ko mo niya namin natin nila ito iyan iyon ano
        paano kailan saan sino bakit wala hindi oo po opo lang na pa ba kasi kung magkano gaano salamat
        kumusta gusto kailangan pwede puwede dito doon""".split()),
    "ht": frozenset("""
        mwen ou li nou pa gen ki kote kijan poukisa pou avek nan ak kounye ap pral konbyen seyans tretman
        mesi bonjou kisa kile mwens anpil vle mouri""".split()),
}
# Marks that point to one language; each counts as one more word.
_MARKS: dict[str, re.Pattern[str]] = {
    "es": re.compile(r"[¿¡ñÑ]|ción\b|ciones\b|\b\w+ísimo\b|\b(?:qué|cómo|cuánto|cuándo|dónde|sesión|después|"
                     r"también|está|están|médico)\b", re.IGNORECASE),
    "pt": re.compile(r"[ãõ]|ção\b|ções\b|\b(?:não|você|sessão|também|está|médico)\b", re.IGNORECASE),
    "fr": re.compile(r"[èêëàâîïôûùœ]|\b(?:j'|c'|d'|l'|qu')", re.IGNORECASE),
    "vi": re.compile(r"[ăâđêôơư]|[ạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.IGNORECASE),
}
# Non-Latin scripts, by the first word of the Unicode character name.
_SCRIPTS = {"CJK": "zh", "HIRAGANA": "ja", "KATAKANA": "ja", "HANGUL": "ko", "CYRILLIC": "ru", "ARABIC": "ar",
            "HEBREW": "he", "DEVANAGARI": "hi", "THAI": "th", "GREEK": "el", "ARMENIAN": "hy", "GEORGIAN": "ka",
            "ETHIOPIC": "am", "BENGALI": "bn", "TAMIL": "ta", "GUJARATI": "gu", "GURMUKHI": "pa", "KHMER": "km"}
_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?")


@dataclass(frozen=True)
class LanguageGuess:
    """``lang`` is a code ("en", "es", "fr", "zh", ...) or None when the message carries no signal."""
    lang: str | None
    scores: dict[str, int]

    @property
    def served(self) -> str | None:
        """"en" or "es" when served, "other" for any other language, None for no signal."""
        if self.lang is None:
            return None
        return self.lang if self.lang in SERVED else "other"


class LanguageDetector:
    """Guesses the language of one message; see the module docstring for the rules.

        LanguageDetector().run("tengo una cita mañana, ¿qué llevo?").served    # "es"
    """

    def __init__(self, min_words: int = 2) -> None:
        if min_words < 1:
            raise ValueError("min_words must be at least 1")
        self.min_words = min_words

    def run(self, text: str) -> LanguageGuess:
        script = _script(text)
        if script is not None:
            return LanguageGuess(script, {script: 1})
        folded = _fold(text)
        tokens = _TOKEN.findall(folded)
        scores = {lang: sum(1 for t in tokens if t in words) for lang, words in _WORDS.items()}
        for lang, pattern in _MARKS.items():
            scores[lang] = scores.get(lang, 0) + 2 * len(pattern.findall(text))
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0] != "es", kv[0] != "en"))
        (best, top), (second, runner) = ranked[0], ranked[1]
        if top >= 1 and runner == 0 and best in SERVED:
            return LanguageGuess(best, scores)          # "hola", "thanks": one word, and only one language
        if top < self.min_words or top == runner and {best, second} != {"es", "pt"}:
            # Too little to go on, or a tie between two languages (Spanglish): keep the conversation's.
            return LanguageGuess(None, scores)
        if best not in SERVED and _served_close(scores, top):
            # Another language only when it clearly leads both served ones: a typo-ridden English or
            # Spanish question must never be read as French.
            return LanguageGuess(None, scores)
        return LanguageGuess(best, scores)


def _served_close(scores: dict[str, int], top: int) -> bool:
    return max(scores["en"], scores["es"]) * 2 > top


def choose_language(message: str, history: Iterable[str] = (), override: str | None = None,
                    detector: LanguageDetector | None = None) -> str:
    """The language to reply in: the widget's choice, else this message's, else the last earlier message's
    that had one, else English. Returns "en", "es" or "other"."""
    if override in SERVED:
        return override
    detector = detector or _DEFAULT
    guess = detector.run(message).served
    if guess is not None:
        return guess
    for earlier in reversed(tuple(history)):
        guess = detector.run(earlier).served
        if guess is not None:
            return guess
    return "en"


def _fold(text: str) -> str:
    """Lowercase without accents: 'Sesión' and 'sesion' are the same word to a patient typing fast."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("’", "'")


def _script(text: str) -> str | None:
    counts: dict[str, int] = {}
    letters = 0
    for ch in text:
        if not ch.isalpha():
            continue
        letters += 1
        if ord(ch) < 0x250:           # Latin, including accented letters
            continue
        first = unicodedata.name(ch, "").split(" ")[0]
        lang = _SCRIPTS.get(first)
        if lang:
            counts[lang] = counts.get(lang, 0) + 1
    if not counts or not letters:
        return None
    lang, n = max(counts.items(), key=lambda kv: kv[1])
    return lang if n * 2 >= letters else None


_DEFAULT = LanguageDetector()
