/**
 * Exits to the host: PV (ring 0 belongs to the hypervisor) and HVM (VMX-like controls,
 * second-stage translation, event injection, interrupt windows). See docs/cpu.md §2.
 */
import { describe, expect, it } from 'vitest';
import { asm } from '../../../tests/hw/asm.ts';
import { machine, writeTable, gate, flatGdt, type TestMachine } from '../../../tests/hw/machine.ts';
import { ExecMode, ExitReason } from './exit.ts';

/** Identity-map the first 4 MiB with a 4 KiB page table at 0x100000 (PD at 0x101000). */
function identityPaging(m: TestMachine, userFlags = 7): void {
  for (let i = 0; i < 1024; i++) m.w32(0x100000 + i * 4, (i << 12) | userFlags);
  m.w32(0x101000, 0x100000 | 7);
  expect(m.cpu.setCr3(0x101000)).toBe(true);
  expect(m.cpu.setCr0(m.cpu.cr0 | 0x80010000)).toBe(true);
}

function pv(cpl = 1): TestMachine {
  const m = machine({ cpl });
  m.cpu.controls.mode = ExecMode.PV;
  m.cpu.controls.softIntDpl[0x82] = 1;
  m.cpu.controls.softIntDpl[3] = 3;
  m.cpu.setSegment(7, { selector: 0, base: 0, limit: 0, attr: 0x10000 }); // no TSS, as Xen runs PV guests
  return m;
}

