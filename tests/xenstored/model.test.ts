/**
 * Seeded random operation sequences against a reference model of the store semantics
 * (xenstore.md §5-§6 restated as plainly as possible): every reply or error must match the
 * model, and the whole tree (values, permissions, child order) must match after each step.
 *
 * Transactions are checked for serializability: a transaction that commits must have seen
 * exactly what replaying its operations on the model at commit time gives, and its effects
 * appear atomically; one that fails with EAGAIN leaves no trace.
 *
 * A failure prints the seed and the step; rerun one seed with XS_MODEL_SEED=<n>.
 */
import { describe, expect, it } from 'vitest';
import { asDomId } from '../../src/abi/types.ts';
import { XenStored } from '../../src/dom0/xenstored/xenstored.ts';
import { XsLocalHandle, XsRequestError } from '../../src/dom0/xenstored/local_handle.ts';
import { checkStore } from '../../src/dom0/xenstored/store_check.ts';

// ---- the reference model --------------------------------------------------------------

interface MNode {
  value: string;
  perms: string[];
  children: string[];
}

interface Caller {
  id: number;
  priv: boolean;
}

const R = 1;
const W = 2;
const OWNER = 4;

const parentOf = (p: string): string => (p.lastIndexOf('/') > 0 ? p.slice(0, p.lastIndexOf('/')) : '/');
const base = (p: string): string => p.slice(p.lastIndexOf('/') + 1);

class Model {
  nodes = new Map<string, MNode>();

  constructor() {
    const add = (p: string, value: string, children: string[]): void => void this.nodes.set(p, { value, perms: ['n0'], children });
    add('/', '', ['tool', 'local', 'vm']);
    add('/tool', '', ['xenstored']);
    add('/tool/xenstored', '', []);
    add('/local', '', ['domain']);
    add('/local/domain', '', ['0']);
    add('/local/domain/0', '', ['name', 'domid']);
    add('/local/domain/0/name', 'Domain-0', []);
    add('/local/domain/0/domid', '0', []);
    add('/vm', '', []);
  }

  clone(): Model {
    const m = new Model();
    m.nodes = new Map([...this.nodes].map(([k, v]) => [k, { value: v.value, perms: [...v.perms], children: [...v.children] }]));
    return m;
  }

  access(c: Caller, perms: string[]): number {
    const ownerId = Number(perms[0]!.slice(1));
    if (c.priv || ownerId === c.id) return R | W | OWNER;
    const letter = (perms.slice(1).find((p) => Number(p.slice(1)) === c.id) ?? perms[0]!)[0];
    return letter === 'r' ? R : letter === 'w' ? W : letter === 'b' ? R | W : 0;
  }

  /** Node if accessible with `need`, else the error the rules give. */
  get(c: Caller, path: string, need: number): MNode | string {
    const n = this.nodes.get(path);
    if (n !== undefined) return (this.access(c, n.perms) & need) === need ? n : 'EACCES';
    let p = path;
    do p = parentOf(p);
    while (!this.nodes.has(p));
    return (this.access(c, this.nodes.get(p)!.perms) & need) !== 0 ? 'ENOENT' : 'EACCES';
  }

  read(c: Caller, path: string): string {
    const n = this.get(c, path, R);
    return typeof n === 'string' ? `!${n}` : n.value;
  }

  directory(c: Caller, path: string): string {
    const n = this.get(c, path, R);
    return typeof n === 'string' ? `!${n}` : n.children.join(',');
  }

  getPerms(c: Caller, path: string): string {
    const n = this.get(c, path, R);
    return typeof n === 'string' ? `!${n}` : n.perms.join(',');
  }

  create(c: Caller, path: string, value: string): void {
    const missing = [path];
    let p = parentOf(path);
    while (!this.nodes.has(p)) {
      missing.push(p);
      p = parentOf(p);
    }
    const parent = this.nodes.get(p)!;
    const perms = [...parent.perms];
    if (!c.priv) perms[0] = `${perms[0]![0]}${c.id}`;
    parent.children.push(base(missing[missing.length - 1]!));
    for (let i = missing.length - 1; i >= 0; i--) {
      this.nodes.set(missing[i]!, { value: i === 0 ? value : '', perms: [...perms], children: i === 0 ? [] : [base(missing[i - 1]!)] });
    }
  }

  write(c: Caller, path: string, value: string): string {
    const n = this.get(c, path, W);
    if (n === 'ENOENT') this.create(c, path, value);
    else if (typeof n === 'string') return `!${n}`;
    else n.value = value;
    return 'OK';
  }

  mkdir(c: Caller, path: string): string {
    const n = this.get(c, path, W);
    if (n === 'ENOENT') this.create(c, path, '');
    else if (typeof n === 'string') return `!${n}`;
    return 'OK';
  }

  rm(c: Caller, path: string): string {
    const n = this.get(c, path, W);
    if (n === 'ENOENT') return this.nodes.has(parentOf(path)) ? 'OK' : '!ENOENT';
    if (typeof n === 'string') return `!${n}`;
    if (path === '/') return '!EINVAL';
    for (const k of [...this.nodes.keys()]) if (k === path || k.startsWith(`${path}/`)) this.nodes.delete(k);
    const parent = this.nodes.get(parentOf(path))!;
    parent.children = parent.children.filter((ch) => ch !== base(path));
    return 'OK';
  }

