/*
 * Triple fault: a fault while delivering #DF shuts the processor down. First a double
 * fault that is still handled (through its task gate) shows the path works; then the
 * IDT limit is cut to 0, so INT3 cannot be delivered (#GP), nor can that #GP (#DF), nor
 * the #DF: shutdown. The runner must stop with a shutdown (QEMU -no-reboot exits 0); the
 * last line printed is "triple fault next". Anything after it is a failure.
 */
#include "bare/bare.h"
#include "bare/desc.h"
#include "bare/test.h"
#include "bare/trap.h"
#include "bare/x86.h"

int kmain(uint32_t magic, uint32_t info);

int kmain(uint32_t magic, uint32_t info)
{
    (void)magic;
    (void)info;
    test_begin("cpu-triple-fault");
    idt[13] &= ~(1ull << 47);
    uint16_t bad = 0x1238;
    __asm__ volatile(TRY("movw %0, %%ds") : : "r"(bad) : "memory");
    idt_reset(13);
    check_fault(8, 0, "a #GP with its gate missing is a double fault, handled by the #DF task");

    kprintf("triple fault next\n");
    static const struct dtr empty = { 0, 0 };
    lidt(&empty);
    __asm__ volatile("int3");
    struct dtr full = { sizeof(idt) - 1, (uint32_t)idt };
    lidt(&full);
    CHECK(0, "the machine shut down on the triple fault");
    return test_finish();
}
