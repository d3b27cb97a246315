import { describe, expect, it } from 'vitest';
import { asDomId, asEvtchnPort, asGfn } from '../../abi/types.ts';
import { createDevice, createDomainTree, removeDevice, removeDomainTree, withTransaction } from './domain_tree.ts';
import { XsLocalHandle } from './local_handle.ts';
import { checkStore } from './store_check.ts';
import { XenStored } from './xenstored.ts';

function setup(): { d: XenStored; xs: XsLocalHandle; guest: XsLocalHandle } {
  const d = new XenStored();
  const xs = new XsLocalHandle(d);
  createDomainTree(xs, {
    domid: asDomId(3), name: 'guest', uuid: '00000000-0000-0000-0000-000000000003', memoryKiB: 65536, vcpus: 2,
    store: { gfn: asGfn(0x1234), port: asEvtchnPort(1) }, console: { gfn: asGfn(0x1235), port: asEvtchnPort(2) },
  });
  return { d, xs, guest: new XsLocalHandle(d, asDomId(3), false) };
}

describe('createDomainTree', () => {
  it('writes the libxl layout with dom0 ownership and guest read access', () => {
    const { d, xs, guest } = setup();
    const h = '/local/domain/3';
    expect(xs.getPerms(h)).toEqual(['n0', 'r3']);
    expect([xs.read(`${h}/name`), xs.read(`${h}/domid`), xs.read(`${h}/vm`)]).toEqual(['guest', '3', '/vm/00000000-0000-0000-0000-000000000003']);
    expect([xs.read(`${h}/memory/target`), xs.read(`${h}/memory/static-max`)]).toEqual(['65536', '65536']);
    expect([xs.read(`${h}/cpu/0/availability`), xs.read(`${h}/cpu/1/availability`)]).toEqual(['online', 'online']);
    expect([xs.read(`${h}/store/ring-ref`), xs.read(`${h}/store/port`)]).toEqual([String(0x1234), '1']);
    expect([xs.read(`${h}/console/limit`), xs.read(`${h}/console/type`)]).toEqual(['1048576', 'xenconsoled']);
    expect(xs.read('/vm/00000000-0000-0000-0000-000000000003/name')).toBe('guest');
    // What the guest may do with its own tree.
    expect(guest.read('name')).toBe('guest');
    expect(() => guest.write('name', 'evil')).toThrow(/EACCES/);
    expect(() => guest.write('memory/target', '1')).toThrow(/EACCES/);
    guest.write('control/shutdown', '');
    guest.write('control/feature-poweroff', '1');
    guest.write('data/anything/below', 'ok');
    guest.write('device/suspend/event-channel', '7');
    expect(() => guest.write('device/vbd', '')).toThrow(/EACCES/);
    expect(checkStore(d.store)).toEqual([]);
  });

  it('replaces what an earlier domain with the same id left behind', () => {
    const { xs } = setup();
    xs.write('/local/domain/3/stale', 'x');
    createDomainTree(xs, { domid: asDomId(3), name: 'again', uuid: 'u', memoryKiB: 1 });
    expect(xs.tryRead('/local/domain/3/stale')).toBeUndefined();
    expect(xs.read('/local/domain/3/name')).toBe('again');
  });

  it('removeDomainTree removes the home and the VM directory', () => {
    const { xs } = setup();
    removeDomainTree(xs, asDomId(3), '00000000-0000-0000-0000-000000000003');
    expect(xs.tryRead('/local/domain/3')).toBeUndefined();
    expect(xs.directory('/vm')).toEqual([]);
  });
});

describe('createDevice', () => {
  it('creates both ends at Initialising with cross-read permissions', () => {
    const { xs, guest } = setup();
    const spec = { front: asDomId(3), back: asDomId(0), type: 'vbd', backendType: 'qdisk', devid: 51712, frontEntries: { 'virtual-device': '51712' }, backEntries: { params: 'disk.img', mode: 'w' } };
    const { frontend, backend } = createDevice(xs, spec);
    expect(frontend).toBe('/local/domain/3/device/vbd/51712');
    expect(backend).toBe('/local/domain/0/backend/qdisk/3/51712');
    expect(xs.getPerms(frontend)).toEqual(['n3', 'r0']);
    expect(xs.getPerms(backend)).toEqual(['n0', 'r3']);
    expect(xs.getPerms(`${frontend}/state`)).toEqual(['n3', 'r0']);
    expect(xs.read(`${frontend}/backend`)).toBe(backend);
    expect(xs.read(`${backend}/frontend-id`)).toBe('3');
    expect([xs.read(`${frontend}/state`), xs.read(`${backend}/state`), xs.read(`${backend}/online`)]).toEqual(['1', '1', '1']);
    expect(xs.read(`${backend}/params`)).toBe('disk.img');
    // The frontend domain fills in its ring details and reads the backend's state.
    guest.write(`${frontend}/ring-ref`, '8');
    guest.write(`${frontend}/state`, '3');
    expect(guest.read(`${backend}/state`)).toBe('1');
    expect(() => guest.write(`${backend}/state`, '4')).toThrow(/EACCES/);
    removeDevice(xs, spec);
    expect(xs.tryRead(frontend)).toBeUndefined();
    expect(xs.tryRead(backend)).toBeUndefined();
  });
});

describe('withTransaction', () => {
  it('retries the body on EAGAIN and aborts on an exception', () => {
    const { d, xs } = setup();
    const other = new XsLocalHandle(d);
    let runs = 0;
    withTransaction(xs, (tx) => {
      runs++;
      xs.read('/local/domain/3/name', tx);
      if (runs === 1) other.write('/local/domain/3/name', 'changed');
      xs.write('/local/domain/3/data/x', String(runs), tx);
    });
    expect(runs).toBe(2);
    expect(xs.read('/local/domain/3/data/x')).toBe('2');
    expect(() => withTransaction(xs, (tx) => {
      xs.write('/local/domain/3/data/y', '1', tx);
      throw new Error('boom');
    })).toThrow('boom');
    expect(xs.tryRead('/local/domain/3/data/y')).toBeUndefined();
  });
});