describe('PV exits', () => {
  it('INT 0x82 from ring 1 (gate DPL 1) exits SOFT_INT with EIP after it', () => {
    const m = pv(1);
    m.load(0x1000, asm('mov eax, 7; int 0x82; hlt'));
    m.cpu.eip = 0x1000;
    expect(m.run()).toBe(ExitReason.SOFT_INT);
    const x = m.cpu.exit;
    expect([x.vector, x.insnLength, x.nextEip, m.cpu.eip]).toEqual([0x82, 2, 0x1007, 0x1007]);
    expect(m.cpu.regs[0]).toBe(7);
    expect(m.cpu.cpl).toBe(1);
  });

  it('INT n above the gate DPL is #GP(n*8+2) at the INT', () => {
    const m = pv(3);
    m.load(0x1000, asm('int 0x82'));
    m.cpu.eip = 0x1000;
    expect(m.run()).toBe(ExitReason.EXCEPTION);
    expect([m.cpu.exit.vector, m.cpu.exit.errorCode, m.cpu.eip]).toEqual([13, 0x82 * 8 + 2, 0x1000]);
  });

  it('INT3 with gate DPL 3 exits SOFT_INT from ring 3', () => {
    const m = pv(3);
    m.load(0x1000, asm('int3'));
    m.cpu.eip = 0x1000;
    expect(m.run()).toBe(ExitReason.SOFT_INT);
    expect([m.cpu.exit.vector, m.cpu.eip]).toEqual([3, 0x1001]);
  });

  it('privileged instructions in ring 1 are #GP(0) exits with EIP at them', () => {
    for (const src of ['cli', 'hlt', 'mov cr3, eax', 'lgdt [eax]', 'wrmsr', 'in al, 0x60', 'mov dr0, eax']) {
      const m = pv(1);
      m.load(0x1000, asm(src));
      m.cpu.eip = 0x1000;
      expect(m.run(), src).toBe(ExitReason.EXCEPTION);
      expect([m.cpu.exit.vector, m.cpu.exit.errorCode, m.cpu.eip], src).toEqual([13, 0, 0x1000]);
    }
  });

  it('#PF exits with the error code and CR2, EIP at the faulting instruction', () => {
    const m = pv(1);
    identityPaging(m);
    m.w32(0x100000 + 0x200 * 4, 0); // 0x200000 not present
    m.load(0x1000, asm('mov eax, 5; mov [0x200010], eax'));
    m.cpu.eip = 0x1000;
    expect(m.run()).toBe(ExitReason.EXCEPTION);
    const x = m.cpu.exit;
    expect([x.vector, x.errorCode, x.cr2, m.cpu.cr2 >>> 0, m.cpu.eip]).toEqual([14, 2, 0x200010, 0x200010, 0x1005]);
  });

  it('SYSENTER exits', () => {
    const m = pv(3);
    m.load(0x1000, [0x0f, 0x34]);
    m.cpu.eip = 0x1000;
    expect(m.run()).toBe(ExitReason.SYSENTER);
    expect(m.cpu.exit.nextEip).toBe(0x1002);
  });

  it('ignores the INTR line', () => {
    const m = pv(1);
    let acked = 0;
    m.cpu.intr = { hasInterrupt: () => true, acknowledge: () => { acked++; return 0x20; } };
    m.cpu.setEflags(0x202);
    m.load(0x1000, asm('nop; nop; hlt'));
    m.cpu.eip = 0x1000;
    m.cpu.checkInterrupts();
    expect(m.run()).toBe(ExitReason.EXCEPTION); // the HLT (#GP at CPL 1)
    expect(acked).toBe(0);
  });

  it('back-to-back RDTSCs differ (the TSC never stands still)', () => {
    const m = pv(1);
    m.load(0x1000, asm('rdtsc; mov ebx, eax; mov ecx, edx; rdtsc; int 0x82'));
    m.cpu.eip = 0x1000;
    expect(m.run()).toBe(ExitReason.SOFT_INT);
    const r = m.cpu.regs;
    const t0 = (r[1]! >>> 0) * 2 ** 32 + (r[3]! >>> 0), t1 = (r[2]! >>> 0) * 2 ** 32 + (r[0]! >>> 0);
    expect(t1).toBeGreaterThan(t0);
  });

  it('LFENCE, MFENCE and SFENCE are no-ops for a PV guest (#UD on the bare CPU without SSE2)', () => {
    const m = pv(1);
    m.load(0x1000, asm('lfence; mfence; sfence; mov eax, 1; int 0x82'));
    m.cpu.eip = 0x1000;
    expect(m.run()).toBe(ExitReason.SOFT_INT);
    expect(m.cpu.regs[0]).toBe(1);
    const h = hvm();
    h.cpu.controls.exceptionBitmap = 1 << 6;
    h.load(0x1000, asm('mfence'));
    h.cpu.eip = 0x1000;
    expect(h.run()).toBe(ExitReason.EXCEPTION);
    expect(h.cpu.exit.vector).toBe(6);
  });

  it('the hypervisor hole: explicit accesses from ring 1 are #PF (not present), descriptor loads still work', () => {
    const m = pv(1);
    flatGdt(m);
    identityPaging(m);
    for (let i = 0; i < 14; i++) m.w32(0x300000 + i * 4, m.r32(0x800 + i * 4)); // the GDT, inside the hole
    m.cpu.gdtBase = 0x300000;
    m.cpu.controls.pvHoleStart = 0x300000;
    m.cpu.flushTlb();
    const at = (src: string): number[] => {
      m.load(0x1000, asm(src, { org: 0x1000 }));
      m.cpu.eip = 0x1000;
      expect(m.run(), src).toBe(ExitReason.EXCEPTION);
      const x = m.cpu.exit;
      expect(x.pfHole, `${src}: flagged as a hole access`).toBe(true);
      return [x.vector, x.errorCode, x.cr2 >>> 0, m.cpu.eip];
    };
    expect(at('mov ax, 0x31; mov ds, ax; mov eax, [0x300000]')).toEqual([14, 0, 0x300000, 0x1006]);
    expect(m.cpu.segSel[3]).toBe(0x31);
    expect(at('mov dword ptr [0x300ffc], 1')).toEqual([14, 2, 0x300ffc, 0x1000]);
    expect(at('mov esp, 0x300010; push eax')).toEqual([14, 2, 0x30000c, 0x1005]);
    expect(at('mov eax, 0x300100; jmp eax')).toEqual([14, 0, 0x300100, 0x300100]);
    expect(at('mov eax, [0x2ffffe]')).toEqual([14, 0, 0x300000, 0x1000]); // straddles into the hole
    // an ordinary not-present fault below the hole is not flagged
    m.w32(0x100000 + 0x200 * 4, 0);
    m.cpu.flushTlb();
    m.load(0x1000, asm('mov eax, [0x200010]', { org: 0x1000 }));
    m.cpu.eip = 0x1000;
    expect(m.run()).toBe(ExitReason.EXCEPTION);
    expect([m.cpu.exit.vector, m.cpu.exit.cr2 >>> 0, m.cpu.exit.pfHole]).toEqual([14, 0x200010, false]);
  });
});

function hvm(): TestMachine {
  const m = machine({ cpl: 0 });
  flatGdt(m);
  m.cpu.controls.mode = ExecMode.HVM;
  return m;
}

