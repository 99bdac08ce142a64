"""The audio parts of the generated sketch: what differs when a request line is an audio clip.

An audio model's sketch reads one line of int16 PCM samples into a clip buffer, runs the C++
front end (``audio_frontend.h``, rendered by :mod:`edgecnn.export.audiofrontend_c`) and then
the same preprocessing and quantization helpers as any other model. These texts fill the
placeholders of the shared templates (``templates_ino``, ``templates_io``,
``templates_model``); without audio the placeholders take the original text.
"""

from string import Template

AUDIO_INCLUDE = '#include "audio_frontend.h"\n'

# SKETCH_INO's request placeholders for audio models (see templates_ino.RAW_REQUEST).
AUDIO_REQUEST = {
    "audio_include": AUDIO_INCLUDE,
    "audio_buffers": """\
// One clip of PCM samples as the line arrives, and its front-end features: static, so the
// RAM they take shows at link time (README.md, "Memory").
static int16_t pcm[kRawElements];
static float features[kAudioFeatureCount];
""",
    "request_count": "kRawElements",
    "request_unit": "comma-separated int16 PCM samples",
    "front_end_step": """\
  const unsigned long front_end_start = micros();
  edgecnn_audio_features(pcm, features);
  FeaturesToInput(features, input_data);
  const unsigned long front_end_us = micros() - front_end_start;
""",
    "front_end_print": """\
  Serial.print(" frontend_us=");
  Serial.print(front_end_us);
""",
    "bad_value": "a value is not an int16 PCM sample, an integer from -32768 to 32767",
    "line_feed": "PcmLineFeed(&csv_line, c, pcm, kRawElements)",
}

# model_settings.h, after the input tensor.
AUDIO_SETTINGS = Template("""
// Raw input: one clip of kRawElements mono int16 PCM samples at $rate Hz. audio_frontend.h
// turns it into the kInputElements features above; the preprocessing below applies to them.
constexpr int kRawElements = $raw_elements;
""")

AUDIO_IO_H = """
// Audio models: a line of int16 PCM samples fills a clip buffer, audio_frontend.h turns it
// into features and FeaturesToInput into the int8 input tensor.

// Feeds one character of a PCM line (separators as in CsvLineFeed); each complete value, an
// integer from -32768 to 32767, is stored at out[n] (while n < capacity). Returns true when
// `c` ends the line.
bool PcmLineFeed(CsvLine* line, char c, int16_t* out, int capacity);
// Front-end features (kInputElements floats, frame after frame) -> int8 model input, value
// by value QuantizeInput(PreprocessValue(features[i], i)), as for raw values.
void FeaturesToInput(const float* features, int8_t* out);
"""

AUDIO_IO_CPP = """
static_assert(kAudioFeatureCount == kInputElements, "the front end must fill the input");
static_assert(kAudioClipSamples == kRawElements, "a PCM line must be one front-end clip");

void FeaturesToInput(const float* features, int8_t* out) {
  for (int i = 0; i < kInputElements; ++i) {
    out[i] = QuantizeInput(PreprocessValue(features[i], i));
  }
}

static void EndPcmToken(CsvLine* line, int16_t* out, int capacity) {
  if (line->token_length == 0) return;  // doubled separators or a trailing comma
  line->token[line->token_length] = '\\0';
  char* end = nullptr;
  const long value = std::strtol(line->token, &end, 10);
  if (end == line->token || *end != '\\0' || value < -32768 || value > 32767) {
    line->bad = true;
  } else if (line->values < capacity) {
    out[line->values] = static_cast<int16_t>(value);
  }
  line->values += 1;
  line->token_length = 0;
}

bool PcmLineFeed(CsvLine* line, char c, int16_t* out, int capacity) {
  const bool end_of_line = c == '\\n';
  if (end_of_line || c == ',' || c == ';' || c == ' ' || c == '\\t' || c == '\\r') {
    EndPcmToken(line, out, capacity);
    return end_of_line;
  }
  if (line->token_length < kMaxTokenLength) {
    line->token[line->token_length++] = c;
  } else {
    line->bad = true;
  }
  return false;
}
"""

# README.md: the file table row, the memory rows and the input and output sections.
README_FILE_ROW = Template(
    "| `audio_frontend.h/.cpp` | the audio front end ($kind, float32, tables in flash) |\n"
)

README_MEMORY_ROWS = Template("""\
| PCM clip buffer ($clip int16 samples) | $pcm_bytes |
| features ($frames x $bins float32) | $feature_bytes |
| front-end work buffers (FFT, spectrum, mel) | $work_bytes |
| RAM beyond the arena, audio | $audio_ram_bytes |
| RAM, arena and audio together | $total_ram_bytes |
| front-end tables (flash) | $table_bytes |
""")

README_INPUT = Template("""\
## Input

One line per inference, ended by a newline: one audio clip of $clip int16 PCM samples
(integers from -32768 to 32767), mono at $rate Hz ($clip_ms ms), oldest first, separated by
commas (spaces, tabs and semicolons work too): what a 16-bit WAV file at that rate holds.
Resample other rates to $rate Hz and cut or pad the clip to $clip samples first.

The sketch computes the training front end on the clip (`audio_frontend.cpp`, float32, the
samples scaled by 1/32768): $description, $frames frames of $bins values, one frame every
$hop samples over a $frame-sample window. Each feature `r` is then preprocessed as in
training, $formula, and quantized to int8 with scale $input_scale and zero point
$input_zero_point, rounding halves to even and saturating at -128 and 127.

A clip as text is about 6 characters a sample, ${line_kb} kB a line: at 115200 baud that takes
about ${line_seconds} s. Where the serial port is native USB (Nano 33 BLE, Raspberry Pi
Pico) the baud rate is ignored and a line takes far less.
""")

README_OUTPUT_LINE = (
    "label=<label> score=<score> frontend_us=<microseconds> invoke_us=<microseconds>"
)

README_OUTPUT_NOTE = """
`frontend_us` is the time of the front end and of quantizing its features, measured the
same way."""
