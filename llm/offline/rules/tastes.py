"""Offline extraction rules about tastes: diet, allergies, likes and dislikes, hobbies.

Likes carry their stance: "I don't like X anymore", "I've gone off X" and "I used to love
X, but not these days" are ``likes`` with negative polarity (a change of taste, dated to the
turn); "I hate X" is ``dislikes``; "I've come around on X" and "I'm back into X" like again.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from memlane.llm.offline.rules.clauses import OBJ, Ctx, Draft, clean, ok, rule, split_list

__all__ = ["DIETS"]

DIETS = (
    r"vegetarian|vegan|pescatarian|pescetarian|keto|paleo|gluten[- ]free|dairy[- ]free|"
    r"carnivore|omnivore|plant[- ]based|low[- ]carb|halal|kosher|lactose[- ]free"
)
_NEG = re.compile(r"\b(?:don't|do not|dont|no longer|not|stopped|never|quit|gave up)\b", re.I)
_ADV = (
    r"(?:(?:now|really|absolutely|just|also|still|always|actually|totally|truly|genuinely|"
    r"definitely|honestly|kind of|kinda|sort of|started|come to|grown to|learned to|"
    r"learnt to|begun to|secretly|particularly|especially|so|very)\s+)*"
)


# -- food ------------------------------------------------------------------------------------
def _diet_name(raw: str) -> str:
    return raw.lower().replace(" ", "-")


@rule(
    r"\b(?:i|we)(?:'m| am|'ve| have| are|'re)?(?: (?:now|still|fully|strictly|officially|"
    r"mostly|been|just|recently|finally|completely|eating|a|an))* (?:(?:gone|went|go|switched "
    r"to|changed to|turned|became|become|decided to (?:go|become|try|eat)|started (?:eating|"
    r"being)|start|started|starting|began|begin|eat|eating|on|follow|following|trying) )?"
    r"(?:a |an |fully |strictly |100% )?"
    rf"(?P<d>{DIETS})\b(?: (?:diet|lifestyle))?"
)
def _diet(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    clause = c.clause(m)
    if _NEG.search(clause) or re.search(r"\b(?:used to|was|were|anymore)\b", clause, re.I):
        return
    if re.search(r"\b(?:thinking|considering|might|maybe|want to|would)\b", clause, re.I):
        return  # a thought, not a diet
    if c.opens_question(m):
        return  # "should I go vegan?"
    diet = _diet_name(m["d"])
    changed = re.search(
        r"\b(?:gone|went|go|switched|changed|turned|became|become|decided|start|started|"
        r"starting|began|begin|now)\b",
        m.group(0),
        re.I,
    )
    when = c.date(m, near=bool(changed)) or (c.day() if changed else None)
    yield Draft("diet", diet, f"{c.who} is {diet}.", valid_at=when, kind="preference")


@rule(
    r"(?:^|(?<=[,;:] )|\band )(?:(?:i'?m|i am|we'?re) )?(?:back (?:to|on)|switching to|"
    rf"switched to|going|gone) (?:being )?(?:a |an |fully )?(?P<d>{DIETS})\b"
)
def _diet_switch(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    """ "done with vegan, back to vegetarian", "switching to keto": a clause that is only
    the switch, its "I" dropped."""
    if _NEG.search(c.clause(m)) or c.opens_question(m):
        return
    if re.search(r"\b(?:thinking|considering|might|maybe|want to|would|if)\b", c.clause(m), re.I):
        return
    diet = _diet_name(m["d"])
    yield Draft("diet", diet, f"{c.who} is {diet}.", kind="preference",
                valid_at=c.date(m, near=True) or c.day())  # fmt: skip


@rule(
    rf"\bi(?:'m| am) (?:not|no longer) (?:a |an )?(?P<d>{DIETS})|\bi(?:'ve| have)? (?:stopped|"
    rf"quit) being (?:a |an )?(?P<d2>{DIETS})|\bi(?:'m| am) not (?P<d3>{DIETS}) anymore"
)
def _not_diet(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    diet = _diet_name(m["d"] or m["d2"] or m["d3"])
    yield Draft("diet", diet, f"{c.who} is no longer {diet}.", polarity="negative",
                kind="preference", valid_at=c.date(m) or c.day())  # fmt: skip


@rule(
    r"\bi(?:'m| am) (?:severely |very |really |quite |deathly |mildly |a bit |super )?allergic "
    r"to (?P<o>[^.;!?]+)"
    r"|\bi have (?:an? )?(?:severe |mild |bad )?allerg(?:y|ies) to (?P<o2>[^.;!?]+)"
)
def _allergic(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    before = c.sentence[c.span(m)[0] : m.start() + 12]  # "I'm not allergic", not "but not X"
    if re.search(r"\b(?:not|no longer|never|n't)\b", before, re.I):
        return
    for item in split_list(m["o"] or m["o2"]):
        yield Draft("allergic_to", item, f"{c.who} is allergic to {item}.")


@rule(r"\bi have an? (?P<o>[a-z]+(?: [a-z]+)?) allergy")
def _allergy(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    item = clean(m["o"])
    if ok(item) and item.lower() not in {"bad", "severe", "mild", "food", "slight"}:
        yield Draft("allergic_to", item, f"{c.who} is allergic to {item}.")


# -- likes -----------------------------------------------------------------------------------
def _alt(name: str) -> str:
    return OBJ.replace("<o>", f"<{name}>")


_UNLIKE = (
    rf"\bi (?:really )?(?:don't|do not|dont) (?:really )?(?:like|love|enjoy|eat) {OBJ}\s+"
    r"(?:anymore|any more)"
    rf"|\bi no longer (?:like|love|enjoy|eat) {_alt('o2')}"
    rf"|\bi(?:'ve| have)? (?:stopped|quit) (?:liking|eating|enjoying|loving) {_alt('o3')}"
    rf"|\bi(?:'m| am) (?:not|no longer) (?:really )?into {_alt('o4')}"
    rf"|\bi(?:'ve| have)? (?:gone|went) off {_alt('o5')}"
    rf"|\bi used to (?:really )?(?:love|like|enjoy|adore) {_alt('o6')},? but not"
    r" (?:anymore|any more|these days|now|lately|so much)"
    rf"|\bi(?:'m| am) (?:over|done with) {_alt('o7')}"
    rf"|\bi(?:'ve| have) lost (?:my |all )?(?:taste|interest|appetite) (?:for|in) {_alt('o8')}"
)


@rule(_UNLIKE)
def _unlike(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    raw = next(m[k] for k in ("o", "o2", "o3", "o4", "o5", "o6", "o7", "o8") if m[k])
    for item in split_list(raw):
        yield Draft("likes", item, f"{c.who} no longer likes {item}.", kind="preference",
                    polarity="negative", valid_at=c.date(m) or c.day())  # fmt: skip


@rule(
    rf"\bi {_ADV}(?:hate|dislike|detest|loathe|can't stand|cannot stand|can't bear|"
    rf"despise) {OBJ}"
    rf"|\bi(?:'m| am) (?:not a (?:big )?fan of|no fan of) {_alt('o2')}"
)
def _dislike(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    if re.search(r"\b(?:anymore|any more|used to)\b", c.clause(m), re.I):
        return
    for item in split_list(m["o"] or m["o2"]):
        yield Draft("dislikes", item, f"{c.who} dislikes {item}.", kind="preference")


@rule(rf"\bi {_ADV}(?:don't|do not|dont|never) {_ADV}(?:like|liked|enjoy|enjoyed) {OBJ}")
def _dont_like(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    if re.search(r"\b(?:anymore|any more)\b", c.clause(m), re.I):
        return  # that is a change of taste, handled by _unlike
    for item in split_list(m["o"]):
        yield Draft("dislikes", item, f"{c.who} dislikes {item}.", kind="preference")


@rule(
    rf"\bi(?:'ve| have|'m| am)? {_ADV}(?:love|like|liked|loved|enjoy|adore|liking|loving|"
    rf"enjoying|into|a (?:big |huge )?fan of|back into|obsessed with|hooked on|crazy about) "
    rf"{OBJ}"
    rf"|\bi(?:'ve| have) (?:come around|come round|warmed up) (?:on|to) {_alt('o2')}"
    rf"|\bone of my (?:absolute |all-time )?favou?rite (?:things|foods|hobbies|activities|"
    rf"genres|drinks|snacks|pastimes) (?:is|are) {_alt('o3')}"
)
def _like(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    clause = c.clause(m)
    if _NEG.search(clause[: m.end() - c.span(m)[0]]) or re.search(
        r"\b(?:used to|would|'d|if)\b", clause, re.I
    ):
        return
    changed = m["o2"] or re.search(
        r"\b(?:now|started|come to|grown to|these days|again|back into|learned to)\b",
        clause,
        re.I,
    )
    raw = re.sub(r"^to\s+", "", m["o"] or m["o2"] or m["o3"])
    for item in split_list(raw):
        if re.match(r"(?:it|that|to|when|how|life|living|working|being|here|there)\b", item, re.I):
            continue
        if re.search(rf"\b(?:my|our|his|her|their) {re.escape(item)}", raw, re.I):
            continue  # "I love my unit": fondness for what is theirs, not a taste
        yield Draft("likes", item, f"{c.who} likes {item}.", kind="preference",
                    valid_at=c.date(m) or (c.day() if changed else None))  # fmt: skip


@rule(r"\bmy (?:absolute |all-time )?favou?rite (?P<cat>[a-z ]{2,30}?) (?:is|are) (?P<o>[^.;!?,]+)")
def _favourite(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    item = clean(m["o"])
    if ok(item) and m["cat"].strip().lower() not in {"things", "thing"}:
        yield Draft("likes", item, f"{c.who}'s favourite {m['cat']} is {item}.",
                    kind="preference")  # fmt: skip


# -- hobbies ---------------------------------------------------------------------------------
# Gerunds that name no pastime ("I started going out", "I got into dating someone").
_NOT_HOBBY = {
    "going", "dating", "seeing", "working", "living", "eating", "feeling", "thinking",
    "getting", "wondering", "looking", "trying", "having", "being", "doing", "making",
    "taking", "planning", "using", "talking", "moving", "packing", "unpacking", "studying",
    "saving", "sleeping", "waking", "worrying", "job", "trouble", "debt", "a fight",
}  # fmt: skip
_ACTIVITY = re.compile(
    r"(?:ing|ery|graphy|yoga|pilates|chess|tennis|golf|football|soccer|karate|judo|boxing|"
    r"crossfit|guitar|piano|violin|drums|cello|ukulele|basketball|baseball|volleyball|rugby|"
    r"cricket|poker|sudoku|origami|ballet|parkour|tai chi|kung fu|jiu[- ]jitsu|taekwondo)$",
    re.I,
)


def _hobby_item(raw: str) -> str | None:
    item = clean(raw)
    words = item.lower().split()
    if not ok(item) or not words or len(words) > 3 or words[0] in _NOT_HOBBY:
        return None
    if item.lower() in _NOT_HOBBY or not _ACTIVITY.search(item):
        return None
    return item


_HOBBY_OBJ = r"(?P<o>(?:the )?[a-z][a-z\- ]{1,30}?)(?=[,.;:!?]|$|\s+[-–—]\s|\s+(?:and|but|" \
    r"recently|lately|these days|now|again|last|this|on|a few|a couple|since|for|with|at|" \
    r"every|because|yesterday|instead|while|when|after|before)\b)"  # fmt: skip


@rule(r"\bmy (?:new |main |favou?rite )?(?:hobby is|hobbies are|pastime is) (?P<o>[^.;!?]+)")
def _hobby(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    new = re.search(r"\bnew\b", m.group(0), re.I)
    for item in split_list(m["o"]):
        yield Draft("hobby", item, f"{c.who}'s hobbies include {item}.", kind="preference",
                    valid_at=c.date(m) or (c.day() if new else None))  # fmt: skip


@rule(
    r"\bi(?:'ve| have|'m| am)? (?:recently |just |finally |also |really |been )*(?:taken up|took "
    r"up|take up|picked up|got into|getting into|gotten into|started|begun|began|learning|"
    rf"learned|learnt) {_HOBBY_OBJ}"
)
def _took_up(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    item = _hobby_item(m["o"])
    if item is None or re.search(r"\b(?:used to|stopped|quit)\b", c.clause(m), re.I):
        return
    yield Draft("hobby", item, f"{c.who} took up {item}.", kind="preference",
                valid_at=c.date(m) or c.day())  # fmt: skip


@rule(
    r"\bi (?:go|went) (?P<o>[a-z]+ing)\b(?= (?:every|on|most|each|twice|regularly|a lot))"
    r"|\bi (?:play|practi[cs]e) (?P<o2>(?:the )?[a-z]+)\b(?= (?:every|on|most|each|twice|"
    r"regularly|a lot|at weekends|on weekends))"
)
def _regular(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    if re.search(r"\b(?:used to)\b", c.clause(m), re.I):
        return
    item = clean(m["o"] or m["o2"])
    if ok(item):
        yield Draft("hobby", item, f"{c.who} regularly does {item}.", kind="preference")
