import { describe, expect, it } from 'vitest';
import { PicPair } from './i8259.ts';

/** Initialize as a PC BIOS/Linux does: master at 0x20, slave at 0x28, cascade on IRQ 2. */
function pc(): PicPair {
  const p = new PicPair();
  p.master.write(0, 1, 0x11); p.master.write(1, 1, 0x20); p.master.write(1, 1, 0x04); p.master.write(1, 1, 0x01);
  p.slave.write(0, 1, 0x11); p.slave.write(1, 1, 0x28); p.slave.write(1, 1, 0x02); p.slave.write(1, 1, 0x01);
  p.master.write(1, 1, 0x00);
  p.slave.write(1, 1, 0x00);
  return p;
}

describe('i8259 pair', () => {
  it('delivers the highest-priority request and holds lower ones until EOI', () => {
    const p = pc();
    let changes = 0;
    p.onChange = () => changes++;
    p.setIrq(4, true);
    p.setIrq(1, true);
    expect(changes).toBeGreaterThan(0);
    expect(p.hasInterrupt()).toBe(true);
    expect(p.acknowledge()).toBe(0x21);
    expect(p.hasInterrupt()).toBe(false); // IRQ 4 is lower than IRQ 1 in service
    p.master.write(0, 1, 0x20); // EOI
    expect(p.acknowledge()).toBe(0x24);
  });

  it('edge-triggered inputs latch one request per rising edge', () => {
    const p = pc();
    p.setIrq(0, true);
    p.setIrq(0, false);
    p.setIrq(0, true);
    expect(p.acknowledge()).toBe(0x20);
    p.master.write(0, 1, 0x20);
    expect(p.hasInterrupt()).toBe(false);
  });

  it('routes slave IRQs through the cascade with their own vectors', () => {
    const p = pc();
    p.setIrq(13, true);
    expect(p.hasInterrupt()).toBe(true);
    expect(p.acknowledge()).toBe(0x2d);
    p.slave.write(0, 1, 0x20);
    p.master.write(0, 1, 0x20);
    expect(p.hasInterrupt()).toBe(false);
  });

  it('masks, reads IRR/ISR through OCW3, and gives a spurious IRQ 7 when nothing is pending', () => {
    const p = pc();
    p.master.write(1, 1, 0x08);
    p.setIrq(3, true);
    expect(p.hasInterrupt()).toBe(false);
    p.master.write(0, 1, 0x0a);
    expect(p.master.read(0, 1) & 0x08).toBe(0x08);
    p.master.write(1, 1, 0x00);
    expect(p.acknowledge()).toBe(0x23);
    p.master.write(0, 1, 0x0b);
    expect(p.master.read(0, 1)).toBe(0x08);
    expect(p.acknowledge()).toBe(0x27); // spurious
    expect(p.master.isr & 0x80).toBe(0);
  });

  it('level-triggered inputs (ELCR) follow the line', () => {
    const p = pc();
    p.elcr.write(0, 1, 0x20); // IRQ 5 level on the master
    p.setIrq(5, true);
    expect(p.acknowledge()).toBe(0x25);
    p.master.write(0, 1, 0x20);
    expect(p.hasInterrupt()).toBe(true); // still high
    p.setIrq(5, false);
    expect(p.hasInterrupt()).toBe(false);
  });

  it('auto-EOI mode does not set ISR', () => {
    const p = new PicPair();
    p.master.write(0, 1, 0x11); p.master.write(1, 1, 0x20); p.master.write(1, 1, 0x04); p.master.write(1, 1, 0x03);
    p.master.write(1, 1, 0);
    p.setIrq(1, true);
    expect(p.acknowledge()).toBe(0x21);
    expect(p.master.isr).toBe(0);
  });
});
