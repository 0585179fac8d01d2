"""The predicate registry: which predicates exist, which are functional, and their synonyms.

A predicate is a snake_case name. It is validated against a pattern before it goes anywhere
near a query, and it always travels as a parameter, never as part of query text.

A *functional* predicate has one current value per subject (``lives_in``, ``works_at``):
a new value closes the old one. A multi-valued predicate (``likes``, ``has_pet``) lets
values accumulate; only a polarity flip on the same value closes one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from memory_graph.errors import InputError, UnknownPredicateError

__all__ = ["PREDICATE_PATTERN", "PredicateRegistry", "PredicateSpec", "default_registry"]

PREDICATE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class PredicateSpec:
    """One canonical predicate."""

    name: str
    functional: bool
    description: str = ""


# name -> (functional, description). Descriptions are what an extraction model sees.
_DEFAULTS: dict[str, tuple[bool, str]] = {
    "name": (True, "the subject's name"),
    "age": (True, "age in years"),
    "birthday": (True, "date of birth"),
    "gender": (True, "gender identity"),
    "lives_in": (True, "city or place where the subject lives now"),
    "works_at": (True, "employer or organisation the subject works for"),
    "job_title": (True, "the subject's job or occupation"),
    "studies_at": (True, "school or university the subject attends"),
    "relationship_status": (True, "single, dating, engaged, married, divorced, widowed"),
    "partner": (True, "the subject's current romantic partner or spouse"),
    "diet": (True, "diet followed, e.g. vegetarian, vegan, keto"),
    "nationality": (True, "country of citizenship"),
    "hometown": (True, "where the subject grew up"),
    "likes": (False, "something the subject likes or enjoys"),
    "dislikes": (False, "something the subject dislikes"),
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
    """Canonical predicates plus synonyms. Extend it with :meth:`extend`."""

    specs: dict[str, PredicateSpec] = field(default_factory=dict)
    synonyms: dict[str, str] = field(default_factory=dict)

    def extend(
        self,
        *,
        functional: Iterable[str] = (),
        multi_valued: Iterable[str] = (),
        synonyms: Mapping[str, str] | None = None,
        descriptions: Mapping[str, str] | None = None,
    ) -> PredicateRegistry:
        """Add predicates and synonyms (in place); returns self for chaining.

        Raises:
            InputError: a name does not match the pattern, or a synonym points nowhere.
        """
        descriptions = descriptions or {}
        for names, is_functional in ((functional, True), (multi_valued, False)):
            for raw in names:
                name = self.validate_name(raw)
                self.specs[name] = PredicateSpec(name, is_functional, descriptions.get(name, ""))
        for alias, target in (synonyms or {}).items():
            canonical = self.validate_name(target)
            if canonical not in self.specs:
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

    def resolve(self, raw: str) -> PredicateSpec:
        """The canonical spec for a name or synonym.

        Raises:
            UnknownPredicateError: the name is valid but neither registered nor a synonym.
        """
        name = self.validate_name(raw)
        name = self.synonyms.get(name, name)
        spec = self.specs.get(name)
        if spec is None:
            raise UnknownPredicateError(
                f"unknown predicate {raw!r}; known: {', '.join(sorted(self.specs))} "
                "(add it in settings: MEMLANE_PREDICATES)",
                where="predicate",
            )
        return spec

    def canonical(self, raw: str) -> str:
        return self.resolve(raw).name

    def is_functional(self, name: str) -> bool:
        spec = self.specs.get(name)
        return spec.functional if spec else False

    def describe(self) -> list[PredicateSpec]:
        """Every canonical predicate, sorted by name (for prompts and docs)."""
        return [self.specs[n] for n in sorted(self.specs)]


def default_registry() -> PredicateRegistry:
    """A fresh registry holding memlane's default predicates and synonyms."""
    reg = PredicateRegistry()
    for name, (functional, description) in _DEFAULTS.items():
        reg.specs[name] = PredicateSpec(name, functional, description)
    reg.synonyms.update(_SYNONYMS)
    return reg
