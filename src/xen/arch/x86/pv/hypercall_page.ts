/**
 * The PV hypercall page (Xen's hypercall_page_initialise_ring1_kernel): 128 slots of 32
 * bytes over an int3 (0xCC) background; slot i is `mov $i,%eax; int $0x82; ret`, slot 23
 * (iret) is `push %eax; mov $23,%eax; int $0x82` (guests jump there).
 */
import {
  HYPERCALL_PAGE_FILL, HYPERCALL_PAGE_SLOTS, HYPERCALL_PAGE_SLOT_SIZE, HYPERCALL_STUB_PV32, HYPERCALL_STUB_PV32_IRET,
} from '../../../../abi/arch_x86_32.ts';
import { __HYPERVISOR_iret } from '../../../../abi/xen.ts';
import type { MachineMemory } from '../../../../hw/memory/machine_memory.ts';
import { maddr } from '../../../../hw/memory/addr.ts';

/** The 4096 bytes of a 32-bit PV kernel's hypercall page. */
export function hypercallPageBytes(): Uint8Array {
  const page = new Uint8Array(4096).fill(HYPERCALL_PAGE_FILL);
  for (let i = 0; i < HYPERCALL_PAGE_SLOTS; i++) {
    const off = i * HYPERCALL_PAGE_SLOT_SIZE;
    if (i === __HYPERVISOR_iret) {
      page.set(HYPERCALL_STUB_PV32_IRET, off);
      continue;
    }
    page.set(HYPERCALL_STUB_PV32, off);
    page[off + 1] = i & 0xff;
    page[off + 2] = (i >>> 8) & 0xff;
  }
  return page;
}

const PAGE = hypercallPageBytes();

/** Write the page into machine frame `mfn` (keeps decoded code coherent). */
export function writeHypercallPage(mem: MachineMemory, mfn: number): void {
  mem.writeBytes(maddr(mfn * 4096), PAGE);
}