describe('HVM exits', () => {
  it('I/O exiting by port, before the instruction', () => {
    const m = hvm();
    m.cpu.controls.ioBitmap[0x3f8 >> 3] |= 1 << (0x3f8 & 7);
    let wrote = -1;
    m.ports.register(0x3f8, 8, { read: () => 0, write: (_o, _s, v) => { wrote = v; } }, 'uart');
    m.load(0x1000, asm('mov dx, 0x3f8; mov al, 0x41; out dx, al; hlt'));
    m.cpu.eip = 0x1000;
    expect(m.run()).toBe(ExitReason.IO);
    const x = m.cpu.exit;
    expect([x.port, x.size, x.isIn, x.value, x.insnLength, m.cpu.eip]).toEqual([0x3f8, 1, false, 0x41, 1, 0x1006]);
    expect(wrote).toBe(-1);
    m.cpu.eip = x.nextEip;
    expect(m.run()).toBe(ExitReason.HLT);
  });

  it('CPUID, HLT and INVLPG exiting', () => {
    const m = hvm();
    m.cpu.controls.exitOnCpuid = true;
    m.cpu.controls.exitOnHlt = true;
    m.load(0x1000, asm('mov eax, 1; cpuid; hlt'));
    m.cpu.eip = 0x1000;
    expect(m.run()).toBe(ExitReason.CPUID);
    expect([m.cpu.exit.value, m.cpu.eip]).toEqual([1, 0x1005]);
    m.cpu.eip = m.cpu.exit.nextEip;
    expect(m.run()).toBe(ExitReason.HLT);
    expect([m.cpu.eip, m.cpu.halted]).toEqual([0x1007, false]);
  });

  it('second-stage translation maps gfns to mfns and exits on a miss', () => {
    const m = hvm();
    const p2m = new Int32Array(256);
    for (let g = 0; g < 256; g++) p2m[g] = ((g + 0x100) << 4) | 7; // guest page g lives in frame g + 0x100
    p2m[0x50] = (0x150 << 4) | 1; // read-only
    p2m[0x60] = 0;
    m.cpu.controls.p2m = p2m;
    m.cpu.flushTlb();
    m.load(0x101000, asm('mov eax, [0x2000]; mov [0x3000], eax; mov ebx, [0x50000]; mov [0x50004], ebx; hlt'));
    m.w32(0x102000, 0xcafe);
    m.cpu.eip = 0x1000;
    expect(m.run()).toBe(ExitReason.EPT_VIOLATION);
    expect(m.r32(0x103000)).toBe(0xcafe);
    expect([m.cpu.exit.gpa, m.cpu.exit.access, m.cpu.exit.cr2]).toEqual([0x50004, 2, 0x50004]);
    m.cpu.controls.p2m[0x50] = (0x150 << 4) | 7;
    m.cpu.flushTlb();
    expect(m.run()).toBe(ExitReason.HLT);
    m.load(0x101000, asm('mov eax, [0x60000]'));
    m.cpu.eip = 0x1000;
    m.cpu.halted = false;
    expect(m.run()).toBe(ExitReason.EPT_VIOLATION);
    expect([m.cpu.exit.gpa, m.cpu.exit.access]).toEqual([0x60000, 1]);
  });

  it('the exception bitmap exits; other exceptions use the guest IDT', () => {
    const m = hvm();
    m.cpu.idtBase = 0x500;
    m.cpu.idtLimit = 0xff;
    writeTable(m, 0x500, [...new Array(6).fill([0, 0]), gate(0x08, 0x3000, 0x8e)]); // #UD -> 0x3000
    m.load(0x3000, asm('mov ecx, 0x55; hlt'));
    m.load(0x1000, [0x0f, 0x0b]);
    m.cpu.eip = 0x1000;
    expect(m.run()).toBe(ExitReason.HLT);
    expect(m.cpu.regs[1]).toBe(0x55);
    m.cpu.controls.exceptionBitmap = 1 << 6;
    m.cpu.eip = 0x1000;
    m.cpu.halted = false;
    expect(m.run()).toBe(ExitReason.EXCEPTION);
    expect([m.cpu.exit.vector, m.cpu.eip]).toEqual([6, 0x1000]);
  });

  it('injects an event through the guest IDT and exits on an interrupt window', () => {
    const m = hvm();
    m.cpu.idtBase = 0x500;
    m.cpu.idtLimit = 0x1ff;
    const idt: Array<[number, number]> = new Array(0x21).fill([0, 0]);
    idt[0x20] = gate(0x08, 0x3000, 0x8e);
    writeTable(m, 0x500, idt);
    m.load(0x3000, asm('mov edx, 0x77; iretd'));
    m.load(0x1000, asm('mov eax, 1; sti; nop; nop; hlt'));
    m.cpu.eip = 0x1000;
    m.cpu.regs[4] = 0x8000;
    m.cpu.injectEvent(0x20, 0);
    m.cpu.controls.exitOnInterruptWindow = true;
    expect(m.run()).toBe(ExitReason.INTERRUPT_WINDOW);
    expect(m.cpu.regs[2]).toBe(0x77); // the injected handler ran before the window opened
    expect(m.cpu.eip).toBe(0x1007); // after STI and the instruction in its shadow
    m.cpu.controls.exitOnInterruptWindow = false;
    expect(m.run()).toBe(ExitReason.HLT);
  });
  it('MSR exiting by bitmap (low and high ranges), before the instruction; other MSRs run', () => {
    const m = hvm();
    const c = m.cpu.controls;
    c.msrReadBitmap[0x10 >> 3] |= 1 << (0x10 & 7); // TSC
    const efer = 0x2000 + 0x80; // 0xc0000080 in the high half
    c.msrWriteBitmap[efer >> 3] |= 1 << (efer & 7);
    m.cpu.sysenterCs = 0x1234;
    m.load(0x1000, asm('mov ecx, 0x10; rdmsr; mov ecx, 0xc0000080; mov eax, 0x800; xor edx, edx; wrmsr; mov ecx, 0x174; rdmsr; hlt'));
    m.cpu.eip = 0x1000;
    expect(m.run()).toBe(ExitReason.MSR_READ);
    let x = m.cpu.exit;
    expect([x.msr, m.cpu.eip, x.insnLength, x.nextEip]).toEqual([0x10, 0x1005, 2, 0x1007]);
    m.cpu.eip = x.nextEip;
    expect(m.run()).toBe(ExitReason.MSR_WRITE);
    x = m.cpu.exit;
    expect([x.msr >>> 0, x.value, x.valueHigh, m.cpu.eip, m.cpu.efer]).toEqual([0xc0000080, 0x800, 0, 0x1013, 0]);
    m.cpu.eip = x.nextEip;
    expect(m.run()).toBe(ExitReason.HLT); // RDMSR 0x174 is not in the bitmap: it ran
    expect(m.cpu.regs[0]).toBe(0x1234);
  });

  it('CR access exiting: MOV to/from CRn by mask, CLTS and LMSW under CR0, others run', () => {
    const m = hvm();
    m.cpu.controls.crWriteExitMask = (1 << 0) | (1 << 3);
    m.cpu.controls.crReadExitMask = 1 << 3;
    m.cpu.cr0 |= 8; // TS
    m.load(0x1000, asm('mov eax, 0x5000; mov cr3, eax; mov ebx, cr3; clts; lmsw ax; mov ecx, cr4; or ecx, 0x10; mov cr4, ecx; mov edx, cr0; hlt'));
    m.cpu.eip = 0x1000;
    const step = (): [number, number, boolean, number, number, number] => {
      expect(m.run()).toBe(ExitReason.CR_ACCESS);
      const x = m.cpu.exit;
      const r: [number, number, boolean, number, number, number] = [m.cpu.eip, x.cr, x.crWrite, x.gpr, x.value >>> 0, x.insnLength];
      m.cpu.eip = x.nextEip;
      return r;
    };
    expect(step()).toEqual([0x1005, 3, true, 0, 0x5000, 3]);
    expect(m.cpu.cr3).toBe(0);
    expect(step()).toEqual([0x1008, 3, false, 3, 0, 3]);
    expect(step()).toEqual([0x100b, 0, true, -1, (m.cpu.cr0 & ~8) >>> 0, 2]);
    expect(m.cpu.cr0 & 8).toBe(8); // CLTS did not run
    expect(step()).toEqual([0x100d, 0, true, -1, 0x5000, 3]);
    expect(m.run()).toBe(ExitReason.HLT); // CR4 and reads of CR0 do not exit
    expect([m.cpu.cr4 & 0x10, m.cpu.regs[2]]).toEqual([0x10, m.cpu.cr0]);
  });

  it('INVLPG exits with the linear address; RDTSC exits as RDTSC after the CR4.TSD check', () => {
    const m = hvm();
    m.cpu.controls.exitOnInvlpg = true;
    m.cpu.controls.exitOnRdtsc = true;
    m.load(0x1000, asm('mov ebx, 0x4000; invlpg [ebx + 0x10]; rdtsc; hlt'));
    m.cpu.eip = 0x1000;
    m.cpu.regs[0] = 0x11;
    expect(m.run()).toBe(ExitReason.INVLPG);
    expect([m.cpu.exit.cr2, m.cpu.eip, m.cpu.exit.nextEip]).toEqual([0x4010, 0x1005, 0x1009]);
    m.cpu.eip = m.cpu.exit.nextEip;
    expect(m.run()).toBe(ExitReason.RDTSC);
    expect([m.cpu.eip, m.cpu.exit.insnLength, m.cpu.regs[0]]).toEqual([0x1009, 2, 0x11]);
    // At CPL 3 with CR4.TSD, RDTSC is #GP(0) in the guest (through its IDT) before any exit.
    m.cpu.controls.exceptionBitmap = 1 << 13;
    m.cpu.setCr4(m.cpu.cr4 | 4);
    m.cpu.setSegment(1, { selector: 0x1b, base: 0, limit: -1, attr: 0xc0fb });
    m.cpu.setSegment(2, { selector: 0x23, base: 0, limit: -1, attr: 0xc0f3 });
    m.cpu.eip = 0x1009;
    expect(m.run()).toBe(ExitReason.EXCEPTION);
    expect([m.cpu.exit.vector, m.cpu.exit.errorCode, m.cpu.eip]).toEqual([13, 0, 0x1009]);
  });

  it('guest paging through the second stage: table walks, A/D updates as writes, fetch permission', () => {
    const m = hvm();
    const p2m = new Int32Array(0x200);
    for (let g = 0; g < 0x200; g++) p2m[g] = ((g + 0x100) << 4) | 7;
    m.cpu.controls.p2m = p2m;
    // guest PD at gpa 0x10000, PT at 0x11000 (machine +1 MiB), identity for the first 2 MiB
    m.w32(0x110000, 0x11000 | 7);
    for (let i = 0; i < 0x200; i++) m.w32(0x111000 + i * 4, (i << 12) | 7);
    m.load(0x101000, asm('mov eax, [0x5000]; hlt'));
    m.w32(0x105000, 0xfeed);
    expect(m.cpu.setCr3(0x10000)).toBe(true);
    expect(m.cpu.setCr0(m.cpu.cr0 | 0x80000000)).toBe(true);
    const go = (): number => {
      m.cpu.flushTlb();
      m.cpu.eip = 0x1000;
      m.cpu.halted = false;
      return m.run();
    };
    p2m[0x11] = 0; // the page table is not mapped: the walk's read exits
    expect(go()).toBe(ExitReason.EPT_VIOLATION);
    expect([m.cpu.exit.gpa, m.cpu.exit.access, m.cpu.exit.cr2, m.cpu.eip]).toEqual([0x11004, 1, 0x1000, 0x1000]);
    p2m[0x11] = (0x111 << 4) | 1; // read-only page table: setting the PTE's A bit is a write
    expect(go()).toBe(ExitReason.EPT_VIOLATION);
    expect([m.cpu.exit.gpa, m.cpu.exit.access]).toEqual([0x11004, 2]);
    expect(m.r32(0x111004)).toBe(0x1007); // unchanged
    p2m[0x11] = (0x111 << 4) | 3;
    p2m[0x1] = (0x101 << 4) | 3; // code page readable, not executable
    expect(go()).toBe(ExitReason.EPT_VIOLATION);
    expect([m.cpu.exit.gpa, m.cpu.exit.access, m.cpu.exit.cr2]).toEqual([0x1000, 4, 0x1000]);
    p2m[0x1] = (0x101 << 4) | 7;
    expect(go()).toBe(ExitReason.HLT);
    expect([m.cpu.regs[0], m.r32(0x111004), m.r32(0x111014)]).toEqual([0xfeed, 0x1027, 0x5027]);
  });
  it('injects exceptions with their error code and software interrupts past their instruction', () => {
    const m = hvm();
    m.cpu.idtBase = 0x500;
    m.cpu.idtLimit = 0x1ff;
    const idt: Array<[number, number]> = new Array(0x31).fill([0, 0]);
    idt[13] = gate(0x08, 0x3000, 0x8e);
    idt[0x30] = gate(0x08, 0x3100, 0x8e);
    writeTable(m, 0x500, idt);
    m.load(0x3000, asm('pop eax; mov ebx, [esp]; hlt')); // error code, then the EIP
    m.load(0x3100, asm('mov ecx, [esp]; hlt'));
    m.load(0x1000, asm('nop; nop; hlt'));
    m.cpu.regs[4] = 0x8000;
    m.cpu.eip = 0x1000;
    m.cpu.injectEvent(13, 3, 0x1234);
    expect(m.run()).toBe(ExitReason.HLT);
    expect([m.cpu.regs[0], m.cpu.regs[3]]).toEqual([0x1234, 0x1000]);
    m.cpu.regs[4] = 0x8000;
    m.cpu.eip = 0x1000;
    m.cpu.halted = false;
    m.cpu.injectEvent(0x30, 4, -1, 2); // an INT 0x30 of 2 bytes at 0x1000
    expect(m.run()).toBe(ExitReason.HLT);
    expect(m.cpu.regs[1]).toBe(0x1002);
  });
});
