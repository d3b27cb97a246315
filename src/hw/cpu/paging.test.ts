/**
 * Paging and the TLB: 2-level, PSE and PAE walks, accessed/dirty bits, NX, reserved bits,
 * global pages across CR3 reloads, INVLPG, and the A20 gate. (Error codes and CR2 for every
 * kind of access are also covered by the cpu-paging/cpu-pae kernels against QEMU.)
 */
import { describe, expect, it } from 'vitest';
import { asm } from '../../../tests/hw/asm.ts';
import { machine, type TestMachine } from '../../../tests/hw/machine.ts';
import { ExecMode, ExitReason } from './exit.ts';
import { Cpu } from './cpu.ts';
import { setFlatProtectedMode } from './flat.ts';

const PT = 0x100000, PD = 0x101000;

/** 2-level paging, identity for the first 4 MiB via PT; returns after enabling PG. */
function paged(m: TestMachine, flags = 3): void {
  for (let i = 0; i < 1024; i++) m.w32(PT + i * 4, (i << 12) | flags);
  m.w32(PD, PT | 7);
  expect(m.cpu.setCr3(PD)).toBe(true);
  expect(m.cpu.setCr0(m.cpu.cr0 | 0x80000000)).toBe(true);
}

function pvRun(m: TestMachine, src: string): number {
  m.cpu.controls.mode = ExecMode.PV;
  m.load(0x1000, asm(src, { org: 0x1000 }));
  m.cpu.eip = 0x1000;
  m.cpu.halted = false;
  return m.run();
}

describe('2-level paging', () => {
  it('translates, sets A and D, and write-protects clean pages until written', () => {
    const m = machine();
    paged(m);
    m.w32(PT + 0x300 * 4, 0x5000 | 3); // linear 0x300000 -> frame 5
    m.w32(0x5010, 0xabcd);
    expect(pvRun(m, 'mov eax, [0x300010]; mov [0x300014], eax; hlt')).toBe(ExitReason.HLT);
    expect(m.r32(0x5014)).toBe(0xabcd);
    expect(m.r32(PT + 0x300 * 4) & 0x60).toBe(0x60);
    expect(m.r32(PD) & 0x20).toBe(0x20);
  });

  it('4 MiB PSE pages', () => {
    const m = machine({ memMiB: 16 });
    paged(m);
    m.cpu.setCr4(0x10);
    m.w32(PD + 2 * 4, 0x400000 | 0x83); // linear 8 MiB -> physical 4 MiB, 4 MiB page
    m.w32(0x400123, 0x77);
    pvRun(m, 'mov eax, [0x800123]; hlt');
    expect(m.cpu.regs[0]).toBe(0x77);
  });

  it('a PTE change is not seen until INVLPG; a global page survives a CR3 reload', () => {
    const m = machine();
    paged(m);
    m.cpu.setCr4(0x80); // PGE
    m.w32(PT + 0x300 * 4, 0x5000 | 0x103); // global
    m.w32(PT + 0x301 * 4, 0x6000 | 3);
    m.w32(0x5000, 1); m.w32(0x6000, 2); m.w32(0x7000, 3);
    pvRun(m, 'mov eax, [0x300000]; mov ebx, [0x301000]; hlt');
    expect([m.cpu.regs[0], m.cpu.regs[3]]).toEqual([1, 2]);
    m.w32(PT + 0x300 * 4, 0x7000 | 0x103);
    m.w32(PT + 0x301 * 4, 0x7000 | 3);
    pvRun(m, 'mov eax, [0x300000]; mov ebx, [0x301000]; hlt');
    expect([m.cpu.regs[0], m.cpu.regs[3]]).toEqual([1, 2]); // stale, as on hardware
    pvRun(m, 'mov eax, cr3; mov cr3, eax; mov eax, [0x300000]; mov ebx, [0x301000]; hlt');
    expect([m.cpu.regs[0], m.cpu.regs[3]]).toEqual([1, 3]); // global entry kept
    pvRun(m, 'invlpg [0x300000]; mov eax, [0x300000]; hlt');
    expect(m.cpu.regs[0]).toBe(3);
  });

  it('supervisor writes to read-only pages depend on CR0.WP', () => {
    const m = machine();
    paged(m);
    m.w32(PT + 0x300 * 4, 0x5000 | 1); // read-only
    expect(pvRun(m, 'mov dword ptr [0x300000], 9; hlt')).toBe(ExitReason.HLT); // WP=0: allowed
    expect(m.r32(0x5000)).toBe(9);
    m.cpu.setCr0(m.cpu.cr0 | 0x10000);
    expect(pvRun(m, 'mov dword ptr [0x300000], 10; hlt')).toBe(ExitReason.EXCEPTION);
    expect([m.cpu.exit.vector, m.cpu.exit.errorCode, m.cpu.exit.cr2]).toEqual([14, 3, 0x300000]);
  });
});

