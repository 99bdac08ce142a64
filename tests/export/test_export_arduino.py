"""edgecnn export arduino: the sketch's contents, that it compiles and runs, and refusals.

The generated sources are compiled with the host g++ against stub Arduino and TFLite Micro
headers (tests/fixtures/tflm_stubs) and run on the PC: the stub interpreter copies input
values to the output, so the printed label is predictable from the line sent.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from edgecnn.core.errors import BadInputError
from edgecnn.core.manifest import load_manifest
from edgecnn.device.interpreter import TFLiteModel
from edgecnn.export import arduino as arduino_module
from edgecnn.export import arena_with_margin, export_arduino
from edgecnn.export.arduino import _channel_stats
from edgecnn.export.tflm_ops import OP_METHODS, resolver_methods
from edgecnn.targets.micro import MicroCheck, check_micro
from tests.testkit import FIXTURES

INT8 = FIXTURES / "digits-lenet5-int8.tflite"
FP32 = FIXTURES / "digits-lenet5-fp32.tflite"
STUBS = FIXTURES / "tflm_stubs"
NANO = "arduino-nano-33-ble-sense"
SKETCH = "digits-lenet5-int8"


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    return export_arduino(INT8, board=NANO, out=tmp_path_factory.mktemp("out"))


def read(result, name: str) -> str:
    return (Path(result.sketch_dir) / name).read_text(encoding="utf-8")


def constant(text: str, name: str) -> str:
    return re.search(rf"\b{name}\b(?:\[\w*\])? = ([^;]+);", text).group(1)


def raw_builtin_ops(path: Path) -> list[str]:
    """The graph's ops read independently of the code under test, without delegates."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interpreter = Interpreter(
        model_path=str(path),
        experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    )
    return [op["op_name"] for op in interpreter._get_ops_details()]


def copy_bundle(tmp_path: Path, *, manifest: bool = True, **changes) -> Path:
    """The int8 fixture copied into tmp_path, its manifest edited with ``changes``."""
    model = tmp_path / INT8.name
    shutil.copy(INT8, model)
    if manifest:
        data = json.loads(INT8.with_suffix(".json").read_text())
        data.update(changes)
        model.with_suffix(".json").write_text(json.dumps(data))
    return model


# --- what the sketch holds -------------------------------------------------------------


def test_result_describes_the_written_sketch(exported):
    sketch_dir = Path(exported.sketch_dir)
    assert sketch_dir.name == SKETCH and sketch_dir.is_dir()
    expected = {f"{SKETCH}.ino", "README.md", "model_settings.h", "model_ops.h"}
    expected |= {f"model_{part}.{ext}" for part in ("data", "io") for ext in ("h", "cpp")}
    assert set(exported.files) == {p.name for p in sketch_dir.iterdir()} == expected
    assert not [p for p in sketch_dir.parent.iterdir() if p.name.startswith(".")]
    assert exported.model_bytes == INT8.stat().st_size
    assert exported.ram_margin_bytes == 256 * 1024 - exported.arena_with_margin_bytes
    assert exported.flash_margin_bytes == 1024 * 1024 - exported.model_bytes
    assert json.loads(json.dumps(exported.to_dict()))["board"] == NANO


def test_model_array_round_trips_to_the_model_bytes(exported):
    text = read(exported, "model_data.cpp")
    assert "alignas(16) const unsigned char g_model_data[] = {" in text
    body = re.search(r"g_model_data\[\] = \{(.*?)\};", text, re.S).group(1)
    data = bytes(int(byte, 16) for byte in re.findall(r"0x([0-9a-f]{2})", body))
    assert data == INT8.read_bytes()
    assert int(constant(text, "g_model_data_len")) == len(data)


def test_resolver_registers_exactly_the_models_ops(exported):
    expected = list(dict.fromkeys(raw_builtin_ops(INT8)))
    assert list(exported.ops) == expected
    text = read(exported, "model_ops.h")
    assert int(constant(text, "kNumOps")) == len(expected)
    assert re.findall(r"resolver\.(\w+)\(\)", text) == [OP_METHODS[op] for op in expected]
    assert "MicroMutableOpResolver<kNumOps>" in read(exported, f"{SKETCH}.ino")


def test_arena_covers_what_tflite_micro_measures(exported):
    from tflite_micro.python.tflite_micro import runtime

    measured = check_micro(INT8.read_bytes()).arena_bytes
    arena = int(constant(read(exported, "model_settings.h"), "kTensorArenaSize"))
    assert exported.arena_bytes == measured
    assert arena == exported.arena_with_margin_bytes == arena_with_margin(measured)
    assert arena >= measured + measured // 10 + 1024 and arena % 16 == 0
    runtime.Interpreter.from_bytes(INT8.read_bytes(), arena_size=arena)


