"""Templates of the bare-metal firmware: the sketch's own files plus what replaces Arduino.

``edgecnn export firmware`` writes the Arduino sketch's files unchanged (the ``.ino`` is
compiled as C++) and adds a small ``Arduino.h`` (``Serial``, ``millis``, ``micros``) over
six platform hooks (``platform.h``), ``firmware.cpp`` with ``main()``, a per-op tick
counter and the raw-score report, and one implemented platform: QEMU's ``mps2-an386``
(a Cortex-M4 with FPU; semihosting for I/O, SysTick for time). A real board needs its own
startup, linker script and the six hooks (README.md).
"""

from string import Template

ARDUINO_SHIM_H = """\
// The part of the Arduino API the sketch uses, for bare metal, over platform.h.
#ifndef EDGECNN_ARDUINO_SHIM_H_
#define EDGECNN_ARDUINO_SHIM_H_

#include <stddef.h>
#include <stdint.h>

unsigned long millis();
unsigned long micros();

class FirmwareSerial {
 public:
  void begin(unsigned long baud) { baud_ = baud; }
  explicit operator bool() const { return true; }
  // 1 when a character is waiting (reading it from the platform, which may block), else 0;
  // 0 for good once the input has ended.
  int available();
  int read();
  bool ended() const { return ended_; }
  bool polled() const { return polled_; }
  void clear_polled() { polled_ = false; }

  void print(const char* text);
  void print(char c);
  void print(int value) { print(static_cast<long>(value)); }
  void print(long value);
  void print(unsigned int value) { print(static_cast<unsigned long>(value)); }
  void print(unsigned long value);
  void print(float value, int digits = 2);
  template <typename T>
  void println(T value) {
    print(value);
    print("\\n");
  }
  void println(float value, int digits) {
    print(value, digits);
    print("\\n");
  }
  void println() { print("\\n"); }

 private:
  unsigned long baud_ = 0;
  int pending_ = -1;
  bool ended_ = false;
  bool polled_ = false;
};

extern FirmwareSerial Serial;

#endif  // EDGECNN_ARDUINO_SHIM_H_
"""

PLATFORM_H = """\
// What a board must provide to run the firmware: character I/O, a tick counter and exit.
// platform_mps2_an386.c implements them for QEMU's mps2-an386; write the same six
// over a UART and a timer for a real board.
#ifndef EDGECNN_PLATFORM_H_
#define EDGECNN_PLATFORM_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

void PlatformInit(void);
// The next input character, or -1 once the input has ended.
int PlatformReadChar(void);
void PlatformWrite(const char* text, size_t length);
// A free-running counter and its rate.
uint32_t PlatformTicks(void);
uint32_t PlatformTicksPerSecond(void);
// Ends the program (0 = success); on a board without a host, loop forever instead.
void PlatformExit(int code);

#ifdef __cplusplus
}
#endif

#endif  // EDGECNN_PLATFORM_H_
"""

FIRMWARE_H = """\
// Included by the sketch when built as bare-metal firmware (EDGECNN_FIRMWARE): TFLite Micro
// reports every op to kProfiler, and each request prints the raw int8 input and scores, the
// ticks of the whole Invoke() and of every op before the sketch's own result line.
#ifndef EDGECNN_FIRMWARE_H_
#define EDGECNN_FIRMWARE_H_

#include <stdint.h>

#include "tensorflow/lite/micro/micro_profiler_interface.h"

// Platform ticks of each op of one Invoke(), in execution order.
class OpTicks : public tflite::MicroProfilerInterface {
 public:
  static constexpr int kMaxOps = 256;
  uint32_t BeginEvent(const char* tag) override;
  void EndEvent(uint32_t handle) override;
  // Prints "op=<index> <tag> ticks=<n>" per op (and "ops_dropped=<n>" past kMaxOps), then
  // forgets them.
  void Report();

 private:
  const char* tags_[kMaxOps];
  uint32_t start_[kMaxOps];
  uint32_t ticks_[kMaxOps];
  int count_ = 0;
  int dropped_ = 0;
};

extern OpTicks g_op_ticks;
static tflite::MicroProfilerInterface* const kProfiler = &g_op_ticks;

// input=<hex of the int8 input tensor>, printed before Invoke() (TFLite Micro may reuse the
// input's arena space for later tensors).
void FirmwareReportInput(const int8_t* input);
// invoke_ticks=<ticks since the input was reported>, scores=<int8 outputs>, then the op ticks.
void FirmwareReportScores(const int8_t* scores);
#define EDGECNN_REPORT_INPUT(input) FirmwareReportInput(input)
#define EDGECNN_REPORT_SCORES(scores) FirmwareReportScores(scores)

#endif  // EDGECNN_FIRMWARE_H_
"""

