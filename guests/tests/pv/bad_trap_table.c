/*
 * Hostile: trap tables Xen must sanitise. An unreadable table is -EFAULT (entries before
 * the unreadable one are installed); a handler selector with RPL 0 is changed to RPL 1
 * (the handler runs in ring 1); an entry with address 0 ends the table; a NULL table
 * clears the whole virtual IDT (checked by reinstalling and trapping).
 */
#include "lib/pvtest.h"

PVTEST("bad_trap_table", "SUCCESS", 1, "", "set_trap_table with bad pointers and selectors");

#define T pvt_last_trap

static volatile uint16_t cs_in_handler;
static int peek_cs(struct pvt_frame *f)
{
    (void)f;
    cs_in_handler = x86_read_cs();
    return 0;
}

void test_main(void)
{
    CHECK_EQ(HYPERVISOR_set_trap_table((struct trap_info *)0x100), -XEN_EFAULT);

    /* RPL 0 handler selector for #UD. */
    struct trap_info t[2];
    memset(t, 0, sizeof(t));
    t[0].vector = X86_EXC_UD;
    t[0].cs = FLAT_KERNEL_CS & ~3;
    t[0].address = pvt_trap_stubs[X86_EXC_UD];
    CHECK_EQ(HYPERVISOR_set_trap_table(t), 0);
    pvt_trap_hook = peek_cs;
    pvt_trap_reset();
    PVT_TRY("ud2");
    pvt_trap_hook = 0;
    CHECK_EQ(T.vector, X86_EXC_UD);
    CHECK_EQ(cs_in_handler, FLAT_KERNEL_CS);

    /* A table running into an unmapped page: the readable entries are installed, then
     * -EFAULT. Place one entry (vector 0x44, DPL 1) at the end of a page whose successor
     * is unmapped. */
    struct trap_info *edge = pvt_alloc_page();
    void *next = pvt_alloc_page();
    CHECK_EQ(pvt_unmap((unsigned long)next), 0);
    struct trap_info *last = (struct trap_info *)((char *)edge + PVT_PAGE_SIZE - sizeof(*last));
    last->vector = 0x44;
    last->flags = 1;
    last->cs = FLAT_KERNEL_CS;
    last->address = pvt_trap_stubs[0x44];
    CHECK_EQ(HYPERVISOR_set_trap_table(last), -XEN_EFAULT);
    pvt_trap_reset();
    PVT_TRY("int $0x44");
    CHECK_EQ(T.vector, 0x44);

    /* NULL clears the whole virtual IDT; reinstall ours and all works again. */
    CHECK_EQ(HYPERVISOR_set_trap_table(0), 0);
    pvt_install_traps();
    pvt_trap_reset();
    PVT_TRY("int $0x44");  /* vector 0x44 is gone with the clear: #GP */
    CHECK_EQ(T.vector, X86_EXC_GP);
    CHECK_EQ(T.error_code, (0x44 << 3) | 2);
    pvt_trap_reset();
    PVT_TRY("ud2");
    CHECK_EQ(T.vector, X86_EXC_UD);
}
