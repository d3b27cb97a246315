/**
 * The control interface and the guest lifecycle, driven as dom0 drives them: domctl and
 * sysctl in their Xen 4.17 wire layout through libxc over the native port, the toolstack
 * creating, running and tearing down PV guests, and the memory audit after each step.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Host } from '../../src/host/host.ts';
import { parseXlConfig, pvConfig } from '../../src/dom0/toolstack/xl_config.ts';
import { auditMemory } from '../../src/xen/audit.ts';
import { EACCES, EINVAL, ESRCH } from '../../src/abi/errno.ts';
import {
  XEN_DOMCTL_getdomaininfo, XEN_DOMINF_paused, XEN_DOMINF_shutdown, XEN_DOMCTL_max_mem, XEN_DOMCTL_iomem_permission,
  XEN_DOMCTL_irq_permission, XEN_DOMCTL_settimeoffset,
} from '../../src/abi/domctl.ts';
import { DOMCTL_HDR, DOMCTL_IOMEM_PERMISSION, DOMCTL_IRQ_PERMISSION } from '../../src/abi/control_wire.ts';
import { SHARED_INFO_WC_SEC, SHARED_INFO_WC_VERSION } from '../../src/abi/gen/xen.ts';
import { NR_PIRQS } from '../../src/xen/arch/x86/physdev.ts';
import { SHUTDOWN_crash, SHUTDOWN_poweroff } from '../../src/abi/sched.ts';
import type { GuestExit } from '../../src/dom0/toolstack/toolstack.ts';
import { readXenTrace } from '../../src/dom0/libxc/trace.ts';
import { ForeignMap } from '../../src/dom0/libxc/foreign.ts';
import { DOMID_XEN } from '../../src/abi/xen.ts';
import { TRC_HYPERCALL, TRC_PGTYPE, TRC_SCHED_SWITCH, TRC_TRAP } from '../../src/xen/common/trace.ts';
import {
  PGT_count_mask, PGT_l1_page_table, PGT_l2_page_table, PGT_l3_page_table, PGT_pinned, PGT_type_mask, PGT_validated,
} from '../../src/xen/mm/frame_table.ts';

const BUILD = join(import.meta.dirname, '..', '..', 'guests', 'build');
const KERNEL = (name: string): string => join(BUILD, `pv-${name}.elf`);
const have = (name: string): boolean => existsSync(KERNEL(name));

function host(): Host {
  return new Host({ memoryMiB: 64, wallclockBaseNs: 1_700_000_000e9 });
}

function cfg(name: string, extra = ''): ReturnType<typeof pvConfig> {
  return pvConfig(parseXlConfig(`name="${name}"\nkernel="${KERNEL(name)}"\nmemory=32\n${extra}`));
}

describe('domctl / sysctl from dom0', () => {
  it('creates, inspects, limits, pauses and destroys a domain', () => {
    const h = host();
    const xc = h.xc;
    const free0 = h.xen.mm.freePages;
    const id = xc.createDomain({ maxVcpus: 2 });
    expect(id).toBeGreaterThan(0);
    let info = xc.getDomainInfo(id)!;
    expect(info.domid).toBe(id);
    expect(info.flags & XEN_DOMINF_paused).not.toBe(0);
    // Xen 4.17 creates the vCPUs with the domain (config.max_vcpus); they start down.
    expect(info.maxVcpuId).toBe(1);
    expect(info.onlineVcpus).toBe(0);
    expect(xc.maxVcpus(id, 2)).toBe(0);
    expect(xc.maxVcpus(id, 3)).toBe(-EINVAL);
    expect(xc.setMaxMem(id, 4096)).toBe(0);
    info = xc.getDomainInfo(id)!;
    expect(info.maxPages).toBe(1024);
    expect(info.maxVcpuId).toBe(1);
    const got = xc.populatePhysmap(id, [0, 1, 2, 3]);
    expect(typeof got).not.toBe('number');
    expect(xc.getDomainInfo(id)!.totPages).toBe(4);
    // Over the limit: the extent is not allocated.
    expect(xc.populatePhysmap(id, Array.from({ length: 1100 }, (_, i) => 4 + i))).toBeLessThan(0);
    expect(xc.unpauseDomain(id)).toBe(0);
    expect(xc.getDomainInfo(id)!.flags & XEN_DOMINF_paused).toBe(0);
    expect(xc.pauseDomain(id)).toBe(0);
    expect(auditMemory(h.xen)).toEqual([]);
    expect(xc.destroyDomain(id)).toBe(0);
    expect(h.xen.domain(id)).toBeUndefined();
    expect(h.xen.mm.freePages).toBe(free0);
    expect(xc.getDomainInfo(id)?.domid === id).toBe(false);
    expect(xc.destroyDomain(id)).toBe(-ESRCH);
  });

  it('checks the interface version and the target domain', () => {
    const h = host();
    const r = h.xc.domctl(XEN_DOMCTL_getdomaininfo, 0, () => undefined);
    expect(r.rc).toBe(0);
    // A wrong interface version is -EACCES before anything else.
    const bad = h.xc.withScratch(() => {
      const a = h.xc.struct(256, (v) => {
        v.setUint32(DOMCTL_HDR.cmd!, XEN_DOMCTL_max_mem, true);
        v.setUint32(DOMCTL_HDR.interface_version!, 0x11, true);
      });
      return h.port.hypercall(36 /* __HYPERVISOR_domctl */, a);
    });
    expect(bad).toBe(-EACCES);
    expect(h.xc.setMaxMem(31000, 1024)).toBe(-ESRCH);
  });

  it('grants and revokes I/O ports, I/O memory and IRQs; refuses bad ranges; sets the time offset', () => {
    const h = host();
    const xc = h.xc;
    const id = xc.createDomain({ maxVcpus: 1 });
    const d = h.xen.domain(id)!;
    const perm = (cmd: number, fill: (v: DataView, u: number) => void, domid = id): number => xc.domctl(cmd, domid, fill).rc;
    const irq = (pirq: number, allow: boolean, domid = id): number => perm(XEN_DOMCTL_irq_permission, (v, u) => {
      v.setUint32(u + DOMCTL_IRQ_PERMISSION.pirq!, pirq, true);
      v.setUint8(u + DOMCTL_IRQ_PERMISSION.allow_access!, allow ? 1 : 0);
    }, domid);
    const iomem = (first: number, n: number, allow: boolean): number => perm(XEN_DOMCTL_iomem_permission, (v, u) => {
      v.setBigUint64(u + DOMCTL_IOMEM_PERMISSION.first_mfn!, BigInt(first), true);
      v.setBigUint64(u + DOMCTL_IOMEM_PERMISSION.nr_mfns!, BigInt(n), true);
      v.setUint8(u + DOMCTL_IOMEM_PERMISSION.allow_access!, allow ? 1 : 0);
    });
    // I/O ports: [0x3f8, 0x400) granted, then a hole punched; wrapping ranges refused.
    expect(xc.ioportPermission(id, 0x3f8, 8, true)).toBe(0);
    expect([0x3f7, 0x3f8, 0x3ff, 0x400].map((p) => d.ioports.contains(p))).toEqual([false, true, true, false]);
    expect(xc.ioportPermission(id, 0x3fa, 2, false)).toBe(0);
    expect([0x3f9, 0x3fa, 0x3fb, 0x3fc].map((p) => d.ioports.contains(p))).toEqual([true, false, false, true]);
    expect(xc.ioportPermission(id, 0xfff0, 0x20, true)).toBe(-EINVAL);
    expect(xc.ioportPermission(id, 0x10, 0, true)).toBe(-EINVAL);
    expect(d.hasIoCaps).toBe(true);
    // I/O memory (frames above RAM): the L1 rule consults exactly this set.
    expect(iomem(0xfeb00, 4, true)).toBe(0);
    expect([0xfeaff, 0xfeb00, 0xfeb03, 0xfeb04].map((m) => d.iomemPermitted(m))).toEqual([false, true, true, false]);
    expect(iomem(0xfeb01, 1, false)).toBe(0);
    expect(d.iomemPermitted(0xfeb01)).toBe(false);
    expect(iomem(2 ** 40 - 1, 2, true)).toBe(-EINVAL);
    // IRQs: bind_pirq's permission check.
    expect(irq(9, true)).toBe(0);
    expect(d.irqs.contains(9)).toBe(true);
    expect(irq(9, false)).toBe(0);
    expect(d.irqs.contains(9)).toBe(false);
    expect(irq(NR_PIRQS, true)).toBe(-EINVAL);
    expect(irq(9, true, 31000)).toBe(-ESRCH);
    // settimeoffset: the domain's wall clock moves by the offset (version protocol kept even).
    const si = d.sharedInfoMfn * 4096;
    const wc = (): number => h.xen.mem.view.getUint32(si + SHARED_INFO_WC_SEC, true);
    const before = wc();
    expect(perm(XEN_DOMCTL_settimeoffset, (v, u) => v.setInt32(u, 3600, true))).toBe(0);
    expect(wc() - before).toBe(3600);
    expect(h.xen.mem.view.getUint32(si + SHARED_INFO_WC_VERSION, true) % 2).toBe(0);
    expect(xc.destroyDomain(id)).toBe(0);
    expect(auditMemory(h.xen)).toEqual([]);
  });

  it('reports the machine and the hypervisor console', () => {
    const h = host();
    const pi = h.xc.physinfo();
    expect(typeof pi).toBe('object');
    if (typeof pi === 'number') return;
    expect(pi.nrCpus).toBe(2); // the host's default pCPUs (docs/scheduling.md)
    expect(pi.totalPages).toBe(64 * 256);
    expect(pi.freePages).toBeGreaterThan(0);
    const con = h.xc.readConsole();
    expect(con.text).toMatch(/Xen version 4\.17/);
    expect(con.text).toMatch(/d0: created \(native, privileged\)/);
  });
});

