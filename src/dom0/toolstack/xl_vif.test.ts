import { describe, expect, it } from 'vitest';
import { parseVifSpec, VifSpecError, type VifSpec } from './xl_vif.ts';
import { formatMac } from './xl_values.ts';

function ok(s: string | string[]): VifSpec {
  const v = parseVifSpec(s);
  if (v instanceof VifSpecError) throw v;
  return v;
}

describe('xl vif spec (xl-network-configuration(5))', () => {
  it('reads the man page examples and the empty spec', () => {
    const a = ok('mac=00:16:3E:74:3d:76,model=rtl8139,bridge=xenbr0');
    expect(formatMac(a.mac!)).toBe('00:16:3e:74:3d:76');
    expect(a.model).toBe('rtl8139');
    expect(a.unsupported).toEqual(['model']);
    expect(ok('')).toMatchObject({ mac: null, bridge: 'xenbr0', devid: null });
    expect(ok('bridge=xenbr0,mac=00:16:3e:5a:00:01,script=/tests/kernels/hotplug-vif')).toMatchObject({ script: '/tests/kernels/hotplug-vif' });
  });

  it('skips blanks before terms and takes network-attach\'s separate arguments', () => {
    expect(ok('mac=00:16:3e:00:00:01, ip=10.0.2.15 ,devid=3').ip).toBe('10.0.2.15 ');
    expect(ok(['mac=00:16:3e:00:00:02', 'devid=1', 'mtu=1400'])).toMatchObject({ devid: 1, mtu: 1400 });
    expect(ok('rate=10Mb/s@20ms').rate).toBe('10Mb/s@20ms');
  });

  it('rejects bad terms with xl\'s messages', () => {
    const msg = (s: string): string => (parseVifSpec(s) as VifSpecError).message;
    expect(msg('mac=00:16:3e:zz:00:01')).toMatch(/^Invalid parameter `mac'/);
    expect(msg('mac=01:16:3e:00:00:01')).toMatch(/multicast/);
    expect(msg('type=e1000')).toBe('Invalid parameter `type\'.');
    expect(msg('colour=blue')).toBe('unrecognized argument `colour=blue\'');
    expect(msg('flag')).toBe('unrecognized argument `flag\'');
    expect(msg('devid=x')).toMatch(/failed to convert "x" to number/);
    expect(msg('rate=fast')).toMatch(/invalid rate/);
  });
});
