/**
 * Port 0x92 and the i8042's A20 and reset paths (the cpu-modes kernel checks port 0x92 on
 * QEMU end to end; the keyboard controller's protocol is checked here).
 */
import { describe, expect, it } from 'vitest';
import { I8042, SystemControlA, type A20Control } from './a20.ts';

function control(): A20Control & { resets: number } {
  let a20 = false;
  return {
    resets: 0,
    setA20(e: boolean) { a20 = e; },
    get a20Enabled() { return a20; },
    reset() { this.resets++; },
  };
}

describe('system control port A (0x92)', () => {
  it('bit 1 is the gate and reads back; bit 0 resets on a 0 -> 1 edge only', () => {
    const c = control();
    const p = new SystemControlA(c);
    p.write(0, 1, 2);
    expect([c.a20Enabled, p.read(0, 1) & 2, c.resets]).toEqual([true, 2, 0]);
    p.write(0, 1, 3);
    p.write(0, 1, 3);
    expect(c.resets).toBe(1);
    p.write(0, 1, 0);
    expect([c.a20Enabled, p.read(0, 1) & 2]).toEqual([false, 0]);
  });
});

describe('i8042 keyboard controller', () => {
  const cmd = (k: I8042, v: number): void => k.write(4, 1, v);
  const data = (k: I8042, v: number): void => k.write(0, 1, v);
  const read = (k: I8042): number => k.read(0, 1);

  it('output port: 0xd1 + data sets A20 (bit 0 clear resets), 0xd0 reads it back', () => {
    const c = control();
    const k = new I8042(c);
    cmd(k, 0xd1);
    expect(k.read(4, 1) & 8).toBe(8); // a command awaits its data byte
    data(k, 0x03);
    expect([c.a20Enabled, c.resets]).toEqual([true, 0]);
    cmd(k, 0xd0);
    expect(k.read(4, 1) & 1).toBe(1); // output buffer full
    expect(read(k) & 3).toBe(3);
    cmd(k, 0xd1);
    data(k, 0x00);
    expect([c.a20Enabled, c.resets]).toEqual([false, 1]);
  });

  it('0xdd/0xdf close and open A20; 0xfe pulses reset; self tests and the command byte answer', () => {
    const c = control();
    const k = new I8042(c);
    cmd(k, 0xdf);
    expect(c.a20Enabled).toBe(true);
    cmd(k, 0xdd);
    expect(c.a20Enabled).toBe(false);
    cmd(k, 0xfe);
    expect(c.resets).toBe(1);
    cmd(k, 0xff); // pulses no line
    expect(c.resets).toBe(1);
    cmd(k, 0xaa);
    expect(read(k)).toBe(0x55);
    cmd(k, 0xab);
    expect(read(k)).toBe(0x00);
    cmd(k, 0x60);
    data(k, 0x61);
    cmd(k, 0x20);
    expect(read(k)).toBe(0x61);
    data(k, 0xf4); // a keyboard command with no keyboard: resend
    expect(read(k)).toBe(0xfe);
    expect(k.read(4, 1) & 1).toBe(0);
  });
});
