import { describe, expect, it } from 'vitest';
import { scaleDelta, timeScale } from './time.ts';

describe('TSC scale (set_time_scale)', () => {
  for (const hz of [1e9, 2.4e9, 3_333_333_333, 100e6, 14_318_180]) {
    it(`${hz} Hz converts TSC deltas to ns within rounding`, () => {
      const s = timeScale(hz);
      expect(s.mul).toBeGreaterThan(0);
      expect(s.mul).toBeLessThan(2 ** 32);
      for (const ns of [0, 1, 999, 1e6, 123_456_789, 3.7e12]) {
        const ticks = BigInt(Math.floor((ns * hz) / 1e9));
        const back = Number(scaleDelta(ticks, s));
        expect(Math.abs(back - ns)).toBeLessThanOrEqual(1 + ns * 2e-9 + 1e9 / hz);
      }
    });
  }

  it('a 1 GHz TSC is the identity (shift 1, mul 2^31)', () => {
    expect(timeScale(1e9)).toEqual({ mul: 0x80000000, shift: 1 });
  });
});
