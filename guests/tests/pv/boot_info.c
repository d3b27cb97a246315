/*
 * The PV start of day as the domain builder leaves it: start_info fields, the layout of
 * the bootstrap region (kernel, p2m, start_info, xenstore and console pages, page tables,
 * boot stack, mapped padding up to a 4 MiB boundary), the entry registers, the P2M/M2P
 * agreement and the protections of the bootstrap mappings.
 * Expects xl memory=32 (8192 pages), the refxen runner's default.
 */
#include "lib/pvtest.h"

PVTEST("boot_info", "SUCCESS", 0, "memory=32", "start_info, bootstrap layout, entry registers, P2M/M2P");

extern char __image_start[], __image_end[];

void test_main(void)
{
    start_info_t *si = pvt_si;
    const struct pvt_entry_regs *r = &pvt_entry_regs;

    pv_printf("start_info: magic %s nr_pages %lu flags %x pt_base %lx nr_pt_frames %lu\n",
              si->magic, si->nr_pages, si->flags, si->pt_base, si->nr_pt_frames);
    CHECK_EQ(pv_strncmp(si->magic, XEN_CAP_PV_X86_32P, sizeof(XEN_CAP_PV_X86_32P)), 0);
    CHECK_EQ(si->nr_pages, 8192);
    CHECK_EQ(si->flags & (SIF_PRIVILEGED | SIF_INITDOMAIN), 0);
    CHECK_EQ(si->shared_info & 0xfff, 0);
    CHECK_EQ(si->mod_start, 0);
    CHECK_EQ(si->mod_len, 0);
    CHECK_EQ(si->cmd_line[0], 0);
    CHECK(si->store_evtchn != 0 && si->store_evtchn < 1024);
    CHECK(si->console.domU.evtchn != 0 && si->console.domU.evtchn < 1024);
    CHECK(si->store_evtchn != si->console.domU.evtchn);

    /* Entry registers (PV start of day). */
    CHECK_EQ(r->cs, FLAT_KERNEL_CS);
    CHECK_EQ(r->ds, FLAT_KERNEL_DS);
    CHECK_EQ(r->es, FLAT_KERNEL_DS);
    CHECK_EQ(r->ss, FLAT_KERNEL_SS);
    CHECK_EQ(r->esi, (uint32_t)si);
    CHECK_EQ(r->eax, 0);
    CHECK_EQ(r->ebx, 0);
    CHECK_EQ(r->ecx, 0);
    CHECK_EQ(r->edx, 0);
    CHECK_EQ(r->edi, 0);
    CHECK_EQ(r->ebp, 0);
    CHECK_EQ(r->eflags & X86_EFLAGS_IOPL, 0);
    pv_printf("entry eflags %x fs %x gs %x\n", r->eflags, r->fs, r->gs);

    /* The bootstrap region, in the builder's order, VA = PFN << 12. */
    unsigned long si_va = (unsigned long)si;
    unsigned long p2m_va = si->mfn_list;
    unsigned long p2m_end = p2m_va + ((si->nr_pages * 4 + 4095) & ~4095UL);
    CHECK_EQ(p2m_va, (unsigned long)__image_end);
    CHECK_EQ(si_va, p2m_end);
    CHECK_EQ((unsigned long)pvt_mfn_to_va(si->store_mfn), si_va + 0x1000);
    CHECK_EQ((unsigned long)pvt_mfn_to_va(si->console.domU.mfn), si_va + 0x2000);
    CHECK_EQ(si->pt_base, si_va + 0x3000);
    unsigned long pt_end = si->pt_base + si->nr_pt_frames * 0x1000;
    CHECK_EQ(r->esp, pt_end + 0x1000);  /* one boot stack page, ESP at its end */
    CHECK_EQ(pvt_boot_end & 0x3fffff, 0);
    CHECK_GE(pvt_boot_end - r->esp, 512 * 1024);
    pv_printf("region: image %p-%p p2m %lx start_info %lx tables %lx-%lx end %lx\n",
              __image_start, __image_end, p2m_va, si_va, si->pt_base, pt_end, pvt_boot_end);

    /* L3 slots point at L2 frames inside the table area; tables are mapped read-only. */
    unsigned in_area = 0;
    for (unsigned i = 0; i < 4; i++) {
        uint64_t e = pvt_l3e((unsigned long)i << 30);
        unsigned long va = (unsigned long)pvt_mfn_to_va((unsigned long)((e & PVT_PTE_ADDR_MASK) >> 12));
        if ((e & _PAGE_PRESENT) && va >= si->pt_base && va < pt_end) in_area++;
    }
    CHECK_EQ(in_area, 4);
    unsigned ro_ok = 0, rw_ok = 0, mapped = 0;
    for (unsigned long va = 0x1000; va < pvt_boot_end; va += 0x1000) {
        uint64_t pte = pvt_pte(va);
        if (!(pte & _PAGE_PRESENT)) continue;
        mapped++;
        if (va == (unsigned long)pvt_shared) {  /* boot.c put shared_info here */
            rw_ok++;
            continue;
        }
        int is_pt = va >= si->pt_base && va < pt_end;
        if (is_pt && !(pte & _PAGE_RW)) ro_ok++;
        if (!is_pt && (pte & _PAGE_RW)) rw_ok++;
        if (pvt_m2p_lookup((unsigned long)((pte & PVT_PTE_ADDR_MASK) >> 12)) != (va >> 12)) {
            CHECK_EQ_NAMED("m2p of a bootstrap page", pvt_m2p_lookup(pvt_va_to_mfn(va)), va >> 12);
            break;
        }
    }
    CHECK_EQ(ro_ok, si->nr_pt_frames);
    CHECK_EQ(mapped, (pvt_boot_end >> 12) - 1);  /* all but page 0, which boot.c unmapped */
    CHECK_EQ(rw_ok + ro_ok, mapped);

    /* P2M and M2P agree for every page; every MFN is distinct from its neighbour. */
    unsigned bad = 0;
    for (unsigned long pfn = 0; pfn < si->nr_pages; pfn++)
        if (pvt_m2p_lookup(pvt_p2m[pfn]) != pfn) bad++;
    CHECK_EQ(bad, 0);

    /* Events start masked; time is running. */
    CHECK_EQ(pvt_vcpu(0)->evtchn_upcall_mask, 1);
    CHECK_EQ(pvt_vcpu(0)->time.version & 1, 0);
    CHECK_GT_QUIET(pvt_vcpu(0)->time.system_time, 0);
}
