// Firmware-style use of a kiln-generated model (Cortex-M4 with FPU): no heap, no stdio, no C++
// runtime. The image comes from a sensor in a real device; here `readSensor` synthesizes one. The
// model's working memory is the arena inside tiny_cnn.cpp (TINY_CNN_ARENA_SIZE bytes of .bss), so
// the linker map shows every byte the model needs.
// Build with the start-up code and linker script next to this file (see docs/firmware.md and
// tests/lit/examples/firmware.test): arm-none-eabi-g++ -mcpu=cortex-m4 -mthumb -mfloat-abi=hard
// -mfpu=fpv4-sp-d16 -std=c++17 -O2 -fno-exceptions -fno-rtti -nostartfiles --specs=nano.specs
// -L examples/firmware -T mps2-an386.ld startup.o main.cpp GEN/tiny_cnn.cpp -lm -o firmware.elf
// run_model.cpp is the variant that runs once and prints its outputs (what the tests run in QEMU).
#include "tiny_cnn.h"

namespace {

float image[TINY_CNN_INPUT0_NUM_ELEMENTS];
float probabilities[TINY_CNN_OUTPUT0_NUM_ELEMENTS];

/// Stands in for the camera driver: a deterministic test pattern.
void readSensor(float *dst, int n) {
  unsigned state = 12345u;
  for (int i = 0; i < n; ++i) {
    state = state * 1103515245u + 12345u;
    dst[i] = static_cast<float>((state >> 16) & 0xff) / 128.0f - 1.0f;
  }
}

} // namespace

/// The classification result, where a debugger or another task can read it.
volatile int g_predictedClass = -1;

int main() {
  for (;;) {
    readSensor(image, TINY_CNN_INPUT0_NUM_ELEMENTS);
    const void *inputs[] = {image};
    void *outputs[] = {probabilities};
    if (tiny_cnn_run(inputs, outputs) != 0)
      continue;
    int best = 0;
    for (int i = 1; i < TINY_CNN_OUTPUT0_NUM_ELEMENTS; ++i)
      if (probabilities[i] > probabilities[best])
        best = i;
    g_predictedClass = best;
  }
}
