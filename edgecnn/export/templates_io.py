"""Templates of ``model_io.h``/``model_io.cpp``: the sketch's plain C++, testable on a PC.

Every computation that is not TFLite Micro or Arduino (preprocessing, quantization, CSV
parsing, top-1) lives here so that edgecnn's tests compile and run it on the host.
"""

from string import Template

from edgecnn.export.templates_model import HEADER

MODEL_IO_H = Template(
    HEADER
    + """\
#ifndef EDGECNN_MODEL_IO_H_
#define EDGECNN_MODEL_IO_H_

#include <stdint.h>

// Longer than any number written in decimal; a longer token makes the line invalid.
constexpr int kMaxTokenLength = 31;

// One input line of comma-separated raw values, parsed as the characters arrive: a line
// buffer would need more RAM than the model input itself (several bytes per value).
struct CsvLine {
  char token[kMaxTokenLength + 1];
  int token_length;
  int values;  // values seen on this line, including any beyond the input's size
  bool bad;    // a value was not a finite number
};

// Raw value number `index` of a sample -> model input, as in training.
float PreprocessValue(float raw, int index);
// Model input -> int8 with the input tensor's scale and zero point, saturating.
int8_t QuantizeInput(float x);
// An int8 output score -> float.
float DequantizeOutput(int8_t q);
// Index of the highest score (the first one on ties).
int TopClass(const int8_t* scores, int count);

void CsvLineReset(CsvLine* line);
// Feeds one character; each complete value is preprocessed, quantized and stored at
// out[n] (while n < capacity). Returns true when `c` ends the line.
bool CsvLineFeed(CsvLine* line, char c, int8_t* out, int capacity);
$audio_io_h
#endif  // EDGECNN_MODEL_IO_H_
"""
)

MODEL_IO_CPP = Template(
    HEADER
    + """\
#include "model_io.h"

#include <cmath>
#include <cstdlib>

$audio_include#include "model_settings.h"

float PreprocessValue(float raw, int index) {
  const int channel = index % kChannels;
  // The float32 operations of edgecnn.core.preprocess.Preprocessing.apply, in its order, so the
  // board feeds the model what the host runtime would.
  const float x = raw * kRawScale + kRawOffset;
  return (x - kMean[channel]) / kStd[channel];
}

int8_t QuantizeInput(float x) {
  // std::rint rounds halves to even, like numpy.round in edgecnn's host runtime.
  const float q = std::rint(x / kInputScale) + static_cast<float>(kInputZeroPoint);
  if (!(q > -128.0f)) return -128;  // also catches NaN
  if (q > 127.0f) return 127;
  return static_cast<int8_t>(q);
}

float DequantizeOutput(int8_t q) {
  return (static_cast<float>(q) - static_cast<float>(kOutputZeroPoint)) * kOutputScale;
}

int TopClass(const int8_t* scores, int count) {
  int best = 0;
  for (int i = 1; i < count; ++i) {
    if (scores[i] > scores[best]) best = i;
  }
  return best;
}

void CsvLineReset(CsvLine* line) {
  line->token_length = 0;
  line->values = 0;
  line->bad = false;
}

static void EndToken(CsvLine* line, int8_t* out, int capacity) {
  if (line->token_length == 0) return;  // doubled separators or a trailing comma
  line->token[line->token_length] = '\\0';
  char* end = nullptr;
  const float raw = std::strtof(line->token, &end);
  if (end == line->token || *end != '\\0' || !std::isfinite(raw)) {
    line->bad = true;
  } else if (line->values < capacity) {
    out[line->values] = QuantizeInput(PreprocessValue(raw, line->values));
  }
  line->values += 1;
  line->token_length = 0;
}

bool CsvLineFeed(CsvLine* line, char c, int8_t* out, int capacity) {
  if (c == '\\n') {
    EndToken(line, out, capacity);
    return true;
  }
  if (c == ',' || c == ';' || c == ' ' || c == '\\t' || c == '\\r') {
    EndToken(line, out, capacity);
    return false;
  }
  if (line->token_length < kMaxTokenLength) {
    line->token[line->token_length++] = c;
  } else {
    line->bad = true;
  }
  return false;
}
$audio_io_cpp"""
)
