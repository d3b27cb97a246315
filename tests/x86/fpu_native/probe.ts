// Dev-only probe: run hand-made states through the host and the emulator, print both.
import { OPS, buildCase } from './cases.ts';
import { compareRecords } from './compare.ts';
import { emulateCase } from './emulate.ts';
import { IN_SIZE, OUT_SIZE, runNative, runnerAddresses } from './native.ts';
import { Rng } from './rng.ts';

export interface Probe { op: string; cw: number; sw?: number; regs: [number, number, number][]; empty?: number; mem?: number[] }

export function probe(ps: Probe[]): void {
  const { memBase, codeAddr } = runnerAddresses();
  const r = new Rng(5);
  const cases = ps.map((p) => {
    const op = OPS.find((o) => o.name === p.op);
    if (!op) throw new Error(p.op);
    const c = buildCase(r, op, memBase);
    const d = new DataView(c.input.buffer);
    d.setUint32(0, 0xffff0000 | p.cw, true);
    d.setUint32(4, 0xffff0000 | (p.sw ?? 0), true);
    let tw = 0;
    for (let i = 0; i < 8; i++) tw |= (((p.empty ?? 0xff ^ ((1 << p.regs.length) - 1)) >> i) & 1 ? 3 : 0) << (2 * i);
    d.setUint32(8, 0xffff0000 | tw, true);
    p.regs.forEach(([se, hi, lo], i) => { d.setUint32(28 + 10 * i, lo, true); d.setUint32(32 + 10 * i, hi, true); d.setUint16(36 + 10 * i, se, true); });
    if (p.mem && c.memOff >= 0) p.mem.forEach((b, i) => { c.input[160 + c.memOff + i] = b; });
    return c;
  });
  const input = new Uint8Array(cases.length * IN_SIZE);
  cases.forEach((c, i) => input.set(c.input, i * IN_SIZE));
  const nat = runNative(input).records;
  cases.forEach((c, i) => {
    const n = nat.subarray(i * OUT_SIZE, (i + 1) * OUT_SIZE);
    const e = emulateCase(c.input, memBase, codeAddr);
    const dn = new DataView(n.buffer, n.byteOffset), de = new DataView(e.buffer);
    const st = (d: DataView): string => `${d.getUint16(40, true).toString(16)}:${d.getUint32(36, true).toString(16).padStart(8, '0')}${d.getUint32(32, true).toString(16).padStart(8, '0')}`;
    const m = compareRecords(c, n, e);
    console.log(`${ps[i].op} cw=${ps[i].cw.toString(16)} regs=${ps[i].regs.map((x) => x.map((y) => y.toString(16)).join(':')).join(' ')}\n  native sw=${dn.getUint16(2, true).toString(16)} st0=${st(dn)}\n  emul   sw=${de.getUint16(2, true).toString(16)} st0=${st(de)} ${m.length ? 'MISMATCH ' + m.map((x) => x.field).join(',') : 'ok'}`);
  });
}
