/**
 * gnttab: grant-table throughput from dom0 (src/dom0/libs) against pages a guest granted
 * (guests/tests/devchan/bench.c, role granter: 64 writable pages), on the embedded host:
 *
 *   memcpy (baseline)  the same 4 KiB blocks copied inside machine memory by the host
 *   copy in            GNTTABOP_copy, guest grant -> dom0 page, 64 per hypercall
 *   copy out           GNTTABOP_copy, dom0 page -> guest grant
 *   map + unmap        GNTTABOP_map_grant_ref + unmap of 64 grants per hypercall pair
 *                      (zero-copy views: what a backend pays instead of copying)
 *
 * Volume: TSXEN_GNTTAB_MIB (default 64) MiB per copy figure. Figures are host wall time.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchSuite } from './index.ts';
import { DevchanHost } from './evtchn_host.ts';
import { Dom0Pages, XenGnttab, type GrantCopyOp, type GrantMapping } from '../src/dom0/libs/index.ts';
import { maddr } from '../src/hw/memory/addr.ts';

const KERNEL = join(import.meta.dirname, '..', 'guests', 'build', 'devchan-bench.elf');
const MIB = Number(process.env.TSXEN_GNTTAB_MIB ?? 64);
const PAGES = 64;

export const gnttabSuite: BenchSuite = {
  name: 'gnttab',
  description: 'grant copy throughput (MB/s) against a plain memory copy, grant map+unmap rate, from dom0',
  async run(log) {
    if (!existsSync(KERNEL)) {
      log(`  skipped: ${KERNEL} missing (make -C guests devchan-tests)`);
      return;
    }
    const h = new DevchanHost();
    const [g] = h.create('bench', [{ name: 'granter', kernel: KERNEL, role: 'granter', peer: 'dom0' }]);
    const guest = g!; // SAFETY: one spec
    h.xs.write(`/local/domain/${guest.domid}/devchan/pages`, String(PAGES));
    h.unpause([guest]);
    const refs = (await h.get(guest, 'refs')).split(' ').map(Number);
    if (refs.length !== PAGES) throw new Error(`granter published ${refs.length} refs`);
    const xc = h.host.xc;
    const pool = Dom0Pages.of(xc);
    const local = refs.map(() => pool.take());
    const gt = new XenGnttab(xc);
    const blocks = (MIB * 1024 * 1024) / 4096;
    const rounds = Math.ceil(blocks / PAGES);
    const mbps = (ms: number): string => ((rounds * PAGES * 4096) / 1e6 / (ms / 1000)).toFixed(0).padStart(6);

    // Baseline: the same block copies in machine memory (code-coherent copy, as Xen's).
    const mem = h.host.xen.mem;
    const src = local.map((pfn) => h.host.dom0.native!.maddrOf(pfn * 4096)); // SAFETY: dom0 is native
    const t0 = performance.now();
    for (let r = 0; r < rounds; r++) for (let i = 0; i < PAGES; i++) mem.copy(maddr(src[(i + 1) % PAGES]!), maddr(src[i]!), 4096);
    const baseMs = performance.now() - t0;
    log(`  memcpy (baseline)  ${mbps(baseMs)} MB/s`);

    const inOps: GrantCopyOp[] = refs.map((ref, i) => ({ src: { ref, domid: guest.domid, offset: 0 }, dst: { gmfn: local[i]!, offset: 0 }, len: 4096 }));
    const outOps: GrantCopyOp[] = refs.map((ref, i) => ({ src: { gmfn: local[i]!, offset: 0 }, dst: { ref, domid: guest.domid, offset: 0 }, len: 4096 }));
    for (const [name, ops] of [['copy in ', inOps], ['copy out', outOps]] as const) {
      const t = performance.now();
      for (let r = 0; r < rounds; r++) {
        const st = gt.copy(ops);
        if (st.some((s) => s !== 0)) throw new Error(`grant ${name} failed: ${[...st].join(',')}`);
      }
      const ms = performance.now() - t;
      log(`  ${name}           ${mbps(ms)} MB/s   ${(baseMs / ms).toFixed(2)}x memcpy`);
    }

    const mapRounds = Math.max(1, Math.floor(rounds / 4));
    const t1 = performance.now();
    for (let r = 0; r < mapRounds; r++) {
      const ms = gt.mapBatch(refs.map((ref) => ({ domid: guest.domid, ref, writable: true })));
      if (ms.some((m) => typeof m === 'number')) throw new Error('grant map failed');
      gt.unmapBatch(ms as GrantMapping[]);
    }
    const mapMs = performance.now() - t1;
    log(`  map + unmap        ${((mapRounds * PAGES * 1000) / mapMs).toFixed(0).padStart(6)} grants/s`);
    h.put('done', 1);
    await h.host.runUntil(() => guest.exited(), { timeoutMs: 60_000 });
    if (!/Test result: SUCCESS/.test(guest.console())) throw new Error(`granter failed:\n${guest.console()}`);
  },
};
