"""edgecnn export firmware, the emulator's output parsing and the instruction cost model.

The real build (TFLite Micro + CMSIS-NN with arm-none-eabi-gcc) and the run in QEMU are
``make test-mcu``: the library alone takes many minutes to build on two cores. Here the
generated firmware is checked as text, compiled for the Cortex-M4F when the Arm compiler is
installed (object files only, against the vendor TFLite Micro headers), and the parts in
Python are checked on their own.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from edgecnn.core.errors import BadInputError
from edgecnn.export import export_arduino
from edgecnn.export.firmware import export_firmware, firmware_board, memory_limits
from edgecnn.mcu import toolchain
from edgecnn.mcu.build import _raise_build_failure
from edgecnn.mcu.conform import difference, request_line
from edgecnn.mcu.emulator import parse_output
from edgecnn.targets.boards import get_board
from tests.testkit import FIXTURES, REPO

INT8 = FIXTURES / "digits-lenet5-int8.tflite"
FP32 = FIXTURES / "digits-lenet5-fp32.tflite"
KWS = FIXTURES / "kws-dscnn-int8.tflite"
NUCLEO = "nucleo-l4r5zi"


@pytest.fixture(scope="module")
def firmware(tmp_path_factory):
    return export_firmware(INT8, board=NUCLEO, out=tmp_path_factory.mktemp("fw"))


def test_firmware_holds_the_sketch_files_byte_for_byte(firmware, tmp_path):
    name = Path(firmware.folder).name
    sketch = export_arduino(INT8, board=NUCLEO, out=tmp_path, sketch_name=name)
    for name in sketch.files:
        if name == "README.md":
            continue
        ours = (Path(firmware.folder) / name).read_bytes()
        assert ours == (Path(sketch.sketch_dir) / name).read_bytes(), name


def test_firmware_adds_a_bare_metal_build(firmware):
    names = set(firmware.files)
    assert {"Arduino.h", "platform.h", "firmware.h", "firmware.cpp", "Makefile",
            "platform_mps2_an386.c", "startup_mps2_an386.c", "mps2_an386.ld"} <= names
    assert firmware.board == NUCLEO
    assert firmware.arena_with_margin_bytes > firmware.arena_bytes > 0
    assert firmware.model_bytes == INT8.stat().st_size


def test_linker_script_limits_memory_to_the_board(firmware):
    board = get_board(NUCLEO)
    script = (Path(firmware.folder) / "mps2_an386.ld").read_text()
    assert f"LENGTH = {board.flash_bytes}" in script
    assert f"LENGTH = {board.ram_bytes}" in script
    assert memory_limits(board) == (firmware.flash_limit_bytes, firmware.ram_limit_bytes)


def test_makefile_uses_the_library_flags_and_defines(firmware):
    from edgecnn.export import tflm_flags

    makefile = (Path(firmware.folder) / "Makefile").read_text()
    for flag in (*tflm_flags.CPU_FLAGS, "-DEDGECNN_FIRMWARE"):
        assert flag in makefile
    for define in tflm_flags.DEFINES:
        assert f"-D{define}" in makefile
    assert "-x c++" in makefile  # the .ino is C++


def test_sketch_has_the_profiler_only_in_the_firmware(firmware):
    ino = next(Path(firmware.folder).glob("*.ino")).read_text()
    assert "#ifdef EDGECNN_FIRMWARE" in ino and "kProfiler = nullptr" in ino
    assert ino.index("EDGECNN_REPORT_INPUT(input_data);") < ino.index("->Invoke()")
    assert ino.index("->Invoke()") < ino.index("EDGECNN_REPORT_SCORES(scores);")


@pytest.mark.parametrize("board", ["esp32-s3", "rpi-pico"])
def test_boards_without_a_cortex_m4f_are_refused_naming_export_arduino(board, tmp_path):
    with pytest.raises(BadInputError, match="export arduino"):
        export_firmware(INT8, board=board, out=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_linux_board_is_refused(tmp_path):
    with pytest.raises(BadInputError, match="microcontroller"):
        firmware_board("rpi-4b")


def test_float_model_is_refused_and_nothing_is_written(tmp_path):
    with pytest.raises(BadInputError, match="int8"):
        export_firmware(FP32, board=NUCLEO, out=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_existing_firmware_is_kept_unless_overwrite(firmware):
    out = Path(firmware.folder).parent
    with pytest.raises(BadInputError, match="exists"):
        export_firmware(INT8, board=NUCLEO, out=out)
    again = export_firmware(INT8, board=NUCLEO, out=out, overwrite=True)
    assert again.files == firmware.files


def test_audio_model_firmware_carries_the_front_end(tmp_path):
    result = export_firmware(KWS, board=NUCLEO, out=tmp_path)
    assert "audio_frontend.cpp" in result.files
    assert "audio_frontend.cpp" in (Path(result.folder) / "Makefile").read_text()


def test_cli_export_firmware_prints_json_and_refuses_bad_boards(tmp_path):
    from click.testing import CliRunner

    from edgecnn.cli import cli

    runner = CliRunner()
    done = runner.invoke(cli, ["export", "firmware", str(INT8), "--board", NUCLEO,
                                "--out", str(tmp_path), "--json"])
    assert done.exit_code == 0, done.output
    data = json.loads(done.output)
    assert Path(data["folder"], "firmware.cpp").is_file()
    bad = runner.invoke(cli, ["export", "firmware", str(INT8), "--board", "esp32-s3",
                               "--out", str(tmp_path / "x")])
    assert bad.exit_code == 2
    assert "Xtensa" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


# --- the toolchain ---------------------------------------------------------------------------


def test_missing_tools_are_named_one_line_each_with_the_package(monkeypatch):
    monkeypatch.setattr(toolchain.shutil, "which", lambda name: None)
    lines = toolchain.missing_tools(qemu=True)
    assert len(lines) == len(toolchain.TOOLS) + 1
    assert "arm-none-eabi-gcc is not installed: apt-get install gcc-arm-none-eabi" in lines
    assert "qemu-system-arm is not installed: apt-get install qemu-system-arm" in lines
    with pytest.raises(BadInputError) as raised:
        toolchain.find_toolchain(qemu=True)
    assert str(raised.value).splitlines() == lines


def test_the_tflm_tree_comes_from_the_setting_or_the_checkout(tmp_path, monkeypatch):
    from edgecnn.mcu import tflmlib

    monkeypatch.delenv(tflmlib.TFLM_ENV, raising=False)
    vendored = REPO / "third_party" / "tflm" / tflmlib.TREE_ARCHIVE
    assert tflmlib.find_tflm_source() == vendored
    tree = tmp_path / "tflm_tree" / "tensorflow" / "lite" / "micro"
    tree.mkdir(parents=True)
    (tree / "micro_interpreter.h").write_text("// a tree\n")
    monkeypatch.setenv(tflmlib.TFLM_ENV, str(tmp_path / "tflm_tree"))
    assert tflmlib.find_tflm_source() == tmp_path / "tflm_tree"
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv(tflmlib.TFLM_ENV, str(tmp_path / "empty"))
    with pytest.raises(BadInputError, match="holds no TensorFlow Lite Micro tree"):
        tflmlib.find_tflm_source()


def test_a_compiler_without_its_libraries_is_named(monkeypatch):
    monkeypatch.setattr(toolchain.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(toolchain, "_finds", lambda compiler, name: name != "libstdc++.a")
    assert toolchain.missing_tools(qemu=False) == [
        "arm-none-eabi-g++ finds no libstdc++.a: apt-get install libstdc++-arm-none-eabi-newlib"
    ]


def test_test_mcu_exits_2_naming_what_is_missing(monkeypatch, capsys):
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "test_mcu_script", REPO / "mcu" / "test_mcu.py"
    )
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    monkeypatch.setattr(toolchain.shutil, "which", lambda name: None)
    assert script.main(["--models", "digits"]) == 2
    err = capsys.readouterr().err
    assert "apt-get install qemu-system-arm" in err
    assert script.main(["--models", "nope"]) == 2
    assert script.main(["--bundle", str(INT8)]) == 2  # --bundle without --run
    assert "--bundle and --run go together" in capsys.readouterr().err


def test_test_mcu_reads_a_runs_clips_as_int16_pcm(monkeypatch, tmp_path):
    from types import SimpleNamespace

    from edgecnn.training import rundir
    from tests.testkit import script_module

    clips = np.array([[0.5, -1.0, 0.25], [1.0, 0.0, -0.5]], np.float32)
    split = SimpleNamespace(x={"test": clips})
    monkeypatch.setattr(rundir, "load_split_arrays", lambda run_dir: split)
    with script_module(REPO / "mcu" / "test_mcu.py", "test_mcu_script") as script:
        pcm = script.run_inputs(FIXTURES / "kws-dscnn-int8.tflite", tmp_path, 0)
        images = script.run_inputs(INT8, tmp_path, 1)
    assert [p.dtype for p in pcm] == [np.int16, np.int16]
    assert pcm[0].tolist() == [16384, -32768, 8192] and pcm[1].tolist() == [32767, 0, -16384]
    assert len(images) == 1 and images[0].dtype == np.float32  # not audio: as the run has it


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("arm-none-eabi-g++") is None and os.environ.get("EDGECNN_REQUIRE_ARMGCC") != "1",
    reason="arm-none-eabi-g++ not installed (apt-get install gcc-arm-none-eabi "
           "libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib)",
)
@pytest.mark.parametrize("model", [INT8, KWS], ids=["digits", "kws"])
def test_firmware_sources_compile_for_the_cortex_m4f(model, tmp_path):
    """Every generated source compiles with the library's flags against the real headers."""
    from edgecnn.mcu import tflmlib

    missing = toolchain.missing_tools(qemu=False)
    assert not missing, f"EDGECNN_REQUIRE_ARMGCC=1 but {missing}"
    source = tflmlib.find_tflm_source()  # the checkout's third_party/tflm
    tree = tflmlib.unpacked_tree(source, tmp_path / "tree")
    result = export_firmware(model, board=NUCLEO, out=tmp_path / "fw")
    makefile_objects = ["build/" + name + ".o" for name in result.files
                        if name.endswith((".ino", ".cpp", ".c"))]
    done = subprocess.run(
        ["make", "-s", "-C", result.folder, "-j2", f"TFLM_TREE={tree}", "TFLM_LIB=none",
         *makefile_objects],
        capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for obj in makefile_objects:
        assert (Path(result.folder) / obj).stat().st_size > 0


# --- what the emulated firmware prints ------------------------------------------------------

PRINTED = """\
ticks_per_second=25000000
ready: arena used 2720 of 4352 bytes; send 64 values per line
input=80ff017f
invoke_ticks=130
scores=-128,5,127
op=0 CONV_2D ticks=100
op=1 FULLY_CONNECTED ticks=20
tflm: a message of TFLite Micro
label=b score=0.9961 invoke_us=4
input=00000000
scores=1,2,3
op=0 CONV_2D ticks=101
op=1 FULLY_CONNECTED ticks=20
label=c score=0.5000 invoke_us=4
"""


def test_parse_output_reads_arena_inputs_scores_and_op_ticks():
    run = parse_output(PRINTED)
    assert (run.arena_used_bytes, run.arena_bytes, run.ticks_per_second) == (2720, 4352, 25_000_000)
    assert len(run.inferences) == 2
    first = run.inferences[0]
    assert first.input.tolist() == [-128, -1, 1, 127]
    assert first.scores.tolist() == [-128, 5, 127]
    assert first.op_ticks == (("CONV_2D", 100), ("FULLY_CONNECTED", 20))
    assert first.label == "b" and first.ticks == 130  # the whole invoke, not just its ops
    assert run.inferences[1].ticks == 121  # without invoke_ticks: the ops' sum
    assert run.log == ("a message of TFLite Micro",)
    assert run.instructions(120) == 4800  # 40 instructions per 25 MHz tick at 1 GHz
    assert run.errors == ()


def test_parse_output_collects_the_firmware_errors():
    run = parse_output("ticks_per_second=25000000\nerror: AllocateTensors failed\n")
    assert run.errors == ("AllocateTensors failed",)
    assert run.inferences == ()


def test_linker_overflow_is_one_line_naming_the_memory_and_bytes():
    stderr = ("ld: firmware.elf section `.bss' will not fit in region `RAM'\n"
              "ld: region `RAM' overflowed by 123456 bytes\ncollect2: error: ld returned 1")
    with pytest.raises(BadInputError, match="ram overflowed by 123,456 B") as raised:
        _raise_build_failure(stderr, "ST NUCLEO-L4R5ZI", (2_097_152, 655_360))
    assert "limit 655,360 B" in str(raised.value)
    assert "\n" not in str(raised.value)


# --- requests and comparisons ---------------------------------------------------------------


def test_request_lines_read_back_as_the_same_float32_values():
    values = np.random.default_rng(0).standard_normal(200).astype(np.float32) * 1e3
    line = request_line(values)
    assert np.array_equal(np.array(line.split(","), dtype=np.float32), values)
    assert request_line(np.array([[-3, 7]], dtype=np.int16)) == "-3,7"


def test_difference_counts_values_and_the_largest_gap():
    a = [np.array([1, 2, 3], np.int8), np.array([-128], np.int8)]
    b = [np.array([1, 4, 3], np.int8), np.array([127], np.int8)]
    found = difference(a, b)
    assert (found.differing, found.total, found.max_lsb) == (2, 4, 255)
    assert str(difference(a, a)) == "0/4"


# --- instructions x CPI in the cost model ---------------------------------------------------


GROUP = "cmsis-nn:Cortex-M4F|int8"


def _points(cycles_per_instruction: list[float]):
    """The published Cortex-M4F points, given instruction counts with these CPIs."""
    from edgecnn.costfit.boardfit import _stored_features, collect_points
    from edgecnn.costfit.points import Point
    from edgecnn.targets.boards import list_boards

    points, _ = collect_points(list_boards(), _stored_features())
    m4f = [p for p in points if p.group == GROUP][: len(cycles_per_instruction)]
    assert len(m4f) == len(cycles_per_instruction)
    made = []
    for point, cpi in zip(m4f, cycles_per_instruction, strict=True):
        cycles = point.measurement.latency_ms / 1000 * point.board.clock_mhz * 1e6
        features = point.features | {"instructions": {GROUP: round(cycles / cpi)}}
        made.append(Point(point.board, point.measurement, features))
    return made


def test_cpi_is_the_geometric_mean_of_cycles_per_instruction():
    from edgecnn.costfit.fit import with_cpi
    from edgecnn.targets.costmodel import load_coefficients

    points = _points([1.0, 4.0])
    fitted = with_cpi(load_coefficients(), points)
    assert fitted.cpi[GROUP] == pytest.approx(2.0, rel=1e-6)
    assert fitted.cpi_fitted_from[GROUP] == sorted({p.board.id for p in points})


def test_instruction_latency_uses_the_clock_and_needs_a_cpi():
    import dataclasses

    from edgecnn.targets.costmodel import instruction_latency_ms, load_coefficients

    base = load_coefficients()
    nucleo, pi = get_board(NUCLEO), get_board("rpi-4b")
    with_cpi = dataclasses.replace(base, cpi={"cmsis-nn:Cortex-M4F|int8": 1.5})
    assert instruction_latency_ms(120_000_000, nucleo, with_cpi) == pytest.approx(1500.0)
    assert instruction_latency_ms(1, pi, with_cpi) is None
    assert instruction_latency_ms(1, nucleo, dataclasses.replace(base, cpi={})) is None


def test_estimate_with_emulated_instructions_uses_cpi_and_names_its_basis():
    import dataclasses

    from edgecnn.targets.costmodel import load_coefficients
    from edgecnn.targets.estimate import Emulated, estimate

    coefficients = dataclasses.replace(
        load_coefficients(), cpi={"cmsis-nn:Cortex-M4F|int8": 2.0},
        cpi_fitted_from={"cmsis-nn:Cortex-M4F|int8": [NUCLEO]},
    )
    mac_rows = estimate(INT8, boards=[NUCLEO, "rpi-4b"], coefficients=coefficients)
    ops = tuple((op.name, 1000 * (k + 1)) for k, op in enumerate(mac_rows[0].ops))
    total = sum(n for _, n in ops)
    rows = estimate(INT8, boards=[NUCLEO, "rpi-4b"], coefficients=coefficients,
                    emulated=Emulated(total, ops))
    assert rows[0].latency_ms == pytest.approx(total * 2.0 / 120e6 * 1000, rel=1e-3)
    assert "emulated instructions x CPI fitted on nucleo-l4r5zi" in rows[0].basis
    assert math.isclose(sum(o.latency_ms for o in rows[0].ops), rows[0].latency_ms, rel_tol=1e-2)
    assert rows[1] == mac_rows[1]  # a Linux board keeps the MAC model


def test_leave_one_out_cpi_predicts_each_point_from_the_others():
    from edgecnn.costfit.fit import fit, point_error, with_cpi

    points = _points([1.0, 2.0, 4.0])
    coefficients = with_cpi(fit(points), points)
    errors = [point_error(p, coefficients, points) for p in points]
    # Left out, the first point is predicted with CPI sqrt(2 * 4) instead of 1.
    assert errors[0].instr_loo_ms == pytest.approx(points[0].measurement.latency_ms * 8**0.5,
                                                   rel=1e-3)
    assert errors[1].instr_fitted_ms == pytest.approx(points[1].measurement.latency_ms, rel=1e-3)


def _cached_library():
    """The TFLM library when ``make test-mcu`` has built it here (building takes minutes)."""
    from edgecnn.core.errors import EdgecnnError
    from edgecnn.mcu import tflmlib

    if toolchain.missing_tools(qemu=True):
        return None, "the Arm toolchain or qemu-system-arm is missing (see make test-mcu)"
    tools = toolchain.find_toolchain(qemu=True)
    try:
        source = tflmlib.find_tflm_source()
    except EdgecnnError as exc:
        return None, str(exc)
    archive = tflmlib.cached_archive(source, tools)
    if archive is None:
        return None, "TFLite Micro is not built yet (make test-mcu builds and caches it)"
    return (tflmlib.build_library(tools, source=source), tools), ""


def test_digits_firmware_in_qemu_equals_tflite_micro(tmp_path):
    """The real thing, when the library is cached: built, run in QEMU, compared."""
    from sklearn.datasets import load_digits

    from edgecnn.mcu.conform import check_model

    found, why = _cached_library()
    if found is None:
        pytest.skip(why)
    library, tools = found
    raw = list(load_digits().images[:4].astype(np.uint8)[..., np.newaxis])
    result = check_model(INT8, raw, board=NUCLEO, work=tmp_path, library=library,
                         toolchain=tools)
    assert result.ok, result
    assert result.output_vs_tflm.differing == 0 and result.input_vs_host.differing == 0
    assert 0 < result.arena_used_bytes <= result.arena_allocated_bytes
    assert result.instructions > 100_000
    # the whole invoke holds its ops and the interpreter's work between them
    assert result.instructions >= sum(n for _, n in result.op_instructions)
    assert [tag for tag, _ in result.op_instructions][:2] == ["CONV_2D", "MAX_POOL_2D"]


MAP = """\
Discarded input sections
 .text.unused   0x00000000      0x400 libtflm.a(0001_gone.o)

Linker script and memory map

.text           0x00000000     0x1000
 .text.main     0x00000010       0x20 build/firmware.cpp.o
 .text._ZN6tflite16MicroInterpreter6InvokeEv
                0x00000030      0x100 /cache/libtflm.a(0102_micro_interpreter.o)
 .rodata.g_model_data
                0x00000200      0x800 build/model_data.cpp.o
 .ARM.exidx     0x00000a00      0x200 /cache/libtflm.a(0102_micro_interpreter.o)
 .data.x        0x20000000        0x8 /cache/libtflm.a(0050_conv.o)
 .bss.arena     0x20000008     0x4000 build/digits.ino.o
"""


def test_flash_by_object_reads_the_link_map(tmp_path):
    from edgecnn.mcu.build import flash_by_object

    path = tmp_path / "firmware.map"
    path.write_text(MAP)
    assert flash_by_object(path) == {
        "build/firmware.cpp.o": 0x20,
        "/cache/libtflm.a(0102_micro_interpreter.o)": 0x100,
        "build/model_data.cpp.o": 0x800,
        "/cache/libtflm.a(0050_conv.o)": 0x8,  # initialised data is stored in flash
    }


def test_a_firmware_too_large_for_the_board_names_the_bytes_and_leaves_nothing(
    tmp_path, monkeypatch
):
    from edgecnn.mcu.build import build_exported

    found, why = _cached_library()
    if found is None:
        pytest.skip(why)
    boards = tmp_path / "boards"
    boards.mkdir()
    nucleo = Path(get_board(NUCLEO).path).read_text()
    tiny = nucleo.split("[[measured]]")[0].replace(f'id = "{NUCLEO}"', 'id = "tiny-m4f"')
    (boards / "tiny-m4f.toml").write_text(tiny.replace("ram_kib = 640", "ram_kib = 20"))
    monkeypatch.setenv("EDGECNN_BOARDS", str(boards))
    export = export_firmware(INT8, board="tiny-m4f", out=tmp_path / "fw")
    with pytest.raises(BadInputError, match=r"ram overflowed by [\d,]+ B \(limit 20,480 B"):
        build_exported(export)
    assert not Path(export.folder).exists()


def test_emulate_without_an_emulated_board_is_refused_before_any_work():
    from click.testing import CliRunner

    from edgecnn.cli import cli

    done = CliRunner().invoke(cli, ["estimate", str(INT8), "--board", "rpi-4b",
                                    "--board", "esp32-s3", "--emulate"])
    assert done.exit_code == 2
    assert "none of rpi-4b, esp32-s3 has an emulated core" in done.stderr
    assert NUCLEO in done.stderr


def test_a_refit_from_an_older_edgecnn_gets_the_newer_counts(tmp_path, monkeypatch):
    from edgecnn.core import fileio
    from edgecnn.costfit.boardfit import _instruction_counts_only, _stored_features
    from edgecnn.targets.costmodel import COST_MODEL_PATH, Coefficients

    shipped = json.loads(COST_MODEL_PATH.read_text())["features"]
    old = {g: {d: {k: v for k, v in c.items() if k not in ("memory_bytes", "instructions")}
               for d, c in by_dtype.items()} for g, by_dtype in shipped.items()}
    fileio.write_json(tmp_path / "cost-model.json",
                      {"features": old, "coefficients": Coefficients.priors().to_dict()})
    monkeypatch.setenv("EDGECNN_BOARDS", str(tmp_path))
    merged = _stored_features()
    assert merged == shipped
    kept = _instruction_counts_only(merged)
    resnet8 = shipped["resnet8_32"]["int8"]
    assert kept["resnet8_32"]["int8"] == {"instructions": resnet8["instructions"]}
    assert kept["mobilenet_v1_224"] == {}  # no counts: rebuilt from scratch


def test_emulate_on_a_board_without_a_cpi_says_the_mac_model_stands():
    import dataclasses

    from edgecnn.targets.costmodel import load_coefficients
    from edgecnn.targets.estimate import Emulated, estimate

    coefficients = dataclasses.replace(load_coefficients(), cpi={})
    row = estimate(INT8, boards=[NUCLEO], coefficients=coefficients,
                   emulated=Emulated(1000, ()))[0]
    assert "no CPI fitted for cmsis-nn:Cortex-M4F|int8: MACs" in row.basis
