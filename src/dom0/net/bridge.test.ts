import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../hw/clock.ts';
import { macToString, parseMac, writeMac, type MacAddr } from './addr.ts';
import { Bridge, type BridgePort, type BridgePortHandle } from './bridge.ts';
import { PacketTrace } from './trace.ts';

class Port implements BridgePort {
  readonly got: Uint8Array[] = [];
  handle!: BridgePortHandle;
  onDeliver: ((f: Uint8Array) => void) | null = null;
  constructor(readonly name: string, readonly mac?: MacAddr) {}
  deliver(f: Uint8Array): void { this.got.push(f.slice()); this.onDeliver?.(f); }
}

const M = (s: string): MacAddr => parseMac(s);
const A = M('52:54:00:00:00:0a');
const B = M('52:54:00:00:00:0b');
const C = M('52:54:00:00:00:0c');

function frame(dst: MacAddr, src: MacAddr, len = 60, type = 0x0800, fill = 0): Uint8Array {
  const f = new Uint8Array(len).fill(fill);
  writeMac(f, 0, dst);
  writeMac(f, 6, src);
  f[12] = type >> 8; f[13] = type & 0xff;
  return f;
}

function setup(opts = {}): { clock: VirtualClock; br: Bridge; p: Port[] } {
  const clock = new VirtualClock();
  const br = new Bridge(clock, opts);
  const p = [new Port('vif1.0'), new Port('vif2.0'), new Port('vif3.0')];
  for (const x of p) x.handle = br.attach(x);
  return { clock, br, p };
}

