"""The offline model's extraction: regular patterns for common personal facts.

Input is the extraction prompt itself (``memlane.prompts.extract_memory``), parsed back into its
sections (:mod:`memlane.llm.offline.rules.prompt`): the offline model reads exactly what a real
model reads. Output is a dict shaped like ``ExtractionOutput``. It is deterministic and
deliberately modest: it recognises the everyday ways people say where they live and work,
who their partner, children, pets, relatives and friends are (and where those people live
and work), what they eat, like, dislike and do, where they went and what they plan, with
dates resolved against the turn time; and it links a new fact to the existing facts it
restates or contradicts.

The rules live by topic: :mod:`memlane.llm.offline.rules.self_facts` (name, age, home, work),
:mod:`memlane.llm.offline.rules.people`, :mod:`memlane.llm.offline.rules.tastes`,
:mod:`memlane.llm.offline.rules.events`; the shared machinery (sentences, clauses, dates per
clause) is :mod:`memlane.llm.offline.rules.clauses`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

# Importing the topic modules registers their rules (order = precedence of equal facts).
from memlane.llm.offline.rules import (  # noqa: F401
    changes,
    events,
    homes,
    money,
    people,
    self_facts,
    tastes,
)
from memlane.llm.offline.rules.clauses import EMOJI, RULES, Ctx, Draft, prepare
from memlane.llm.offline.rules.corrections import apply_corrections
from memlane.llm.offline.rules.mentions import last_named, resolve_pronouns, truecase_names
from memlane.llm.offline.rules.normalise import fix_typos, spell_out, vocabulary
from memlane.llm.offline.rules.orgs import truecase_orgs
from memlane.llm.offline.rules.places import truecase_places
from memlane.llm.offline.rules.prompt import (
    RELATIONS,
    Candidate,
    ParsedPrompt,
    parse_extraction_prompt,
)
from memlane.memory_graph.model import normalise_name

__all__ = [
    "Candidate",
    "ParsedPrompt",
    "extract",
    "link",
    "parse_extraction_prompt",
    "placeable",
    "read",
]


def _key(text: str | None) -> str:
    return normalise_name(text or "")


def _subject_key(subject: str) -> str:
    key = _key(subject)
    return "user" if key in {"user", "i", "me", "self", "the user"} else key


def link(draft: Draft, prompt: ParsedPrompt) -> None:
    """Fill ``restates`` / ``contradicts`` from the candidates, where it is obvious."""
    same = [
        c
        for c in prompt.candidates
        if c.predicate == draft.predicate and _subject_key(c.subject) == _subject_key(draft.subject)
    ]
    past = draft.past or draft.invalid_at is not None
    for cand in same:
        equal = _key(cand.object) == _key(draft.object)
        if equal and cand.polarity == draft.polarity:
            if past and cand.current:
                continue  # a story about X is not "X again" while X is the current value
            draft.restates.append(cand.short_id)
            if past and cand.valid_at and (draft.valid_at is None or draft.invalid_at):
                draft.valid_at = cand.valid_at
        elif past or not cand.current:
            continue
        elif equal and cand.polarity != draft.polarity:
            draft.contradicts.append(cand.short_id)
        elif draft.predicate in prompt.functional and draft.polarity == "positive":
            older = cand.valid_at and draft.valid_at and draft.valid_at < cand.valid_at
            if not older:
                draft.contradicts.append(cand.short_id)
    if past and draft.restates:
        draft.invalid_at = None  # the restated period keeps its own end
    if draft.invalid_at and draft.valid_at and draft.valid_at > draft.invalid_at:
        draft.valid_at = None


def placeable(draft: Draft, prompt: ParsedPrompt) -> bool:
    """Whether a fact can be stored without bending the timeline.

    A story about a past value of a functional predicate ("back when I lived in Berlin")
    with no date of its own and no shown period to restate could only be stored as a point
    in time, and any point we picked would cut into whatever value held then (or now). The
    memory most likely holds that period already; saying nothing beats a wrong date.
    """
    return not (
        draft.past
        and draft.predicate in prompt.functional
        and not draft.restates
        and draft.valid_at is None
    )


# Chat ends a sentence with an emoji as often as with a full stop ("I GOT THE JOB 😭 trauma
# nurse at Atrium"): a run of pictographs is a sentence boundary.
_SENTENCE_END = re.compile(rf"(?<=[.!?])\s+|\n+|\s*[{EMOJI}][{EMOJI}\ufe0f\u200d\s]*")


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


@lru_cache(maxsize=1)
def _vocabulary() -> frozenset[str]:
    return vocabulary(pattern.pattern for pattern, _ in RULES)


def _known_people(prompt: ParsedPrompt) -> dict[str, str | None]:
    """The people and pets the existing facts name (name -> role, unknown here)."""
    names: dict[str, str | None] = {}
    for c in prompt.candidates:
        if c.predicate in (*RELATIONS, "has_pet"):
            names.setdefault(c.object, None)
        if _subject_key(c.subject) != "user":
            names.setdefault(c.subject, None)
    return names


def read(text: str, prompt: ParsedPrompt) -> str:
    """A user message as the rules read it: normalised chat, names and places cased, and a
    subject pronoun replaced by the person it can only mean."""
    known = _known_people(prompt)
    text = fix_typos(truecase_names(spell_out(text), known), _vocabulary())
    text = truecase_orgs(truecase_places(text))
    # The recent turns can hold the new message itself (and the reply to it): only an
    # earlier user message says whom a pronoun opening this one goes on about.
    new = {m.text.strip() for m in prompt.new}
    previous = [m.text for m in prompt.recent if m.role == "user" and m.text.strip() not in new]
    before = None
    if previous:
        said = fix_typos(truecase_names(spell_out(previous[-1]), known), _vocabulary())
        before = last_named(said, known)
    return resolve_pronouns(text, known, before)


def _drafts(prompt: ParsedPrompt) -> list[Draft]:
    who = prompt.user_name or "The user"
    drafts: list[Draft] = []
    seen: set[tuple[str, str, str, str]] = set()
    for message in prompt.new:
        if message.role != "user":
            continue
        text = read(message.text, prompt)
        for raw in _sentences(text):
            sentence, spans = prepare(raw)
            ctx = Ctx(message.at, who, sentence, spans, prompt, text)
            for pattern, fn in RULES:
                for match in pattern.finditer(sentence):
                    if ctx.supposes(match):
                        continue  # "if I moved to Berlin ...": what might be, not what is
                    for d in fn(match, ctx):
                        key = (_subject_key(d.subject), d.predicate, _key(d.object), d.polarity)
                        if key in seen or not d.object:
                            continue
                        seen.add(key)
                        drafts.append(d)
    return drafts


def _most_specific(drafts: list[Draft]) -> list[Draft]:
    """One home per subject and message: "made it to Porto!! apartment in Bonfim" reads both
    "Porto" and "Bonfim, Porto"; the district, which holds the city, is the home."""
    within = {
        (_subject_key(d.subject), _key(d.object.rsplit(",", 1)[-1]))
        for d in drafts
        if d.predicate == "lives_in" and d.object and "," in d.object
    }
    return [
        d
        for d in drafts
        if not (
            d.predicate == "lives_in"
            and "," not in (d.object or "")
            and (_subject_key(d.subject), _key(d.object)) in within
        )
    ]


def extract(prompt: ParsedPrompt) -> dict[str, Any]:
    """Facts and entities in the prompt's new user messages, as an ``ExtractionOutput`` dict."""
    drafts = _most_specific(_drafts(prompt))
    for d in drafts:
        link(d, prompt)
    texts = [read(m.text, prompt) for m in prompt.new if m.role == "user"]
    drafts = apply_corrections([d for d in drafts if placeable(d, prompt)], prompt, texts)
    entities: dict[str, dict[str, str]] = {}
    for d in drafts:
        if d.subject != "user":
            entities.setdefault(_key(d.subject), {"name": d.subject, "kind": "person"})
        if d.object and d.object_kind != "value":
            entities.setdefault(_key(d.object), {"name": d.object, "kind": d.object_kind})
    return {"entities": list(entities.values()), "facts": [d.to_dict() for d in drafts]}
