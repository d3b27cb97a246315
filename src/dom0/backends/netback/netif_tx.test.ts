import { describe, expect, it } from 'vitest';
import {
  NETIF_RSP_ERROR, NETIF_RSP_NULL, NETIF_RSP_OKAY, NETTXF_csum_blank, NETTXF_extra_info, NETTXF_more_data,
  XEN_NETIF_EXTRA_FLAG_MORE, XEN_NETIF_EXTRA_TYPE_GSO, XEN_NETIF_EXTRA_TYPE_MCAST_ADD,
} from '../../../abi/io/netif.ts';
import { MAX_DATA_SLOTS, parseTxPacket, TxPacket, type TxSlotSource } from './netif_tx.ts';

type Slot = { gref?: number; offset?: number; flags?: number; id?: number; size?: number; extra?: [number, number] };

function source(slots: Slot[]): TxSlotSource & { used: number } {
  const s = {
    used: 0,
    available: () => slots.length - s.used,
    take: (dst: Uint8Array) => {
      const x = slots[s.used++]!;
      const v = new DataView(dst.buffer, dst.byteOffset, 12);
      if (x.extra) {
        dst.fill(0);
        dst[0] = x.extra[0];
        dst[1] = x.extra[1];
        return true;
      }
      v.setUint32(0, x.gref ?? 1, true);
      v.setUint16(4, x.offset ?? 0, true);
      v.setUint16(6, x.flags ?? 0, true);
      v.setUint16(8, x.id ?? 0, true);
      v.setUint16(10, x.size ?? 0, true);
      return true;
    },
  };
  return s;
}

function parse(slots: Slot[], maxFrame = 1514): { p: TxPacket; used: number } {
  const src = source(slots);
  const p = new TxPacket();
  parseTxPacket(src, p, maxFrame);
  return { p, used: src.used };
}

const statuses = (p: TxPacket): number[] => [...p.slotStatus.subarray(0, p.slotCount)];

describe('netif tx packets', () => {
  it('a one-slot frame', () => {
    const { p, used } = parse([{ gref: 5, offset: 100, id: 3, size: 60 }, { id: 4, size: 60 }]);
    expect(used).toBe(1);
    expect([p.error, p.nfrags, p.len[0], p.offset[0], p.gref[0], p.slotId[0]]).toEqual([null, 1, 60, 100, 5, 3]);
    expect(statuses(p)).toEqual([NETIF_RSP_OKAY]);
  });

  it('fragments: the first slot holds the total, its own length is what the others leave', () => {
    const { p } = parse([
      { gref: 1, offset: 4000, flags: NETTXF_more_data | NETTXF_csum_blank, id: 1, size: 1500 },
      { gref: 2, offset: 0, flags: NETTXF_more_data, id: 2, size: 1000 },
      { gref: 3, offset: 0, id: 3, size: 404 },
    ]);
    expect(p.error).toBeNull();
    expect([...p.len.subarray(0, 3)]).toEqual([96, 1000, 404]);
    expect(p.csumBlank).toBe(true);
    expect([...p.slotId.subarray(0, 3)]).toEqual([1, 2, 3]);
  });

  it('extra-info slots are consumed, answered NULL; GSO and unknown types fail the packet', () => {
    const ok = parse([{ id: 9, flags: NETTXF_extra_info, size: 60 }, { extra: [XEN_NETIF_EXTRA_TYPE_MCAST_ADD, 0] }]);
    expect(ok.p.error).toBeNull();
    expect(statuses(ok.p)).toEqual([NETIF_RSP_OKAY, NETIF_RSP_NULL]);
    const gso = parse([{ id: 9, flags: NETTXF_extra_info | NETTXF_more_data, size: 3000 },
      { extra: [XEN_NETIF_EXTRA_TYPE_GSO, XEN_NETIF_EXTRA_FLAG_MORE] }, { extra: [7, 0] }, { size: 1500 }]);
    expect(gso.used).toBe(4);
    expect(gso.p.error).toMatch(/GSO/);
    expect(statuses(gso.p)).toEqual([NETIF_RSP_ERROR, NETIF_RSP_NULL, NETIF_RSP_NULL, NETIF_RSP_ERROR]);
  });

  it('bad lengths: runt, fragment larger than the rest, crossing a page, too big for the bridge', () => {
    expect(parse([{ size: 13 }]).p.error).toMatch(/Ethernet header/);
    expect(parse([{ flags: NETTXF_more_data, size: 100 }, { size: 200 }]).p.error).toMatch(/larger than/);
    expect(parse([{ offset: 4050, size: 60 }]).p.error).toMatch(/crosses its page/);
    expect(parse([{ size: 1515 }]).p.error).toMatch(/larger than 1514/);
    const bad = parse([{ flags: NETTXF_more_data, size: 100 }, { size: 200 }]).p;
    expect(statuses(bad)).toEqual([NETIF_RSP_ERROR, NETIF_RSP_ERROR]);
  });

  it(`more than ${MAX_DATA_SLOTS} data slots: every slot answered ERROR, the chain consumed`, () => {
    const slots: Slot[] = [];
    for (let i = 0; i < 25; i++) slots.push({ id: i, flags: i < 24 ? NETTXF_more_data : 0, size: i === 0 ? 1400 : 10 });
    const { p, used } = parse(slots, 65535);
    expect(used).toBe(25);
    expect(p.slotCount).toBe(25);
    expect(p.error).toMatch(/more than/);
    expect(statuses(p).every((s) => s === NETIF_RSP_ERROR)).toBe(true);
  });

  it('a chain past the published requests is fatal (disconnect), not a guess', () => {
    expect(parse([{ flags: NETTXF_more_data, size: 100 }]).p.fatal).toMatch(/past the published/);
    expect(parse([{ flags: NETTXF_extra_info, size: 100 }]).p.fatal).toMatch(/past the published/);
    expect(parse([{ flags: NETTXF_extra_info, size: 100 }, { extra: [2, XEN_NETIF_EXTRA_FLAG_MORE] }]).p.fatal).toMatch(/past/);
  });

  it('random slot streams never throw; every consumed slot has a status (seeded)', () => {
    let seed = 0xc0ffee;
    const rnd = (): number => {
      seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
      return seed >>> 0;
    };
    for (let i = 0; i < 3000; i++) {
      const slots: Slot[] = [];
      const n = 1 + (rnd() % 30);
      for (let k = 0; k < n; k++) {
        slots.push((rnd() & 7) === 0 ? { extra: [rnd() & 7, rnd() & 1] }
          : { gref: rnd(), offset: rnd() & 0x1fff, flags: rnd() & 0xf, id: rnd() & 0xffff, size: rnd() & 0x7ff });
      }
      const src = source(slots);
      const p = new TxPacket();
      parseTxPacket(src, p, 1514);
      if (p.fatal === null) expect(p.slotCount, `case ${i}`).toBe(src.used);
      if (p.error === null && p.fatal === null) {
        let sum = 0;
        for (let k = 0; k < p.nfrags; k++) {
          expect(p.offset[k]! + p.len[k]!).toBeLessThanOrEqual(4096);
          sum += p.len[k]!;
        }
        expect(sum).toBe(p.total);
        expect(p.total).toBeLessThanOrEqual(1514);
      }
    }
  });
});
