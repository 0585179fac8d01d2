"""Chat as the rules can read it: contractions, shorthand, shouting and typos.

People type "im", "ive been", "dont", "u", "MY SISTER HAD HER BABY" and "moevd", and the
rules are written for "I'm", "I've been", "don't", "you" and "moved". :func:`spell_out` and,
once names are cased, :func:`fix_typos` rewrite a message into that form before any rule
runs, so each rule needs no variant of its own:

* apostrophe-less contractions and common chat shorthand are spelled out (a closed list of
  English function words, not of anyone's sentences);
* a shouted sentence (mostly capitals) is lowered, so its words are not taken for names;
* a word that is no English word (the ``lemminflect`` lexicon does not know it) and is one
  edit (two for long words) away from exactly one word the rules look for is read as that
  word (``rapidfuzz``'s Damerau-Levenshtein distance). Only the rules' own vocabulary is a
  target, so a name or a foreign word is left alone unless it is a near-miss of a trigger.

:func:`is_word` (the lexicon test) is shared with the name guards: a capitalised "Tired" after
"Hi, I'm" is a word, not a name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from memlane.llm.offline.rules.places import known_place

__all__ = ["ages_as_figures", "fix_typos", "is_word", "spell_out", "vocabulary", "word_set"]

# Apostrophe-less contractions: each spelling here is not itself an English word ("were",
# "well", "id", "wed", "hell", "shell" are, so they stay as typed).
_CONTRACTIONS: dict[str, str] = {
    "im": "I'm", "ive": "I've", "dont": "don't", "didnt": "didn't",
    "doesnt": "doesn't", "cant": "can't", "wont": "won't", "isnt": "isn't", "wasnt": "wasn't",
    "arent": "aren't", "werent": "weren't", "havent": "haven't", "hasnt": "hasn't",
    "hadnt": "hadn't", "couldnt": "couldn't", "wouldnt": "wouldn't", "shouldnt": "shouldn't",
    "thats": "that's", "whats": "what's", "hes": "he's", "shes": "she's", "theyre": "they're",
    "youre": "you're", "weve": "we've", "theyve": "they've", "youve": "you've", "itll": "it'll",
}  # fmt: skip
# Chat shorthand for common words.
_SHORTHAND = {
    "u": "you", "ur": "your", "r": "are", "yr": "year", "yrs": "years",
    "mos": "months", "wk": "week", "wks": "weeks", "hr": "hour", "hrs": "hours",
    "tmrw": "tomorrow", "tmr": "tomorrow", "tomoro": "tomorrow", "2moro": "tomorrow",
    "yday": "yesterday", "bday": "birthday", "bc": "because", "cuz": "because",
    "coz": "because", "bf": "boyfriend", "gf": "girlfriend", "bff": "best friend",
    "bestie": "best friend", "hubby": "husband", "pls": "please", "plz": "please",
    "ppl": "people", "gonna": "going to", "wanna": "want to", "gotta": "have to",
    "abt": "about", "w/": "with", "thru": "through", "nite": "night", "tho": "though",
    "wat": "what", "wut": "what", "outta": "out of", "kinda": "kind of", "thx": "thanks",
}  # fmt: skip


def word_set(text: str) -> frozenset[str]:
    """The whitespace-separated words of ``text`` (for word lists kept as prose)."""
    return frozenset(text.split())


# Closed-class words the lexicon (which lists open-class words) does not know.
_FUNCTION = word_set(
    "a an the and but or if nor for of at with from into onto until because than then though "
    "through without within upon among against during per every unless whether whose whom while "
    "also lol lmao haha hahaha omg btw tbh ngl idk imo fyi okay yeah yep nope hey hello thanks"
)
_TOKEN = re.compile(r"[A-Za-z][A-Za-z'’/]*[A-Za-z/]|[A-Za-z]")


@lru_cache(maxsize=1)
def _lexicon() -> object:
    import lemminflect  # a lexicon package: loaded once, on the first unknown-looking word

    return lemminflect


@lru_cache(maxsize=20_000)
def is_word(word: str) -> bool:
    """Whether ``word`` (any case) is an English word: a function word or in the lexicon."""
    low = word.lower().replace("’", "'")
    if low in _FUNCTION or low in _CONTRACTIONS or low in _SHORTHAND:
        return True
    lex = _lexicon()
    return bool(lex.getAllLemmas(low))  # type: ignore[attr-defined]


def vocabulary(patterns: Iterable[str]) -> frozenset[str]:
    """The words the rules look for: lowercase runs of four letters or more in their sources."""
    words: set[str] = set()
    for source in patterns:
        words.update(re.findall(r"(?<![\\?])\b[a-z]{4,}\b", source))
    return frozenset(words)


@lru_cache(maxsize=4096)
def _near(token: str, vocab: frozenset[str]) -> str | None:
    from rapidfuzz.distance import DamerauLevenshtein, Levenshtein
    from rapidfuzz.process import extract

    limit = 1 if len(token) < 8 else 2
    hits = extract(token, vocab, scorer=DamerauLevenshtein.distance, score_cutoff=limit, limit=3)
    best = [h for h in hits if h[1] == min((x[1] for x in hits), default=limit + 1)]
    # Only an unambiguous near-miss: "livng" is "living", but "wrk" could be several things.
    if len(best) != 1 or abs(len(best[0][0]) - len(token)) > limit:
        return None
    word = best[0][0]
    if len(token) == 4 and Levenshtein.distance(token, word) == 1:
        return None  # four letters one letter off is as often a name ("greg", "lowe")
    return word


def _shouted(sentence: str) -> bool:
    letters = [ch for ch in sentence if ch.isalpha()]
    upper = sum(ch.isupper() for ch in letters)
    return len(letters) >= 12 and upper / len(letters) > 0.7


def _spell(token: str) -> str:
    low = token.lower()
    if low in _CONTRACTIONS:
        return _CONTRACTIONS[low]
    if low in _SHORTHAND:
        return _SHORTHAND[low] if token.islower() else token
    return token


def _fix(token: str, vocab: frozenset[str]) -> str:
    low = token.lower()
    if not token.islower() or len(token) < 4 or low in vocab or is_word(low):
        return token  # capitalised words are names; known words are what they say
    if "'" in low or "’" in low:
        return token  # a contraction ("we're") is no typo of a word ("were")
    if known_place(low):
        return token  # "leeds" is a city, not a typo of "needs"
    if low.endswith("in") and is_word(low + "g"):
        return low + "g"  # "drivin", "gettin": the dropped g
    return _near(low, vocab) or token


_UNITS = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
]  # fmt: skip
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_NUMBER_WORD = (
    rf"(?P<tens>{'|'.join(_TENS)})(?:[- ](?P<unit1>{'|'.join(_UNITS[1:10])}))?"
    rf"|(?P<unit>{'|'.join(sorted(_UNITS, key=len, reverse=True))})"
)
# An age said in words: "he is six", "Rory is one today", "thirty-two years old", "turned
# forty". Only where a figure would be an age: "one of them", "is one thing" stay words.
_AGE_WORDS = re.compile(
    rf"\b(?P<head>(?:is|am|i'm|he's|she's|turned|turning|turns|aged)\s+)?(?:{_NUMBER_WORD})\b"
    r"(?(head)(?=\s*(?:[,.;:!?)]|$|and\b|but\b|so\b|now\b|today\b|tomorrow\b|yesterday\b|"
    r"this\b|last\b|next\b|already\b|soon\b|years?\b|months?\b))"
    r"|(?=[- ](?:years?|months?)[- ]old\b))",
    re.I,
)


def _number(m: re.Match[str]) -> str:
    if m["tens"]:
        value = 20 + 10 * _TENS.index(m["tens"].lower())
        value += _UNITS.index(m["unit1"].lower()) if m["unit1"] else 0
    else:
        value = _UNITS.index(m["unit"].lower())
    return (m["head"] or "") + str(value)


def ages_as_figures(text: str) -> str:
    """``text`` with an age written in words given as a figure ("he is six" -> "he is 6")."""
    return _AGE_WORDS.sub(_number, text)


def spell_out(text: str) -> str:
    """``text`` with shouting lowered and chat contractions and shorthand written out."""
    parts = re.split(r"(?<=[.!?\n])", text)
    text = "".join(p.lower() if _shouted(p) else p for p in parts)
    text = re.sub(r"\bi\b(?!['’]|\.\w)", "I", text)  # "i moved" -> "I moved" (not "i.e.")
    return ages_as_figures(_TOKEN.sub(lambda m: _spell(m.group(0)), text))


def fix_typos(text: str, vocab: frozenset[str]) -> str:
    """``text`` with lowercase near-misses of the rules' words corrected (capitalised words,
    which by then include the names, are left as they are)."""
    return _TOKEN.sub(lambda m: _fix(m.group(0), vocab), text)