describe('Bridge (xenbr0)', () => {
  it('floods unknown unicast and broadcast to every other port, then forwards to the learned port only', () => {
    const { br, p } = setup();
    p[0].handle.send(frame(B, A)); // B unknown: flood
    expect(p.map((x) => x.got.length)).toEqual([0, 1, 1]);
    p[1].handle.send(frame(A, B)); // A learned on port 0
    expect(p.map((x) => x.got.length)).toEqual([1, 1, 1]);
    p[0].handle.send(frame(B, A)); // B now learned on port 1
    expect(p.map((x) => x.got.length)).toEqual([1, 2, 1]);
    p[2].handle.send(frame(M('ff:ff:ff:ff:ff:ff'), C));
    p[2].handle.send(frame(M('01:00:5e:00:00:01'), C)); // multicast floods too
    expect(p.map((x) => x.got.length)).toEqual([3, 4, 1]);
    expect(br.counters.forwarded).toBe(2);
    expect(br.counters.flooded).toBe(3);
    expect(p[0].handle.counters).toMatchObject({ rxFrames: 2, txFrames: 3, rxBytes: 120 });
    expect(br.macTable().map((e) => [macToString(e.mac), e.port]).sort()).toEqual([
      ['52:54:00:00:00:0a', 'vif1.0'], ['52:54:00:00:00:0b', 'vif2.0'], ['52:54:00:00:00:0c', 'vif3.0']]);
  });

  it('hands the sender\'s view through without copying, and never reflects a frame to its ingress port', () => {
    const { p } = setup();
    p[1].handle.send(frame(A, B));
    let seen: Uint8Array | null = null;
    p[1].onDeliver = (f) => { seen = f; };
    const f = frame(B, A);
    p[0].handle.send(f);
    expect(seen).toBe(f); // zero-copy: the same view
    const before = p.map((x) => x.got.length);
    p[0].handle.send(frame(A, A)); // A was learned on port 0: filtered, delivered nowhere
    expect(p.map((x) => x.got.length)).toEqual(before);
    expect(p[0].got.length).toBe(1); // only the initial flood of B's frame
  });

  it('ages learned addresses out on the clock and floods again', () => {
    const { clock, br, p } = setup({ ageingNs: 10e9, clockReadInterval: 1 });
    p[1].handle.send(frame(A, B));
    p[0].handle.send(frame(B, A));
    expect(p[2].got.length).toBe(1); // only the first (flooded) frame
    clock.advanceTo(11e9);
    p[0].handle.send(frame(B, A));
    expect(p[2].got.length).toBe(2); // B aged out: flooded
    expect(br.macTable().map((e) => e.port)).toEqual(['vif1.0']); // A re-learned just now
  });

  it('hot-plugs: a detached port gets nothing, its MACs are forgotten, its sends are dropped', () => {
    const { br, p } = setup();
    p[1].handle.send(frame(A, B));
    p[1].handle.detach();
    expect(p[1].handle.attached).toBe(false);
    p[0].handle.send(frame(B, A));
    expect(p[1].got.length).toBe(0);
    expect(p[2].got.length).toBe(2);
    p[1].handle.send(frame(A, B));
    expect(p[1].handle.counters.rxDropped).toBe(1);
    const late = new Port('vif4.0');
    late.handle = br.attach(late);
    p[0].handle.send(frame(M('ff:ff:ff:ff:ff:ff'), A));
    expect(late.got.length).toBe(1);
  });

  it('protects static MACs and enforces restrictSource', () => {
    const clock = new VirtualClock();
    const br = new Bridge(clock);
    const gw = new Port('gateway', M('52:55:0a:00:02:02'));
    gw.handle = br.attach(gw);
    const vif = new Port('vif1.0', A);
    vif.handle = br.attach(vif, { restrictSource: true });
    const rogue = new Port('vif9.0');
    rogue.handle = br.attach(rogue);
    expect(() => br.attach(new Port('dup', M('52:55:0a:00:02:02')))).toThrow(/already belongs to gateway/);
    expect(() => br.attach(new Port('bad', M('01:00:00:00:00:01')))).toThrow(/not a unicast/);
    rogue.handle.send(frame(A, M('52:55:0a:00:02:02'))); // claims the gateway's MAC
    expect(br.counters.spoofed).toBe(1);
    expect(vif.got.length).toBe(0);
    vif.handle.send(frame(M('52:55:0a:00:02:02'), B)); // vif lies about its source
    expect(br.counters.spoofed).toBe(2);
    expect(gw.got.length).toBe(0);
    vif.handle.send(frame(M('52:55:0a:00:02:02'), A));
    expect(gw.got.length).toBe(1);
  });

  it('drops runts, oversize, VLAN-tagged, 802.3 and bad-source frames with counters', () => {
    const { br, p } = setup();
    p[0].handle.send(new Uint8Array(13));
    p[0].handle.send(frame(B, A, 1515));
    p[0].handle.send(frame(B, A, 64, 0x8100));
    p[0].handle.send(frame(B, A, 64, 0x05dc));
    p[0].handle.send(frame(B, M('01:02:03:04:05:06')));
    p[0].handle.send(frame(B, M('00:00:00:00:00:00')));
    expect(br.counters).toMatchObject({ runt: 1, oversize: 1, vlan: 1, llc: 1, badSource: 2 });
    expect(p[0].handle.counters.rxDropped).toBe(6);
    expect(p[1].got.length + p[2].got.length).toBe(0);
  });

  it('bounds MAC learning per port and in total (a MAC-flooding guest cannot evict others)', () => {
    const { br, p } = setup({ maxMacsPerPort: 4, maxMacs: 6 });
    p[1].handle.send(frame(A, B));
    for (let i = 0; i < 100; i++) p[0].handle.send(frame(C, M(`52:54:00:00:10:${i.toString(16).padStart(2, '0')}`)));
    expect(br.macTable().filter((e) => e.port === 'vif1.0').length).toBe(4);
    expect(br.counters.notLearned).toBe(96);
    const before = [p[0].got.length, p[1].got.length];
    p[2].handle.send(frame(B, C));
    expect([p[0].got.length, p[1].got.length]).toEqual([before[0], before[1] + 1]); // B still known: unicast, not flooded
  });

  it('runs deliveries to completion: a port answering inside deliver() is queued, and a ping-pong loop is cut', () => {
    const { br, p } = setup({ maxPending: 1000 });
    const order: string[] = [];
    p[1].onDeliver = (f) => { order.push(`1 got ${f[20]}`); if (f[20] < 3) p[1].handle.send(frame(A, B, 60, 0x0800, f[20] + 1)); order.push(`1 done ${f[20]}`); };
    p[0].onDeliver = (f) => { order.push(`0 got ${f[20]}`); p[0].handle.send(frame(B, A, 60, 0x0800, f[20] + 1)); order.push(`0 done ${f[20]}`); };
    p[1].handle.send(frame(A, B, 60, 0x0800, 9)); // learn B
    order.length = 0;
    p[0].handle.send(frame(B, A, 60, 0x0800, 0));
    expect(order.slice(0, 6)).toEqual(['1 got 0', '1 done 0', '0 got 1', '0 done 1', '1 got 2', '1 done 2']);
    // An endless echo between two ports stops at maxPending.
    p[1].onDeliver = (f) => p[1].handle.send(frame(A, B, 60, 0x0800, f[20]));
    p[0].onDeliver = (f) => p[0].handle.send(frame(B, A, 60, 0x0800, f[20]));
    p[0].handle.send(frame(B, A));
    expect(br.counters.loop).toBe(1);
  });

  it('traces bridge-in/out/flood/drop when enabled', () => {
    const clock = new VirtualClock();
    const trace = new PacketTrace(clock, 16);
    const br = new Bridge(clock, { trace });
    const a = new Port('vif1.0'); a.handle = br.attach(a);
    const b = new Port('vif2.0'); b.handle = br.attach(b);
    a.handle.send(frame(B, A));
    expect(trace.events()).toEqual([]);
    trace.enabled = true;
    a.handle.send(frame(B, A));
    a.handle.send(frame(B, A, 64, 0x8100));
    expect(trace.events().map((e) => `${e.stage} ${e.where}`)).toEqual(['bridge-in vif1.0', 'bridge-flood vif1.0', 'bridge-out vif2.0', 'bridge-drop vif1.0']);
    expect(trace.dump()).toMatch(/bridge-drop +vif1\.0 .*vlan tag/);
  });
});
