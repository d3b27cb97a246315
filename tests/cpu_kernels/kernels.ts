/**
 * The bare-metal CPU test kernels (guests/tests/cpu) and how each is run. One entry per
 * image; the same list drives the QEMU suite, the tsxen suite and the STATUS.md report.
 *
 * `expect` says how a correct run ends: 'success' = the kernel prints
 * "Test result: SUCCESS" and writes 0 to the debug-exit port (QEMU status 1);
 * 'shutdown' = the machine shuts down (triple fault) after printing `shutdownMarker`,
 * with no result line (QEMU with -no-reboot exits 0; tsxen reports a shutdown).
 */
import { fileURLToPath } from 'node:url';

export interface KernelSpec {
  readonly name: string;
  readonly topic: string;
  readonly expect: 'success' | 'shutdown';
  /** For 'shutdown' kernels: the last line printed before the machine goes down. */
  readonly shutdownMarker?: string;
  /** Multiboot command line. */
  readonly cmdline?: string;
  /** Command line for the QEMU run instead, to steer around a QEMU crash (the kernel then
   * reports the affected checks as deviations, which tsxen must pass for real). */
  readonly qemuCmdline?: string;
}

export const GUESTS_DIR = fileURLToPath(new URL('../../guests/', import.meta.url));
export const elfPath = (k: KernelSpec): string => `${GUESTS_DIR}build/${k.name}.elf`;

/** Guest RAM for both runners (MiB): the kernels stay within the first 16 MiB. */
export const MEMORY_MIB = 32;

export const KERNELS: readonly KernelSpec[] = [
  { name: 'cpu-modes', topic: 'protected <-> real mode, IVT, prefixes, unreal mode, A20 gate, lmsw', expect: 'success' },
  { name: 'cpu-exceptions', topic: 'vectors, error codes, fault vs trap EIP, delivery failures, #DF task gate, #AC', expect: 'success' },
  { name: 'cpu-segmentation', topic: 'segment loads, limits, expand-down, conforming code, far jumps, lar/lsl/verr/verw/arpl, sgdt/sidt/str/sldt/smsw', expect: 'success' },
  { name: 'cpu-gates', topic: 'interrupt/trap gates and IF, TSS stack switches, call gates, privilege on ret/iret/popf', expect: 'success' },
  { name: 'cpu-io', topic: 'IOPL, I/O permission bitmap (multi-byte, byte-spanning, end byte, TSS limit), ins/outs', expect: 'success' },
  { name: 'cpu-paging', topic: '2-level and PSE paging, #PF error codes and CR2, WP, A/D, TLB flushes, fetch faults, SMC', expect: 'success' },
  { name: 'cpu-pae', topic: 'PAE paging (4 KiB, 2 MiB), reserved bits, NX with EFER.NXE, A/D, frames above 4 GiB', expect: 'success' },
  { name: 'cpu-sysenter', topic: 'SYSENTER/SYSEXIT, their MSRs, selectors and flags, #GP cases', expect: 'success' },
  { name: 'cpu-msr', topic: 'CPUID presence and features, TSC and CR4.TSD, RDMSR/WRMSR privilege and #GP, WBINVD/INVD/RDPMC', expect: 'success' },
  { name: 'cpu-irq', topic: 'PIT + 8259 PIC: IF, STI and MOV SS shadows, POPF, HLT wake-up, mask, in-service/EOI', expect: 'success' },
  { name: 'cpu-x87', topic: 'CR0.TS/MP/EM and #NM, OSFXSR, #MF vs FERR#/IRQ 13, fnsave/fxsave layouts', expect: 'success', qemuCmdline: 'qemu-no-ferr=1' },
  { name: 'cpu-v86', topic: 'virtual-8086 mode: entry/exit, IOPL-sensitive instructions, INT n via the IDT, I/O bitmap', expect: 'success' },
  { name: 'cpu-debug', topic: 'debug registers: instruction and data breakpoints, RF, DR6/DR7 bits, GD, DR4/DR5 and CR4.DE', expect: 'success' },
  { name: 'cpu-tasks', topic: 'task switches by jmp/call/int/iret, TSS and task gates, busy bit, NT, back-link, LDTR, CR0.TS', expect: 'success' },
  { name: 'cpu-triple-fault', topic: 'a fault while delivering #DF shuts the machine down', expect: 'shutdown', shutdownMarker: 'triple fault next' },
];
