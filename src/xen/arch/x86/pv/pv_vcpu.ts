/**
 * The PV part of a vCPU: its CPU (the emulated processor that runs its ring-1/ring-3
 * code), and the virtual state Xen keeps for a paravirtualized kernel: the virtual IDT
 * (set_trap_table), callbacks, the kernel stack for ring-3 -> ring-1 bounces
 * (stack_switch), its page-table base, GDT/LDT and their shadows, virtual CR0.TS / CR2 /
 * debug registers / IOPL.
 *
 * Trap table layout (`traps`, 256 rows of 2 int32):
 *   [v*2]     flags (bits 0-2: DPL | IF) | cs << 16; 0 = no handler
 *   [v*2 + 1] handler EIP
 *
 * Invariants:
 *  - `guestTable` is 0 or an L3 frame of the domain holding one general + one L3 type
 *    reference for this vCPU (dropped when replaced or at destruction).
 *  - gdtFrames[0..gdtFrameCount) hold a general + seg_desc type reference each.
 *  - ldtMapped[i] != 0 holds a general + seg_desc type reference on that guest frame
 *    while its copy is mapped in the LDT shadow page i.
 */
import type { Cpu } from '../../../../hw/cpu/cpu.ts';
import type { GuestMemory } from '../../../common/guest_access.ts';

export const NR_GDT_FRAMES = 16;
export const NR_LDT_PAGES = 16;

export class PvVcpu {
  cpu: Cpu | null = null;
  guest: GuestMemory | null = null;

  readonly traps = new Int32Array(512);
  kernelSs = 0;
  kernelSp = 0;
  eventCs = 0;
  eventEip = 0;
  failsafeCs = 0;
  failsafeEip = 0;
  /** VGCF_failsafe_disables_events / CALLBACKF_mask_events on the failsafe callback. */
  failsafeMasks = false;
  nmiEip = 0;
  sysenterCs = 0;
  sysenterEip = 0;
  sysenterMasks = false;
  syscall32Cs = 0;
  syscall32Eip = 0;
  syscall32Masks = false;

  /** The vCPU's L3 (top-level table) MFN, 0 = none. */
  guestTable = 0;
  /** Machine address of this vCPU's hardware PDPT (the shadow of guestTable's 4 entries). */
  pdptMa = 0;

  readonly gdtFrames = new Int32Array(NR_GDT_FRAMES);
  gdtFrameCount = 0;
  gdtEnts = 0;
  /** Hypervisor frames holding the A-bit-set copies of the GDT frames (0 = none yet). */
  readonly gdtShadow = new Int32Array(NR_GDT_FRAMES);
  ldtBase = 0;
  ldtEnts = 0;
  /** Guest frames currently copied into LDT shadow page i (0 = not mapped). */
  readonly ldtMapped = new Int32Array(NR_LDT_PAGES);
  readonly ldtShadow = new Int32Array(NR_LDT_PAGES);

  /** Virtual CR0.TS (fpu_taskswitch / clts). */
  vTs = false;
  vCr2 = 0;
  /** The CR4 the guest reads (pvFixupGuestCr4 of what it wrote). */
  vCr4 = 0x620;
  readonly debugreg = new Int32Array(8);
  /** Virtual IOPL 0..3 (PHYSDEVOP_set_iopl). */
  iopl = 0;
  /** PHYSDEVOP_set_iobitmap: guest VA of the bitmap and its port count. */
  iobmpVa = 0;
  iobmpPorts = 0;

  /** Set by a hypercall that must not get a return value in EAX (iret). */
  noReturn = false;
  /** The last hypercall was preempted with a continuation (its slice ends). */
  continued = false;
  /** NMI waiting for delivery (VCPUOP_send_nmi) and the NMI-in-progress mask. */
  nmiPending = false;
  nmiMasked = false;

  /** Instructions run before the current run() call (for the global instruction count). */
  runStart = 0;
}