def test_arena_margin_is_ten_percent_plus_one_kib_rounded_to_16():
    assert arena_with_margin(5600) == 7184  # 5600 + 560 + 1024
    assert arena_with_margin(0) == 1024
    assert arena_with_margin(1) == 1040  # 1 + 1 + 1024 = 1026, rounded up


def test_settings_hold_labels_shape_and_quantization(exported):
    text = read(exported, "model_settings.h")
    manifest = load_manifest(INT8)
    assert re.findall(r'^\s+"(.*)",$', text, re.M) == manifest.labels
    assert int(constant(text, "kInputElements")) == 64
    assert constant(text, "kInputShape") == "{1, 8, 8, 1}"
    for name, value in (
        ("kInputScale", manifest.input["scale"]),
        ("kOutputScale", manifest.output["scale"]),
    ):
        assert np.float32(constant(text, name).rstrip("f")) == np.float32(value)
    assert int(constant(text, "kInputZeroPoint")) == manifest.input["zero_point"]
    assert np.float32(constant(text, "kRawScale").rstrip("f")) == np.float32(0.0625)


def test_readme_names_library_board_arena_and_input_format(exported):
    text = read(exported, "README.md")
    for needle in (
        "Chirale_TensorFlowLite",
        "Arduino Nano 33 BLE Sense",
        "arduino:mbed_nano",
        f"{exported.arena_with_margin_bytes:,}",
        "64 raw values",
        "115200",
        "label=<label> score=<score> invoke_us=<microseconds>",
    ):
        assert needle in text


def test_labels_are_escaped_for_c(tmp_path):
    labels = ['say "hi"', "back\\slash", "what??=", "naïve", "0", "1", "2", "3", "4", "5"]
    model = copy_bundle(tmp_path, labels=labels)
    result = export_arduino(model, board=NANO, out=tmp_path / "out")
    text = read(result, "model_settings.h")
    assert r'"say \"hi\"",' in text and r'"back\\slash",' in text
    assert r'"what\?\?=",' in text and r'"na\303\257ve",' in text


# --- the generated C++ compiles and runs -----------------------------------------------


def gpp() -> str:
    """The host g++; skips without one (fails instead with EDGECNN_REQUIRE_GPP=1, as in CI)."""
    compiler = shutil.which("g++")
    if compiler is None:
        reason = "g++ is not installed; the generated sketch cannot be compiled on this machine"
        if os.environ.get("EDGECNN_REQUIRE_GPP") == "1":
            pytest.fail(f"EDGECNN_REQUIRE_GPP=1 but {reason}")
        print(reason)
        pytest.skip(reason)
    return compiler


def compile_cmd(sketch_dir: Path, *args: str, std: str = "c++17") -> list[str]:
    flags = [f"-std={std}", "-Wall", "-Wextra", "-Werror", f"-I{STUBS}", f"-I{sketch_dir}"]
    return [gpp(), *flags, *args]


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kwargs)
    assert done.returncode == 0, done.stderr
    return done


@pytest.mark.parametrize("std", ["c++11", "c++17"])
def test_sketch_compiles_against_the_tflite_micro_headers(exported, std):
    sketch_dir = Path(exported.sketch_dir)
    run(
        compile_cmd(
            sketch_dir, "-fsyntax-only", "-x", "c++", str(sketch_dir / f"{SKETCH}.ino"), std=std
        )
    )
    sources = [str(sketch_dir / "model_io.cpp"), str(sketch_dir / "model_data.cpp")]
    run(compile_cmd(sketch_dir, "-fsyntax-only", *sources, std=std))


HOST_MAIN = r"""
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <string>

#include "Arduino.h"
#include "model_data.h"
#include "model_io.h"
#include "model_settings.h"
#include "tensorflow/lite/micro/micro_interpreter.h"

StubSerial Serial;
void setup();
void loop();

// quantize: raw values on stdin -> QuantizeInput(PreprocessValue(raw, i)) for each.
static void Quantize() {
  float raw;
  for (int i = 0; std::cin >> raw; ++i) {
    std::printf("%d\n", QuantizeInput(PreprocessValue(raw, i % kInputElements)));
  }
}

// sketch: stdin is the serial input; runs setup() and loop(), prints what the sketch printed.
static void Sketch() {
  tflite::stub::Settings& config = tflite::stub::Config();
  config.input_bytes = kInputElements;
  config.output_bytes = kNumClasses;
  Serial.Feed(std::string(std::istreambuf_iterator<char>(std::cin), {}));
  setup();
  loop();
  std::printf("%s", Serial.Output().c_str());
  std::printf("baud %lu\nops", Serial.Baud());
  for (const std::string& op : tflite::stub::RegisteredOps()) std::printf(" %s", op.c_str());
  std::printf("\nlast_input");
  for (int8_t value : tflite::stub::LastInput()) std::printf(" %d", value);
  std::printf("\n");
}

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "quantize") Quantize();
  if (mode == "sketch") Sketch();
  if (mode == "dump") std::fwrite(g_model_data, 1, g_model_data_len, stdout);
  return 0;
}
"""


