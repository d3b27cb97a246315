import { describe, expect, it } from 'vitest';
import {
  arr, char, decode, encode, f, fieldAt, getter, getter64, handle, i16, i8, offsetOf, setter, setter64, struct, u16, u32,
  u64, u8, ulong, union, walkFields,
} from './layout.ts';

describe('layout: i386 offsets', () => {
  it('aligns uint64_t to 4 inside x86_32 structs (vcpu_runstate_info is 44, not 48)', () => {
    const s = struct('t', [f('state', u32), f('entry', u64), arr('time', u64, 4)]);
    expect(offsetOf(s, 'entry')).toBe(4);
    expect(offsetOf(s, 'time')).toBe(12);
    expect(s.size).toBe(44);
    expect(s.align).toBe(4);
  });

  it('aligns uint64_t to 8 in x86_64 structs and pads the tail', () => {
    const s = struct('t', [f('op', u8), f('id', u64), f('st', i16)], { abi: 'x86_64' });
    expect(offsetOf(s, 'id')).toBe(8);
    expect(offsetOf(s, 'st')).toBe(16);
    expect(s.size).toBe(24);
  });

  it('refuses word-sized types and pointers in an x86_64 layout', () => {
    expect(() => struct('t', [f('w', ulong)], { abi: 'x86_64' })).toThrow(/no fixed width/);
    expect(() => struct('t', [f('p', handle('void'))], { abi: 'x86_64' })).toThrow(/no fixed width/);
  });

  it('packs packed structs (the 20-byte e820 entry)', () => {
    const s = struct('e', [f('addr', u64), f('size', u64), f('type', u32)], { packed: true });
    expect(s.size).toBe(20);
    const p = struct('p', [f('a', u8), f('b', u32)], { packed: true });
    expect(offsetOf(p, 'b')).toBe(1);
    expect(p.size).toBe(5);
  });

  it('pads between members and at the end like C', () => {
    const s = struct('t', [f('dom', u16), f('port', u32), f('c', u8)]);
    expect(offsetOf(s, 'port')).toBe(4);
    expect(s.size).toBe(12);
  });

  it('lays unions at offset 0 with the size of the largest member', () => {
    const u = union('u', [f('a', u8), arr('b', u16, 3), f('c', u32)]);
    expect(u.fields.map((x) => x.offset)).toEqual([0, 0, 0]);
    expect(u.size).toBe(8);
  });

  it('treats a flexible array as size 0, last member only', () => {
    const s = struct('v', [f('len', u32), arr('buf', char, 0)]);
    expect(s.size).toBe(4);
    expect(offsetOf(s, 'buf')).toBe(4);
    expect(() => struct('v', [arr('buf', char, 0), f('len', u32)])).toThrow(/last member/);
  });

  it('throws when the computed size differs from the declared ABI size', () => {
    expect(() => struct('t', [f('a', u32)], { size: 8 })).toThrow(/is 4 bytes, the ABI says 8/);
  });

  it('rejects duplicate field names and unknown paths', () => {
    expect(() => struct('t', [f('a', u32), f('a', u8)])).toThrow(/duplicate/);
    const s = struct('t', [f('a', u32)]);
    expect(() => offsetOf(s, 'b')).toThrow(/no field b/);
    expect(() => offsetOf(s, 'a.x')).toThrow(/not a struct/);
  });

  it('walks nested anonymous members with absolute offsets', () => {
    const s = struct('t', [f('x', u32), f('u', union(null, [f('a', struct(null, [f('p', u16), f('q', u32)])), f('b', u64)]))]);
    expect([...walkFields(s)].map(({ path, offset }) => `${path}@${offset}`))
      .toEqual(['x@0', 'u@4', 'u.a@4', 'u.a.p@4', 'u.a.q@8', 'u.b@4']);
    expect(fieldAt(s, 'u.a.q').offset).toBe(8);
  });

  it('defaults the typedef to <name>_t and spells anonymous typedef structs by their typedef', () => {
    expect(struct('foo', [f('a', u8)]).typedef).toBe('foo_t');
    expect(struct(null, [f('a', u8)], { typedef: 'bar_t' }).cName).toBe('bar_t');
    expect(struct('foo', [f('a', u8)], { typedef: null }).typedef).toBeNull();
  });
});

