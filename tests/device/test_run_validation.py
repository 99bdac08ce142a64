"""``edgecnn run``: one sample rule for every source; bad bundles and options: one line, exit 2."""

import io
import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner

from edgecnn.cli import cli
from edgecnn.core.errors import BadInputError
from edgecnn.core.preprocess import DataKind, Preprocessing
from edgecnn.device.io.serialport import SerialLines
from edgecnn.device.io.sources import CsvLines, CsvReplay, NpzReplay
from edgecnn.device.loop import run
from edgecnn.device.preflight import RunOptions
from tests.testkit import FIXTURES

DIGITS = FIXTURES / "digits-lenet5-int8.tflite"
SENSOR = Preprocessing(
    kind=DataKind.SENSOR, input_shape=(4, 3), channels=("ax", "ay", "az"), window=4, hop=2
)
IMAGE = Preprocessing(kind=DataKind.IMAGE, input_shape=(2, 2, 1))
# Three clean samples between rows with a value too many, one too few, a NaN, an inf and a word.
ROWS = ["1,2,3", "1,2,3,4", "1,2", "nan,1,2", "1,inf,2", "4,5,6", "1,x,2", "7,8,9"]
CLEAN = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]


class Lines:
    """A serial port that reads the given lines, then tells the source to stop."""

    def __init__(self, source_box, lines):
        self.box, self.lines = source_box, [b"skipped: may be cut off\n", *lines]

    def readline(self):
        if not self.lines:
            self.box[0].stop.set()
            return b""
        return self.lines.pop(0)

    def close(self):
        pass


def values_and_drops(source):
    return [list(item.values) for item in source], source.stats.dropped


def test_every_text_source_keeps_and_drops_the_same_rows(tmp_path):
    csv_path = tmp_path / "r.csv"
    csv_path.write_text("ax,ay,az\n" + "\n".join(ROWS) + "\n")
    replay = CsvReplay(csv_path, SENSOR, rate_hz=0)
    stdin = CsvLines(io.StringIO("\n".join(ROWS) + "\n"), SENSOR)
    box = []
    serial = SerialLines(
        "/dev/x", SENSOR, opener=lambda *_: Lines(box, [f"{r}\n".encode() for r in ROWS])
    )
    box.append(serial)
    for source in (replay, stdin, serial):
        assert values_and_drops(source) == (CLEAN, len(ROWS) - 3), type(source).__name__


def test_npz_replay_drops_and_counts_samples_with_nan_or_inf(tmp_path):
    x = np.ones((5, 2, 2, 1), np.float32)
    x[1] = np.nan
    x[3, 0, 0, 0] = np.inf
    path = tmp_path / "x.npz"
    np.savez(path, x=x, y=np.arange(5))
    source = NpzReplay(path, IMAGE, rate_hz=0)
    assert [item.label for item in source] == ["0", "2", "4"] and source.stats.dropped == 2


def test_an_all_nan_npz_run_emits_nothing_and_counts_the_drops(tmp_path):
    path = tmp_path / "nan.npz"
    np.savez(path, x=np.full((3, 8, 8, 1), np.nan, np.float32))
    out = tmp_path / "r.jsonl"
    summary = run(str(DIGITS), source=f"replay:{path}", sinks=[f"jsonl:{out}"],
                  options=RunOptions(rate_hz=0), log=lambda _line: None)  # fmt: skip
    assert (summary.windows, summary.dropped) == (0, 3)
    assert out.read_text() == ""


def damaged_bundle(tmp_path, change):
    model = tmp_path / "m.tflite"
    shutil.copy(DIGITS, model)
    manifest = json.loads(DIGITS.with_suffix(".json").read_text())
    change(manifest)
    model.with_suffix(".json").write_text(json.dumps(manifest))
    np.savez(tmp_path / "x.npz", x=np.zeros((2, 8, 8, 1), np.float32))
    return model


def one_line_exit_2(args, tmp_path):
    result = CliRunner().invoke(cli, ["run", *args])
    assert result.exit_code == 2, (result.output, result.exception)
    assert result.stderr.startswith("edgecnn: error: ")
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.output
    return result.stderr


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda m: m.update(labels=["a", "b", "c"]), "3 labels"),
        (lambda m: m.update(labels=[]), "0 labels"),
        (lambda m: m.update(labels=[*"0123456709"]), "labels repeat '0' (outputs 0 and 8)"),
        (lambda m: m["preprocessing"].update(kind="video"), "'video'"),
        (lambda m: m["preprocessing"].pop("kind"), "kind"),
        (lambda m: m["preprocessing"].update(input_shape="8x8"), "input_shape"),
        (lambda m: m["preprocessing"].update(input_shape=[8, 8, 3]), "(8, 8, 1)"),
        (lambda m: m["preprocessing"].update(scale="big"), "scale"),
        (lambda m: m.update(preprocessing=None), "preprocessing"),
    ],
)
def test_a_damaged_manifest_is_one_line_and_exit_2(tmp_path, change, message):
    model = damaged_bundle(tmp_path, change)
    err = one_line_exit_2([str(model), "--source", f"replay:{tmp_path / 'x.npz'}"], tmp_path)
    assert message in err


