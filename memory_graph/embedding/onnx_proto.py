"""Just enough of the ONNX model format to write a graph: protobuf messages as bytes.

The ``onnx`` package would build these with its helpers, but importing it takes 1.5 s (its
protobuf classes), longer than a whole ``memlane recall`` should; ONNX Runtime itself only
needs the serialised bytes. The messages and field numbers are those of ``onnx.proto``
(ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto), written
in the protobuf wire format: a key ``field << 3 | wire type``, then a varint, a fixed
32-bit value or a length-prefixed body. ``tests/unit/test_onnx_bert.py`` reads what this
writes back with the ``onnx`` package and its checker.
"""

from __future__ import annotations

import numbers
import struct
from collections.abc import Iterable, Sequence

import numpy as np

__all__ = ["Graph", "model_bytes"]

_VARINT, _FIXED32, _BYTES = 0, 5, 2
_ELEM = {np.dtype(np.float32): 1, np.dtype(np.int64): 7}  # TensorProto.DataType
_ATTR_FLOAT, _ATTR_INT, _ATTR_INTS = 1, 2, 7  # AttributeProto.AttributeType

IR_VERSION = 8
OPSET = 17

# A message is written as a list of byte strings (its parts), joined once at the end: the
# weights are 42 MB, and concatenating at every level of nesting copied them five times.
Parts = list[bytes | memoryview]


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # a negative int64 is its two's complement, ten bytes
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _key(field: int, wire: int) -> bytes:
    return _varint(field << 3 | wire)


def _int(field: int, value: int) -> Parts:
    return [_key(field, _VARINT) + _varint(value)]


def _body(field: int, parts: Parts) -> Parts:
    """A length-delimited field holding ``parts``."""
    size = sum(len(p) if isinstance(p, bytes) else p.nbytes for p in parts)
    return [_key(field, _BYTES) + _varint(size), *parts]


def _text(field: int, value: str) -> Parts:
    return _body(field, [value.encode("utf-8")])


def _attribute(name: str, value: float | int | Sequence[int]) -> Parts:
    out = _text(1, name)
    if isinstance(value, numbers.Integral):  # before Real: an int is a Real too
        return [*out, *_int(3, int(value)), *_int(20, _ATTR_INT)]
    if isinstance(value, numbers.Real):
        return [*out, _key(2, _FIXED32) + struct.pack("<f", value), *_int(20, _ATTR_FLOAT)]
    if not isinstance(value, Sequence):
        raise TypeError(f"attribute {name}: {value!r} is not a number or a list of ints")
    return [*out, *(p for v in value for p in _int(8, int(v))), *_int(20, _ATTR_INTS)]


def _tensor(name: str, array: np.ndarray) -> Parts:
    if array.dtype not in _ELEM:
        raise ValueError(f"tensor {name}: dtype {array.dtype} is not written")
    raw = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
    dims = [p for d in array.shape for p in _int(1, d)]
    return [*dims, *_int(2, _ELEM[array.dtype]), *_text(8, name), *_body(9, [raw.data.cast("B")])]


def _value_info(name: str, elem: np.dtype, dims: Iterable[int | str]) -> Parts:
    shape = [p for d in dims for p in _body(1, _int(1, d) if isinstance(d, int) else _text(2, d))]
    tensor_type = [*_int(1, _ELEM[np.dtype(elem)]), *_body(2, shape)]
    return [*_text(1, name), *_body(2, _body(1, tensor_type))]


class Graph:
    """A graph under construction: weights, nodes, inputs and outputs, in order."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._nodes: list[Parts] = []
        self._weights: list[Parts] = []
        self._inputs: list[Parts] = []
        self._outputs: list[Parts] = []
        self._count = 0

    def weight(self, name: str, array: np.ndarray) -> str:
        """A constant tensor (an initializer); returns its name."""
        self._weights.append(_tensor(name, array))
        return name

    def input(self, name: str, dtype: type, dims: Sequence[int | str]) -> str:
        self._inputs.append(_value_info(name, np.dtype(dtype), dims))
        return name

    def output(self, name: str, dtype: type, dims: Sequence[int | str]) -> None:
        self._outputs.append(_value_info(name, np.dtype(dtype), dims))

    def op(
        self,
        op_type: str,
        *inputs: str,
        outputs: int = 1,
        name: str | None = None,
        **attrs: float | int | Sequence[int],
    ) -> str:
        """A node of the default domain; returns its (first) output's name: ``name``, else
        a generated one."""
        self._count += 1
        names = [f"{op_type.lower()}_{self._count}_{i}" for i in range(outputs)]
        if name is not None:
            names[0] = name
        node = [p for i in inputs for p in _text(1, i)]
        node += [p for o in names for p in _text(2, o)]
        node += [*_text(3, f"n{self._count}"), *_text(4, op_type)]
        node += [p for k, v in attrs.items() for p in _body(5, _attribute(k, v))]
        self._nodes.append(node)
        return names[0]

    def ops(
        self, op_type: str, *inputs: str, outputs: int, **attrs: float | int | Sequence[int]
    ) -> list[str]:
        """A node with several outputs (``Split``); returns their names."""
        first = self.op(op_type, *inputs, outputs=outputs, name=None, **attrs)
        return [first[: -len("_0")] + f"_{i}" for i in range(outputs)]

    def parts(self) -> Parts:
        return [
            *(p for n in self._nodes for p in _body(1, n)),
            *_text(2, self.name),
            *(p for w in self._weights for p in _body(5, w)),
            *(p for i in self._inputs for p in _body(11, i)),
            *(p for o in self._outputs for p in _body(12, o)),
        ]


def model_bytes(graph: Graph) -> bytes:
    """A ModelProto holding ``graph`` (IR version 8, default-domain opset 17)."""
    opset = [*_text(1, ""), *_int(2, OPSET)]
    parts = [*_int(1, IR_VERSION), *_text(2, "memlane"), *_body(7, graph.parts()), *_body(8, opset)]
    return b"".join(parts)