def build_host_program(sketch_dir: Path, work: Path) -> Path:
    """Compiles and links the sketch with the stubs and HOST_MAIN into one executable."""
    main = work / "host_main.cpp"
    main.write_text(HOST_MAIN)
    program = work / "host"
    sources = [
        "-x",
        "c++",
        str(sketch_dir / f"{sketch_dir.name}.ino"),
        "-x",
        "none",
        str(sketch_dir / "model_io.cpp"),
        str(sketch_dir / "model_data.cpp"),
        str(main),
    ]
    run(compile_cmd(sketch_dir, *sources, "-o", str(program)))
    return program


@pytest.fixture(scope="module")
def host_program(exported, tmp_path_factory):
    return build_host_program(Path(exported.sketch_dir), tmp_path_factory.mktemp("host"))


def numpy_input(model_path: Path, raw: np.ndarray) -> np.ndarray:
    """What edgecnn's host runtime feeds the model for raw samples: preprocess, quantize."""
    prep = load_manifest(model_path).preprocessing
    x = prep.apply(raw.reshape(-1, *prep.input_shape))
    return TFLiteModel(model_path).quantize_input(x).reshape(-1)


def text_values(raw: np.ndarray, sep: str = " ") -> str:
    return sep.join(repr(float(v)) for v in raw.astype(np.float32))


def sample_raw(seed: int) -> np.ndarray:
    """Raw digit pixels (0-16 in training) reaching past both ends of the int8 range."""
    raw = np.random.default_rng(seed).uniform(-6.0, 24.0, size=640).astype(np.float32)
    raw[:6] = [0.0, 16.0, -1e9, 1e9, 8.0, 15.99]
    return raw


def quantize_on_host(program: Path, raw: np.ndarray) -> np.ndarray:
    done = run([str(program), "quantize"], input=text_values(raw))
    return np.array(done.stdout.split(), dtype=np.int64)


def test_quantize_helper_matches_the_host_runtime(host_program):
    raw = sample_raw(0)
    expected = numpy_input(INT8, raw)
    assert expected.min() == -128 and expected.max() == 127  # saturation is exercised
    np.testing.assert_array_equal(quantize_on_host(host_program, raw), expected)


def test_mean_and_std_preprocessing_matches_the_host_runtime(tmp_path):
    changes = {"offset": 0.125, "mean": [0.3], "std": [0.2]}
    prep = load_manifest(INT8).preprocessing.to_dict() | changes
    model = copy_bundle(tmp_path, preprocessing=prep)
    result = export_arduino(model, board=NANO, out=tmp_path / "out")
    program = build_host_program(Path(result.sketch_dir), tmp_path)
    raw = sample_raw(1)
    np.testing.assert_array_equal(quantize_on_host(program, raw), numpy_input(model, raw))


def test_linked_model_array_is_the_model(host_program):
    done = subprocess.run([str(host_program), "dump"], capture_output=True, timeout=60)
    assert done.stdout == INT8.read_bytes()


def test_sketch_reads_a_line_and_prints_label_score_and_time(exported, host_program):
    raw = sample_raw(2)[:64]
    serial_in = text_values(raw, ",") + "\r\n" + "\n" + "1,2,3\n" + "1,abc,3\n"
    out = run([str(host_program), "sketch"], input=serial_in).stdout.splitlines()
    arena, stub_used = exported.arena_with_margin_bytes, 64 + 10  # the stub: input + output
    assert out[0] == (
        f"ready: arena used {stub_used} of {arena} bytes; send 64 comma-separated values per line"
    )
    quantized = numpy_input(INT8, raw)
    scores = quantized[:10]  # the stub model: score k = input value k
    top = int(np.argmax(scores))
    score = (np.float32(scores[top]) + 128) * np.float32(0.00390625)
    assert out[1] == f"label={top} score={score:.4f} invoke_us=250"
    assert out[2] == "error: expected 64 values, got 3"
    assert out[3] == "error: a value is not a number; send numbers separated by commas"
    assert out[4] == "baud 115200"
    assert out[5] == "ops " + " ".join(exported.ops)
    assert out[6] == "last_input " + " ".join(str(v) for v in quantized)