describe('layout: accessors', () => {
  const s = struct('t', [f('b', i8), f('w', u16), f('s', i16), f('d', u32), f('q', u64), f('h', handle('void'))]);
  const view = new DataView(new ArrayBuffer(64));

  it('reads and writes each field little-endian at a base offset, with its signedness', () => {
    const base = 8;
    setter(s, 'b')(view, base, 0xff);
    setter(s, 'w')(view, base, 0x1234);
    setter(s, 's')(view, base, -2);
    setter(s, 'd')(view, base, 0xdeadbeef);
    setter64(s, 'q')(view, base, 0x8000000000000001n);
    setter(s, 'h')(view, base, 0xc0001000);
    expect(getter(s, 'b')(view, base)).toBe(-1);
    expect(getter(s, 'w')(view, base)).toBe(0x1234);
    expect(view.getUint8(base + offsetOf(s, 'w'))).toBe(0x34);
    expect(getter(s, 's')(view, base)).toBe(-2);
    expect(getter(s, 'd')(view, base)).toBe(0xdeadbeef);
    expect(getter64(s, 'q')(view, base)).toBe(0x8000000000000001n);
    expect(getter(s, 'h')(view, base)).toBe(0xc0001000);
  });

  it('truncates values to the field width', () => {
    setter(s, 'w')(view, 0, 0x12345678);
    expect(getter(s, 'w')(view, 0)).toBe(0x5678);
    setter64(s, 'q')(view, 0, -1n);
    expect(getter64(s, 'q')(view, 0)).toBe(0xffffffffffffffffn);
  });

  it('refuses the wrong accessor width', () => {
    expect(() => getter(s, 'q')).toThrow(/64-bit/);
    expect(() => getter64(s, 'd')).toThrow(/not 64-bit/);
    const a = struct('a', [arr('x', u32, 2)]);
    expect(() => getter(a, 'x')).toThrow(/array/);
  });
});

describe('layout: decode/encode', () => {
  const inner = struct('in', [f('lo', u16), f('hi', u16)]);
  const s = struct('t', [
    arr('name', char, 8), f('n', u32), f('q', u64), arr('v', u16, 3), arr('raw', u8, 4), f('inn', inner),
  ]);

  it('round-trips every kind of field', () => {
    const view = new DataView(new ArrayBuffer(s.size + 4));
    const value = { name: 'xen', n: 7, q: 1n << 40n, v: [1, 2, 3], raw: new Uint8Array([9, 8, 7, 6]), inn: { lo: 1, hi: 0xffff } };
    encode(s, view, 4, value);
    expect(decode(s, view, 4)).toEqual(value);
  });

  it('rejects unknown fields, over-long strings and arrays, and wrong value types', () => {
    const view = new DataView(new ArrayBuffer(64));
    expect(() => encode(s, view, 0, { nope: 1 })).toThrow(/no field nope/);
    expect(() => encode(s, view, 0, { name: '12345678' })).toThrow(/does not fit/);
    expect(() => encode(s, view, 0, { v: [1, 2, 3, 4] })).toThrow(/4 items for 3 slots/);
    expect(() => encode(s, view, 0, { n: 'x' })).toThrow(/expected a number/);
    expect(() => encode(s, view, 0, { inn: 3 })).toThrow(/expected an object/);
  });

  it('stops a char array at its NUL', () => {
    const view = new DataView(new ArrayBuffer(64));
    for (let i = 0; i < 8; i++) view.setUint8(i, 0x41);
    view.setUint8(3, 0);
    expect(decode(s, view, 0).name).toBe('AAA');
  });
});
