"""The shared record route and the typed manifest it reads and writes."""

from __future__ import annotations

import dataclasses
import json
import shutil
from enum import StrEnum
from pathlib import Path

import numpy as np
import pytest

from edgecnn.core.errors import BadInputError
from edgecnn.core.manifest import Manifest, VariantInfo, load_manifest, write_manifest
from edgecnn.core.modes import IOType, Mode
from edgecnn.core.preprocess import Preprocessing
from edgecnn.core.records import Record, from_dict, to_dict
from tests.testkit import FIXTURES

BUNDLES = sorted(FIXTURES.glob("*.tflite"))


class Colour(StrEnum):
    RED = "red"


@dataclasses.dataclass(frozen=True)
class Inner(Record):
    colour: Colour
    size: tuple[int, ...] = ()


@dataclasses.dataclass(frozen=True)
class Outer(Record):
    inner: Inner
    where: Path
    score: float
    maybe: Colour | None = None


def test_to_dict_writes_json_types_and_from_dict_reads_them_back():
    outer = Outer(Inner(Colour.RED, (1, 2)), Path("a/b"), np.float32(0.5))
    data = outer.to_dict()
    assert data == {"inner": {"colour": "red", "size": [1, 2]}, "where": "a/b", "score": 0.5,
                    "maybe": None}  # fmt: skip
    assert type(data["inner"]["colour"]) is str and type(data["score"]) is float
    back = Outer.from_dict(json.loads(json.dumps(data)))
    assert back == dataclasses.replace(outer, score=0.5)
    assert isinstance(back.inner.colour, Colour) and back.inner.size == (1, 2)
    assert from_dict(Inner, {"colour": "red"}) == Inner(Colour.RED) and to_dict(Inner(Colour.RED))


def test_from_dict_refuses_unknown_keys_and_values():
    with pytest.raises(TypeError, match="unexpected keyword"):
        Inner.from_dict({"colour": "red", "shade": 1})
    with pytest.raises(ValueError, match="'blue'"):
        Inner.from_dict({"colour": "blue"})
    with pytest.raises(TypeError, match="JSON object"):
        Inner.from_dict(["red"])


@pytest.mark.parametrize("bundle", BUNDLES, ids=lambda p: p.stem)
def test_every_fixture_manifest_loads_typed(bundle):
    manifest = load_manifest(bundle)
    assert isinstance(manifest.preprocessing, Preprocessing)
    assert isinstance(manifest.variant.mode, Mode) and isinstance(manifest.variant.io, IOType)
    assert manifest.variant.mode in bundle.stem
    raw = json.loads(bundle.with_suffix(".json").read_text())
    written = json.loads(json.dumps(manifest.to_dict()))
    # Older manifests lack the newer preprocessing keys; those are written as null.
    assert {k: v for k, v in written["preprocessing"].items() if v is not None or
            k in raw["preprocessing"]} == raw["preprocessing"]  # fmt: skip
    assert {k: v for k, v in written.items() if k != "preprocessing"} == {
        k: v for k, v in raw.items() if k != "preprocessing"
    }


def test_a_current_manifest_is_written_back_byte_for_byte(tmp_path):
    for name in ("kws-dscnn-int8", "kws-dscnn-fp32"):
        model = tmp_path / f"{name}.tflite"
        shutil.copy(FIXTURES / f"{name}.tflite", model)
        write_manifest(model, load_manifest(FIXTURES / f"{name}.tflite"))
        assert model.with_suffix(".json").read_text() == (FIXTURES / f"{name}.json").read_text()


def test_no_preprocessing_is_an_empty_object_both_ways():
    raw = json.loads((FIXTURES / "digits-lenet5-int8.json").read_text())
    raw |= {"preprocessing": {}, "variant": {}}
    manifest = Manifest.from_dict(raw)
    assert manifest.preprocessing is None and manifest.variant == VariantInfo()
    assert manifest.to_dict()["preprocessing"] == {}


@pytest.mark.parametrize(
    "change, message",
    [
        ({"variant": {"mode": "int4"}}, "'int4'"),
        ({"variant": {"mode": "int8", "io": "bytes"}}, "'bytes'"),
        ({"labels": ["a"], "colour": 1}, "colour"),
        ({"preprocessing": {"kind": "video", "input_shape": [1]}}, "'video'"),
    ],
)
def test_a_bad_manifest_is_refused_naming_the_file(tmp_path, change, message):
    model = tmp_path / "m.tflite"
    shutil.copy(FIXTURES / "digits-lenet5-int8.tflite", model)
    raw = json.loads((FIXTURES / "digits-lenet5-int8.json").read_text()) | change
    model.with_suffix(".json").write_text(json.dumps(raw))
    with pytest.raises(BadInputError, match=message) as info:
        load_manifest(model)
    assert str(model.with_suffix(".json")) in str(info.value)


@dataclasses.dataclass(frozen=True)
class Table(Record):
    rows: dict[str, Inner] = dataclasses.field(default_factory=dict)


def test_dict_values_are_read_back_as_their_records():
    table = Table({"a": Inner(Colour.RED, (3,))})
    assert table.to_dict() == {"rows": {"a": {"colour": "red", "size": [3]}}}
    assert Table.from_dict(json.loads(json.dumps(table.to_dict()))) == table
    assert Table.from_dict({}) == Table()


def test_numpy_arrays_are_written_as_lists():
    @dataclasses.dataclass(frozen=True)
    class Indices(Record):
        rows: np.ndarray

    data = Indices(np.array([[1, 2], [3, 4]], dtype=np.int64)).to_dict()
    assert data == {"rows": [[1, 2], [3, 4]]} and type(data["rows"][0][0]) is int
