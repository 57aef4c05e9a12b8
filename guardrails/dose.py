"""Find dose amounts in any text (user messages, replies, corpus entries). Pure stdlib.

    >>> find_dose_amounts("They gave me 0.5 mg/kg, then two sprays")
    ['0.5 mg/kg', 'two sprays']
    >>> find_dose_amounts("Sessions last 45 minutes; call 988 or text 741741")
    []

An amount is a number (digits, decimals, fractions, ranges or number words) followed by a
dose unit (mg, mg/kg, mcg, µg, ml, cc, g, grams, "per kg") or a dose count noun (sprays,
doses, pills, tablets, troches, lozenges, capsules, devices), in English or Spanish ("2 trociscos",
"dos pastillas", "0,5 miligramos por kilo"). Durations, phone numbers,
"Schedule III" and years are not amounts.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["find_dose_amounts"]

_WORD_NUMBERS = (
    "zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    "fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fourty|fifty|sixty|"
    "seventy|eighty|ninety|hundred|thousand|half an?|half|quarter|a half|a quarter|a couple of|a couple|"
    # Spanish ("un"/"una" left out: "una dosis" is as often "a dose" as "one dose")
    "dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|once|doce|quince|veinte|treinta|cuarenta|cincuenta|"
    "sesenta|setenta|ochenta|noventa|cien|ciento|quinientos|mil|medio|media|un par de|un cuarto de"
)
_WORD = rf"(?:{_WORD_NUMBERS})"
_WORD_NUMBER = rf"{_WORD}(?:(?:\s+|-)(?:and\s+)?(?:an?\s+)?{_WORD})*"
_DIGITS = r"(?:\d+(?:,\d{3})*(?:\.\d+)?|\.\d+)(?:\s*/\s*\d+(?:\.\d+)?)?"
_NUMBER = rf"(?:{_DIGITS}|{_WORD_NUMBER})"
_RANGE = rf"{_NUMBER}(?:\s*(?:-|\u2013|to|or|a|o|y)\s*{_NUMBER})?"

_MASS_UNIT = (
    r"(?:mg|mgs|milligrams?|milligrammes?|mcg|mcgs|\u03bcg|ug|micrograms?|ml|mls|millilit(?:er|re)s?|"
    r"cc|ccs|g|gs|grams?|grammes?|miligramos?|microgramos?|mililitros?|gramos?)"
)
_PER_WEIGHT = r"(?:\s*(?:/|per|a|an|por)\s*(?:kg|kgs|kilo|kilos|kilograms?|kilogramos?|lb|lbs|pound|libras?)\b)"
_COUNT_NOUN = (
    r"(?:sprays?|squirts?|puffs?|doses?|pills?|tablets?|tabs|caps|capsules?|troches?|lozenges?|"
    r"rdts?|devices?|bumps?|vials?|"
    r"dosis|pastillas?|tabletas?|comprimidos?|trociscos?|c[aá]psulas?|disparos?|atomizaciones?|"
    r"pulverizaciones?|inhalaciones?|aplicaciones?|gotas?|ampollas?|ampolletas?|dispositivos?|tiros?)"
)

_AMOUNT = re.compile(
    rf"(?<![\w.])(?:{_RANGE})\s*(?:-\s*)?(?:{_MASS_UNIT}\b{_PER_WEIGHT}?|{_COUNT_NOUN}\b)"
    rf"|(?<![\w.])(?:{_RANGE}){_PER_WEIGHT}",
    re.IGNORECASE,
)


def find_dose_amounts(text: str) -> list[str]:
    """Return every dose amount found in ``text``, as written (after Unicode NFKC)."""
    if not text:
        return []
    norm = unicodedata.normalize("NFKC", text).replace("\u00b5", "\u03bc")
    return [m.group(0).strip() for m in _AMOUNT.finditer(norm)]
