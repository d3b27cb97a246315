import { describe, expect, it } from 'vitest';
import { Uart16550 } from './uart16550.ts';

function uart() {
  const out: number[] = [];
  const irq: boolean[] = [];
  const u = new Uart16550((b) => out.push(b), { setLevel: (h) => irq.push(h) });
  return { u, out, irq };
}

describe('UART 16550', () => {
  it('transmits THR writes at once; LSR always shows an empty transmitter', () => {
    const { u, out } = uart();
    u.write(0, 1, 0x41);
    u.write(0, 1, 0x42);
    expect(out).toEqual([0x41, 0x42]);
    expect(u.read(5, 1) & 0x60).toBe(0x60);
  });

  it('DLAB switches offsets 0 and 1 to the divisor latch', () => {
    const { u, out } = uart();
    u.write(3, 1, 0x80);
    u.write(0, 1, 0x0c);
    u.write(1, 1, 0x00);
    expect([u.read(0, 1), u.read(1, 1)]).toEqual([0x0c, 0]);
    u.write(3, 1, 0x03);
    expect(out).toEqual([]);
    expect(u.read(3, 1)).toBe(3);
  });

  it('identifies as a 16550A with FIFOs enabled and keeps the scratch register', () => {
    const { u } = uart();
    u.write(2, 1, 0xc7);
    expect(u.read(2, 1) & 0xc0).toBe(0xc0);
    u.write(7, 1, 0x5a);
    expect(u.read(7, 1)).toBe(0x5a);
  });

  it('loopback: MSR mirrors MCR and bytes come back as received data', () => {
    const { u, out } = uart();
    u.write(4, 1, 0x1f);
    expect(u.read(6, 1) & 0xf0).toBe(0xf0);
    u.write(0, 1, 0x99);
    expect(out).toEqual([]);
    expect(u.read(5, 1) & 1).toBe(1);
    expect(u.read(0, 1)).toBe(0x99);
  });

  it('THRE and RDA interrupts, gated by OUT2, cleared the documented way', () => {
    const { u, irq } = uart();
    u.write(1, 1, 0x02); // ETBEI without OUT2: no IRQ line change
    expect(irq).toEqual([]);
    expect(u.read(2, 1) & 0x0f).toBe(0x02); // reading IIR clears THRE
    u.write(4, 1, 0x08); // OUT2
    u.write(0, 1, 0x41); // THR empty again -> THRE
    expect(irq.at(-1)).toBe(true);
    expect(u.read(2, 1) & 0x0f).toBe(0x02);
    expect(irq.at(-1)).toBe(false);
    u.write(1, 1, 0x03);
    u.receive([1, 2]);
    expect(u.read(2, 1) & 0x0f).toBe(0x04);
    expect(irq.at(-1)).toBe(true);
    u.read(0, 1);
    u.read(0, 1);
    expect(u.read(5, 1) & 1).toBe(0);
    expect(irq.at(-1)).toBe(false);
  });

  it('snapshots round-trip', () => {
    const { u } = uart();
    u.write(1, 1, 0x01);
    u.receive([7]);
    const s = u.saveState();
    const v = uart().u;
    v.loadState(JSON.parse(JSON.stringify(s)));
    expect(v.read(0, 1)).toBe(7);
    expect(() => v.loadState({ ...s, version: 9 } as never)).toThrow(/version/);
  });
});
