/* startup.c: the bare-metal start of a Cortex-M program (M3/M4/M7, ARMv7-M) that runs a
 * kiln-generated model, for the linker scripts next to it (mps2-an386.ld, mps2-an500.ld):
 *   - the vector table (initial stack pointer, reset handler, a reporting handler for every other
 *     exception and for the 32 interrupts of the MPS2 images);
 *   - the reset handler: enables the FPU (CPACR) before any floating-point instruction can run,
 *     copies .data from its load address, zeroes .bss, paints the unused stack with a pattern,
 *     calls main and exits with its return value. No C++ static constructors are run: generated
 *     code has none (the linker scripts fail the link if any object brings an .init_array);
 *   - console output and exit through Arm semihosting (bkpt 0xab), so the program needs no UART
 *     driver and no C library I/O or system calls: QEMU's -semihosting prints and exits for it.
 *     On a board without a debugger attached, bkpt 0xab faults instead: replace fw_write and
 *     fw_exit there;
 *   - the stack high-water mark (fw_stack_lowest): the deepest word that no longer holds the paint.
 * Build with the application's -mcpu/-mfpu/-mfloat-abi flags, e.g.
 *   arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -O2 -c startup.c
 */
#include "firmware.h"

#include <stdint.h>

/* Defined by the linker script. */
extern uint32_t __data_load[], __data_start[], __data_end[];
extern uint32_t __bss_start[], __bss_end[];
extern uint32_t __stack_limit[], __stack_top[];

int main(void);
void Reset_Handler(void); /* global: the linker scripts' ENTRY */

/* Any word unlikely to be a stored value; not byte-uniform, so that the painting loop is not
 * turned into a memset call. */
#define STACK_PAINT 0xC0FFEE11u

/* Semihosting operations (Arm "Semihosting for AArch32 and AArch64", version 2). */
enum {
  SYS_WRITE0 = 0x04,
  SYS_EXIT = 0x18,
  SYS_EXIT_EXTENDED = 0x20,
  ADP_Stopped_ApplicationExit = 0x20026,
};

static uintptr_t semihost(uintptr_t op, const void *arg) {
  register uintptr_t r0 __asm__("r0") = op;
  register const void *r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

void fw_write(const char *text) { semihost(SYS_WRITE0, text); }

void fw_exit(int status) {
  /* SYS_EXIT_EXTENDED carries the status; plain SYS_EXIT on AArch32 only tells success from
   * failure, the fallback if a debugger does not implement the extended call. */
  const uintptr_t block[2] = {ADP_Stopped_ApplicationExit, (uintptr_t)status};
  semihost(SYS_EXIT_EXTENDED, block);
  semihost(SYS_EXIT, (const void *)(status == 0 ? ADP_Stopped_ApplicationExit : 0x20023u));
  for (;;)
    __asm__ volatile("wfi");
}

uintptr_t fw_stack_pointer(void) {
  uintptr_t sp;
  __asm__ volatile("mov %0, sp" : "=r"(sp));
  return sp;
}

uintptr_t fw_stack_top(void) { return (uintptr_t)__stack_top; }

size_t fw_stack_size(void) { return (size_t)((uintptr_t)__stack_top - (uintptr_t)__stack_limit); }

uintptr_t fw_stack_lowest(void) {
  const uint32_t *p = __stack_limit;
  while (p < __stack_top && *p == STACK_PAINT)
    ++p;
  return (uintptr_t)p;
}

static void writeHex(const char *label, uint32_t value) {
  char text[24];
  char *p = text;
  while (*label)
    *p++ = *label++;
  *p++ = '0';
  *p++ = 'x';
  for (int shift = 28; shift >= 0; shift -= 4)
    *p++ = "0123456789abcdef"[(value >> shift) & 0xfu];
  *p++ = '\n';
  *p = 0;
  fw_write(text);
}

/* Every exception but reset: report which one (IPSR) and the fault status registers, then exit
 * with 128 + the exception number, so that a fault ends the test run instead of hanging it. */
static void Default_Handler(void) {
  uint32_t ipsr;
  __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
  fw_write("kiln-firmware: unexpected exception\n");
  writeHex("  IPSR ", ipsr);
  writeHex("  CFSR ", *(volatile uint32_t *)0xE000ED28u);
  writeHex("  HFSR ", *(volatile uint32_t *)0xE000ED2Cu);
  writeHex("  MMFAR ", *(volatile uint32_t *)0xE000ED34u);
  writeHex("  BFAR ", *(volatile uint32_t *)0xE000ED38u);
  fw_exit(128 + (int)(ipsr & 0x1ffu));
}

/* GCC would otherwise turn the copy and zeroing loops into memcpy/memset calls; keeping them
 * inline leaves the reset path free of library code. */
__attribute__((optimize("no-tree-loop-distribute-patterns"))) void Reset_Handler(void) {
  /* CP10 and CP11 full access: the FPU must be on before the first floating-point instruction. */
  *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
  __asm__ volatile("dsb\n\tisb" ::: "memory");

  const uint32_t *src = __data_load;
  for (uint32_t *dst = __data_start; dst < __data_end;)
    *dst++ = *src++;
  for (uint32_t *dst = __bss_start; dst < __bss_end;)
    *dst++ = 0;

  /* Paint from the limit up to just below this function's own frame. */
  uint32_t *end = (uint32_t *)(fw_stack_pointer() - 64);
  for (volatile uint32_t *p = __stack_limit; p < end;)
    *p++ = STACK_PAINT;

  fw_exit(main());
}

typedef void (*Handler)(void);

/* 16 system entries plus the 32 external interrupts that QEMU's MPS2 AN385/AN386/AN500 models
 * wire up. Entry 0 is the initial stack pointer, loaded by the core at reset. */
__attribute__((section(".vectors"), used)) static const Handler vectors[16 + 32] = {
    (Handler)__stack_top, Reset_Handler,   Default_Handler, Default_Handler, Default_Handler,
    Default_Handler,      Default_Handler, 0,               0,               0,
    0,                    Default_Handler, Default_Handler, 0,               Default_Handler,
    Default_Handler,
    [16 ... 47] = Default_Handler,
};
