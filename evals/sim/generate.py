"""The seeded generator of a simulated user's life (see :mod:`memlane.evals.sim.timeline`).

The user's world changes over the sessions: they move, change jobs, partners and diets,
collect pets, hobbies and trips, change their mind about things they like, tell old stories
out of order, chat about nothing, and talk about their sister, best friend and parent, who
have lives of their own. Every change is told in the session after it happened, with a date
phrase ("yesterday", "on Saturday", "last week") resolved against the turn time, so the gold
windows are exactly what a perfect listener can know.

The gold windows are computed here, independently of memlane's code, by the rules of
DESIGN "Temporal rules": a new value of a functional predicate closes the previous one at
its ``valid_at``; an old story is inserted closed at the next later value's ``valid_at``
(and cuts an earlier value short); a restated value changes nothing; a preference of the
opposite polarity closes the previous one.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from memlane.evals.sim import vocab
from memlane.evals.sim.timeline import (
    SELF,
    GoldFact,
    Person,
    Precision,
    Session,
    Timeline,
    Told,
    Turn,
)
from memlane.memory_graph.drafts import FactDraft, ObjectKind
from memlane.memory_graph.model import EntityKind, FactKind, Polarity, normalise_name

__all__ = ["FUNCTIONAL", "generate_timeline"]

FUNCTIONAL = frozenset({"name", "age", "lives_in", "works_at", "job_title", "partner", "diet"})

_TURN_GAP = timedelta(seconds=90)
PLACE: ObjectKind = "place"
ORG: ObjectKind = "org"


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@dataclass
class _When:
    valid_at: datetime
    precision: Precision
    slots: dict[str, str]


class _World:
    """The gold facts and the state of the user's life while sessions are generated."""

    def __init__(self) -> None:
        self.gold: list[GoldFact] = []

    # -- reads -------------------------------------------------------------------------------
    def facts(self, subject: str, predicate: str, obj: str | None = None) -> list[GoldFact]:
        key = normalise_name(obj) if obj is not None else None
        found = [
            f
            for f in self.gold
            if f.subject == subject
            and f.predicate == predicate
            and (key is None or f.object_key == key)
        ]
        return sorted(found, key=lambda f: f.valid_at)

    def current(self, subject: str, predicate: str, obj: str | None = None) -> GoldFact | None:
        live = [f for f in self.facts(subject, predicate, obj) if f.invalid_at is None]
        return live[-1] if live else None

    def values(self, subject: str, predicate: str) -> set[str]:
        return {f.object for f in self.facts(subject, predicate)}

    # -- writes ------------------------------------------------------------------------------
    def _add(self, **fields: object) -> GoldFact:
        fact = GoldFact(id=f"g{len(self.gold) + 1:04d}", **fields)  # type: ignore[arg-type]
        self.gold.append(fact)
        return fact

    def _replace(self, old: GoldFact, **update: object) -> None:
        self.gold[self.gold.index(old)] = old.model_copy(update=update)

    def state(self, told_in: int, fields: dict[str, object], key: str | None = None) -> bool:
        """Set a functional value (or a preference's polarity, keyed by object).

        Returns False when it restates what is current (no new gold fact).
        """
        subject, predicate = str(fields["subject"]), str(fields["predicate"])
        valid_at = fields["valid_at"]
        assert isinstance(valid_at, datetime)
        current = self.current(subject, predicate, key)
        if current is not None:
            same = (
                current.polarity == fields.get("polarity", "positive")
                if key is not None
                else current.object_key == normalise_name(str(fields["object"]))
            )
            if same:
                return False
            if not current.valid_at < valid_at:
                raise AssertionError(f"generator bug: {predicate} change is not after {current}")
            self._replace(current, invalid_at=valid_at, closed_in=told_in)
        self._add(told_in=told_in, **fields)
        return True

    def recollect(self, told_in: int, **fields: object) -> None:
        """Insert an old value of a functional predicate, closed by the next later value."""
        subject, predicate = str(fields["subject"]), str(fields["predicate"])
        valid_at = fields["valid_at"]
        assert isinstance(valid_at, datetime)
        windows = self.facts(subject, predicate)
        later = [f for f in windows if f.valid_at > valid_at]
        earlier = [f for f in windows if f.valid_at < valid_at]
        if not later:
            raise AssertionError("generator bug: a recollection must predate a known value")
        if earlier and (earlier[-1].invalid_at is None or earlier[-1].invalid_at > valid_at):
            self._replace(earlier[-1], invalid_at=valid_at, closed_in=told_in)
        self._add(told_in=told_in, invalid_at=later[0].valid_at, closed_in=told_in, **fields)

    def add(self, told_in: int, **fields: object) -> bool:
        """Add a value of a multi-valued predicate; False if it is already there."""
        subject, predicate = str(fields["subject"]), str(fields["predicate"])
        if self.current(subject, predicate, str(fields["object"])) is not None:
            return False
        self._add(told_in=told_in, **fields)
        return True


