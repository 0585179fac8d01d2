"""The export/import record format: validation names the record, and it is all or nothing."""

from __future__ import annotations

import numpy as np
import pytest

from memlane.memory_graph.errors import InputError
from memlane.memory_graph.io import b64_to_vector, dict_to_writes, record_to_dict, vector_to_b64
from tests.conftest import Sample

pytestmark = pytest.mark.unit


def records(sample: Sample) -> list[dict]:
    writes = sample.turn("alice", 1, facts=2)
    out = [record_to_dict(e, writes.episode_vectors[e.id]) for e in writes.episodes]
    out += [record_to_dict(e) for e in writes.entities]
    out += [record_to_dict(f, writes.fact_vectors[f.id]) for f in writes.facts]
    out.append(record_to_dict(sample.episode("bob", "ep1", "hello")))
    return out


def test_vectors_round_trip_as_little_endian_float32() -> None:
    vec = np.array([0.5, -1.25, 3.0], dtype=np.float32)
    text = vector_to_b64(vec)
    assert text == "AAAAPwAAoL8AAEBA"
    assert np.array_equal(b64_to_vector(text), vec)


def test_records_group_into_one_write_set_per_user(sample: Sample) -> None:
    writes = dict_to_writes(records(sample))
    assert [w.user_id for w in writes] == ["alice", "bob"]
    alice = writes[0]
    assert alice.episodes == sample.turn("alice", 1, facts=2).episodes
    assert [f.id for f in alice.facts] == ["f1_0", "f1_1"]
    assert set(alice.fact_vectors) == {"f1_0", "f1_1"} and set(alice.episode_vectors) == {"ep1"}
    assert alice.entity_vectors == {}
    expected = sample.turn("alice", 1, facts=2).fact_vectors["f1_0"]
    assert np.allclose(alice.fact_vectors["f1_0"], expected)


@pytest.mark.parametrize(
    ("index", "change", "words"),
    [
        (0, {"type": "message"}, "unknown record type 'message'"),
        (0, {"type": None}, "unknown record type"),
        (1, {"name": ""}, "invalid entity"),
        (2, {"predicate": "Lives In"}, "predicate"),
        (2, {"valid_at": "last tuesday"}, "valid_at"),
        (2, {"invalid_at": "2023-01-01", "valid_at": "2024-01-01"}, "before valid_at"),
        (2, {"surprise": 1}, "surprise"),
        (2, {"vector": "not base64!"}, "base64"),
        (2, {"vector": "AAAAAAA="}, "multiple of 4"),
        (2, {"vector": vector_to_b64(np.array([np.nan], dtype=np.float32))}, "NaN"),
        (3, {"id": "f1_0"}, "appears twice"),
        (0, {"content": "bad \x00 byte"}, "control characters"),
    ],
)
def test_a_bad_record_is_named_and_nothing_is_returned(
    sample: Sample, index: int, change: dict, words: str
) -> None:
    recs = records(sample)
    recs[index] = {**recs[index], **change}
    with pytest.raises(InputError) as err:
        dict_to_writes(recs, where_fmt="backup.jsonl:{n}")
    assert err.value.where is not None and err.value.where.startswith(f"backup.jsonl:{index + 1}")
    assert words in str(err.value)


def test_a_record_that_is_not_an_object(sample: Sample) -> None:
    with pytest.raises(InputError) as err:
        dict_to_writes([*records(sample), ["not", "a", "record"]])
    assert err.value.where == "record 6"
