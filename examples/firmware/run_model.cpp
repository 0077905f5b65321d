// run_model.cpp: runs one kiln-generated model once on a bare Cortex-M and prints every output
// value, so that a test on the host can compare the chip's results with the framework's
// (tests/e2e/cross_firmware.py does it under QEMU). Expects the pair compiled with `--name model`
// (model.h: one input, one output) and a header model_input.h that defines
//   const float kModelInput[MODEL_INPUT0_NUM_ELEMENTS];
// (the test generates it from the same input torch saw, as exact hexadecimal float literals).
// It calls model_run twice, checks that the second call (on the arena the first one left behind)
// gives the same bytes, and prints through semihosting (startup.c):
//   kiln-firmware: model_run ok
//   stack <bytes used since reset> <bytes used by model_run> <stack size>
//   output0 <N>
//   <N float bit patterns as 8-digit hex words, 8 per line>
//   kiln-firmware: end
// Exit status 0, or 3 (model_run failed), 4 (second call differs), 5 (stack exhausted).
#include "firmware.h"
#include "model.h"
#include "model_input.h"

#include <cstdint>
#include <cstring>

static_assert(MODEL_NUM_INPUTS == 1 && MODEL_NUM_OUTPUTS == 1,
              "run_model.cpp drives a model with one input and one output");
static_assert(MODEL_INPUT0_DTYPE == MODEL_DTYPE_F32 && MODEL_OUTPUT0_DTYPE == MODEL_DTYPE_F32,
              "run_model.cpp drives an f32 model");

namespace {

alignas(16) float first[MODEL_OUTPUT0_NUM_ELEMENTS];
alignas(16) float second[MODEL_OUTPUT0_NUM_ELEMENTS];

char *putDecimal(char *p, unsigned long v) {
  char digits[12];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v);
  while (n)
    *p++ = digits[--n];
  return p;
}

void writeLine(const char *label, unsigned long a) {
  char text[64];
  char *p = text;
  while (*label)
    *p++ = *label++;
  p = putDecimal(p, a);
  *p++ = '\n';
  *p = 0;
  fw_write(text);
}

} // namespace

int main() {
  const void *inputs[] = {kModelInput};
  void *outputs[] = {first};
  const uintptr_t spAtCall = fw_stack_pointer();
  if (model_run(inputs, outputs) != 0) {
    fw_write("kiln-firmware: model_run failed\n");
    return 3;
  }
  // Measured before anything else runs deeper: model_run's call chain is input-independent
  // (static shapes, no recursion), so this is its worst case.
  const uintptr_t lowest = fw_stack_lowest();
  outputs[0] = second;
  if (model_run(inputs, outputs) != 0) {
    fw_write("kiln-firmware: second model_run failed\n");
    return 3;
  }
  if (std::memcmp(first, second, sizeof first) != 0) {
    fw_write("kiln-firmware: the second model_run gives different outputs\n");
    return 4;
  }
  fw_write("kiln-firmware: model_run ok\n");
  {
    char text[80] = "stack ";
    char *p = putDecimal(text + 6, fw_stack_top() - lowest);
    *p++ = ' ';
    p = putDecimal(p, spAtCall - lowest);
    *p++ = ' ';
    p = putDecimal(p, fw_stack_size());
    *p++ = '\n';
    *p = 0;
    fw_write(text);
  }
  writeLine("output0 ", MODEL_OUTPUT0_NUM_ELEMENTS);
  char line[8 * 9 + 2];
  for (int i = 0; i < MODEL_OUTPUT0_NUM_ELEMENTS; i += 8) {
    char *p = line;
    for (int j = i; j < i + 8 && j < MODEL_OUTPUT0_NUM_ELEMENTS; ++j) {
      uint32_t bits;
      std::memcpy(&bits, &first[j], sizeof bits);
      for (int shift = 28; shift >= 0; shift -= 4)
        *p++ = "0123456789abcdef"[(bits >> shift) & 0xfu];
      *p++ = ' ';
    }
    p[-1] = '\n';
    *p = 0;
    fw_write(line);
  }
  fw_write("kiln-firmware: end\n");
  // The paint at the stack's limit is gone: the stack was (nearly) exhausted.
  return lowest <= fw_stack_top() - fw_stack_size() ? 5 : 0;
}