describe('guest lifecycle', () => {
  it.skipIf(!have('console_io'))('runs a guest to poweroff, drains its console and frees it', async () => {
    const h = host();
    const free0 = h.xen.mm.freePages;
    let out = '';
    let exit: GuestExit | null = null;
    const g = h.toolstack.createPv(cfg('console_io'), new Uint8Array(readFileSync(KERNEL('console_io'))), {
      sink: (b) => (out += Buffer.from(b).toString('latin1')),
    });
    g.onExit((e) => (exit = e));
    expect(await h.runUntil(() => exit !== null, { timeoutMs: 60_000 })).toBe('done');
    expect(exit).toEqual({ reason: SHUTDOWN_poweroff, action: 'destroy' });
    expect(out).toMatch(/ring line 39: the quick brown fox/);
    expect(out).toMatch(/Test result: SUCCESS/);
    expect(g.console.log).toBe(out);
    expect(h.xen.domain(g.domid)).toBeUndefined();
    expect(auditMemory(h.xen)).toEqual([]);
    expect(h.xen.mm.freePages).toBe(free0);
  }, 120_000);

  it.skipIf(!have('xen_version'))('lets dom0 read the trace buffer (and no other hypervisor frame)', async () => {
    const h = host();
    let exit: GuestExit | null = null;
    const g = h.toolstack.createPv(cfg('xen_version'), new Uint8Array(readFileSync(KERNEL('xen_version'))));
    g.onExit((e) => (exit = e));
    await h.runUntil(() => exit !== null, { timeoutMs: 60_000 });
    const t = readXenTrace(h.xc);
    expect(t.total).toBeGreaterThan(0);
    const calls = t.records.filter((r) => r.event === TRC_HYPERCALL && r.a >>> 16 === g.domid);
    expect(calls.some((r) => r.b === 17 /* xen_version */)).toBe(true);
    expect(t.records.some((r) => r.event === TRC_SCHED_SWITCH && r.b === g.domid * 65536)).toBe(true);
    for (let i = 1; i < t.records.length; i++) expect(t.records[i]!.time).toBeGreaterThanOrEqual(t.records[i - 1]!.time);
    // Since a point: only newer records (dom0's own hypercalls reading the buffer).
    const later = readXenTrace(h.xc, t.total).records;
    expect(later.every((r) => r.event === TRC_HYPERCALL && r.a >>> 16 === 0)).toBe(true);
    expect(h.xc.setTraceMask(0)).toBe(0);
    const n = readXenTrace(h.xc).total;
    h.xc.getDomainInfo(0);
    expect(readXenTrace(h.xc).total).toBe(n);
    // A hypervisor frame that is not shared: refused.
    const info = h.xc.traceInfo();
    if (typeof info === 'number') throw new Error('traceInfo');
    expect(() => ForeignMap.map(h.xc, DOMID_XEN, [info.mfn - 1])).toThrow(/mapping frames/);
    expect(auditMemory(h.xen)).toEqual([]);
  }, 120_000);

  it.skipIf(!have('trap_bounce') || !have('pin_tables'))('traces bounced traps and page-type changes', async () => {
    const h = host();
    const run = async (name: string): Promise<number> => {
      let exit: GuestExit | null = null;
      const g = h.toolstack.createPv(cfg(name), new Uint8Array(readFileSync(KERNEL(name))));
      g.onExit((e) => (exit = e));
      await h.runUntil(() => exit !== null, { timeoutMs: 60_000 });
      expect(exit).toEqual({ reason: SHUTDOWN_poweroff, action: 'destroy' });
      return g.domid;
    };
    const traps = await run('trap_bounce');
    let t = readXenTrace(h.xc);
    const vectors = new Set(t.records.filter((r) => r.event === TRC_TRAP && r.a >>> 16 === traps).map((r) => r.b));
    for (const vec of [0, 1, 3, 4, 5, 6, 13, 14]) expect(vectors.has(vec), `vector ${vec} traced`).toBe(true);
    const from = t.total;
    await run('pin_tables');
    t = readXenTrace(h.xc, from);
    const types = t.records.filter((r) => r.event === TRC_PGTYPE).map((r) => r.b >>> 0);
    // New L1/L2/L3 types (validated), pins, and demotions back to no type count.
    for (const type of [PGT_l1_page_table, PGT_l2_page_table, PGT_l3_page_table]) {
      // A type change (not a pin): validated, unpinned, the first type reference.
      expect(types.some((x) => (x & PGT_type_mask) === type && (x & PGT_validated) !== 0 && (x & PGT_pinned) === 0 &&
        (x & PGT_count_mask) === 1), `type ${type.toString(16)}`).toBe(true);
      expect(types.some((x) => (x & PGT_type_mask) === type && (x & PGT_pinned) !== 0), `pin ${type.toString(16)}`).toBe(true);
    }
    expect(types.some((x) => (x & PGT_validated) === 0 && (x & PGT_count_mask) === 0)).toBe(true);
    expect(auditMemory(h.xen)).toEqual([]);
  }, 120_000);

  it.skipIf(!have('no_trap_handler'))('keeps a crashed guest with on_crash="preserve" until destroyed', async () => {
    const h = host();
    let exit: GuestExit | null = null;
    const g = h.toolstack.createPv(cfg('no_trap_handler', 'on_crash="preserve"'),
      new Uint8Array(readFileSync(KERNEL('no_trap_handler'))));
    g.onExit((e) => (exit = e));
    await h.runUntil(() => exit !== null, { timeoutMs: 60_000 });
    expect(exit).toEqual({ reason: SHUTDOWN_crash, action: 'preserve' });
    const info = h.xc.getDomainInfo(g.domid)!;
    expect(info.domid).toBe(g.domid);
    expect(info.flags & XEN_DOMINF_shutdown).not.toBe(0);
    expect(info.shutdownCode).toBe(SHUTDOWN_crash);
    expect(h.xen.console.text()).toMatch(/domain crashed/);
    h.toolstack.destroy(g.domid);
    expect(h.xen.domain(g.domid)).toBeUndefined();
    expect(auditMemory(h.xen)).toEqual([]);
  }, 120_000);

  it.skipIf(!have('vcpu_smp'))('runs two guests side by side', async () => {
    const h = new Host({ memoryMiB: 128, wallclockBaseNs: 1_700_000_000e9 });
    const exits: GuestExit[] = [];
    for (const name of ['vcpu_smp', 'timer_virq']) {
      if (!have(name)) return;
      const extra = name === 'vcpu_smp' ? 'vcpus=2' : '';
      const g = h.toolstack.createPv(cfg(name, extra), new Uint8Array(readFileSync(KERNEL(name))));
      g.onExit((e) => exits.push(e));
    }
    await h.runUntil(() => exits.length === 2, { timeoutMs: 90_000 });
    expect(exits.map((e) => e.reason)).toEqual([SHUTDOWN_poweroff, SHUTDOWN_poweroff]);
    expect([...h.xen.domains].map((d) => d.domid)).toEqual([0]);
    expect(auditMemory(h.xen)).toEqual([]);
  }, 120_000);
});
