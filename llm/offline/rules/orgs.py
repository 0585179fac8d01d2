"""Employers typed in lowercase: "she works at tinker federal credit union".

The work rules find an employer by its capital letters. Where a message says where someone
works (after "works at", "job at", "joined", "shift at", "hired by", ...), the lowercase
words that follow, up to a function word, a date word or punctuation and at most four of
them, are given capitals before the rules run. What commonly follows those phrases without
being an employer ("at home", "at night", "for myself", "at a bakery") is left alone: an
article or a pronoun means a description, not a name.
"""

from __future__ import annotations

import re

from memlane.llm.offline.rules.jobs import JOBS
from memlane.llm.offline.rules.normalise import word_set
from memlane.llm.offline.rules.places import known_place

__all__ = ["truecase_orgs"]

_CONTEXT = re.compile(
    r"\b(?:work(?:s|ed|ing)?|employed|job|position|role|internship|placement)"
    r"(?: (?:full[- ]time|part[- ]time|now|still|currently))? (?:at|for|with) "
    r"|\b(?:shifts?|started|starting|first day|last day) at |\b(?:hired|employed) by "
    r"|\boffer (?:from|at) |\bbeen at "
    rf"|\b(?:{JOBS})s? (?:at|for|with) ",  # "data analyst at flipkart"
    re.I,
)
_WORD = re.compile(r"[a-z][a-z&\-]*")
# Words that end an employer's name, or show the phrase is no name at all.
_END = word_set(
    "a an the my our his her their your its this that these those some any and or but so if as in "
    "on at to for of by from with since until till when while because now still today yesterday "
    "tomorrow tonight last next this every each again anymore too there here lol haha omg tbh rn "
    "done finished over is was are were be been will would has have had i me you he she it we "
    "they him them us myself yourself himself herself ourselves themselves"
)
_NOT_EMPLOYER = word_set(
    "home night nights weekends weekend least all times once work school first last the moment "
    "myself it them him her me you us everyone nothing something hours years days weeks months "
    "free fun money kids people clients customers remote remotely"
)


def truecase_orgs(text: str) -> str:
    """``text`` with a lowercase employer after a work phrase given capitals."""
    out: list[str] = []
    last = 0
    for m in _CONTEXT.finditer(text):
        words: list[str] = []
        pos = m.end()
        while len(words) < 4:
            w = _WORD.match(text, pos)
            if not w or w.group(0) in _END:
                break
            words.append(w.group(0))
            pos = w.end()
            if not text.startswith(" ", pos):
                break
            pos += 1
        if not words or words[0] in _NOT_EMPLOYER or known_place(" ".join(words)):
            continue
        span = " ".join(words)
        out.append(text[last : m.end()])
        out.append(" ".join(w[:1].upper() + w[1:] for w in words))
        last = m.end() + len(span)
    out.append(text[last:])
    return "".join(out)