# --- refusals ---------------------------------------------------------------------------


def test_linux_board_is_refused(tmp_path):
    with pytest.raises(BadInputError, match="not a microcontroller.*arduino-nano-33-ble-sense"):
        export_arduino(INT8, board="rpi-4b", out=tmp_path)


def test_unknown_board_is_refused(tmp_path):
    with pytest.raises(BadInputError, match="unknown board"):
        export_arduino(INT8, board="arduino-uno-q", out=tmp_path)


def test_float_model_is_refused(tmp_path):
    with pytest.raises(BadInputError, match="\\(fp32\\) has float32 input.*full-integer int8"):
        export_arduino(FP32, board=NANO, out=tmp_path)
    assert not any(tmp_path.iterdir())


def test_non_tflite_file_is_refused(tmp_path):
    model = tmp_path / "notes.tflite"
    model.write_text("not a model at all\n" * 10)
    with pytest.raises(BadInputError, match="not a TFLite model"):
        export_arduino(model, board=NANO, out=tmp_path / "out")


def test_truncated_model_is_refused(tmp_path):
    model = copy_bundle(tmp_path)
    model.write_bytes(INT8.read_bytes()[: INT8.stat().st_size // 2])
    with pytest.raises(BadInputError, match="not a valid .tflite model \\(truncated or corrupt"):
        export_arduino(model, board=NANO, out=tmp_path / "out")


def test_missing_model_is_refused(tmp_path):
    with pytest.raises(BadInputError, match="cannot read model"):
        export_arduino(tmp_path / "missing.tflite", board=NANO, out=tmp_path / "out")


def test_model_without_manifest_is_refused(tmp_path):
    model = copy_bundle(tmp_path, manifest=False)
    with pytest.raises(BadInputError, match="has no manifest"):
        export_arduino(model, board=NANO, out=tmp_path / "out")


def test_model_tflite_micro_cannot_allocate_is_refused(tmp_path, monkeypatch):
    problem = "TFLite Micro has no kernel for op(s) FANCY_OP"
    failing = MicroCheck(ok=False, arena_bytes=None, problem=problem)
    monkeypatch.setattr(arduino_module, "check_micro", lambda data: failing)
    with pytest.raises(BadInputError, match="TFLite Micro cannot run .*FANCY_OP"):
        export_arduino(INT8, board=NANO, out=tmp_path)


def test_ops_without_a_resolver_method_are_named():
    assert resolver_methods(("CONV_2D", "SOFTMAX")) == ("AddConv2D", "AddSoftmax")
    with pytest.raises(BadInputError, match="WHILE, MyCustomOp"):
        resolver_methods(("CONV_2D", "WHILE", "MyCustomOp"))


def test_every_resolver_method_exists_in_the_tflite_micro_stub():
    stub = (STUBS / "tensorflow/lite/micro/micro_mutable_op_resolver.h").read_text()
    declared = dict(re.findall(r'TfLiteStatus (Add\w+)\(\) \{ return Add\("(\w+)"\)', stub))
    assert {method: op for op, method in OP_METHODS.items()} == declared


def write_board(folder: Path, *, ram_kib: int, flash_kib: int) -> None:
    folder.mkdir(exist_ok=True)
    (folder / "tiny-mcu.toml").write_text(
        'id = "tiny-mcu"\nname = "Tiny MCU"\nkind = "mcu"\nruntime = "tflm"\n'
        'kernels = "reference"\n[cpu]\ncore = "M0"\nclock_mhz = 48\ncores = 1\n'
        f"[memory]\nram_kib = {ram_kib}\nflash_kib = {flash_kib}\n"
    )


def test_arena_larger_than_ram_is_refused_saying_by_how_much(tmp_path, monkeypatch):
    write_board(tmp_path / "boards", ram_kib=4, flash_kib=1024)
    monkeypatch.setenv("EDGECNN_BOARDS", str(tmp_path / "boards"))
    needed = arena_with_margin(check_micro(INT8.read_bytes()).arena_bytes)
    with pytest.raises(
        BadInputError, match=f"{needed:,} B .* 4,096 B of RAM: {needed - 4096:,} B too much"
    ):
        export_arduino(INT8, board="tiny-mcu", out=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_model_larger_than_flash_is_refused(tmp_path, monkeypatch):
    write_board(tmp_path / "boards", ram_kib=256, flash_kib=16)
    monkeypatch.setenv("EDGECNN_BOARDS", str(tmp_path / "boards"))
    over = INT8.stat().st_size - 16 * 1024
    with pytest.raises(BadInputError, match=f"16,384 B of flash: {over:,} B too much"):
        export_arduino(INT8, board="tiny-mcu", out=tmp_path / "out")


def test_board_without_an_arduino_recipe_gets_a_generic_one(tmp_path, monkeypatch):
    write_board(tmp_path / "boards", ram_kib=64, flash_kib=256)
    monkeypatch.setenv("EDGECNN_BOARDS", str(tmp_path / "boards"))
    result = export_arduino(INT8, board="tiny-mcu", out=tmp_path / "out")
    assert "<your board's FQBN>" in read(result, "README.md")


def test_labels_not_matching_the_output_are_refused(tmp_path):
    model = copy_bundle(tmp_path, labels=["cat", "dog"])
    with pytest.raises(BadInputError, match="2 labels but the model outputs 10 scores"):
        export_arduino(model, board=NANO, out=tmp_path / "out")


def test_channel_statistics_broadcast_or_are_refused():
    assert _channel_stats([0.5], None, 3) == ((0.5,), (1.0,))
    assert _channel_stats(None, None, 3) == ((0.0,), (1.0,))
    assert _channel_stats([1, 2], [3], 2) == ((1.0, 2.0), (3.0, 3.0))
    with pytest.raises(BadInputError, match="mean/std for \\[2\\] channels .* has 3"):
        _channel_stats([1, 2], None, 3)


@pytest.mark.parametrize("name", ["-lead", "has space", "x" * 64, "slash/name", ""])
def test_invalid_sketch_names_are_refused(tmp_path, name):
    with pytest.raises(BadInputError, match="not a valid Arduino sketch name"):
        export_arduino(INT8, board=NANO, out=tmp_path, sketch_name=name)


# --- writing: atomic, no silent overwrite ----------------------------------------------


def test_existing_sketch_is_kept_unless_overwrite(tmp_path):
    first = export_arduino(INT8, board=NANO, out=tmp_path, sketch_name="digits")
    stale = Path(first.sketch_dir) / "notes.txt"
    stale.write_text("mine")
    with pytest.raises(BadInputError, match="already exists and is not empty"):
        export_arduino(INT8, board=NANO, out=tmp_path, sketch_name="digits")
    assert stale.exists()
    again = export_arduino(INT8, board=NANO, out=tmp_path, sketch_name="digits", overwrite=True)
    assert not stale.exists() and (Path(again.sketch_dir) / "digits.ino").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["digits"]


def test_out_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "out").write_text("a file")
    with pytest.raises(BadInputError, match="is a file, not a folder"):
        export_arduino(INT8, board=NANO, out=tmp_path / "out")


def test_empty_existing_folder_is_filled(tmp_path):
    (tmp_path / "digits").mkdir()
    result = export_arduino(INT8, board=NANO, out=tmp_path, sketch_name="digits")
    assert "digits.ino" in result.files


def test_failed_write_leaves_the_previous_sketch_and_no_temp_files(tmp_path, monkeypatch):
    export_arduino(INT8, board=NANO, out=tmp_path, sketch_name="digits")
    before = sorted(p.name for p in (tmp_path / "digits").iterdir())
    # A file in a missing subfolder cannot be written: the write fails half-way.
    monkeypatch.setattr(
        arduino_module, "render_files", lambda spec: {"digits.ino": "// new", "missing/x.h": ""}
    )
    with pytest.raises(BadInputError, match="cannot write .*digits"):
        export_arduino(INT8, board=NANO, out=tmp_path, sketch_name="digits", overwrite=True)
    assert [p.name for p in tmp_path.iterdir()] == ["digits"]
    assert sorted(p.name for p in (tmp_path / "digits").iterdir()) == before
    assert (tmp_path / "digits" / "digits.ino").read_text() != "// new"


def test_cli_export_arduino(tmp_path):
    from click.testing import CliRunner

    from edgecnn.cli import cli

    model = FIXTURES / "digits-lenet5-int8.tflite"
    ok = CliRunner().invoke(
        cli,
        [
            "export",
            "arduino",
            str(model),
            "--board",
            "arduino-nano-33-ble-sense",
            "--out",
            str(tmp_path),
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert (tmp_path / model.stem / f"{model.stem}.ino").is_file()
    bad = CliRunner().invoke(
        cli, ["export", "arduino", str(model), "--board", "rpi-4b", "--out", str(tmp_path / "x")]
    )
    assert bad.exit_code == 2 and "not a microcontroller" in bad.stderr
