"""Rendering a simulated session as dialogue: templates with paraphrases (offline).

Each :class:`~memlane.evals.sim.timeline.Told` kind has several paraphrases; the choice is seeded
by ``(seed, session, turn)``, so a timeline always renders the same way. Date phrases say
exactly the date the generator chose ("yesterday", "on Saturday", "on March 3rd", "last
week") so the gold ``valid_at`` is recoverable from the words and the turn time.

An LLM user-simulator that rewrites these messages in a model's own words lives in
:mod:`memlane.evals.sim.llm` (optional; needs a real model).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime

from memlane.evals.sim.timeline import Session, Timeline, Told, Turn

__all__ = ["RenderedTurn", "render_session", "render_told", "render_turn"]

_NUMBERS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}

_GREETINGS = (
    "Hey!", "Hi there.", "Good morning!", "Hello again.", "Evening!", "Hi, quick update.",
    "Hey, how's it going?", "Morning.", "Hi!", "Hello!",
)  # fmt: skip

_ACKS = (
    "Thanks for telling me!", "Got it, I'll remember that.", "That's great to hear.",
    "Noted!", "Thanks for the update.", "Good to know.", "Oh, nice!", "I see, thanks.",
)  # fmt: skip

_STORIES = (
    "I used to cycle to work every day",
    "I had the tiniest apartment you can imagine",
    "I went to the same café every single morning",
    "I'd walk along the river after work",
    "my commute was almost an hour each way",
    "I had a neighbour who played the trumpet at midnight",
    "I spent every weekend at the farmers' market",
)  # fmt: skip

_JOB_STORIES = (
    "we had the best team lunches",
    "I worked with a manager who taught me a lot",
    "I did a lot of late nights",
    "I learned most of what I know today",
    "the office had a rooftop terrace",
)  # fmt: skip

# Templates by kind. Those under "now" say no date (the turn time is when); those under
# "dated" contain {when} (" yesterday", " on Saturday", " today", ...).
_T: dict[str, dict[str, tuple[str, ...]]] = {
    "name": {"now": ("Hi, I'm {name}.", "My name is {name}.", "Hey! {name} here.")},
    "age": {"now": ("I'm {age}.", "I'm {age} years old.")},
    "home": {"now": ("I live in {city}.", "I'm based in {city}.", "Home for me is {city}.")},
    "job": {
        "now": (
            "I work at {org} as {a_title}.",
            "I'm {a_title} at {org}.",
            "I work for {org}; I'm {a_title}.",
        )
    },
    "move": {
        "now": (
            "I've finally moved - I'm living in {city} now.",
            "Just moved to {city}, still unpacking boxes.",
            "I live in {city} now!",
            "We relocated to {city}.",
        ),
        "dated": (
            "I moved to {city}{when}!",
            "Big news: I relocated to {city}{when}.",
            "I left {old} and moved to {city}{when}.",
            "Settling into my new place in {city} - I moved here{when}.",
        ),
    },
    "job_change": {
        "now": (
            "New job! I'm at {org} now.",
            "I quit {old}; I work for {org} now.",
            "I work at {org} these days.",
        ),
        "dated": (
            "I started a new job at {org}{when}.",
            "I left {old} and joined {org}{when}.",
            "My first day at {org} was{when}.",
        ),
    },
    "job_change_title": {
        "now": (
            "New job: I'm {a_title} at {org} now.",
            "I left {old}. I work at {org} as {a_title} now.",
        ),
        "dated": (
            "I started at {org} as {a_title}{when}.",
            "I joined {org}{when} - I'm {a_title} there now.",
            "I left {old} and took {a_title} job at {org}{when}.",
        ),
    },
    "promotion": {
        "now": ("Good news, I'm officially {a_title} now.", "I'm {a_title} now - promoted!"),
        "dated": ("I got promoted to {title}{when}!", "They made me {title}{when}."),
    },
    "partner_new": {
        "now": (
            "I've started dating someone - {name}.",
            "I have a {word} now, {name}.",
            "I'm seeing someone new, {name}.",
        ),
        "dated": (
            "{name} and I started going out{when}.",
            "I went on a first date with {name}{when}, and we're together now.",
        ),
    },
    "partner_change": {
        "now": (
            "{old} and I split up. I'm dating {name} now.",
            "Things ended with {old}. I'm with {name} these days.",
        ),
        "dated": (
            "{old} and I broke up a while back, and{when} I started seeing {name}.",
            "After {old} and I split, I met {name} - we got together{when}.",
        ),
    },
    "diet": {
        "now": ("I'm {diet} now.", "I've gone {diet}.", "I'm eating {diet} these days."),
        "dated": (
            "I switched to a {diet} diet{when}.",
            "I decided to go {diet}{when}.",
            "I went {diet}{when}.",
        ),
    },
    "birthday": {"dated": ("I turned {age}{when}!", "It was my {age_ordinal} birthday{when}.")},
    "pet": {
        "now": ("Meet {name}, my new {species}!", "I got a {species} - {name}."),
        "dated": (
            "We adopted a {species} named {name}{when}!",
            "I brought home a {species}{when}; they're called {name}.",
        ),
    },
    "child": {
        "dated": (
            "Our {word} {name} was born{when}!",
            "I'm a parent now! {name}, our {word}, arrived{when}.",
        )
    },
    "hobby": {
        "now": (
            "I've taken up {hobby}.",
            "My new hobby is {hobby}.",
            "I've been getting into {hobby} lately.",
            "I picked up {hobby} recently - it's really fun.",
        )
    },
    "allergy": {
        "now": (
            "I'm allergic to {item}, by the way.",
            "Just so you know, I have an allergy to {item}.",
            "Found out I'm allergic to {item}.",
        )
    },
    "like": {
        "now": (
            "I love {item}.",
            "I'm really into {item}.",
            "I've always liked {item}.",
            "One of my favourite things is {item}.",
        )
    },
    "dislike": {
        "now": ("I can't stand {item}.", "I really don't like {item}.", "I hate {item}, honestly.")
    },
    "unlike": {
        "now": (
            "I don't like {item} anymore.",
            "I've gone off {item}.",
            "I used to love {item}, but not these days.",
            "Honestly, I'm not into {item} anymore.",
        )
    },
    "relike": {
        "now": (
            "I've come around on {item}; I actually like it now.",
            "Turns out I love {item} again.",
            "I'm back into {item}.",
        )
    },
    "restate_lives_in": {
        "now": ("Still loving life in {value}.", "I still live in {value}, nothing new there.")
    },
    "restate_works_at": {
        "now": ("Still working at {value}, all good.", "I'm still at {value}, same as ever.")
    },
    "restate_diet": {"now": ("Still {value}, going strong.", "I'm still {value}.")},
    "restate_likes": {"now": ("I still love {value}.", "Still really into {value}.")},
    "trip": {
        "now": ("Just got back from {country}!", "I visited {country} - amazing trip."),
        "dated": (
            "I visited {country}{when}.",
            "I was in {country}{when} for a few days.",
            "I flew to {country}{when} - what a trip.",
        ),
    },
    "plan_trip": {
        "now": (
            "I'm going to {country} on {date}!",
            "Booked a trip to {country} for {date}.",
            "I'm planning to visit {country} on {date}.",
        )
    },
    "trip_back": {
        "now": (
            "I'm back from {country} - it was wonderful.",
            "{Country} was incredible!",
            "Home from {country} now. Great trip.",
        )
    },
    "event": {
        "dated": (
            "I went to a {event}{when}.",
            "I took part in a {event}{when}.",
            "I signed up for a {event} and went{when} - loved it!",
        )
    },
    "old_home": {
        "now": (
            "Back in {year}, when I lived in {place}, {story}.",
            "When I lived in {place} in {year}, {story}.",
            "I was remembering {year} - I lived in {place} then, and {story}.",
        )
    },
    "old_job": {
        "now": (
            "Back in {year}, when I worked at {org}, {job_story}.",
            "In {year} I was working at {org}, and {job_story}.",
        )
    },
    "story_home": {
        "now": (
            "Back when I lived in {place}, {story}.",
            "I miss {place} sometimes - when I lived there, {story}.",
            "When I was living in {place}, {story}.",
        )
    },
    "story_job": {
        "now": (
            "Back when I worked at {org}, {job_story}.",
            "When I was still at {org}, {job_story}.",
        )
    },
    "meet": {
        "now": (
            "My {role} {name} lives in {city}.",
            "My {role}, {name}, is based in {city}.",
            "{name} - my {role} - lives over in {city}.",
        )
    },
    "other_move": {
        "now": ("My {role} {name} just moved to {city}.", "{name} lives in {city} now."),
        "dated": (
            "My {role} {name} moved to {city}{when}.",
            "{name} relocated to {city}{when}.",
            "My {role} moved to {city}{when}.",
        ),
    },
    "other_job": {
        "now": ("{name} works at {org} now.", "My {role} {name} got a job at {org}."),
        "dated": ("{name} started working at {org}{when}.", "My {role} started at {org}{when}."),
    },
}


def _article(phrase: str) -> str:
    first = phrase.split()[0]
    vowel = phrase[0].lower() in "aeio" or first in {"HR", "MBA"}
    return ("an " if vowel else "a ") + phrase


def _ordinal(n: int) -> str:
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _day_phrase(day: date, rng: random.Random) -> str:
    month = day.strftime("%B")
    return rng.choice(
        (
            f"{month} {_ordinal(day.day)}",
            f"{day.day} {month}",
            f"the {_ordinal(day.day)} of {month}",
        )
    )


def _when(slots: dict[str, str], rng: random.Random) -> str:
    style = slots.get("when_style", "none")
    offset = int(slots.get("when_offset", "0") or 0)
    day = date.fromisoformat(slots["when_date"]) if "when_date" in slots else None
    if style in ("none",):
        return ""
    if style == "today":
        return rng.choice((" today", " this morning"))
    if style == "yesterday":
        return " yesterday"
    if style == "days":
        n = _NUMBERS[offset] if rng.random() < 0.6 else str(offset)
        return f" {n} days ago"
    if style == "last_week":
        return rng.choice((" last week", " a week ago"))
    assert day is not None
    if style == "weekday":
        return rng.choice((f" on {day.strftime('%A')}", f" this past {day.strftime('%A')}"))
    return f" on {_day_phrase(day, rng)}"


@dataclass(frozen=True)
class RenderedTurn:
    """One user message and the assistant reply used when a transcript is ingested."""

    at: datetime
    user: str
    assistant: str


def render_told(told: Told, rng: random.Random) -> str:
    """One sentence for one thing the user says."""
    if told.kind == "chitchat":
        return told.slots["text"]
    if told.kind == "greeting":
        return rng.choice(_GREETINGS)
    variants = _T[told.kind]
    dated = told.slots.get("when_style", "none") != "none"
    pool = variants["dated"] if dated and "dated" in variants else variants["now"]
    slots = dict(told.slots)
    if not slots.get("old"):
        # Templates naming the previous value need one.
        pool = tuple(t for t in pool if "{old}" not in t) or pool
    template = rng.choice(pool)
    slots["when"] = _when(slots, rng)
    if "title" in slots:
        slots["a_title"] = _article(slots["title"])
    if "age" in slots:
        slots["age_ordinal"] = _ordinal(int(slots["age"]))
    for key in ("item", "country"):
        if key in slots:
            slots[key.capitalize()] = slots[key][0].upper() + slots[key][1:]
    if "date" in slots:
        slots["date"] = _day_phrase(date.fromisoformat(slots["date"]), rng)
    slots["story"] = rng.choice(_STORIES)
    slots["job_story"] = rng.choice(_JOB_STORIES)
    text = template.format(**slots)
    return text[0].upper() + text[1:]


def render_turn(turn: Turn, rng: random.Random) -> str:
    """The user's message for one turn."""
    return " ".join(render_told(t, rng) for t in turn.told)


def render_session(timeline: Timeline, session: Session) -> list[RenderedTurn]:
    """The session as user messages (with a short assistant reply each), deterministically."""
    out = []
    for k, turn in enumerate(session.turns):
        rng = random.Random(f"{timeline.seed}:{session.index}:{k}")
        user = render_turn(turn, rng)
        reply = "Happy to help!" if not turn.drafts else rng.choice(_ACKS)
        out.append(RenderedTurn(at=turn.at, user=user, assistant=reply))
    return out
