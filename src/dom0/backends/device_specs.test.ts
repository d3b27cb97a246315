import { describe, expect, it } from 'vitest';
import { parseMacText, randomXenMac, SpecError, vdevNumber } from './device_specs.ts';

describe('device specs', () => {
  it('virtual-device numbers as xen-vbd-interface(7) encodes them', () => {
    expect(vdevNumber('xvda')).toBe(51712);
    expect(vdevNumber('xvdb')).toBe(51728);
    expect(vdevNumber('xvda1')).toBe(51713);
    expect(vdevNumber('xvdp15')).toBe((202 << 8) | (15 << 4) | 15);
    expect(vdevNumber('xvdq')).toBe((1 << 28) | (16 << 8));
    expect(vdevNumber('xvdaa')).toBe((1 << 28) | (26 << 8));
    expect(vdevNumber('hda')).toBe(768);
    expect(vdevNumber('hdb1')).toBe(768 + 64 + 1);
    expect(vdevNumber('hdc')).toBe(22 << 8);
    expect(vdevNumber('sda')).toBe(2048);
    expect(vdevNumber('sdb2')).toBe(2048 + 16 + 2);
    expect(vdevNumber(51712)).toBe(51712);
    expect(vdevNumber('51712')).toBe(51712);
    for (const bad of ['', 'vda', 'xvd', 'xvda16x', 'hde', 'sdq', 'hda64', 0, -1, 1.5]) {
      expect(() => vdevNumber(bad as string), String(bad)).toThrow(SpecError);
    }
  });

  it('MACs: canonical text, unicast only; the default is in Xen\'s OUI', () => {
    expect(parseMacText('00:16:3E:AA:bb:0C')).toBe('00:16:3e:aa:bb:0c');
    expect(() => parseMacText('01:00:5e:00:00:01')).toThrow(/multicast/);
    expect(() => parseMacText('00:16:3e:aa:bb')).toThrow(SpecError);
    for (let i = 0; i < 50; i++) expect(randomXenMac()).toMatch(/^00:16:3e:[0-7][0-9a-f](:[0-9a-f]{2}){2}$/);
  });
});