describe('PAE paging', () => {
  function pae(m: TestMachine, nx = false): void {
    const PDPT = 0x102000, PD2 = 0x103000, PT2 = 0x104000;
    for (let i = 0; i < 512; i++) { m.w32(PT2 + i * 8, (i << 12) | 3); m.w32(PT2 + i * 8 + 4, 0); }
    m.w32(PD2, PT2 | 7);
    m.w32(PDPT, PD2 | 1);
    expect(m.cpu.setCr4(0x20)).toBe(true);
    if (nx) expect(m.cpu.writeMsr(0xc0000080, 0x800, 0)).toBe(true);
    expect(m.cpu.setCr3(PDPT)).toBe(true);
    expect(m.cpu.setCr0(m.cpu.cr0 | 0x80000000)).toBe(true);
  }

  it('translates through PDPTE, PDE and PTE', () => {
    const m = machine();
    pae(m);
    m.w32(0x104000 + 0x100 * 8, 0x6000 | 3); // linear 0x100000 -> frame 6
    m.w32(0x6008, 0x99);
    pvRun(m, 'mov eax, [0x100008]; hlt');
    expect(m.cpu.regs[0]).toBe(0x99);
  });

  it('NX forbids fetches (#PF with I) only with EFER.NXE', () => {
    const m = machine();
    pae(m, true);
    m.w32(0x104000 + 0x180 * 8 + 4, 0x80000000); // linear 0x180000 non-executable
    m.load(0x180000, asm('hlt'));
    m.cpu.controls.mode = ExecMode.PV;
    m.cpu.eip = 0x180000;
    expect(m.run()).toBe(ExitReason.EXCEPTION);
    expect([m.cpu.exit.vector, m.cpu.exit.errorCode, m.cpu.exit.cr2]).toEqual([14, 0x11, 0x180000]);
  });

  it('reserved bits in a PTE are #PF with RSVD', () => {
    const m = machine();
    pae(m);
    m.w32(0x104000 + 0x150 * 8 + 4, 0x100); // bit 40: above MAXPHYADDR 36
    expect(pvRun(m, 'mov eax, [0x150000]')).toBe(ExitReason.EXCEPTION);
    expect([m.cpu.exit.vector, m.cpu.exit.errorCode]).toEqual([14, 9]);
  });

  it('PTE bits 62:52 are ignored in PV mode (a 64-bit hypervisor walks in long mode), reserved otherwise', () => {
    const m = machine();
    pae(m);
    m.w32(0x104000 + 0x150 * 8, 0x6000 | 3);
    m.w32(0x104000 + 0x150 * 8 + 4, 0x7ff00000); // bits 62:52
    m.w32(0x6000, 0x42);
    expect(pvRun(m, 'mov eax, [0x150000]; hlt')).toBe(ExitReason.HLT);
    expect(m.cpu.regs[0]).toBe(0x42);
    m.cpu.controls.mode = ExecMode.HVM;
    m.cpu.controls.exceptionBitmap = 1 << 14;
    m.cpu.flushTlb();
    m.load(0x1000, asm('mov eax, [0x150000]; hlt', { org: 0x1000 }));
    m.cpu.eip = 0x1000;
    m.cpu.halted = false;
    expect(m.run()).toBe(ExitReason.EXCEPTION);
    expect([m.cpu.exit.vector, m.cpu.exit.errorCode]).toEqual([14, 9]);
  });

  it('MOV CR3 with a reserved bit in a present PDPTE is #GP(0)', () => {
    const m = machine();
    pae(m);
    m.w32(0x105000, 0x103000 | 1 | 2); // bit 1 reserved in a PDPTE
    expect(m.cpu.setCr3(0x105000)).toBe(false);
  });
});

describe('A20 gate', () => {
  it('masks physical bit 20 when closed', () => {
    const m = machine();
    m.w32(0x000010, 0x1111);
    m.w32(0x100010, 0x2222);
    m.cpu.setA20(false);
    pvRun(m, 'mov eax, [0x100010]; hlt');
    expect(m.cpu.regs[0]).toBe(0x1111);
    m.cpu.setA20(true);
    pvRun(m, 'mov eax, [0x100010]; hlt');
    expect(m.cpu.regs[0]).toBe(0x2222);
  });
});

describe('a TLB shared by vCPUs taking turns on one thread', () => {
  it('each CPU sees its own address space: the TLB is flushed when another CPU used it', () => {
    const a = machine();
    paged(a); // A: linear 0x200000 -> frame 0x200000
    // B: its own page directory at 0x102000 whose table maps 0x200000 -> frame 0x300000
    for (let i = 0; i < 1024; i++) a.w32(0x103000 + i * 4, ((i === 0x200 ? 0x300 : i) << 12) | 3);
    a.w32(0x102000, 0x103000 | 7);
    const b = new Cpu({ memory: a.mem, clock: a.clock, ports: a.ports, mmio: a.mmio, tlb: a.cpu.tlb });
    setFlatProtectedMode(b, { cpl: 0 });
    expect(b.setCr3(0x102000)).toBe(true);
    expect(b.setCr0(b.cr0 | 0x80000000)).toBe(true);
    a.w32(0x200000, 0xaaaa);
    a.w32(0x300000, 0xbbbb);
    a.load(0x1000, asm('mov eax, [0x200000]; hlt'));
    for (let round = 0; round < 3; round++) {
      a.cpu.eip = 0x1000; a.cpu.halted = false;
      expect(a.cpu.run(100)).toBe(ExitReason.HLT);
      b.eip = 0x1000; b.halted = false;
      expect(b.run(100)).toBe(ExitReason.HLT);
      expect([a.cpu.regs[0], b.regs[0]]).toEqual([0xaaaa, 0xbbbb]);
    }
  });
});
