import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../hw/clock.ts';
import { formatTraceEvent, PacketTrace, traceEventMatches } from './trace.ts';

describe('PacketTrace followers', () => {
  it('is on while at least one follower holds it and off again after the last one', () => {
    const t = new PacketTrace(new VirtualClock());
    const a = t.follow();
    const b = t.follow();
    expect([t.enabled, t.followers]).toEqual([true, 2]);
    a();
    a(); // a second release of the same hold changes nothing
    expect([t.enabled, t.followers]).toEqual([true, 1]);
    b();
    expect([t.enabled, t.followers]).toEqual([false, 0]);
    t.record('ring', 'vif1.0', null, 'not recorded');
    expect(t.events()).toEqual([]);
  });

  it('leaves a trace someone turned on by hand on after its followers leave', () => {
    const t = new PacketTrace(new VirtualClock());
    t.enabled = true;
    t.follow()();
    expect(t.enabled).toBe(true);
  });
});

describe('PacketTrace.since', () => {
  it('returns what was recorded from a seq on, and shows what the ring overwrote as a gap', () => {
    const clock = new VirtualClock();
    const t = new PacketTrace(clock, 4);
    const release = t.follow();
    const from = t.nextSeq;
    for (let i = 0; i < 3; i++) {
      clock.advanceTo((i + 1) * 1000);
      t.record('ring', `vif1.${i}`, null, `n${i}`);
    }
    expect(t.since(from).map((e) => e.text)).toEqual(['n0', 'n1', 'n2']);
    expect(t.since(from + 2).map((e) => e.text)).toEqual(['n2']);
    expect(t.since(t.nextSeq)).toEqual([]);
    for (let i = 3; i < 10; i++) t.record('event', 'vif2.0', null, `n${i}`);
    const got = t.since(from);
    expect(got.map((e) => e.seq)).toEqual([6, 7, 8, 9]); // 0..5 overwritten: the follower sees the gap
    expect(t.dropped).toBe(6);
    t.clear();
    expect(t.since(0)).toEqual([]);
    t.record('bridge-in', 'vif1.0', null, 'after clear');
    expect(t.since(10).map((e) => [e.seq, e.text])).toEqual([[10, 'after clear']]);
    release();
  });

  it('formats and filters like dump', () => {
    const t = new PacketTrace(new VirtualClock());
    t.enabled = true;
    t.record('netback-tx', 'vif1.0', null, '10.0.2.15:40000 > 10.0.2.2:80');
    const [e] = t.events();
    expect(formatTraceEvent(e!)).toBe(`t=${'0.000000'.padStart(14)} ms  netback-tx     vif1.0     10.0.2.15:40000 > 10.0.2.2:80`);
    expect(traceEventMatches(e!, 'vif1.0')).toBe(true);
    expect(traceEventMatches(e!, ':40000')).toBe(true);
    expect(traceEventMatches(e!, 'vif2.0')).toBe(false);
    expect(t.dump(':40000')).toBe(formatTraceEvent(e!));
  });
});
