// Single-core FMA peak of this machine for tests/bench/perf.py's "% of peak" column: runs
// independent chains of fused multiply-adds on the widest ISA the build enables (AVX-512F,
// else AVX2+FMA, else SSE2 multiply + add) and prints "ISA GFLOPS" (one FMA = 2 FLOPs per
// lane). KILN_PEAK_CHAINS independent accumulators (12+) cover the FMA latency times the number
// of FMA ports, so the figure is throughput-bound, not latency-bound. Timed in the thread's CPU
// time (CLOCK_THREAD_CPUTIME_ID), not wall time: on a shared machine the scheduler's time slices
// for other processes would otherwise count as slow FMAs; best of several rounds.
#include <cstdio>
#include <time.h>
#if defined(__AVX512F__) || defined(__AVX2__) || defined(__SSE2__)
#include <immintrin.h>
#endif

#define KILN_PEAK_CHAINS 16

namespace {

#if defined(__AVX512F__)
typedef __m512 Vec;
const char *const kIsa = "avx512f";
const int kLanes = 16;
inline Vec splat(float x) { return _mm512_set1_ps(x); }
inline Vec step(Vec acc, Vec a, Vec b) { return _mm512_fmadd_ps(acc, a, b); }
// Through memory: g++ 12's _mm512_reduce_add_ps trips -Wuninitialized in its own header.
inline float sum(Vec v) {
  alignas(64) float t[16];
  _mm512_store_ps(t, v);
  float s = 0;
  for (float x : t)
    s += x;
  return s;
}
const int kFlopsPerStep = 2;
#elif defined(__AVX2__) && defined(__FMA__)
typedef __m256 Vec;
const char *const kIsa = "avx2-fma";
const int kLanes = 8;
inline Vec splat(float x) { return _mm256_set1_ps(x); }
inline Vec step(Vec acc, Vec a, Vec b) { return _mm256_fmadd_ps(acc, a, b); }
inline float sum(Vec v) {
  alignas(32) float t[8];
  _mm256_store_ps(t, v);
  return t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
}
const int kFlopsPerStep = 2;
#else
typedef __m128 Vec;
const char *const kIsa = "sse2";
const int kLanes = 4;
inline Vec splat(float x) { return _mm_set1_ps(x); }
// No FMA: a multiply and an add, 2 FLOPs, on separate ports.
inline Vec step(Vec acc, Vec a, Vec b) { return _mm_add_ps(_mm_mul_ps(acc, a), b); }
inline float sum(Vec v) {
  alignas(16) float t[4];
  _mm_store_ps(t, v);
  return t[0] + t[1] + t[2] + t[3];
}
const int kFlopsPerStep = 2;
#endif

volatile float gA = 0.999999f, gB = 1e-7f;

double threadSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

} // namespace

int main() {
  const long long iters = 20000000;
  double best = 0;
  float sink = 0;
  for (int round = 0; round < 7; ++round) {
    Vec a = splat(gA), b = splat(gB);
    Vec acc[KILN_PEAK_CHAINS];
    for (int c = 0; c < KILN_PEAK_CHAINS; ++c)
      acc[c] = splat(float(c) * 1e-3f);
    double t0 = threadSeconds();
    // Fully unrolled so that the accumulators live in registers (a rolled loop keeps them in
    // memory and measures store-to-load forwarding instead).
    for (long long i = 0; i < iters; ++i) {
#pragma GCC unroll 16
      for (int c = 0; c < KILN_PEAK_CHAINS; ++c)
        acc[c] = step(acc[c], a, b);
    }
    double t1 = threadSeconds();
    for (int c = 0; c < KILN_PEAK_CHAINS; ++c)
      sink += sum(acc[c]);
    double s = t1 - t0;
    double gflops = double(iters) * KILN_PEAK_CHAINS * kLanes * kFlopsPerStep / s / 1e9;
    if (gflops > best)
      best = gflops;
  }
  std::printf("%s %.2f\n", kIsa, best);
  // The accumulators' sum keeps the loop alive; it goes to stderr to keep stdout one line.
  std::fprintf(stderr, "checksum %g\n", double(sink));
  return 0;
}