FIRMWARE_CPP = """\
// main() for bare metal: the sketch's setup() once, then loop() until the input ends.
#include "firmware.h"

#include "Arduino.h"
#include "model_settings.h"
#include "platform.h"
#include "tensorflow/lite/micro/cortex_m_generic/debug_log_callback.h"

FirmwareSerial Serial;
OpTicks g_op_ticks;
static uint32_t g_invoke_start;

// TFLite Micro's own messages (why AllocateTensors failed, say), one "tflm: " line each.
static void DebugLogToPlatform(const char* text) {
  static bool line_start = true;
  for (const char* c = text; *c != '\\0'; ++c) {
    if (line_start) PlatformWrite("tflm: ", 6);
    PlatformWrite(c, 1);
    line_start = *c == '\\n';
  }
}

void setup();
void loop();

unsigned long micros() {
  // The platform's 32-bit ticks wrap (every 172 s at 25 MHz); extend them to 64 bits so
  // micros() wraps like Arduino's, at 2^32 microseconds.
  static uint32_t last = 0;
  static uint64_t high = 0;
  const uint32_t now = PlatformTicks();
  if (now < last) high += 1ull << 32;
  last = now;
  return static_cast<unsigned long>((high + now) * 1000000u / PlatformTicksPerSecond());
}

unsigned long millis() { return micros() / 1000u; }

int main() {
  PlatformInit();
  RegisterDebugLogCallback(DebugLogToPlatform);
  Serial.print("ticks_per_second=");
  Serial.println(static_cast<unsigned long>(PlatformTicksPerSecond()));
  setup();
  while (!Serial.ended()) {
    Serial.clear_polled();
    loop();
    // loop() returns without reading when setup() failed (it printed why).
    if (!Serial.polled()) PlatformExit(1);
  }
  PlatformExit(0);
  return 0;
}

int FirmwareSerial::available() {
  polled_ = true;
  if (pending_ < 0 && !ended_) {
    pending_ = PlatformReadChar();
    ended_ = pending_ < 0;
  }
  return pending_ >= 0 ? 1 : 0;
}

int FirmwareSerial::read() {
  if (available() == 0) return -1;
  const int c = pending_;
  pending_ = -1;
  return c;
}

void FirmwareSerial::print(const char* text) {
  size_t length = 0;
  while (text[length] != '\\0') ++length;
  PlatformWrite(text, length);
}

void FirmwareSerial::print(char c) { PlatformWrite(&c, 1); }

void FirmwareSerial::print(unsigned long value) {
  char digits[12];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  char text[12];
  for (int i = 0; i < n; ++i) text[i] = digits[n - 1 - i];
  PlatformWrite(text, static_cast<size_t>(n));
}

void FirmwareSerial::print(long value) {
  if (value < 0) {
    print('-');
    print(static_cast<unsigned long>(-(value + 1)) + 1u);
  } else {
    print(static_cast<unsigned long>(value));
  }
}

void FirmwareSerial::print(float value, int digits) {
  if (!(value == value)) {  // NaN
    print("nan");
    return;
  }
  if (value < 0) {
    print('-');
    value = -value;
  }
  unsigned long scale = 1;
  for (int i = 0; i < digits; ++i) scale *= 10;
  const unsigned long fixed = static_cast<unsigned long>(value * scale + 0.5f);
  print(fixed / scale);
  if (digits <= 0) return;
  print('.');
  unsigned long fraction = fixed % scale;
  for (unsigned long place = scale / 10; place > 0; place /= 10) {
    print(static_cast<char>('0' + fraction / place));
    fraction %= place;
  }
}

uint32_t OpTicks::BeginEvent(const char* tag) {
  if (count_ >= kMaxOps) {
    ++dropped_;
    return kMaxOps;
  }
  tags_[count_] = tag;
  start_[count_] = PlatformTicks();
  return static_cast<uint32_t>(count_++);
}

void OpTicks::EndEvent(uint32_t handle) {
  const uint32_t now = PlatformTicks();
  if (handle < static_cast<uint32_t>(count_)) ticks_[handle] = now - start_[handle];
}

void OpTicks::Report() {
  for (int i = 0; i < count_; ++i) {
    Serial.print("op=");
    Serial.print(i);
    Serial.print(" ");
    Serial.print(tags_[i]);
    Serial.print(" ticks=");
    Serial.println(static_cast<unsigned long>(ticks_[i]));
  }
  if (dropped_ > 0) {
    Serial.print("ops_dropped=");
    Serial.println(dropped_);
  }
  count_ = 0;
  dropped_ = 0;
}

void FirmwareReportInput(const int8_t* input) {
  static const char kHex[] = "0123456789abcdef";
  Serial.print("input=");
  for (int i = 0; i < kInputElements; ++i) {
    const uint8_t byte = static_cast<uint8_t>(input[i]);
    Serial.print(kHex[byte >> 4]);
    Serial.print(kHex[byte & 15]);
  }
  Serial.println();
  g_invoke_start = PlatformTicks();  // last: the printing above is not the model's time
}

void FirmwareReportScores(const int8_t* scores) {
  const uint32_t invoke_ticks = PlatformTicks() - g_invoke_start;  // first, for the same reason
  Serial.print("invoke_ticks=");
  Serial.println(static_cast<unsigned long>(invoke_ticks));
  Serial.print("scores=");
  for (int i = 0; i < kNumClasses; ++i) {
    if (i > 0) Serial.print(",");
    Serial.print(static_cast<int>(scores[i]));
  }
  Serial.println();
  g_op_ticks.Report();
}
"""

