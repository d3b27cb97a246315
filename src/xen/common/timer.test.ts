import { describe, expect, it } from 'vitest';
import { Timer, TimerQueue } from './timer.ts';

describe('timer queue', () => {
  it('fires in deadline order, ties in arming order, and supports re-arming', () => {
    const q = new TimerQueue();
    const log: string[] = [];
    const mk = (n: string): Timer => new Timer(() => log.push(n), n);
    const a = mk('a'), b = mk('b'), c = mk('c');
    q.set(a, 30);
    q.set(b, 10);
    q.set(c, 10);
    q.set(a, 5);
    expect(q.nextDeadline()).toBe(5);
    expect(q.fireExpired(10)).toBe(3);
    expect(log).toEqual(['a', 'b', 'c']);
    expect(q.nextDeadline()).toBe(Infinity);
  });

  it('lets a callback re-arm itself (periodic) without firing twice in one pass at the same time', () => {
    const q = new TimerQueue();
    let n = 0;
    const t: Timer = new Timer((now) => {
      n++;
      q.set(t, now + 100);
    }, 'p');
    q.set(t, 100);
    q.fireExpired(350);
    expect(n).toBe(1);
    q.fireExpired(350);
    expect(n).toBe(1);
    q.stop(t);
    expect(q.size).toBe(0);
  });
});
