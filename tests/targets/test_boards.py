import pytest

from edgecnn.core.errors import BadInputError
from edgecnn.targets.boards import BoardKind, get_board, list_boards, load_board_file

REQUIRED = {
    "rpi-zero-2w",
    "rpi-3b-plus",
    "rpi-4b",
    "rpi-5",
    "arduino-nano-33-ble-sense",
    "esp32-s3",
    "rpi-pico",
    "nucleo-l4r5zi",
}


def test_every_shipped_board_loads():
    boards = {b.id: b for b in list_boards()}
    assert set(boards) >= REQUIRED
    for board in boards.values():
        assert board.cores >= 1 and board.clock_mhz > 0 and board.ram_bytes > 0
        assert (board.runtime == "tflm") == (board.kind == BoardKind.MCU)
        for point in board.measured:
            assert point.latency_ms > 0 and point.source
    assert boards["arduino-nano-33-ble-sense"].ram_bytes == 256 * 1024


def test_unknown_board_lists_the_known_ones():
    with pytest.raises(BadInputError, match="known boards: .*rpi-4b"):
        get_board("rpi-6")


GOOD = """
id = "my-board"
name = "Mine"
kind = "mcu"
runtime = "tflm"
kernels = "cmsis-nn"
[cpu]
core = "Cortex-M7"
clock_mhz = 480
cores = 1
[memory]
ram_kib = 1024
flash_kib = 2048
"""


def write_board(tmp_path, text, name="my-board"):
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


def test_user_board_folder(tmp_path, monkeypatch):
    write_board(tmp_path, GOOD)
    monkeypatch.setenv("EDGECNN_BOARDS", str(tmp_path))
    board = get_board("my-board")
    assert board.clock_mhz == 480.0 and board.flash_bytes == 2 * 1024 * 1024
    assert "my-board" in {b.id for b in list_boards()}


@pytest.mark.parametrize(
    "old, new, message",
    [
        ("clock_mhz = 480", "", "key 'cpu.clock_mhz' is missing"),
        ("clock_mhz = 480", 'clock_mhz = "fast"', "'cpu.clock_mhz' must be float"),
        ('kind = "mcu"', 'kind = "fpga"', "'kind' is 'fpga'; use linux, mcu"),
        ("cores = 1", "cores = 1.5", "'cpu.cores' must be int"),
        ('id = "my-board"', 'id = "other"', "must match the file name"),
        ("[memory]", "[memory", "not valid TOML"),
    ],
)
def test_malformed_board_names_the_key(tmp_path, old, new, message):
    path = write_board(tmp_path, GOOD.replace(old, new))
    with pytest.raises(BadInputError, match=message):
        load_board_file(path)


def test_malformed_measurement(tmp_path):
    text = GOOD + '[[measured]]\nmodel = "x"\nrebuild = "zoo x"\n'
    with pytest.raises(BadInputError, match="'measured\\[0\\].dtype' is missing"):
        load_board_file(write_board(tmp_path, text))