PLATFORM_MPS2_C = """\
// platform.h for QEMU's mps2-an386 (Cortex-M4 with FPU): semihosting console I/O and exit,
// SysTick on the 25 MHz processor clock for time (wraps counted in its interrupt). Run:
//   qemu-system-arm -M mps2-an386 -nographic -monitor none -serial none \\
//     -semihosting-config enable=on,target=native -icount shift=0 \\
//     -kernel firmware.elf < requests.txt
// With -icount shift=0 QEMU runs one instruction per ns of virtual time: one tick is 40
// executed instructions.
#include <stddef.h>
#include <stdint.h>

#include "platform.h"

#define SYSTICK_CTRL (*(volatile uint32_t*)0xE000E010u)
#define SYSTICK_LOAD (*(volatile uint32_t*)0xE000E014u)
#define SYSTICK_VAL (*(volatile uint32_t*)0xE000E018u)
#define SYSTICK_RELOAD 0xFFFFFFu
#define CPU_CLOCK_HZ 25000000u

enum {
  kSysOpen = 0x01,
  kSysWrite = 0x05,
  kSysRead = 0x06,
  kSysExit = 0x18,
};
#define ADP_STOPPED_APPLICATION_EXIT 0x20026
#define ADP_STOPPED_RUNTIME_ERROR 0x20023

static volatile uint32_t systick_wraps;
static int console_in = -1;
static int console_out = -1;
static char in_buffer[256];
static int in_length;
static int in_next;

static int Semihost(int operation, void* argument) {
  register int r0 __asm__("r0") = operation;
  register void* r1 __asm__("r1") = argument;
  __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

static int OpenConsole(int mode) {
  uint32_t args[3] = {(uint32_t)(uintptr_t)":tt", (uint32_t)mode, 3};
  return Semihost(kSysOpen, args);
}

void SysTick_Handler(void) { systick_wraps++; }

void PlatformInit(void) {
  console_in = OpenConsole(0);   // "r"
  console_out = OpenConsole(4);  // "w"
  SYSTICK_LOAD = SYSTICK_RELOAD;
  SYSTICK_VAL = 0;
  SYSTICK_CTRL = 7;  // processor clock, interrupt on wrap, enabled
}

int PlatformReadChar(void) {
  if (in_next == in_length) {
    uint32_t args[3] = {(uint32_t)console_in, (uint32_t)(uintptr_t)in_buffer,
                        sizeof(in_buffer)};
    const int not_read = Semihost(kSysRead, args);  // returns the bytes it did not read
    in_length = (int)sizeof(in_buffer) - not_read;
    in_next = 0;
    if (not_read < 0 || in_length <= 0) {
      in_length = 0;
      return -1;
    }
  }
  return (unsigned char)in_buffer[in_next++];
}

void PlatformWrite(const char* text, size_t length) {
  uint32_t args[3] = {(uint32_t)console_out, (uint32_t)(uintptr_t)text, (uint32_t)length};
  Semihost(kSysWrite, args);
}

uint32_t PlatformTicks(void) {
  uint32_t wraps, value;
  do {  // a wrap between the two reads would pair a new value with the old count
    wraps = systick_wraps;
    value = SYSTICK_VAL;
  } while (wraps != systick_wraps);
  // SysTick counts RELOAD..0, and interrupts (wraps++) as it reaches 0: at that tick the
  // elapsed count within the new period is 0, one tick later (VAL = RELOAD again) it is 1.
  return (wraps << 24) + ((SYSTICK_RELOAD + 1u - value) & SYSTICK_RELOAD);
}

uint32_t PlatformTicksPerSecond(void) { return CPU_CLOCK_HZ; }

void PlatformExit(int code) {
  for (;;) {
    Semihost(kSysExit, (void*)(uintptr_t)(code == 0 ? ADP_STOPPED_APPLICATION_EXIT
                                                    : ADP_STOPPED_RUNTIME_ERROR));
  }
}
"""

