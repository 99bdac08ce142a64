"""The compiler flags of the Cortex-M4F TFLite Micro build, one list for both users.

The firmware's generated Makefile (:mod:`edgecnn.export.firmware`) and the library build
(:mod:`edgecnn.mcu.tflmlib`) must agree on them: a firmware compiled with other
``TF_LITE_*`` defines than its library misreads the library's structures. They live here,
on the generation side, because the Makefile is written without building anything.
"""

from __future__ import annotations

CPU_FLAGS = ("-mcpu=cortex-m4", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard", "-mthumb")
# The firmware must be compiled with the same TF_LITE_* defines as the library.
DEFINES = (
    "TF_LITE_STATIC_MEMORY",
    "TF_LITE_MCU_DEBUG_LOG",
    "CMSIS_NN",
    "ARMCM4",
    'CMSIS_DEVICE_ARM_CORTEX_M_XX_HEADER_FILE="ARMCM4.h"',
    "KERNELS_OPTIMIZED_FOR_SPEED",
)
COMMON_FLAGS = (*CPU_FLAGS, "-O2", "-ffunction-sections", "-fdata-sections", "-fno-common")
CXX_FLAGS = ("-std=c++17", "-fno-rtti", "-fno-exceptions", "-fno-threadsafe-statics",
             "-fno-use-cxa-atexit")
C_FLAGS = ("-std=c11",)
INCLUDE_DIRS = (
    ".",
    "third_party/flatbuffers/include",
    "third_party/gemmlowp",
    "third_party/ruy",
    "third_party/cmsis/CMSIS/Core/Include",
    "third_party/cmsis/Cortex_DFP/Device/ARMCM4/Include",
    "third_party/cmsis_nn",
    "third_party/cmsis_nn/Include",
)
