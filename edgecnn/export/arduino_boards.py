"""How to build a sketch for each board: the Arduino core, the FQBN and the TFLM library.

Chirale_TensorFlowLite is the TFLite Micro port in the Arduino Library Manager that follows
recent TFLite Micro (``MicroMutableOpResolver``, the four-argument ``MicroInterpreter``) and
brings CMSIS-NN kernels (SIMD on Arm, portable C elsewhere). Boards without an entry get
generic instructions.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ArduinoTarget:
    """How to build for one board in the Arduino world.

    Attributes:
        core: the board package (Boards Manager name and arduino-cli platform).
        fqbn: the arduino-cli fully qualified board name, when known.
        library: the TFLite Micro Arduino library, as named in the Library Manager.
        header: its main header, which makes the Arduino builder compile the library.
        note: what to know about this library on this board.
    """

    core: str
    fqbn: str | None
    library: str = "Chirale_TensorFlowLite"
    header: str = "Chirale_TensorFlowLite.h"
    note: str = ""


_NOT_TESTED = (
    "Chirale_TensorFlowLite declares the mbed_nano, esp32, mbed_nicla, mbed_portenta and "
    "mbed_giga architectures; on this core the IDE warns that it may be incompatible. The "
    "sketch uses only the TFLite Micro API, so any Arduino port of TFLite Micro can replace "
    "it: change the library include at the top of the .ino."
)

TARGETS: dict[str, ArduinoTarget] = {
    "arduino-nano-33-ble-sense": ArduinoTarget(
        core="Arduino Mbed OS Nano Boards (arduino:mbed_nano)",
        fqbn="arduino:mbed_nano:nano33ble",
    ),
    "esp32-s3": ArduinoTarget(
        core="esp32 by Espressif Systems (esp32:esp32)",
        fqbn="esp32:esp32:esp32s3",
        note="On ESP32 this library runs the portable C kernels (CMSIS-NN without Arm SIMD), "
        "not ESP-NN; the ESP-NN latencies in boards/esp32-s3.toml need "
        "espressif/esp-tflite-micro (ESP-IDF).",
    ),
    "rpi-pico": ArduinoTarget(
        core="Arduino Mbed OS RP2040 Boards (arduino:mbed_rp2040)",
        fqbn="arduino:mbed_rp2040:pico",
        note=_NOT_TESTED,
    ),
    "nucleo-l4r5zi": ArduinoTarget(
        core="STM32 MCU based boards (STMicroelectronics:stm32)",
        fqbn="STMicroelectronics:stm32:Nucleo_144:pnum=NUCLEO_L4R5ZI",
        note=_NOT_TESTED,
    ),
}
OTHER_BOARD = ArduinoTarget(core="the Arduino core of your board", fqbn=None, note=_NOT_TESTED)


def target_for(board_id: str) -> ArduinoTarget:
    """The Arduino recipe of a board id (generic for boards edgecnn has none for)."""
    return TARGETS.get(board_id, OTHER_BOARD)