  setPerms(c: Caller, path: string, perms: string[]): string {
    const n = this.get(c, path, W | OWNER);
    if (typeof n === 'string') return `!${n}`;
    if (!c.priv && perms[0]!.slice(1) !== n.perms[0]!.slice(1)) return '!EPERM';
    n.perms = [...perms];
    return 'OK';
  }
}

// ---- random operations ------------------------------------------------------------------

const PATHS = [
  '/a', '/a/b', '/a/b/c', '/a/d', '/e', '/e/f/g', '/vm/u', '/local/domain/5', '/local/domain/5/x',
  '/local/domain/5/x/y', '/local/domain/6/z', '/local/domain/6', '/tool/xenstored/q', '/',
];
const PERMS = [['n0'], ['r0'], ['b0'], ['n5'], ['n6'], ['n0', 'r5'], ['n0', 'b5'], ['n0', 'w6'], ['n6', 'r5'], ['b5', 'n6'], ['r5', 'b6']];
const VALUES = ['', 'v', 'value with spaces', '0', 'x'.repeat(100)];

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
}

type Op = { kind: string; path: string; value?: string; perms?: string[] };

function randomOp(r: () => number): Op {
  const pick = <T,>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
  const kind = pick(['read', 'read', 'write', 'write', 'mkdir', 'rm', 'directory', 'getPerms', 'setPerms']);
  return { kind, path: pick(PATHS), value: pick(VALUES), perms: pick(PERMS) };
}

function applyModel(m: Model, c: Caller, op: Op): string {
  switch (op.kind) {
    case 'read': return m.read(c, op.path);
    case 'write': return m.write(c, op.path, op.value!);
    case 'mkdir': return m.mkdir(c, op.path);
    case 'rm': return m.rm(c, op.path);
    case 'directory': return m.directory(c, op.path);
    case 'getPerms': return m.getPerms(c, op.path);
    default: return m.setPerms(c, op.path, op.perms!);
  }
}

function applyReal(h: XsLocalHandle, op: Op, tx: number): string {
  try {
    switch (op.kind) {
      case 'read': return h.read(op.path, tx);
      case 'write': h.write(op.path, op.value!, tx); return 'OK';
      case 'mkdir': h.mkdir(op.path, tx); return 'OK';
      case 'rm': h.rm(op.path, tx); return 'OK';
      case 'directory': return h.directory(op.path, tx).join(',');
      case 'getPerms': return h.getPerms(op.path, tx).join(',');
      default: h.setPerms(op.path, op.perms!, tx); return 'OK';
    }
  } catch (e) {
    if (e instanceof XsRequestError) return `!${e.code}`;
    throw e;
  }
}

function dump(h: XsLocalHandle): Map<string, MNode> {
  const out = new Map<string, MNode>();
  const walk = (p: string): void => {
    const children = h.directory(p);
    out.set(p, { value: h.read(p), perms: h.getPerms(p), children });
    for (const ch of children) walk(p === '/' ? `/${ch}` : `${p}/${ch}`);
  };
  walk('/');
  return out;
}

function runSeed(seed: number, steps: number): void {
  const d = new XenStored();
  d.quotas.nodes = 1_000_000;
  const callers: Array<[Caller, XsLocalHandle]> = [
    [{ id: 0, priv: true }, new XsLocalHandle(d)],
    [{ id: 5, priv: false }, new XsLocalHandle(d, asDomId(5), false)],
    [{ id: 6, priv: false }, new XsLocalHandle(d, asDomId(6), false)],
  ];
  const model = new Model();
  const r = rng(seed);
  /** Open transactions: caller index, id, operations with the replies seen. */
  let tx: { who: number; id: number; ops: Array<[Op, string]> } | undefined;
  for (let step = 0; step < steps; step++) {
    const where = `seed ${seed} step ${step}`;
    const who = Math.floor(r() * callers.length);
    const [caller, h] = callers[who]!;
    const dice = r();
    if (tx === undefined && dice < 0.05) {
      tx = { who, id: h.transactionStart(), ops: [] };
      continue;
    }
    if (tx !== undefined && tx.who === who && dice < 0.15) {
      const commit = r() < 0.8;
      const ok = h.transactionEnd(tx.id, commit);
      if (commit && ok) {
        // Serializable: replaying at commit time must reproduce every reply the transaction saw.
        for (const [op, seen] of tx.ops) expect(applyModel(model, caller, op), `${where}: replay of ${JSON.stringify(op)}`).toBe(seen);
      }
      tx = undefined;
      expect(dump(callers[0]![1]), where).toEqual(model.nodes);
      continue;
    }
    const op = randomOp(r);
    if (tx !== undefined && tx.who === who) {
      tx.ops.push([op, applyReal(h, op, tx.id)]);
      continue;
    }
    const got = applyReal(h, op, 0);
    expect(got, `${where}: ${JSON.stringify(op)} by dom${caller.id}`).toBe(applyModel(model, caller, op));
    if (step % 10 === 0) expect(dump(callers[0]![1]), where).toEqual(model.nodes);
  }
  expect(checkStore(d.store)).toEqual([]);
}

describe('store semantics against a reference model (seeded)', () => {
  const only = process.env.XS_MODEL_SEED;
  const seeds = only !== undefined ? [Number(only)] : Array.from({ length: 24 }, (_, i) => 0x1000 + i * 7919);
  it.each(seeds)('seed %i', (seed) => {
    runSeed(seed, 600);
  });
});