STARTUP_MPS2_C = """\
// Vector table and reset handler for QEMU's mps2-an386 (see mps2_an386.ld).
#include <stdint.h>

#include "platform.h"

extern uint32_t __stack_top, __data_load, __data_start, __data_end, __bss_start, __bss_end;
extern int main(void);
extern void __libc_init_array(void);

void Reset_Handler(void);
void SysTick_Handler(void);

static void Fault(void) {
  static const char kMessage[] = "error: the firmware faulted (hard fault)\\n";
  PlatformWrite(kMessage, sizeof(kMessage) - 1);
  PlatformExit(1);
}

__attribute__((section(".isr_vector"), used)) static void (*const kVectors[16])(void) = {
    (void (*)(void))(&__stack_top), Reset_Handler, Fault, Fault, Fault, Fault, Fault,
    0, 0, 0, 0, Fault, Fault, 0, Fault, SysTick_Handler,
};

void Reset_Handler(void) {
  // The FPU first: the C library and the front end use float instructions.
  *(volatile uint32_t*)0xE000ED88u |= 0xFu << 20;
  __asm__ volatile("dsb\\n isb");
  uint32_t* from = &__data_load;
  for (uint32_t* to = &__data_start; to < &__data_end;) *to++ = *from++;
  for (uint32_t* to = &__bss_start; to < &__bss_end;) *to++ = 0;
  __libc_init_array();  // C++ constructors of static objects
  PlatformExit(main());
}
"""

