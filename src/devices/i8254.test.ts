import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../hw/clock.ts';
import { I8254, PcSpeakerPort, PIT_HZ } from './i8254.ts';

function pit() {
  const clock = new VirtualClock();
  const counter = { instructions: 0 };
  clock.attach(counter);
  const edges: boolean[] = [];
  const p = new I8254(clock, { setLevel: (h) => edges.push(h) });
  const at = (ns: number): void => { counter.instructions = ns; };
  return { p, clock, at, edges, counter };
}
const TICK = 1e9 / PIT_HZ;

describe('i8254', () => {
  it('mode 2 on channel 0: periodic IRQ 0 edges and a counter that counts down', () => {
    const { p, at, edges } = pit();
    p.write(3, 1, 0x34); // ch0, lo/hi, mode 2
    p.write(0, 1, 100);
    p.write(0, 1, 0);
    at(10 * TICK + 1);
    p.write(3, 1, 0x00); // latch
    const v = p.read(0, 1) | (p.read(0, 1) << 8);
    expect(v).toBe(90);
    expect(p.nextEventNs()).toBeCloseTo(100 * TICK, 0);
    at(100 * TICK + 1);
    p.update();
    expect(edges).toEqual([true, false]);
    at(350 * TICK + 1);
    p.update(); // periods 2 and 3 missed: one coalesced edge
    expect(edges.length).toBe(4);
  });

  it('mode 0 one-shot: output rises once at terminal count', () => {
    const { p, at, edges } = pit();
    p.write(3, 1, 0x30);
    p.write(0, 1, 50);
    p.write(0, 1, 0);
    expect(p.out(0)).toBe(false);
    at(51 * TICK);
    expect(p.out(0)).toBe(true);
    p.update();
    at(500 * TICK);
    p.update();
    expect(edges).toEqual([true, false]);
    expect(p.nextEventNs()).toBe(Infinity);
  });

  it('read-back returns status and count; channel 2 gate and output via port 0x61', () => {
    const { p, at, clock } = pit();
    const port61 = new PcSpeakerPort(p, clock);
    p.write(3, 1, 0xb0); // ch2, lo/hi, mode 0
    p.write(2, 1, 0x00);
    p.write(2, 1, 0x10); // 4096
    at(1000 * TICK);
    expect(p.count(2)).toBe(4096); // gate low: not counting
    port61.write(0, 1, 1);
    at(2000 * TICK);
    expect(p.count(2)).toBe(4096 - 1000);
    p.write(3, 1, 0xe8); // read-back status+count, ch2
    expect(p.read(2, 1) & 0x3f).toBe(0x30);
    expect(port61.read() & 0x20).toBe(0);
    at(6000 * TICK);
    expect(port61.read() & 0x20).toBe(0x20);
  });

  it('square wave mode 3 counts by twos', () => {
    const { p, at } = pit();
    p.write(3, 1, 0x36);
    p.write(0, 1, 0x10);
    p.write(0, 1, 0x00);
    at(3 * TICK + 1);
    expect(p.count(0)).toBe(10);
    expect(p.out(0)).toBe(true);
    at(9 * TICK + 1);
    expect(p.out(0)).toBe(false);
  });
});
