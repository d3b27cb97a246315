import { describe, expect, it } from 'vitest';
import { SeededRng } from '../../../tests/net/seeded_rng.ts';
import { TimerQueue, type Timed } from './timers.ts';

describe('TimerQueue', () => {
  it('fires due objects earliest first, skips re-armed-later and cancelled entries, bounds entries per object', () => {
    const q = new TimerQueue();
    const fired: string[] = [];
    const mk = (name: string): Timed => ({ timerAt: Infinity, onTimer: (now) => { fired.push(`${name}@${now}`); } });
    const a = mk('a'), b = mk('b'), c = mk('c');
    q.schedule(a, 30); q.schedule(b, 10); q.schedule(c, 20);
    for (let i = 0; i < 100; i++) q.schedule(a, 40 + i); // later: ignored (a re-checks itself at 30)
    expect(q.size).toBe(3);
    q.cancel(c);
    q.run(25);
    expect(fired).toEqual(['b@25']);
    q.run(100);
    expect(fired).toEqual(['b@25', 'a@100']);
    expect(q.nextAt).toBe(Infinity);
  });

  it('is a correct priority queue under seeded random schedules', () => {
    const rng = new SeededRng(31);
    const q = new TimerQueue();
    const order: number[] = [];
    const objs = Array.from({ length: 500 }, (_, i) => ({ timerAt: Infinity, at: 0, onTimer() { order.push(i); } }));
    for (const o of objs) { o.at = rng.int(1e6); q.schedule(o, o.at); }
    q.run(1e6);
    const ats = order.map((i) => objs[i].at);
    expect(ats).toEqual([...ats].sort((x, y) => x - y));
    expect(order.length).toBe(500);
  });

  it('tells its driver when the earliest deadline moves earlier', () => {
    const q = new TimerQueue();
    let calls = 0;
    q.onEarlier = () => { calls++; };
    const o = { timerAt: Infinity, onTimer() {} };
    const p = { timerAt: Infinity, onTimer() {} };
    q.schedule(o, 100);
    q.schedule(p, 200);
    q.schedule(p, 50);
    expect(calls).toBe(2);
  });
});