def _draft(
    subject: str,
    predicate: str,
    obj: str,
    statement: str,
    valid_at: datetime,
    *,
    subject_kind: EntityKind = "person",
    object_kind: ObjectKind = "value",
    kind: FactKind = "fact",
    polarity: Polarity = "positive",
    invalid_at: datetime | None = None,
) -> FactDraft:
    return FactDraft(
        subject=subject,
        subject_kind=subject_kind,
        predicate=predicate,
        object=obj,
        object_kind=object_kind,
        statement=statement,
        kind=kind,
        polarity=polarity,
        valid_at=valid_at,
        invalid_at=invalid_at,
    )


def _fields(draft: FactDraft, precision: Precision, **extra: object) -> dict[str, object]:
    return {
        "subject": draft.subject,
        "subject_kind": draft.subject_kind,
        "predicate": draft.predicate,
        "object": draft.object,
        "object_kind": draft.object_kind,
        "statement": draft.statement,
        "kind": draft.kind,
        "polarity": draft.polarity,
        "valid_at": draft.valid_at,
        "precision": precision,
        **extra,
    }


def _who(subject: str) -> str:
    return "The user" if subject == SELF else subject


class _Generator:
    """Builds one timeline; each ``_h_*`` method is one kind of happening."""

    def __init__(self, seed: int, n_sessions: int, user_id: str) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.n = n_sessions
        self.world = _World()
        rng = self.rng
        self.user_name = rng.choice(vocab.FEMALE_NAMES + vocab.MALE_NAMES)
        self.timeline = Timeline(
            seed=seed, user_id=user_id, user_name=self.user_name, functional=FUNCTIONAL
        )
        self.names_used = {self.user_name}
        self.cities_used: set[str] = set()
        self.countries = list(vocab.COUNTRIES)
        rng.shuffle(self.countries)
        self.dates = self._session_dates()
        self.birthday = date(2000, rng.randint(1, 12), rng.randint(1, 28))
        self.last: dict[str, datetime] = {}  # happening kind -> last time it happened
        self.pending_trip: tuple[str, datetime] | None = None
        self.index = 0
        self.turn_at = self.dates[0]
        self.age = 0

    # -- calendar ----------------------------------------------------------------------------
    def _session_dates(self) -> list[datetime]:
        # A calendar of its own, so a shorter run is exactly the start of a longer one.
        rng = random.Random(f"calendar:{self.seed}")
        day = date(rng.randint(2020, 2022), rng.randint(1, 12), rng.randint(1, 28))
        dates = []
        for _ in range(self.n):
            at = _midnight(day) + timedelta(hours=rng.randint(7, 21), minutes=rng.randint(0, 59))
            dates.append(at)
            day += timedelta(days=rng.choice((1, 2, 3, 3, 4, 5, 5, 6, 7, 7, 8, 10, 12, 14)))
        return dates

    def _max_offset(self) -> int:
        """Days back an event told now may lie: after the previous session's day."""
        if self.index == 0:
            return 0
        return (self.turn_at.date() - self.dates[self.index - 1].date()).days - 1

    def _when(self, *, allow_none: bool = True) -> _When:
        """Pick how the user says when something happened, and resolve it."""
        rng, today, limit = self.rng, self.turn_at.date(), self._max_offset()
        styles = ["today"] + (["none", "none"] if allow_none else [])
        if limit >= 1:
            styles += ["yesterday", "date", "weekday"]
        if limit >= 2:
            styles += ["days"]
        if limit >= 7:
            styles += ["last_week"]
        style = rng.choice(styles)
        offset = {
            "none": 0,
            "today": 0,
            "yesterday": 1,
            "last_week": 7,
            "days": rng.randint(2, min(limit, 6)) if limit >= 2 else 0,
            "date": rng.randint(1, min(limit, 14)) if limit >= 1 else 0,
            "weekday": rng.randint(1, min(limit, 6)) if limit >= 1 else 0,
        }[style]
        day = today - timedelta(days=offset)
        valid_at = self.turn_at if offset == 0 else _midnight(day)
        precision: Precision = {"none": "session", "last_week": "week"}.get(style, "exact")  # type: ignore[assignment]
        slots = {"when_style": style, "when_offset": str(offset), "when_date": day.isoformat()}
        return _When(valid_at, precision, slots)

    def _cooled(self, kind: str, days: int) -> bool:
        last = self.last.get(kind)
        return last is None or (self.turn_at - last).days >= days

    # -- choices -----------------------------------------------------------------------------
    def _new_city(self) -> str:
        city = self.rng.choice([c for c in vocab.CITIES if c not in self.cities_used])
        self.cities_used.add(city)
        return city

    def _new_name(self, female: bool) -> str:
        pool = vocab.FEMALE_NAMES if female else vocab.MALE_NAMES
        name = self.rng.choice([n for n in pool if n not in self.names_used])
        self.names_used.add(name)
        return name

    def _person(self, relation: str) -> Person | None:
        return next((p for p in self.timeline.people if p.relation == relation), None)

    # -- happenings: the user ----------------------------------------------------------------
    def _state(
        self,
        subject: str,
        predicate: str,
        obj: str,
        statement: str,
        when: _When,
        *,
        object_kind: ObjectKind = "value",
        subject_kind: EntityKind = "person",
    ) -> FactDraft:
        draft = _draft(
            subject,
            predicate,
            obj,
            statement,
            when.valid_at,
            object_kind=object_kind,
            subject_kind=subject_kind,
        )
        self.world.state(self.index, _fields(draft, when.precision))
        return draft

    def _now(self) -> _When:
        return _When(self.turn_at, "session", {"when_style": "none"})

    def _h_intro(self) -> list[Told]:
        rng, now, name = self.rng, self._now(), self.user_name
        age = rng.randint(24, 41)
        self.age = age
        city, org = self._new_city(), rng.choice(vocab.EMPLOYERS)
        title = rng.choice(vocab.JOB_TITLES)
        state = self._state
        told = [
            Told("name", {"name": name}, (
                state(SELF, "name", name, f"The user's name is {name}.", now),
            )),
            Told("age", {"age": str(age)}, (
                state(SELF, "age", str(age), f"The user is {age} years old.", now),
            )),
            Told("home", {"city": city}, (
                state(SELF, "lives_in", city, f"The user lives in {city}.", now, object_kind=PLACE),
            )),
            Told("job", {"org": org, "title": title}, (
                state(SELF, "works_at", org, f"The user works at {org}.", now, object_kind=ORG),
                state(SELF, "job_title", title, f"The user works as a {title}.", now),
            )),
        ]  # fmt: skip
        self.last.update({"move": now.valid_at, "job": now.valid_at})
        return told

    def _h_move(self) -> Told:
        when = self._when()
        old = self.world.current(SELF, "lives_in")
        city = self._new_city()
        draft = self._state(
            SELF, "lives_in", city, f"The user moved to {city}.", when, object_kind="place"
        )
        self.last["move"] = self.turn_at
        return Told(
            "move", {"city": city, "old": old.object if old else "", **when.slots}, (draft,)
        )

    def _h_job(self) -> Told:
        rng, when = self.rng, self._when()
        old = self.world.current(SELF, "works_at")
        olds = {old.object} if old else set()
        org = rng.choice(
            [o for o in vocab.EMPLOYERS if o not in olds | self.world.values(SELF, "works_at")]
            or [o for o in vocab.EMPLOYERS if o not in olds]
        )
        statement = f"The user started working at {org}."
        drafts = [self._state(SELF, "works_at", org, statement, when, object_kind="org")]
        slots = {"org": org, "old": old.object if old else "", **when.slots}
        if rng.random() < 0.6:
            cur = self.world.current(SELF, "job_title")
            title = rng.choice([t for t in vocab.JOB_TITLES if not cur or t != cur.object])
            drafts.append(
                self._state(SELF, "job_title", title, f"The user works as a {title}.", when)
            )
            slots["title"] = title
        self.last["job"] = self.turn_at
        return Told(
            "job_change" if "title" not in slots else "job_change_title", slots, tuple(drafts)
        )

    def _h_promotion(self) -> Told | None:
        cur = self.world.current(SELF, "job_title")
        if cur is None or cur.object.split()[0] in vocab.SENIOR_PREFIX:
            return None
        when = self._when()
        title = f"{self.rng.choice(vocab.SENIOR_PREFIX)} {cur.object}"
        draft = self._state(SELF, "job_title", title, f"The user was promoted to {title}.", when)
        self.last["job"] = self.turn_at
        return Told("promotion", {"title": title, **when.slots}, (draft,))

    def _h_partner(self) -> Told | None:
        old = self.world.current(SELF, "partner")
        if len(self.world.values(SELF, "partner")) >= 3:
            return None
        when = self._when()
        female = self.rng.random() < 0.5
        name = self._new_name(female)
        draft = self._state(
            SELF, "partner", name, f"The user is in a relationship with {name}.", when,
            object_kind="person",
        )  # fmt: skip
        self.last["partner"] = self.turn_at
        word = self.rng.choice(("girlfriend", "partner") if female else ("boyfriend", "partner"))
        slots = {"name": name, "old": old.object if old else "", "word": word, **when.slots}
        return Told("partner_new" if old is None else "partner_change", slots, (draft,))

    def _h_diet(self) -> Told:
        when = self._when()
        cur = self.world.current(SELF, "diet")
        diet = self.rng.choice([d for d in vocab.DIETS if not cur or d != cur.object])
        draft = self._state(SELF, "diet", diet, f"The user follows a {diet} diet.", when)
        self.last["diet"] = self.turn_at
        return Told(
            "diet", {"diet": diet, "old": cur.object if cur else "", **when.slots}, (draft,)
        )

    def _h_birthday(self, day: date) -> Told:
        self.age += 1
        offset = (self.turn_at.date() - day).days
        if offset == 0:
            when = _When(self.turn_at, "exact", {"when_style": "today", "when_offset": "0"})
        else:
            style = self.rng.choice(["date", "weekday"] if offset <= 6 else ["date"])
            if offset == 1:
                style = "yesterday"
            slots = {"when_style": style, "when_offset": str(offset), "when_date": day.isoformat()}
            when = _When(_midnight(day), "exact", slots)
        draft = self._state(SELF, "age", str(self.age), f"The user turned {self.age}.", when)
        return Told("birthday", {"age": str(self.age), **when.slots}, (draft,))

    def _multi(
        self, predicate: str, obj: str, statement: str, when: _When, **extra: object
    ) -> FactDraft:
        object_kind = extra.pop("object_kind", "value")
        kind = extra.pop("kind", "fact")
        draft = _draft(
            SELF, predicate, obj, statement, when.valid_at,
            object_kind=object_kind, kind=kind,  # type: ignore[arg-type]
        )  # fmt: skip
        self.world.add(self.index, **_fields(draft, when.precision, **extra))
        return draft

    def _h_pet(self) -> Told | None:
        pets = self.world.values(SELF, "has_pet")
        if len(pets) >= 3:
            return None
        when = self._when()
        name = self.rng.choice([p for p in vocab.PET_NAMES if p not in pets])
        species = self.rng.choice(vocab.PET_SPECIES)
        draft = self._multi(
            "has_pet", name, f"The user has a {species} named {name}.", when, object_kind="pet"
        )
        return Told("pet", {"name": name, "species": species, **when.slots}, (draft,))

    def _h_child(self) -> Told | None:
        if self.world.current(SELF, "partner") is None or self.world.values(SELF, "has_child"):
            return None
        when = self._when(allow_none=False)
        female = self.rng.random() < 0.5
        name = self._new_name(female)
        word = "daughter" if female else "son"
        draft = self._multi(
            "has_child", name, f"The user's {word} {name} was born.", when, object_kind="person"
        )
        return Told("child", {"name": name, "word": word, **when.slots}, (draft,))

    def _h_hobby(self) -> Told | None:
        have = self.world.values(SELF, "hobby")
        if len(have) >= 6:
            return None
        hobby = self.rng.choice([h for h in vocab.HOBBIES if h not in have])
        when = self._now()
        draft = self._multi("hobby", hobby, f"The user has taken up {hobby}.", when)
        return Told("hobby", {"hobby": hobby}, (draft,))

    def _h_allergy(self) -> Told | None:
        have = self.world.values(SELF, "allergic_to")
        if len(have) >= 2:
            return None
        item = self.rng.choice([a for a in vocab.ALLERGENS if a not in have])
        draft = self._multi("allergic_to", item, f"The user is allergic to {item}.", self._now())
        return Told("allergy", {"item": item}, (draft,))

    def _preference(self, item: str, polarity: Polarity, when: _When) -> FactDraft:
        verb = "likes" if polarity == "positive" else "does not like"
        draft = _draft(
            SELF, "likes", item, f"The user {verb} {item}.", when.valid_at,
            kind="preference", polarity=polarity,
        )  # fmt: skip
        self.world.state(self.index, _fields(draft, when.precision), key=item)
        return draft

    def _preferences(self) -> list[GoldFact]:
        """The current preference fact of every item mentioned so far."""
        found = (self.world.current(SELF, "likes", i) for i in self.world.values(SELF, "likes"))
        return [f for f in found if f is not None]

    def _h_like(self) -> Told | None:
        known = self.world.values(SELF, "likes")
        if len(known) >= 14:
            return None
        item = self.rng.choice([i for i in vocab.LIKE_ITEMS if i not in known])
        polarity: Polarity = "positive" if self.rng.random() < 0.75 else "negative"
        draft = self._preference(item, polarity, self._now())
        self.last[f"like:{item}"] = self.turn_at
        return Told("like" if polarity == "positive" else "dislike", {"item": item}, (draft,))

    def _h_flip(self) -> Told | None:
        items = [f for f in self._preferences() if self._cooled(f"like:{f.object}", 100)]
        if not items:
            return None
        cur = self.rng.choice(sorted(items, key=lambda f: f.object))
        polarity: Polarity = "negative" if cur.polarity == "positive" else "positive"
        draft = self._preference(cur.object, polarity, self._now())
        self.last[f"like:{cur.object}"] = self.turn_at
        kind = "unlike" if polarity == "negative" else "relike"
        return Told(kind, {"item": cur.object}, (draft,))

    def _h_trip(self) -> Told | None:
        if self.pending_trip is not None or not self.countries:
            return None
        country = self.countries.pop()
        if self.rng.random() < 0.3:
            day = self.turn_at.date() + timedelta(days=self.rng.randint(10, 60))
            self.pending_trip = (country, _midnight(day))
            draft = _draft(
                SELF, "plans", f"trip to {country}", f"The user plans a trip to {country}.",
                _midnight(day), kind="event",
            )  # fmt: skip
            self.world.add(self.index, **_fields(draft, "exact"))
            return Told("plan_trip", {"country": country, "date": day.isoformat()}, (draft,))
        when = self._when()
        draft = self._multi(
            "visited", country, f"The user visited {country}.", when, object_kind="place",
            kind="event",
        )  # fmt: skip
        return Told("trip", {"country": country, **when.slots}, (draft,))

    def _h_trip_back(self) -> Told | None:
        if self.pending_trip is None or self.pending_trip[1] >= _midnight(self.turn_at.date()):
            return None
        country, day = self.pending_trip
        self.pending_trip = None
        when = _When(day, "exact", {"when_style": "none"})
        draft = self._multi(
            "visited", country, f"The user visited {country}.", when, object_kind="place",
            kind="event", planned=True,
        )  # fmt: skip
        return Told("trip_back", {"country": country}, (draft,))

    def _h_event(self) -> Told | None:
        done = self.world.values(SELF, "attended")
        options = [e for e in vocab.EVENTS if e not in done]
        if not options:
            return None
        event, when = self.rng.choice(options), self._when(allow_none=False)
        draft = self._multi("attended", event, f"The user went to a {event}.", when, kind="event")
        return Told("event", {"event": event, **when.slots}, (draft,))

    def _h_recollect_old(self) -> Told | None:
        """An old story from before the first session, with the year."""
        predicate = self.rng.choice(("lives_in", "lives_in", "works_at"))
        windows = self.world.facts(SELF, predicate)
        if len([f for f in windows if f.precision == "year"]) >= 2:
            return None
        first = min(f.valid_at.year for f in windows if f.precision != "year")
        told_years = {f.valid_at.year for f in windows}
        # Any year before the first session, in any order: a story may land between two
        # stories told earlier, and then it cuts the earlier one short.
        years = [y for y in range(first - 9, first - 1) if y not in told_years]
        year = self.rng.choice(years)
        valid_at = _midnight(date(year, 1, 1))
        if predicate == "lives_in":
            obj = self._new_city()
            statement, kind, okind = f"The user lived in {obj} in {year}.", "old_home", "place"
        else:
            used = self.world.values(SELF, "works_at")
            obj = self.rng.choice([o for o in vocab.EMPLOYERS if o not in used])
            statement, kind, okind = f"The user worked at {obj} in {year}.", "old_job", "org"
        draft = _draft(SELF, predicate, obj, statement, valid_at, object_kind=okind)  # type: ignore[arg-type]
        self.world.recollect(self.index, **_fields(draft, "year"))
        slots = {"place" if predicate == "lives_in" else "org": obj, "year": str(year)}
        return Told(kind, slots, (draft,))

    def _h_recollect_past(self) -> Told | None:
        """A story about an earlier value told in these sessions (no date: a restatement)."""
        predicate = self.rng.choice(("lives_in", "works_at"))
        closed = [
            f for f in self.world.facts(SELF, predicate)
            if f.invalid_at is not None and f.precision != "year"
        ]  # fmt: skip
        cur = self.world.current(SELF, predicate)
        closed = [f for f in closed if cur is None or f.object_key != cur.object_key]
        if not closed:
            return None
        old = self.rng.choice(closed)
        statement = (
            f"The user used to live in {old.object}." if predicate == "lives_in"
            else f"The user used to work at {old.object}."
        )  # fmt: skip
        draft = _draft(
            SELF, predicate, old.object, statement, old.valid_at, invalid_at=old.invalid_at,
            object_kind=old.object_kind,
        )  # fmt: skip
        kind = "story_home" if predicate == "lives_in" else "story_job"
        return Told(kind, {"place" if predicate == "lives_in" else "org": old.object}, (draft,))

    def _h_restate(self) -> Told | None:
        options = []
        for predicate in ("lives_in", "works_at", "diet"):
            cur = self.world.current(SELF, predicate)
            if cur is not None:
                options.append(cur)
        options += [f for f in self._preferences() if f.polarity == "positive"]
        if not options:
            return None
        cur = self.rng.choice(sorted(options, key=lambda f: (f.predicate, f.object)))
        draft = _draft(
            SELF, cur.predicate, cur.object, cur.statement, self.turn_at,
            object_kind=cur.object_kind, kind=cur.kind, polarity=cur.polarity,
        )  # fmt: skip
        if cur.predicate == "likes":
            self.world.state(self.index, _fields(draft, "session"), key=cur.object)
        else:
            self.world.state(self.index, _fields(draft, "session"))
        return Told(f"restate_{cur.predicate}", {"value": cur.object}, (draft,))

    # -- happenings: other people ------------------------------------------------------------
    def _h_meet(self) -> Told | None:
        missing = [r for r in ("has_sibling", "friend_of", "has_parent") if not self._person(r)]
        if not missing:
            return None
        relation = self.rng.choice(missing)
        female = self.rng.random() < 0.5
        role = {
            "has_sibling": "sister" if female else "brother",
            "friend_of": "best friend",
            "has_parent": "mom" if female else "dad",
        }[relation]
        name, city, now = self._new_name(female), self._new_city(), self._now()
        person = Person(name=name, role=role, relation=relation, introduced_in=self.index)
        self.timeline.people.append(person)
        link = self._multi(
            relation, name, f"{name} is the user's {role}.", now, object_kind="person"
        )
        home = self._state(
            name, "lives_in", city, f"{name} lives in {city}.", now, object_kind="place"
        )
        return Told("meet", {"name": name, "role": role, "city": city}, (link, home))

    def _h_other_move(self) -> Told | None:
        people = [p for p in self.timeline.people if p.introduced_in < self.index]
        people = [p for p in people if self._cooled(f"move:{p.name}", 150)]
        if not people:
            return None
        person = self.rng.choice(people)
        when, city = self._when(), self._new_city()
        draft = self._state(
            person.name, "lives_in", city, f"{person.name} moved to {city}.", when,
            object_kind="place",
        )  # fmt: skip
        self.last[f"move:{person.name}"] = self.turn_at
        slots = {"name": person.name, "role": person.role, "city": city, **when.slots}
        return Told("other_move", slots, (draft,))

    def _h_other_job(self) -> Told | None:
        people = [p for p in self.timeline.people if p.introduced_in < self.index]
        people = [p for p in people if p.relation != "has_parent"]
        people = [p for p in people if self._cooled(f"job:{p.name}", 200)]
        if not people:
            return None
        person = self.rng.choice(people)
        cur = self.world.current(person.name, "works_at")
        org = self.rng.choice([o for o in vocab.EMPLOYERS if not cur or o != cur.object])
        when = self._when()
        draft = self._state(
            person.name, "works_at", org, f"{person.name} works at {org}.", when, object_kind="org"
        )
        self.last[f"job:{person.name}"] = self.turn_at
        slots = {"name": person.name, "role": person.role, "org": org, **when.slots}
        return Told("other_job", slots, (draft,))

    # -- sessions ----------------------------------------------------------------------------
    def _menu(self) -> list[tuple[float, Callable[[], Told | None]]]:
        session = self.index
        menu: list[tuple[float, Callable[[], Told | None]]] = [
            (1.5 if self._cooled("move", 150) else 0.0, self._h_move),
            (1.2 if self._cooled("job", 180) else 0.0, self._h_job),
            (0.8 if self._cooled("job", 90) else 0.0, self._h_promotion),
            (1.0 if self._cooled("partner", 200) else 0.0, self._h_partner),
            (1.0 if self._cooled("diet", 150) else 0.0, self._h_diet),
            (0.8, self._h_pet),
            (0.3 if session > 60 else 0.0, self._h_child),
            (1.2, self._h_hobby),
            (0.4, self._h_allergy),
            (2.0, self._h_like),
            (1.0, self._h_flip),
            (1.2, self._h_trip),
            (0.6, self._h_event),
            (1.0 if session > 5 else 0.0, self._h_recollect_old),
            (1.0, self._h_recollect_past),
            (0.6, self._h_restate),
            (3.0 if session < 40 else 0.5, self._h_meet),
            (1.0, self._h_other_move),
            (0.6, self._h_other_job),
        ]
        return [(w, f) for w, f in menu if w > 0]

    def _birthday_in_gap(self) -> date | None:
        if self.index == 0:
            return None
        prev, today = self.dates[self.index - 1].date(), self.dates[self.index].date()
        for year in {prev.year, today.year}:
            day = self.birthday.replace(year=year)
            if prev < day <= today:
                return day
        return None

    def _session(self) -> Session:
        rng, i = self.rng, self.index
        start = self.dates[i]
        turns: list[Turn] = []

        def at(k: int) -> datetime:
            return start + _TURN_GAP * k

        if i == 0:
            self.turn_at = at(0)
            intro = self._h_intro()
            turns = [
                Turn(at(0), (intro[0],)),
                Turn(at(1), tuple(intro[1:3])),
                Turn(at(2), (intro[3],)),
            ]
            return Session(i, f"s{i + 1:04d}", start, tuple(turns))
        if rng.random() < 0.2 and not self._birthday_in_gap() and not self._trip_due():
            picks = rng.sample(vocab.CHITCHAT, rng.choice((1, 1, 2, 3)))
            turns = [Turn(at(k), (Told("chitchat", {"text": t}),)) for k, t in enumerate(picks)]
            return Session(i, f"s{i + 1:04d}", start, tuple(turns))
        if rng.random() < 0.5:
            turns.append(Turn(at(0), (Told("greeting", {}),)))
        forced: list[Callable[[], Told | None]] = []
        birthday = self._birthday_in_gap()
        if birthday is not None:
            forced.append(lambda: self._h_birthday(birthday))
        if self._trip_due():
            forced.append(self._h_trip_back)
        wanted = rng.choice((1, 1, 1, 1, 2, 2, 3))
        pending: list[Told] = []
        used: list[Callable[[], Told | None]] = []
        made = 0
        while forced or made < wanted:
            if forced:
                make = forced.pop(0)
            else:
                # Eligibility is read again after each happening (a job change just now rules
                # out a promotion in the same breath).
                menu = [(w, f) for w, f in self._menu() if f not in used]
                if not menu:
                    break
                make = menu[rng.choices(range(len(menu)), weights=[w for w, _ in menu])[0]][1]
                used.append(make)
            # Sometimes two things are said in one message (same turn, same time).
            merge = bool(pending) and rng.random() < 0.3
            self.turn_at = turns[-1].at if merge else at(len(turns))
            told = make()
            made += 1
            if told is None:  # not possible now (e.g. three pets already): say nothing new
                continue
            if merge:
                pending.append(told)
                turns[-1] = Turn(turns[-1].at, tuple(pending))
            else:
                pending = [told]
                turns.append(Turn(self.turn_at, (told,)))
        if not any(t.drafts for t in turns):
            picks = rng.sample(vocab.CHITCHAT, 1)
            turns.append(Turn(at(len(turns)), (Told("chitchat", {"text": picks[0]}),)))
        return Session(i, f"s{i + 1:04d}", start, tuple(turns))

    def _trip_due(self) -> bool:
        return self.pending_trip is not None and self.pending_trip[1] < _midnight(
            self.dates[self.index].date()
        )

    def build(self) -> Timeline:
        for i in range(self.n):
            self.index = i
            self.turn_at = self.dates[i]
            self.timeline.sessions.append(self._session())
        self.timeline.gold = list(self.world.gold)
        return self.timeline


def generate_timeline(
    seed: int = 0, sessions: int = 200, *, user_id: str | None = None
) -> Timeline:
    """Generate a simulated user's timeline.

    Args:
        seed: the random seed; the same seed always gives the same timeline.
        sessions: how many sessions (at least 1).
        user_id: the memlane user id (default ``sim-<seed>``).

    Returns:
        The timeline with its sessions and gold facts.
    """
    if sessions < 1:
        raise ValueError("sessions must be at least 1")
    return _Generator(seed, sessions, user_id or f"sim-{seed}").build()
