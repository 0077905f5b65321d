/* firmware.h: what startup.c offers the application on a bare Cortex-M (no OS, no C library I/O):
 * console output and exit through Arm semihosting (the debugger, or QEMU's -semihosting, does the
 * I/O), and the stack high-water mark measured from the pattern that the reset handler paints
 * over the unused stack. Usable from C and C++. */
#ifndef KILN_FIRMWARE_H
#define KILN_FIRMWARE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Writes a NUL-terminated string to the semihosting console (SYS_WRITE0). */
void fw_write(const char *text);

/* Ends the program with `status` as the host's exit status (SYS_EXIT_EXTENDED; QEMU exits with
 * it). Also what the reset handler does with main's return value. */
__attribute__((noreturn)) void fw_exit(int status);

/* The current stack pointer. */
uintptr_t fw_stack_pointer(void);

/* The top of the stack (its highest address + 1: the initial SP of the vector table). */
uintptr_t fw_stack_top(void);

/* The lowest stack address written since reset: the first word, counting up from the stack's
 * limit, that no longer holds the paint pattern. fw_stack_top() - fw_stack_lowest() is the
 * high-water mark. Returns the limit itself when the whole stack was used (an overflow, or
 * close to one). */
uintptr_t fw_stack_lowest(void);

/* The stack's size in bytes (the linker script's STACK_SIZE). */
size_t fw_stack_size(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* KILN_FIRMWARE_H */