LINKER_MPS2 = Template("""\
/* QEMU mps2-an386 memory map, limited to what $board_name has: code and constants in
   flash, data, bss and the stack in RAM (the stack grows down from its top). */
MEMORY
{
  FLASH (rx) : ORIGIN = 0x00000000, LENGTH = $flash_bytes
  RAM (rwx) : ORIGIN = 0x20000000, LENGTH = $ram_bytes
}
ENTRY(Reset_Handler)
SECTIONS
{
  .text :
  {
    KEEP(*(.isr_vector))
    *(.text*)
    KEEP(*(.init))
    KEEP(*(.fini))
    *(.rodata*)
    . = ALIGN(4);
    __preinit_array_start = .;
    KEEP(*(.preinit_array))
    __preinit_array_end = .;
    __init_array_start = .;
    KEEP(*(SORT(.init_array.*)))
    KEEP(*(.init_array))
    __init_array_end = .;
    __fini_array_start = .;
    KEEP(*(.fini_array))
    __fini_array_end = .;
  } > FLASH
  .ARM.exidx : { *(.ARM.exidx*) } > FLASH
  .data : ALIGN(4)
  {
    __data_start = .;
    *(.data*)
    . = ALIGN(4);
    __data_end = .;
  } > RAM AT > FLASH
  __data_load = LOADADDR(.data);
  .bss (NOLOAD) : ALIGN(4)
  {
    __bss_start = .;
    __bss_start__ = .;
    *(.bss*)
    *(COMMON)
    . = ALIGN(4);
    __bss_end = .;
    __bss_end__ = .;
  } > RAM
  /* newlib's heap (strtof may allocate a little) grows up from `end`: reserve it, and the
     stack (which grows down from the top of RAM), so a firmware without room for them fails
     to link, saying by how many bytes RAM overflowed. */
  .heap (NOLOAD) : ALIGN(8)
  {
    end = .;
    . = . + $heap_bytes;
  } > RAM
  .stack (NOLOAD) : ALIGN(8)
  {
    . = . + $stack_bytes;
  } > RAM
  __stack_top = ORIGIN(RAM) + LENGTH(RAM);
}
""")

MAKEFILE = Template("""\
# Builds firmware.elf for QEMU's mps2-an386 against a TensorFlow Lite Micro library built
# with the same flags (edgecnn builds and caches one: see README.md).
#   make TFLM_TREE=/path/to/tflm_tree TFLM_LIB=/path/to/libtflm.a
PLATFORM ?= mps2_an386
ifneq ($$(MAKECMDGOALS),clean)
ifeq ($$(TFLM_TREE),)
$$(error set TFLM_TREE to the TFLite Micro source tree)
endif
ifeq ($$(TFLM_LIB),)
$$(error set TFLM_LIB to libtflm.a built with the flags below)
endif
endif

CC := arm-none-eabi-gcc
CXX := arm-none-eabi-g++
CPU := $cpu_flags
DEFINES := -DEDGECNN_FIRMWARE $defines
INCLUDES := -I. $includes
CFLAGS := $$(CPU) $common_flags $c_flags $$(DEFINES) $$(INCLUDES)
CXXFLAGS := $$(CPU) $common_flags $cxx_flags $$(DEFINES) $$(INCLUDES)
LDFLAGS := $$(CPU) -T $$(PLATFORM).ld --specs=nano.specs --specs=nosys.specs \\
  -Wl,--gc-sections -Wl,-Map=firmware.map

CXX_SOURCES := $cxx_sources
C_SOURCES := platform_$$(PLATFORM).c startup_$$(PLATFORM).c
OBJECTS := $$(CXX_SOURCES:%=build/%.o) $$(C_SOURCES:%=build/%.o)

firmware.elf: $$(OBJECTS) $$(TFLM_LIB)
\t$$(CXX) $$(LDFLAGS) $$(OBJECTS) $$(TFLM_LIB) -lm -o $$@

build/%.ino.o: %.ino
\t@mkdir -p build
\t$$(CXX) $$(CXXFLAGS) -x c++ -c $$< -o $$@

build/%.cpp.o: %.cpp
\t@mkdir -p build
\t$$(CXX) $$(CXXFLAGS) -c $$< -o $$@

build/%.c.o: %.c
\t@mkdir -p build
\t$$(CC) $$(CFLAGS) -c $$< -o $$@

clean:
\trm -rf build firmware.elf firmware.map

.PHONY: clean
""")
