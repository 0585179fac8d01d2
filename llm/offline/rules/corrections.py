"""Offline rules for corrections: "sorry, I meant Leipzig, not Dresden", "it's Y, not X".

A correction names a wrong value ("not Dresden") that the memory already holds: one of the
EXISTING FACTS the prompt shows. The right value is the fact this message states for the
same subject and predicate, or else the phrase the correction puts in its place ("I meant
Y", "it's Y", "Y, not X", "not X, ... in Y"). The result is the right fact with
``corrects`` naming the wrong one, which memory retracts (it was never true) rather than
ends. No fact is read from a "not X" that matches nothing the memory holds.
"""

from __future__ import annotations

import re

from memlane.llm.offline.rules.clauses import Draft
from memlane.llm.offline.rules.prompt import Candidate, ParsedPrompt
from memlane.memory_graph.model import normalise_name

__all__ = ["apply_corrections"]

_WORD = r"[^\W\d_][\w'’\-]*"
_PHRASE = rf"{_WORD}(?:[ ,]+{_WORD}){{0,3}}"
# The wrong value: "not X" / "isn't X" after a correction marker somewhere in the message.
_MARKER = re.compile(
    r"\b(?:sorry|oops|i meant|meant to say|i mean|actually|correction|typo|my bad|"
    r"spelled|spelt|i said|mix(?:ed|ing)?(?: (?:them|it|these|those|the two))? up|mixed|"
    r"wait,? no|no wait|not\b.*?\bbut)\b",
    re.I,
)
# ... or what the user says they said: "earlier I said Dresden, I meant Leipzig".
_WRONG = re.compile(
    rf"\b(?:not|n[o']t|i (?:said|wrote|typed|put))\s+(?:in\s+|at\s+|the\s+)?(?P<x>{_PHRASE})",
    re.I,
)
# The right value, in the forms a correction puts it.
_RIGHT = (
    re.compile(
        rf"\b(?:i meant|meant to say|i mean|it'?s|it is|is spelled|spelled|spelt|should be|"
        rf"actually(?: it'?s)?)\s+['\"]?(?P<y>{_PHRASE}?)['\"]?(?=\s*,?\s*(?:not|and not)\b)",
        re.I,
    ),
    re.compile(
        r"\bnot\s+{x}\s*,\s*(?:but\s+)?(?:[\w']+\s+){0,4}?(?:in|at|is|it'?s)\s+"
        r"(?P<y>[A-ZÀ-Þ][\w'’\-]*(?:\s+[A-ZÀ-Þ][\w'’\-]*)?)"
    ),
    re.compile(rf"(?P<y>{_WORD})\s*,?\s*not\s+(?P<x>{_WORD})", re.I),
    # "I meant Leipzig." with no "not X" after it (the wrong value came as "I said X").
    re.compile(
        rf"\b(?:i meant|meant to say|i mean|should be|should have said)\s+['\"]?"
        rf"(?P<y>{_PHRASE}?)['\"]?(?=\s*(?:[.,;!?]|$))",
        re.I,
    ),
)
# Words a correction wraps around its values, never a value themselves.
_NOT_VALUES = frozenset(
    [
        "sorry",
        "oops",
        "actually",
        "no",
        "ok",
        "okay",
        "yes",
        "i",
        "it",
        "its",
        "it's",
        "that",
        "this",
        "and",
        "but",
        "so",
        "well",
        "typo",
        "my",
        "bad",
        "mean",
        "meant",
        "said",
        "spelled",
        "spelt",
    ]
)


def _key(text: str | None) -> str:
    return normalise_name(text or "")


def _wrong_candidates(text: str, prompt: ParsedPrompt) -> list[tuple[str, Candidate]]:
    out: list[tuple[str, Candidate]] = []
    for m in _WRONG.finditer(text):
        words = m["x"].split()
        # "not Opole, she lives ..." names one to four words; try the longest first.
        for n in range(len(words), 0, -1):
            phrase = " ".join(words[:n]).strip(" ,")
            hits = [
                c
                for c in prompt.candidates
                if _key(c.object) == _key(phrase)
                # current, or to come: "moving to Stavanger in September. wait, not Stavanger"
                and (c.current or (c.valid_at is not None and c.valid_at > prompt.turn_time))
            ]
            if hits:
                out.extend((phrase, c) for c in hits)
                break
    return out


def _right_value(text: str, wrong: str) -> str | None:
    for i, pattern in enumerate(_RIGHT):
        if i == 1:
            pattern = re.compile(pattern.pattern.replace("{x}", re.escape(wrong)), re.I)
        for m in pattern.finditer(text):
            if "x" in m.groupdict() and _key(m["x"]) != _key(wrong):
                continue
            y = (m["y"] or "").strip(" ,'\"")
            if y and _key(y) != _key(wrong) and _key(y) not in _NOT_VALUES:
                return y
    return None


def apply_corrections(drafts: list[Draft], prompt: ParsedPrompt, texts: list[str]) -> list[Draft]:
    """Mark the drafts of this prompt's user messages (``texts``, as the rules read them)
    that correct an existing fact, adding the right fact where no rule read it; returns the
    drafts (some new)."""
    for text in texts:
        if not _MARKER.search(text):
            continue
        for wrong, cand in _wrong_candidates(text, prompt):
            same = [
                d
                for d in drafts
                if d.predicate == cand.predicate
                and _key(d.subject)
                in {_key(cand.subject), "user" if cand.subject == "user" else ""}
                and _key(d.object) != _key(wrong)
            ]
            draft = same[0] if same else None
            if draft is None:
                right = _right_value(text, wrong)
                if right is None:
                    continue
                draft = Draft(
                    cand.predicate,
                    right,
                    f"{cand.subject if cand.subject != 'user' else 'The user'} "
                    f"{cand.predicate.replace('_', ' ')} {right}.",
                    subject=cand.subject,
                    valid_at=cand.valid_at,
                )
                drafts.append(draft)
            if cand.short_id in draft.contradicts:
                draft.contradicts.remove(cand.short_id)
            if cand.short_id not in draft.corrects:
                draft.corrects.append(cand.short_id)
    return drafts
