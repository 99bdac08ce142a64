"""Templates of ``audio_frontend.h`` and ``audio_frontend.cpp`` (string.Template texts).

:mod:`edgecnn.export.audiofrontend_c` fills them from an :class:`AudioFrontEnd`: sizes and
settings in the header, tables and the MFCC or log-mel output step in the source.
"""

from string import Template

FRONTEND_H = Template("""\
$banner#ifndef EDGECNN_AUDIO_FRONTEND_H_
#define EDGECNN_AUDIO_FRONTEND_H_

#include <stdint.h>

// $description.
// A clip of kAudioClipSamples int16 PCM samples gives kAudioFrames frames, one every
// kAudioHopSamples, each a kAudioFrameSamples window (kAudioFftSize-point FFT) giving
// kAudioBins values.
constexpr int kAudioSampleRateHz = $rate;
constexpr int kAudioClipSamples = $clip;
constexpr int kAudioFrameSamples = $frame;
constexpr int kAudioHopSamples = $hop;
constexpr int kAudioFftSize = $fft;
constexpr int kAudioMelBands = $bands;
constexpr int kAudioFrames = $frames;
constexpr int kAudioBins = $bins;
constexpr int kAudioFeatureCount = kAudioFrames * kAudioBins;

// One frame: kAudioFrameSamples PCM samples -> kAudioBins floats. A streaming caller computes
// only the newest frame every kAudioHopSamples and keeps the older ones.
void edgecnn_audio_frame(const int16_t* pcm, float* bins);

// One clip: kAudioClipSamples PCM samples (scaled by 1/32768, as edgecnn's numpy front end)
// -> kAudioFeatureCount floats, frame after frame (the model's [frames][bins] order).
void edgecnn_audio_features(const int16_t* pcm, float* features);

#endif  // EDGECNN_AUDIO_FRONTEND_H_
""")

FRONTEND_CPP = Template("""\
$banner#include "audio_frontend.h"

#include <math.h>
#include <stdint.h>

namespace {

constexpr int kHalf = kAudioFftSize / 2;  // complex points of the half-size FFT
// The spectrum bins some mel band weighs: [kFirstBin, kEndBin).
constexpr int kFirstBin = $first_bin;
constexpr int kEndBin = $end_bin;
constexpr float kPcmScale = 1.0f / 32768.0f;
constexpr float kLogFloor = $log_floor;

// Periodic $window_fn window.
const float kWindow[kAudioFrameSamples] = {
$window
};

// Twiddles exp(-2 pi i k / kAudioFftSize) = kCos[k] - i kSin[k], k < kHalf.
const float kCos[kHalf] = {
$cos
};
const float kSin[kHalf] = {
$sin
};

// Mel band b sums kMelCount[b] spectrum bins from kMelFirst[b], weighted by kMelWeights
// from kMelOffset[b] (the nonzero part of the dense filter bank; $weights weights).
const int32_t kMelFirst[kAudioMelBands] = {
$mel_first
};
const int32_t kMelCount[kAudioMelBands] = {
$mel_count
};
const int32_t kMelOffset[kAudioMelBands] = {
$mel_offset
};
const float kMelWeights[$weights] = {
$mel_weights
};
$dct_table
float g_fft[kAudioFftSize];  // kHalf complex values: re, im, re, im, ...
float g_spectrum[kEndBin];
float g_log_mel[kAudioMelBands];

// In-place iterative radix-2 decimation-in-time FFT of kHalf complex points.
void ComplexFft(float* z) {
  for (int i = 1, j = 0; i < kHalf; ++i) {  // bit-reversed order
    int bit = kHalf >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      const float re = z[2 * i], im = z[2 * i + 1];
      z[2 * i] = z[2 * j];
      z[2 * i + 1] = z[2 * j + 1];
      z[2 * j] = re;
      z[2 * j + 1] = im;
    }
  }
  for (int len = 2; len <= kHalf; len <<= 1) {
    const int half = len >> 1;
    const int stride = kAudioFftSize / len;  // exp(-2 pi i j / len) is table entry j * stride
    for (int start = 0; start < kHalf; start += len) {
      for (int j = 0; j < half; ++j) {
        const float wr = kCos[j * stride], ws = kSin[j * stride];
        float* a = z + 2 * (start + j);
        float* b = a + 2 * half;
        const float tr = wr * b[0] + ws * b[1];
        const float ti = wr * b[1] - ws * b[0];
        b[0] = a[0] - tr;
        b[1] = a[1] - ti;
        a[0] += tr;
        a[1] += ti;
      }
    }
  }
}

// The real FFT's bins [kFirstBin, kEndBin) from the half-size FFT of the even/odd samples.
void Spectrum() {
  for (int k = kFirstBin; k < kEndBin; ++k) {
    float re, im;
    if (k == kHalf) {  // Nyquist: E0 - O0
      re = g_fft[0] - g_fft[1];
      im = 0.0f;
    } else {
      const int m = (kHalf - k) % kHalf;
      const float ar = g_fft[2 * k], ai = g_fft[2 * k + 1];
      const float br = g_fft[2 * m], bi = g_fft[2 * m + 1];
      const float er = 0.5f * (ar + br), ei = 0.5f * (ai - bi);  // even samples' spectrum
      const float orr = 0.5f * (ai + bi), oi = 0.5f * (br - ar);  // odd samples' spectrum
      re = er + kCos[k] * orr + kSin[k] * oi;
      im = ei + kCos[k] * oi - kSin[k] * orr;
    }
    g_spectrum[k] = $spectrum_value;
  }
}

}  // namespace

void edgecnn_audio_frame(const int16_t* pcm, float* bins) {
  for (int n = 0; n < kAudioFftSize; ++n) {  // even samples -> re, odd -> im; zero padded
    g_fft[n] = n < kAudioFrameSamples ? static_cast<float>(pcm[n]) * kPcmScale * kWindow[n]
                                      : 0.0f;
  }
  ComplexFft(g_fft);
  Spectrum();
  for (int b = 0; b < kAudioMelBands; ++b) {
    const float* weights = kMelWeights + kMelOffset[b];
    const float* bin = g_spectrum + kMelFirst[b];
    float sum = 0.0f;
    for (int j = 0; j < kMelCount[b]; ++j) sum += weights[j] * bin[j];
    g_log_mel[b] = logf(sum + kLogFloor);
  }
$output_step
}

void edgecnn_audio_features(const int16_t* pcm, float* features) {
  for (int f = 0; f < kAudioFrames; ++f) {
    edgecnn_audio_frame(pcm + f * kAudioHopSamples, features + f * kAudioBins);
  }
}
""")

DCT_TABLE = """
// MFCC: bins[k] = sum over bands b of log_mel[b] * kDct[b][k] (tf.signal's scaled DCT-II).
const float kDct[kAudioMelBands][kAudioBins] = {
$rows
};
"""

DCT_STEP = """\
  for (int k = 0; k < kAudioBins; ++k) {
    float sum = 0.0f;
    for (int b = 0; b < kAudioMelBands; ++b) sum += g_log_mel[b] * kDct[b][k];
    bins[k] = sum;
  }"""

COPY_STEP = "  for (int b = 0; b < kAudioMelBands; ++b) bins[b] = g_log_mel[b];"
