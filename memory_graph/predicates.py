"""The predicate registry: which predicates exist, which are functional, their synonyms and
their antonyms.

A predicate is a snake_case name. It is validated against a pattern before it goes anywhere
near a query, and it always travels as a parameter, never as part of query text.

A *functional* predicate has one current value per subject (``lives_in``, ``works_at``):
a new value closes the old one. A multi-valued predicate (``likes``, ``has_pet``) lets
values accumulate; only a polarity flip on the same value closes one.

A *synonym* names the same predicate in other words (``moved_to`` -> ``lives_in``). An
*antonym* names its opposite: ``dislikes X`` is stored as ``likes X`` with negative polarity
(and ``hates``, a synonym of ``dislikes``, likewise). One predicate per stance is what lets
the temporal rules see "I can't stand sushi" and a later "I like sushi now" as the same
value with opposite polarity, so the later closes the earlier.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from memlane.memory_graph.errors import InputError, UnknownPredicateError
from memlane.memory_graph.model import Polarity

__all__ = [
    "PLAN_PREDICATES",
    "PREDICATE_PATTERN",
    "PredicateRegistry",
    "PredicateSpec",
    "ResolvedPredicate",
    "default_registry",
]

PREDICATE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
PLAN_PREDICATES = frozenset({"plans"})
"""The default plan predicates (:attr:`PredicateRegistry.plans`)."""


@dataclass(frozen=True)
class PredicateSpec:
    """One canonical predicate."""

    name: str
    functional: bool
    description: str = ""
    negates: str | None = None
    """For an antonym (``dislikes``): the canonical predicate it negates (``likes``)."""


@dataclass(frozen=True)
class ResolvedPredicate:
    """What a predicate name means: the canonical spec, and whether the name negates it.

    Attributes:
        spec: the canonical predicate facts are stored under.
        negated: the name was an antonym (``dislikes``): flip the polarity of what is said.
    """

    spec: PredicateSpec
    negated: bool = False

    def polarity(self, said: Polarity) -> Polarity:
        """The polarity to store for a statement said with ``said`` under this name."""
        if not self.negated:
            return said
        return "negative" if said == "positive" else "positive"


# name -> (functional, description). Descriptions are what an extraction model sees.
_DEFAULTS: dict[str, tuple[bool, str]] = {
    "name": (True, "the subject's name"),
    "age": (True, "age in years"),
    "birthday": (True, "date of birth"),
    "gender": (True, "gender identity"),
    "lives_in": (True, "city or place where the subject lives now"),
    "works_at": (True, "employer or organisation the subject works for"),
    "job_title": (True, "the subject's job or occupation"),
    "salary": (True, "what the subject earns (object: the amount as said, e.g. 62k a year)"),
    "studies_at": (True, "school or university the subject attends"),
    "relationship_status": (True, "single, dating, engaged, married, divorced, widowed"),
    "partner": (True, "the subject's current romantic partner or spouse"),
    "diet": (True, "diet followed, e.g. vegetarian, vegan, keto"),
    "nationality": (True, "country of citizenship"),
    "hometown": (True, "where the subject grew up"),
    "likes": (False, "something the subject likes or enjoys"),
    "allergic_to": (False, "an allergy"),
    "has_pet": (False, "a pet the subject has (object: the pet's name)"),
    "has_child": (False, "a child of the subject (object: the child's name)"),
    "has_sibling": (False, "a sibling of the subject"),
    "has_parent": (False, "a parent of the subject"),
    "friend_of": (False, "a friend of the subject"),
    "hobby": (False, "a hobby or regular activity"),
    "visited": (False, "a place the subject has visited"),
    "plans": (False, "something the subject plans to do (valid_at: when)"),
    "owns": (False, "something the subject owns"),
    "speaks": (False, "a language the subject speaks"),
    "goal": (False, "something the subject wants to achieve"),
    "attended": (False, "an event the subject took part in"),
    "member_of": (False, "a group, club or community the subject belongs to"),
    "related_to": (False, "a relation not covered by a more specific predicate"),
    "note": (False, "any other statement about the subject (the statement holds it)"),
}

# antonym -> (the canonical predicate it negates, description for extraction models).
_ANTONYMS: dict[str, tuple[str, str]] = {
    "dislikes": ("likes", "something the subject dislikes"),
}

_SYNONYMS: dict[str, str] = {
    "moved_to": "lives_in",
    "relocated_to": "lives_in",
    "resides_in": "lives_in",
    "lives_at": "lives_in",
    "home": "lives_in",
    "city": "lives_in",
    "works_for": "works_at",
    "employed_by": "works_at",
    "employer": "works_at",
    "joined": "works_at",
    "occupation": "job_title",
    "job": "job_title",
    "profession": "job_title",
    "role": "job_title",
    "title": "job_title",
    "spouse": "partner",
    "married_to": "partner",
    "dating": "partner",
    "girlfriend": "partner",
    "boyfriend": "partner",
    "wife": "partner",
    "husband": "partner",
    "loves": "likes",
    "enjoys": "likes",
    "prefers": "likes",
    "favorite": "likes",
    "hates": "dislikes",
    "allergy": "allergic_to",
    "pet": "has_pet",
    "child": "has_child",
    "son": "has_child",
    "daughter": "has_child",
    "sibling": "has_sibling",
    "sister": "has_sibling",
    "brother": "has_sibling",
    "parent": "has_parent",
    "friend": "friend_of",
    "travelled_to": "visited",
    "traveled_to": "visited",
    "went_to": "visited",
    "plans_to": "plans",
    "wants_to": "goal",
    "school": "studies_at",
    "attends": "studies_at",
    "language": "speaks",
    "eats": "diet",
    "is_named": "name",
    "called": "name",
}


def _normalise(raw: str) -> str:
    return re.sub(r"[\s\-]+", "_", raw.strip().lower())


@dataclass
class PredicateRegistry:
    """Canonical predicates plus synonyms and antonyms. Extend it with :meth:`extend`."""

    specs: dict[str, PredicateSpec] = field(default_factory=dict)
    synonyms: dict[str, str] = field(default_factory=dict)
    antonyms: dict[str, PredicateSpec] = field(default_factory=dict)
    """Antonym name -> its spec (``negates`` names the canonical predicate)."""
    plans: frozenset[str] = PLAN_PREDICATES
    """Predicates whose told date (a draft's ``valid_at``) is the day a plan is *for*: the
    plan holds from when it is said until that date (see :mod:`memlane.memory_graph.reconcile`)."""

    def extend(
        self,
        *,
        functional: Iterable[str] = (),
        multi_valued: Iterable[str] = (),
        synonyms: Mapping[str, str] | None = None,
        antonyms: Mapping[str, str] | None = None,
        descriptions: Mapping[str, str] | None = None,
    ) -> PredicateRegistry:
        """Add predicates, synonyms and antonyms (in place); returns self for chaining.

        Args:
            functional: predicates with one current value per subject.
            multi_valued: predicates whose values accumulate.
            synonyms: other name -> predicate (or antonym) it means.
            antonyms: name -> predicate it negates (``{"avoids": "likes"}``): facts said with
                the name are stored under the predicate with the opposite polarity.
            descriptions: name -> description shown to extraction models.

        Raises:
            InputError: a name does not match the pattern, a synonym or antonym points
                nowhere, or a name would be both a predicate and an antonym.
        """
        descriptions = descriptions or {}
        for names, is_functional in ((functional, True), (multi_valued, False)):
            for raw in names:
                name = self.validate_name(raw)
                if name in self.antonyms:
                    raise InputError(
                        f"{name!r} is an antonym of {self.antonyms[name].negates!r}; "
                        "it cannot also be a predicate",
                        where="predicates",
                    )
                self.specs[name] = PredicateSpec(name, is_functional, descriptions.get(name, ""))
        for raw, target in (antonyms or {}).items():
            name, canonical = self.validate_name(raw), self.validate_name(target)
            if canonical not in self.specs:
                raise InputError(
                    f"antonym {raw!r} negates unknown predicate {target!r}", where="predicates"
                )
            if name in self.specs:
                raise InputError(
                    f"antonym {raw!r} is already a predicate of its own", where="predicates"
                )
            self.synonyms.pop(name, None)  # the antonym is what the name means from now on
            self.antonyms[name] = PredicateSpec(
                name,
                self.specs[canonical].functional,
                descriptions.get(name, f"the opposite of {canonical}"),
                negates=canonical,
            )
        for alias, target in (synonyms or {}).items():
            canonical = self.validate_name(target)
            if canonical not in self.specs and canonical not in self.antonyms:
                raise InputError(
                    f"synonym {alias!r} points to unknown predicate {target!r}",
                    where="predicates",
                )
            self.synonyms[self.validate_name(alias)] = canonical
        return self

    @staticmethod
    def validate_name(raw: str) -> str:
        """Return the normalised name if it matches :data:`PREDICATE_PATTERN`."""
        if not isinstance(raw, str):
            raise InputError(f"predicate must be a string, got {type(raw).__name__}")
        name = _normalise(raw)
        if not PREDICATE_PATTERN.match(name):
            raise InputError(
                f"invalid predicate {raw!r}: use snake_case letters, digits and underscores "
                "(at most 63 characters, starting with a letter)",
                where="predicate",
            )
        return name

    def term(self, raw: str) -> str:
        """The registered name ``raw`` stands for: a predicate or an antonym (synonyms
        followed), or the normalised name itself when it is neither.

        Raises:
            InputError: ``raw`` does not match :data:`PREDICATE_PATTERN`.
        """
        name = self.validate_name(raw)
        return self.synonyms.get(name, name)

    def resolve(self, raw: str) -> ResolvedPredicate:
        """What a name, synonym or antonym means: the canonical spec facts are stored under,
        and whether the polarity of what is said flips (``dislikes X`` is ``likes X``,
        negative).

        Raises:
            InputError: the name does not match :data:`PREDICATE_PATTERN`.
            UnknownPredicateError: the name is valid but neither registered, a synonym nor
                an antonym.
        """
        name = self.term(raw)
        antonym = self.antonyms.get(name)
        if antonym is not None and antonym.negates is not None:
            return ResolvedPredicate(self.specs[antonym.negates], negated=True)
        spec = self.specs.get(name)
        if spec is None:
            raise UnknownPredicateError(
                f"unknown predicate {raw!r}; known: "
                f"{', '.join(sorted((*self.specs, *self.antonyms)))} "
                "(add it in settings: MEMLANE_MULTI_VALUED_PREDICATES or "
                "MEMLANE_FUNCTIONAL_PREDICATES)",
                where="predicate",
            )
        return ResolvedPredicate(spec)

    def canonical(self, raw: str) -> str:
        """The name a proposed fact should carry: the predicate a synonym stands for, or the
        antonym itself, whose polarity the reconciler flips (``hates`` -> ``dislikes``).

        Raises:
            InputError: invalid name.
            UnknownPredicateError: not registered.
        """
        self.resolve(raw)
        return self.term(raw)

    def is_plan(self, name: str) -> bool:
        """Whether ``name`` is a plan predicate (its told date is the day it is planned for)."""
        return name in self.plans

    def is_functional(self, name: str) -> bool:
        spec = self.specs.get(name)
        return spec.functional if spec else False

    def describe(self) -> list[PredicateSpec]:
        """Every name a proposed fact may use, sorted: the canonical predicates and the
        antonyms (``negates`` set), for prompts and docs."""
        return sorted((*self.specs.values(), *self.antonyms.values()), key=lambda s: s.name)


def default_registry() -> PredicateRegistry:
    """A fresh registry holding memlane's default predicates, synonyms and antonyms."""
    reg = PredicateRegistry()
    for name, (functional, description) in _DEFAULTS.items():
        reg.specs[name] = PredicateSpec(name, functional, description)
    for name, (negates, description) in _ANTONYMS.items():
        reg.antonyms[name] = PredicateSpec(
            name, reg.specs[negates].functional, description, negates=negates
        )
    reg.synonyms.update(_SYNONYMS)
    return reg