@pytest.mark.parametrize(
    "source, message",
    [
        ("replay:{d}/x.npz?rate=abc", "rate='abc'"),
        ("replay:{d}/x.npz?rate=-2", "rate='-2'"),
        ("replay:{d}/x.npz?rate=nan", "rate='nan'"),
        ("serial:/dev/ttyACM0?baud=fast", "baud='fast'"),
    ],
)
def test_bad_source_options_are_one_line_and_exit_2(tmp_path, source, message):
    np.savez(tmp_path / "x.npz", x=np.zeros((2, 8, 8, 1), np.float32))
    err = one_line_exit_2([str(DIGITS), "--source", source.format(d=tmp_path)], tmp_path)
    assert message in err


@pytest.mark.parametrize(
    "option, message",
    [
        (["--rate", "-5"], "--rate"),
        (["--rate", "nan"], "--rate"),
        (["--min-interval", "-1"], "--min-interval"),
        (["--metrics-every", "-1"], "--metrics-every"),
        (["--metrics-every", "0"], "--metrics-every"),
        (["--threshold", "2"], "--threshold"),
        (["--smooth", "0"], "--smooth"),
    ],
)
def test_bad_run_options_are_refused_before_any_sink_file_is_made(tmp_path, option, message):
    np.savez(tmp_path / "x.npz", x=np.zeros((2, 8, 8, 1), np.float32))
    out = tmp_path / "r.jsonl"
    args = [str(DIGITS), "--source", f"replay:{tmp_path / 'x.npz'}", "--sink", f"jsonl:{out}"]
    err = one_line_exit_2([*args, *option], tmp_path)
    assert message in err and option[1] in err
    assert not out.exists()


def test_run_options_refuse_bad_values_in_the_library_too():
    with pytest.raises(BadInputError, match="--rate"):
        RunOptions(rate_hz=-5)
    with pytest.raises(BadInputError, match="--max-windows"):
        RunOptions(max_windows=0)
    assert RunOptions(rate_hz=0, metrics_every=0.5, min_interval=0).rate_hz == 0


@pytest.mark.parametrize("text", ["", " ", ","])
def test_quantize_refuses_a_mode_option_that_names_no_mode(text):
    from edgecnn.optimize.quantize import parse_modes

    with pytest.raises(BadInputError, match="names no mode"):
        parse_modes([text])
    assert [str(m) for m in parse_modes(["int8,fp32", "int8"])] == ["int8", "fp32"]


def test_a_replay_csv_that_is_not_utf8_is_one_line_before_any_result(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"ax,ay,az,label\n1,2,3,a\n1,2,3,caf\xe9\n")
    out = tmp_path / "r.jsonl"
    imu = FIXTURES / "imu-cnn1d-int8.tflite"
    args = [str(imu), "--source", f"replay:{path}", "--sink", f"jsonl:{out}"]
    message = one_line_exit_2(args, tmp_path)
    assert f"replay file {path} is not UTF-8 text: byte 0xe9 on line 3" in message
    assert not out.exists()


@pytest.mark.parametrize("value", ["1_0", "\uff11", "\u0661", "1\u00a0", "0x10", "1e", "1.2.3"])
def test_numbers_in_text_rows_are_plain_ascii_decimals_not_python_syntax(value):
    rows = ["1,2,3", f"{value},2,3", "4,5,6"]
    stdin = CsvLines(io.StringIO("\n".join(rows) + "\n"), SENSOR)
    assert values_and_drops(stdin) == ([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], 1)


def test_plain_numbers_of_every_spelling_are_kept():
    rows = ["-1,+2.5,.5", " 1.,1e3 ,-2.5E-2"]
    stdin = CsvLines(io.StringIO("\n".join(rows) + "\n"), SENSOR)
    assert values_and_drops(stdin) == ([[-1.0, 2.5, 0.5], [1.0, 1000.0, -0.025]], 0)
