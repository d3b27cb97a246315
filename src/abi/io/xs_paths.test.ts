import { describe, expect, it } from 'vitest';
import { backendPath, domainPath, frontendPath, vmPath, xvdDevice } from './xs_paths.ts';
import { parseXenbusState, XenbusStateClosed, XenbusStateUnknown } from './xenbus.ts';

describe('io/xs_paths and io/xenbus', () => {
  it('builds the standard device directories', () => {
    expect(domainPath(3)).toBe('/local/domain/3');
    expect(frontendPath(3, 'vbd', 51712)).toBe('/local/domain/3/device/vbd/51712');
    expect(backendPath(0, 'vif', 3, 0)).toBe('/local/domain/0/backend/vif/3/0');
    expect(vmPath('00000000-0000-0000-0000-000000000001')).toBe('/vm/00000000-0000-0000-0000-000000000001');
  });

  it('encodes xvd device numbers (xvda = 51712, extended form past 15)', () => {
    expect(xvdDevice(0)).toBe(51712);
    expect(xvdDevice(1, 2)).toBe((202 << 8) | (1 << 4) | 2);
    expect(xvdDevice(16)).toBe((1 << 28) | (16 << 8));
  });

  it('reads state nodes; garbage is Unknown', () => {
    expect(parseXenbusState('6')).toBe(XenbusStateClosed);
    expect(parseXenbusState(' 6\n')).toBe(XenbusStateClosed);
    for (const bad of ['', '9', '-1', '4x', '0x4', '44']) expect(parseXenbusState(bad)).toBe(XenbusStateUnknown);
  });
});
