"""The local model server is built for the instruction sets this machine has, never AMX."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.llama_server import cmake_args, cpu_flags

pytestmark = pytest.mark.unit

EPYC_AVX2 = frozenset(
    [
        "fpu",
        "sse2",
        "ssse3",
        "fma",
        "cx16",
        "sse4_1",
        "sse4_2",
        "avx",
        "f16c",
        "bmi1",
        "avx2",
        "bmi2",
    ]
)
SAPPHIRE = EPYC_AVX2 | {
    "avx512f", "avx512cd", "avx512vl", "avx512dq", "avx512bw", "amx_tile", "amx_int8",
    "amx_bf16",
}  # fmt: skip


def _options(flags: frozenset[str]) -> dict[str, str]:
    return dict(a.removeprefix("-D").split("=") for a in cmake_args(flags))


def test_an_avx2_machine_gets_no_avx512() -> None:
    options = _options(EPYC_AVX2)
    assert options["GGML_AVX2"] == "ON" and options["GGML_FMA"] == "ON"
    assert options["GGML_AVX512"] == "OFF"  # a build with it died of SIGILL here
    assert options["GGML_NATIVE"] == "OFF"


def test_amx_stays_off_even_where_the_processor_advertises_it() -> None:
    options = _options(SAPPHIRE)
    assert options["GGML_AVX512"] == "ON"
    assert {options[f"GGML_AMX_{k}"] for k in ("TILE", "INT8", "BF16")} == {"OFF"}


def test_a_partial_avx512_set_is_not_enough_and_no_cpuinfo_means_avx2() -> None:
    assert _options(EPYC_AVX2 | {"avx512f"})["GGML_AVX512"] == "OFF"
    assert _options(frozenset()) == _options(EPYC_AVX2)


def test_the_flags_come_from_proc_cpuinfo(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu avx2 fma\n\n")
    assert cpu_flags(info) == {"fpu", "avx2", "fma"}
    assert cpu_flags(tmp_path / "missing") == frozenset()
