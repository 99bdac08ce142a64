"""Template of the sketch's ``.ino``: TFLite Micro setup and the serial request loop.

One template for every model. What a request line holds differs: raw values quantized as
they arrive (``RAW_REQUEST``), or an audio clip of int16 PCM samples that the front end turns
into features first (``templates_audio.AUDIO_REQUEST``); those parts are placeholders.
"""

from string import Template

from edgecnn.export.templates_model import HEADER

SKETCH_INO = Template(
    HEADER
    + """\
// Runs $model_file on $board_name with TensorFlow Lite Micro: send one line of
// $request, get back the top label (see README.md).
#include <Arduino.h>
#include <$library_header>

#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "tensorflow/lite/micro/system_setup.h"
#include "tensorflow/lite/schema/schema_generated.h"

$audio_include#include "model_data.h"
#include "model_io.h"
#include "model_ops.h"
#include "model_settings.h"

// edgecnn export firmware compiles this same file for bare metal (firmware.h): it counts
// each op's time and reports the int8 input and raw scores. In the Arduino IDE all are off.
#ifdef EDGECNN_FIRMWARE
#include "firmware.h"
#else
static tflite::MicroProfilerInterface* const kProfiler = nullptr;
#define EDGECNN_REPORT_INPUT(input)
#define EDGECNN_REPORT_SCORES(scores)
#endif

constexpr unsigned long kBaudRate = 115200;
constexpr unsigned long kSerialWaitMs = 4000;

// 16-byte alignment: TFLite Micro places tensors here and its kernels assume it.
alignas(16) static uint8_t tensor_arena[kTensorArenaSize];
static tflite::MicroInterpreter* interpreter = nullptr;
static int8_t* input_data = nullptr;
static CsvLine csv_line;
$audio_buffers
static void Fail(const char* message) {
  Serial.print("error: ");
  Serial.println(message);
}

static bool TensorsMatchSettings(TfLiteTensor* input, TfLiteTensor* output) {
  return input->type == kTfLiteInt8 && input->bytes == static_cast<size_t>(kInputElements) &&
         output->type == kTfLiteInt8 && output->bytes == static_cast<size_t>(kNumClasses);
}

static bool StartInterpreter() {
  const tflite::Model* model = tflite::GetModel(g_model_data);
  if (model->version() != TFLITE_SCHEMA_VERSION) {
    Fail("the model's schema version differs from the TFLite Micro library's");
    return false;
  }
  static tflite::MicroMutableOpResolver<kNumOps> resolver;
  if (!RegisterOps(resolver)) {
    Fail("could not register the model's ops");
    return false;
  }
  static tflite::MicroInterpreter static_interpreter(model, resolver, tensor_arena,
                                                     kTensorArenaSize, nullptr, kProfiler);
  if (static_interpreter.AllocateTensors() != kTfLiteOk) {
    Fail("AllocateTensors failed; raise kTensorArenaSize in model_settings.h");
    return false;
  }
  if (!TensorsMatchSettings(static_interpreter.input(0), static_interpreter.output(0))) {
    Fail("the model's tensors do not match model_settings.h; re-run the export");
    return false;
  }
  interpreter = &static_interpreter;
  input_data = static_interpreter.input(0)->data.int8;
  return true;
}

void setup() {
  tflite::InitializeTarget();
  Serial.begin(kBaudRate);
  // Boards with native USB: give the serial monitor a moment to attach, but never hang.
  while (!Serial && millis() < kSerialWaitMs) {
  }
  if (!StartInterpreter()) return;
  CsvLineReset(&csv_line);
  Serial.print("ready: arena used ");
  Serial.print(static_cast<unsigned long>(interpreter->arena_used_bytes()));
  Serial.print(" of ");
  Serial.print(static_cast<unsigned long>(kTensorArenaSize));
  Serial.print(" bytes; send ");
  Serial.print($request_count);
  Serial.println(" $request_unit per line");
}

static void RunAndPrint() {
$front_end_step  EDGECNN_REPORT_INPUT(input_data);  // before Invoke(), which may reuse its memory
  const unsigned long start = micros();
  const TfLiteStatus status = interpreter->Invoke();
  const unsigned long elapsed = micros() - start;
  if (status != kTfLiteOk) {
    Fail("Invoke failed");
    return;
  }
  const int8_t* scores = interpreter->output(0)->data.int8;
  EDGECNN_REPORT_SCORES(scores);
  const int top = TopClass(scores, kNumClasses);
  Serial.print("label=");
  Serial.print(kLabels[top]);
  Serial.print(" score=");
  Serial.print(DequantizeOutput(scores[top]), 4);
$front_end_print  Serial.print(" invoke_us=");
  Serial.println(elapsed);
}

static void FinishLine() {
  if (csv_line.bad) {
    Fail("$bad_value");
  } else if (csv_line.values == $request_count) {
    RunAndPrint();
  } else if (csv_line.values > 0) {  // an empty line is no request: ignore it
    Serial.print("error: expected ");
    Serial.print($request_count);
    Serial.print(" values, got ");
    Serial.println(csv_line.values);
  }
  CsvLineReset(&csv_line);
}

void loop() {
  if (interpreter == nullptr) return;  // setup() failed and said why
  while (Serial.available() > 0) {
    const char c = static_cast<char>(Serial.read());
    if ($line_feed) FinishLine();
  }
}
"""
)

# SKETCH_INO's request placeholders for models fed raw values (images, sensor windows):
# comma-separated values, preprocessed and quantized into the input tensor as they arrive.
RAW_REQUEST = {
    "audio_include": "",
    "audio_buffers": "",
    "request_count": "kInputElements",
    "request_unit": "comma-separated values",
    "front_end_step": "",
    "front_end_print": "",
    "bad_value": "a value is not a number; send numbers separated by commas",
    "line_feed": "CsvLineFeed(&csv_line, c, input_data, kInputElements)",
}
