import { describe, expect, it } from 'vitest';
import { SeededRng, seedFromEnv } from '../../../tests/net/seeded_rng.ts';
import { inSubnet, ipv4ToString, isGroupMac, macToString, parseIpv4, parseMac, readIpv4, readMac, writeIpv4, writeMac } from './addr.ts';

describe('addresses', () => {
  it('round-trips MACs and IPv4 addresses through bytes and text (seeded)', () => {
    const seed = seedFromEnv(1);
    const rng = new SeededRng(seed);
    const b = new Uint8Array(16);
    for (let i = 0; i < 2000; i++) {
      const bytes = rng.bytes(6);
      const mac = readMac(bytes, 0);
      writeMac(b, 3, mac);
      expect(b.subarray(3, 9), `seed ${seed}`).toEqual(bytes);
      expect(parseMac(macToString(mac))).toBe(mac);
      expect(isGroupMac(mac)).toBe((bytes[0] & 1) === 1);
      const ip = readIpv4(bytes, 1);
      writeIpv4(b, 0, ip);
      expect(b.subarray(0, 4)).toEqual(bytes.subarray(1, 5));
      expect(parseIpv4(ipv4ToString(ip))).toBe(ip);
      expect(ip).toBeGreaterThanOrEqual(0);
    }
  });

  it('rejects malformed text naming the value', () => {
    expect(() => parseMac('52:54:00:12:34')).toThrow(/"52:54:00:12:34"/);
    expect(() => parseIpv4('10.0.2.256')).toThrow(/"10\.0\.2\.256"/);
    expect(() => parseIpv4('10.0.2')).toThrow(/dotted quad/);
  });

  it('subnets', () => {
    expect(inSubnet(parseIpv4('10.0.2.200'), parseIpv4('10.0.2.0'), 24)).toBe(true);
    expect(inSubnet(parseIpv4('10.0.3.1'), parseIpv4('10.0.2.0'), 24)).toBe(false);
    expect(inSubnet(parseIpv4('255.255.255.255'), parseIpv4('0.0.0.0'), 0)).toBe(true);
  });
});
