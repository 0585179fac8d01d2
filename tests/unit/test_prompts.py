"""Prompt modules: typed inputs, loud templates, and golden renderings of the messages.

Regenerate the golden files after an intended prompt change with
``MEMLANE_UPDATE_GOLDEN=1 pytest tests/unit/test_prompts.py`` and review the diff.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from memlane.memory_graph.predicates import default_registry
from memlane.prompts import extract_memory as em
from memlane.prompts import respond as rp
from memlane.prompts._template import MissingVariablesError, Template

pytestmark = pytest.mark.unit

GOLDEN = Path(__file__).parent / "golden"
T0 = datetime(2024, 3, 15, 9, 30, tzinfo=UTC)


def _extraction_input() -> em.ExtractionInput:
    return em.ExtractionInput(
        user_name="Maya",
        turn_time=T0,
        new_turns=[
            em.Turn(content="I moved to Berlin last month and I don't eat meat now.", at=T0)
        ],
        recent_turns=[
            em.Turn(
                role="user",
                content="Work has been busy.",
                at=datetime(2024, 3, 15, 9, 0, tzinfo=UTC),
            ),
            em.Turn(role="assistant", content="Sorry to hear that!"),
        ],
        candidates=[
            em.CandidateFact(
                short_id="F1",
                subject="user",
                predicate="lives_in",
                object="Lisbon",
                statement="Maya lives in Lisbon.",
                valid_at=datetime(2021, 6, 1, tzinfo=UTC),
            ),
            em.CandidateFact(
                short_id="F2",
                subject="user",
                predicate="likes",
                object="sushi",
                statement="Maya likes sushi.",
                polarity="negative",
                valid_at=datetime(2023, 1, 1, tzinfo=UTC),
                invalid_at=datetime(2024, 1, 1, tzinfo=UTC),
            ),
            em.CandidateFact(
                short_id="F3",
                subject="Biscuit",
                predicate="note",
                object=None,
                statement="Biscuit is afraid of thunder.",
            ),
        ],
        predicates=em.ExtractionInput.predicate_lines(default_registry()),
    )


def _check_golden(name: str, messages: list[dict[str, str]]) -> None:
    text = "".join(f"=== {m['role']} ===\n{m['content']}\n" for m in messages)
    path = GOLDEN / name
    if os.environ.get("MEMLANE_UPDATE_GOLDEN"):
        path.write_text(text)
    assert path.exists(), f"missing golden file {path}; run with MEMLANE_UPDATE_GOLDEN=1"
    assert text == path.read_text(), f"{name} changed; review and regenerate the golden file"


def test_extraction_messages_golden() -> None:
    _check_golden("extract_memory.txt", em.build_messages(_extraction_input()))


def test_respond_messages_golden() -> None:
    data = rp.RespondInput(
        user_name="Maya",
        now=T0,
        memory="- [2024-02-01 → now] Maya lives in Berlin.\n"
        "- [2021-06-01 → 2024-02-01] Maya lived in Lisbon.",
        recent_turns=[
            em.Turn(role="user", content="Hi"),
            em.Turn(role="assistant", content="Hello!"),
        ],
        message="Where do I live?",
    )
    _check_golden("respond.txt", rp.build_messages(data))


def test_schema_shown_is_derived_from_the_output_model() -> None:
    shown = em.compact_schema(em.ExtractionOutput)
    for name, field in em.ExtractedFact.model_fields.items():
        assert f"  {name}: " in shown
        if field.description:
            assert field.description in shown
    assert em.ExtractedFact.__doc__ and em.ExtractedFact.__doc__.strip() in shown


def test_template_fails_loudly() -> None:
    template = Template("t", "Hello $name, it is $$5")
    assert template.render({"name": "Ana"}) == "Hello Ana, it is $5"
    with pytest.raises(MissingVariablesError, match="missing \\['name'\\]"):
        template.render({})
    with pytest.raises(MissingVariablesError, match="unexpected \\['extra'\\]"):
        template.render({"name": "Ana", "extra": 1})
    # A value containing a placeholder is inserted as text, never expanded.
    assert template.render({"name": "$name"}) == "Hello $name, it is $5"


def test_inputs_are_typed() -> None:
    with pytest.raises(ValidationError):
        em.ExtractionInput(turn_time=T0, new_turns=[], predicates=[])  # no turn
    with pytest.raises(ValidationError):
        em.CandidateFact(short_id="f_123", subject="u", predicate="p", statement="s")


def test_output_validation_uses_the_prompt_it_answers() -> None:
    data = _extraction_input()
    ctx = em.validation_context(data, default_registry())
    good = {"facts": [{"predicate": "moved_to", "object": "Berlin", "statement": "s",
                       "valid_at": "2024-02-01", "contradicts": ["F1"]}]}  # fmt: skip
    out = em.ExtractionOutput.model_validate(good, context=ctx)
    assert out.facts[0].predicate == "lives_in"  # synonyms canonicalised
    assert out.facts[0].valid_at == "2024-02-01T00:00:00Z"
    for bad in (
        {"facts": [{"predicate": "lives_in", "statement": "s", "contradicts": ["F9"]}]},
        {"facts": [{"predicate": "favourite_colour", "statement": "s"}]},
        {"facts": [{"predicate": "lives_in", "statement": "s", "valid_at": "last month"}]},
        {
            "facts": [
                {
                    "predicate": "age",
                    "statement": "s",
                    "valid_at": "2024-01-02",
                    "invalid_at": "2024-01-01",
                }
            ]
        },
        {"facts": [{"predicate": "age", "statement": "s", "id": "x"}]},
    ):
        with pytest.raises(ValidationError):
            em.ExtractionOutput.model_validate(bad, context=ctx)
    json.dumps(em.ExtractionOutput.model_json_schema())  # serialisable for response_format
