/**
 * Seeded random grant-table traffic between three PV domains, hostile granters included:
 * entries rewritten at random (any flags, domids, frames: also page tables, frames of
 * other domains, frames that do not exist), maps by PTE and for devices with random
 * flags, unmaps with right and wrong addresses, copies with every flag combination and
 * random offsets, transfers of random frames into random refs, zapped PTEs. After every
 * step the memory audit must be clean and nothing may throw; at the end every domain is
 * destroyed and every frame is back in the heap.
 *
 *   GNTTAB_FUZZ_SEED=123 GNTTAB_FUZZ_STEPS=5000 npx vitest run src/xen/common/grant_table_fuzz.test.ts
 */
import { describe, expect, it } from 'vitest';
import {
  GNTCOPY_dest_gref, GNTCOPY_source_gref, GNTMAP_application_map, GNTMAP_contains_pte, GNTMAP_device_map,
  GNTMAP_host_map, GNTMAP_readonly, GTF_accept_transfer, GTF_permit_access, GTF_readonly,
} from '../../abi/grant_table.ts';
import { DOMID_SELF } from '../../abi/xen.ts';
import { makePvDomain, makeXen, frame } from '../testing/harness.ts';
import { auditMemory } from '../audit.ts';
import type { Domain } from './domain.ts';
import { grantTables } from './grant_table.ts';
import { MapOp, UnmapOp, completeUnmap, mapGrantRef, unmapCommon } from './grant_table_map.ts';
import { CopyOp, gnttabCopyOne } from './grant_table_copy.ts';
import { TransferOp, gnttabTransferOne } from './grant_table_transfer.ts';
import { PGT_l1_page_table, PGT_pinned } from '../mm/frame_table.ts';

const SEED = Number(process.env.GNTTAB_FUZZ_SEED ?? 20261128);
const STEPS = Number(process.env.GNTTAB_FUZZ_STEPS ?? 3000);

