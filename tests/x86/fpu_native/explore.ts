// Dev-only exploration driver (not a test): run N cases per op, print mismatch stats.
import { OPS, buildCase, type X87Case } from './cases.ts';
import { compareRecords, describeCase } from './compare.ts';
import { emulateCase } from './emulate.ts';
import { IN_SIZE, OUT_SIZE, runNative, runnerAddresses } from './native.ts';
import { Rng } from './rng.ts';

const per = Number(process.argv[2] ?? 50);
const filter = process.argv[3] ? new RegExp(process.argv[3]) : undefined;
const showN = Number(process.argv[4] ?? 2);
const seed = Number(process.argv[5] ?? 1);
const { memBase, codeAddr } = runnerAddresses();
const r = new Rng(seed);
const cases: X87Case[] = [];
for (const op of OPS) {
  if (filter && !filter.test(op.name)) continue;
  for (let k = 0; k < per; k++) cases.push(buildCase(r, op, memBase));
}
const recs = new Uint8Array(cases.length * OUT_SIZE);
for (let s0 = 0; s0 < cases.length; s0 += 40000) {
  const part = cases.slice(s0, s0 + 40000);
  const input = new Uint8Array(part.length * IN_SIZE);
  part.forEach((c, i) => input.set(c.input, i * IN_SIZE));
  recs.set(runNative(input).records, s0 * OUT_SIZE);
}
const nat = { records: recs };
const stats = new Map<string, { n: number; bad: number; fields: Map<string, number>; ex: string[] }>();
for (let i = 0; i < cases.length; i++) {
  const c = cases[i];
  let emu: Uint8Array;
  const s = stats.get(c.op.name) ?? { n: 0, bad: 0, fields: new Map<string, number>(), ex: [] as string[] };
  stats.set(c.op.name, s);
  s.n++;
  const nrec = nat.records.subarray(i * OUT_SIZE, (i + 1) * OUT_SIZE);
  try { emu = emulateCase(c.input, memBase, codeAddr); } catch (e) { s.bad++; s.fields.set('THROW', (s.fields.get('THROW') ?? 0) + 1); if (s.ex.length < showN) s.ex.push(describeCase(c) + '\n  ' + String(e)); continue; }
  const m = compareRecords(c, nrec, emu);
  if (m.length) {
    s.bad++;
    for (const f of m) { const k = f.field.replace(/\d+$/, ''); s.fields.set(k, (s.fields.get(k) ?? 0) + 1); }
    if (s.ex.length < showN) s.ex.push(describeCase(c) + '\n' + m.map((x) => `    ${x.field}: native ${x.native} emulated ${x.emulated}`).join('\n'));
  }
}
let tot = 0, totBad = 0;
for (const [name, s] of stats) {
  tot += s.n; totBad += s.bad;
  if (s.bad) console.log(`${name}: ${s.bad}/${s.n} ${[...s.fields].map(([k, v]) => `${k}=${v}`).join(' ')}`);
}
console.log(`total ${totBad}/${tot} bad`);
if (process.env.SHOW) for (const [name, s] of stats) for (const e of s.ex) console.log(`--- ${name}\n${e}`);
