/**
 * A PV vCPU's view of its own virtual memory for hypercall arguments: guest handles are
 * virtual addresses translated through the vCPU's current page tables (guest_walk.ts).
 *
 * Xen's access_ok for a 32-bit guest: the whole range must lie below the hypervisor hole
 * (HYPERVISOR_VIRT_START); a handle pointing at or into the hole is -EFAULT even where
 * Xen's own read-only mappings (the M2P) are present.
 */
import { HYPERVISOR_VIRT_START } from '../../../../abi/arch_x86_32.ts';
import type { MachineMemory } from '../../../../hw/memory/machine_memory.ts';
import { maddr } from '../../../../hw/memory/addr.ts';
import type { GuestMemory } from '../../../common/guest_access.ts';
import { guestWalk } from './guest_walk.ts';

export class PvGuestMemory implements GuestMemory {
  constructor(private readonly _mem: MachineMemory, private readonly _l3ma: () => number) {}

  /** access_ok: [gva, gva + len) inside the guest's part of the address space. */
  static ok(gva: number, len: number): boolean {
    return gva >= 0 && len >= 0 && gva + len <= HYPERVISOR_VIRT_START && Number.isInteger(gva);
  }

  read(gva: number, dst: Uint8Array, len: number): boolean {
    if (!PvGuestMemory.ok(gva, len)) return false;
    const l3 = this._l3ma();
    if (l3 < 0) return false;
    const u8 = this._mem.u8;
    let done = 0;
    while (done < len) {
      const va = gva + done;
      const n = Math.min(len - done, 4096 - (va & 0xfff));
      const ma = guestWalk(this._mem, l3, va, false);
      if (ma < 0) return false;
      // Small structs (the common case) are copied without a subarray allocation.
      if (n <= 64) for (let i = 0; i < n; i++) dst[done + i] = u8[ma + i]!;
      else dst.set(u8.subarray(ma, ma + n), done);
      done += n;
    }
    return true;
  }

  write(gva: number, src: Uint8Array, len: number): boolean {
    if (!PvGuestMemory.ok(gva, len)) return false;
    const l3 = this._l3ma();
    if (l3 < 0) return false;
    // Translate every page first: a fault must not leave a partial write behind.
    let done = 0;
    while (done < len) {
      const va = gva + done;
      const n = Math.min(len - done, 4096 - (va & 0xfff));
      if (guestWalk(this._mem, l3, va, true) < 0) return false;
      done += n;
    }
    done = 0;
    while (done < len) {
      const va = gva + done;
      const n = Math.min(len - done, 4096 - (va & 0xfff));
      const ma = guestWalk(this._mem, l3, va, true);
      this._mem.writeBytes(maddr(ma), src.subarray(done, done + n));
      done += n;
    }
    return true;
  }
}