/** xorshift32: deterministic, replayable. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

describe('grant tables under seeded random traffic', () => {
  it(`keeps every count consistent (seed ${SEED}, ${STEPS} steps)`, () => {
    const r = rng(SEED);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!; // SAFETY: non-empty arrays
    const int = (n: number): number => Math.floor(r() * n);
    const xen = makeXen(16);
    const free0 = xen.mm.freePages;
    const g = grantTables(xen);
    const doms: Domain[] = [makePvDomain(xen, 256), makePvDomain(xen, 256), makePvDomain(xen, 256)];
    const frames = new Map<Domain, number[]>();
    const l1s = new Map<Domain, number>();
    for (const d of doms) {
      const fs: number[] = [];
      for (let i = 0; i < 24; i++) fs.push(frame(xen, d));
      frames.set(d, fs);
      const l1 = frame(xen, d);
      expect(xen.pageTypes.getPageAndType(l1, PGT_l1_page_table, d.domid)).toBe(0);
      xen.mm.ft.typeInfo[l1]! |= PGT_pinned;
      l1s.set(d, l1);
    }
    const handles = new Map<Domain, Array<{ h: number; pte: number; bus: number }>>(doms.map((d) => [d, []]));
    const ok = { map: 0, unmap: 0, copy: 0, transfer: 0 };
    const anyFrame = (): number => {
      const k = int(10);
      if (k === 0) return 0x7fffffff;
      if (k === 1) return l1s.get(pick(doms))!; // SAFETY: every domain has one
      return pick(frames.get(pick(doms))!); // SAFETY: every domain has frames
    };
    const step = (i: number): void => {
      const d = pick(doms);
      const v = d.vcpu(0)!; // SAFETY: one vCPU each
      const t = g.of(d);
      switch (int(7)) {
        case 0: { // a granter (re)writes one of its entries, possibly behind Xen's back
          const ref = 8 + int(24);
          const ma = t.entryMa(ref);
          const valid = r() < 0.75;
          const flags = valid ? pick([GTF_permit_access, GTF_permit_access | GTF_readonly, GTF_accept_transfer])
            : pick([0, int(0x10000), GTF_permit_access]);
          xen.mem.view.setUint16(ma + 2, valid ? pick(doms).domid : pick([...doms.map((x) => x.domid), 31000]), true);
          xen.mem.view.setUint32(ma + 4, valid ? pick(frames.get(d)!) : anyFrame(), true); // SAFETY: frames set
          xen.mem.view.setUint16(ma, flags, true);
          break;
        }
        case 1: { // map
          const op = new MapOp();
          const rd = pick(doms);
          op.dom = int(20) === 0 ? 31000 : rd.domid;
          op.ref = r() < 0.9 ? 8 + int(24) : int(600);
          op.flags = pick([GNTMAP_device_map, GNTMAP_host_map | GNTMAP_contains_pte, GNTMAP_device_map | GNTMAP_host_map | GNTMAP_contains_pte, 0]) |
            (r() < 0.5 ? GNTMAP_readonly : 0) | (r() < 0.1 ? GNTMAP_application_map : 0);
          const pte = l1s.get(d)! * 4096 + int(512) * 8 + (r() < 0.05 ? 4 : 0); // SAFETY: every domain has one
          op.hostAddr = pte;
          mapGrantRef(g, v, op, null);
          if (op.status === 0) {
            ok.map++;
            handles.get(d)!.push({ h: op.handle, pte, bus: op.devBusAddr }); // SAFETY: set above
          }
          break;
        }
        case 2: { // unmap (sometimes with the wrong address)
          const hs = handles.get(d)!; // SAFETY: set above
          const k = hs.length > 0 && r() < 0.9 ? int(hs.length) : -1;
          const e = k >= 0 ? hs[k]! : { h: int(300), pte: 0, bus: 0 }; // SAFETY: k in range
          const op = new UnmapOp();
          op.reset(r() < 0.1 ? e.pte + 8 : e.pte, r() < 0.1 ? e.bus + 4096 : e.bus, 0, e.h);
          unmapCommon(g, v, op, null);
          g.flushTlb(d);
          completeUnmap(g, v, op);
          if (op.status === 0 && op.done !== 0) ok.unmap++;
          if (k >= 0 && op.status === 0 && (t.mtFlags[e.h] ?? 0) === 0) hs.splice(k, 1);
          break;
        }
        case 3: { // copy, any flag combination
          const op = new CopyOp();
          op.flags = int(4);
          const side = (gref: boolean): [number, number] => gref
            ? [r() < 0.9 ? 8 + int(24) : int(600), pick([...doms.map((x) => x.domid), DOMID_SELF])]
            : [r() < 0.8 ? pick(frames.get(d)!) : anyFrame(), r() < 0.9 ? DOMID_SELF : pick(doms).domid]; // SAFETY: frames set
          [op.srcU, op.srcDomid] = side((op.flags & GNTCOPY_source_gref) !== 0);
          [op.dstU, op.dstDomid] = side((op.flags & GNTCOPY_dest_gref) !== 0);
          op.len = r() < 0.8 ? int(512) : int(4200);
          op.srcOffset = r() < 0.8 ? int(4096 - op.len) : int(4200);
          op.dstOffset = r() < 0.8 ? int(4096 - op.len) : int(4200);
          if (gnttabCopyOne(g, v, op) === 0) ok.copy++;
          break;
        }
        case 4: { // transfer one of our frames (or anything) into a random ref
          const op = new TransferOp();
          const fs = frames.get(d)!; // SAFETY: set above
          const k = int(fs.length);
          op.mfn = r() < 0.8 ? fs[k]! : anyFrame(); // SAFETY: k in range
          op.domid = r() < 0.9 ? pick(doms).domid : 31000;
          op.ref = r() < 0.9 ? 8 + int(24) : int(600);
          gnttabTransferOne(g, v, op, null);
          if (op.status === 0) ok.transfer++;
          if (op.status === 0 || xen.mm.ft.owner[fs[k]!] !== d.domid) fs.splice(k, 1); // SAFETY: k in range
          if (fs.length === 0) fs.push(frame(xen, d));
          break;
        }
        case 5: { // the guest zaps one of its grant PTEs itself (mmu_update)
          const ma = l1s.get(d)! * 4096 + int(512) * 8; // SAFETY: set above
          const lo = xen.pageTypes.readLo(ma), hi = xen.pageTypes.readHi(ma);
          xen.pageTypes.writeEntry(ma, 0, 0);
          xen.pageTypes.putPageFromL1e(lo, hi, d.domid);
          break;
        }
        default: { // frames the transfers moved in become usable frames of the receiver
          for (const x of doms) {
            const fs = frames.get(x)!; // SAFETY: set above
            for (let f = 0; f < xen.mm.frames && fs.length < 24; f++) {
              if (xen.mm.ft.count[f] === 1 && xen.mm.ft.owner[f] === x.domid && xen.mm.ft.flags[f] === 1 && !fs.includes(f) &&
                  f !== l1s.get(x)) fs.push(f);
            }
          }
        }
      }
      const errs = auditMemory(xen, 5);
      if (errs.length > 0) throw new Error(`seed ${SEED} step ${i}: ${errs.join('; ')}`);
    };
    for (let i = 0; i < STEPS; i++) step(i);
    // The traffic must have done real work, not only refusals.
    expect(Math.min(ok.map, ok.unmap, ok.copy, ok.transfer), JSON.stringify(ok)).toBeGreaterThan(STEPS / 500);
    for (const d of doms) xen.destroyDomain(d);
    expect(auditMemory(xen)).toEqual([]);
    expect([...xen.domains]).toEqual([]);
    expect(xen.mm.freePages).toBe(free0);
  }, 120_000);
});
