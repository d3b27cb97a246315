import { describe, expect, it } from 'vitest';
import { asDomId } from '../../abi/types.ts';
import { XenStored } from '../xenstored/xenstored.ts';
import { XsLocalHandle } from '../xenstored/local_handle.ts';
import { createDevice, removeDevice, type DeviceSpec } from '../xenstored/domain_tree.ts';
import { checkStore } from '../xenstored/store_check.ts';
import { DeviceError, XenbusBackend, type BackendDeviceHandler, type XenbusDevice } from './xenbus_backend.ts';
import { backendAction, type HotplugState } from './xenbus_state_table.ts';

/** Let watch events (delivered from microtasks) and promise callbacks run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
}

interface Recorder {
  calls: string[];
  hotplug: () => Promise<void> | void;
  connect: (dev: XenbusDevice) => Record<string, string>;
}

function setup(rec: Partial<Recorder> = {}): {
  d: XenStored; xs: XsLocalHandle; fe: XsLocalHandle; bus: XenbusBackend; calls: string[]; spec: DeviceSpec;
} {
  const d = new XenStored();
  const xs = new XsLocalHandle(d);
  xs.write('/local/domain/5', '');
  xs.setPerms('/local/domain/5', ['n0', 'r5']);
  const fe = new XsLocalHandle(d, asDomId(5), false);
  const calls: string[] = [];
  const bus = new XenbusBackend(xs, 0, {
    type: 'vbd',
    create: (dev): BackendDeviceHandler => ({
      hotplug: () => {
        calls.push('hotplug');
        return rec.hotplug?.();
      },
      features: () => ({ 'feature-x': '1' }),
      connect: () => {
        calls.push(`connect ring=${dev.readFront('ring-ref') ?? '-'}`);
        return rec.connect?.(dev) ?? { sectors: '100' };
      },
      disconnect: () => calls.push('disconnect'),
      destroy: () => calls.push('destroy'),
    }),
  });
  bus.start();
  const spec: DeviceSpec = { front: asDomId(5), back: asDomId(0), type: 'vbd', devid: 51712 };
  return { d, xs, fe, bus, calls, spec };
}

const BE = '/local/domain/0/backend/vbd/5/51712';
const FE = '/local/domain/5/device/vbd/51712';

describe('backendAction (the transition table)', () => {
  const states = [1, 2, 4, 5, 6];
  const hot: HotplugState[] = ['pending', 'ok', 'failed'];
  it('answers every combination, and a vanished frontend always removes', () => {
    for (const backend of states) for (let frontend = 0; frontend <= 8; frontend++) for (const online of [true, false]) {
      for (const hotplug of hot) {
        const a = backendAction({ backend, frontend, online, hotplug });
        expect(typeof a).toBe('string');
        if (frontend === 0) expect(a).toBe('remove');
      }
    }
  });
  it('connects from InitWait for Initialised and for Connected frontends (netfront jumps 1 -> 4)', () => {
    expect(backendAction({ backend: 2, frontend: 3, online: true, hotplug: 'ok' })).toBe('connect');
    expect(backendAction({ backend: 2, frontend: 4, online: true, hotplug: 'ok' })).toBe('connect');
    expect(backendAction({ backend: 2, frontend: 1, online: true, hotplug: 'ok' })).toBe('none');
  });
  it('waits for the hotplug step, and never reprobes after it failed', () => {
    expect(backendAction({ backend: 1, frontend: 4, online: true, hotplug: 'pending' })).toBe('none');
    expect(backendAction({ backend: 1, frontend: 4, online: true, hotplug: 'failed' })).toBe('fail');
    expect(backendAction({ backend: 5, frontend: 1, online: true, hotplug: 'failed' })).toBe('none');
  });
  it('unplug: keeps serving until the frontend closes, then removes', () => {
    expect(backendAction({ backend: 5, frontend: 4, online: false, hotplug: 'ok' })).toBe('none');
    expect(backendAction({ backend: 5, frontend: 5, online: false, hotplug: 'ok' })).toBe('closing');
    expect(backendAction({ backend: 5, frontend: 6, online: false, hotplug: 'ok' })).toBe('remove');
    expect(backendAction({ backend: 6, frontend: 6, online: true, hotplug: 'ok' })).toBe('none');
  });
});

describe('XenbusBackend', () => {
  it('canonical handshake: InitWait with features, Connected with the device keys', async () => {
    const { xs, fe, calls, spec } = setup();
    createDevice(xs, spec);
    await settle();
    expect(xs.read(`${BE}/state`)).toBe('2');
    expect(xs.read(`${BE}/feature-x`)).toBe('1');
    expect(xs.read(`${BE}/hotplug-status`)).toBe('connected');
    fe.write(`${FE}/ring-ref`, '8');
    fe.write(`${FE}/state`, '3');
    await settle();
    expect(calls).toEqual(['hotplug', 'connect ring=8']);
    expect(xs.read(`${BE}/state`)).toBe('4');
    expect(xs.read(`${BE}/sectors`)).toBe('100');
  });

  it('a frontend already Connected before InitWait (Mini-OS at probe time) is connected right after', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { xs, fe, calls, spec } = setup({ hotplug: () => gate });
    createDevice(xs, spec);
    await settle();
    expect(xs.read(`${BE}/state`)).toBe('1');
    fe.write(`${FE}/ring-ref`, '9');
    fe.write(`${FE}/state`, '4');
    await settle();
    expect(calls).toEqual(['hotplug']);
    release();
    await settle();
    expect(calls).toEqual(['hotplug', 'connect ring=9']);
    expect(xs.read(`${BE}/state`)).toBe('4');
  });

  it('guest-initiated close and reconnect (5, 6, back to 1, then 4 again)', async () => {
    const { xs, fe, calls, spec } = setup();
    createDevice(xs, spec);
    await settle();
    fe.write(`${FE}/state`, '4');
    await settle();
    fe.write(`${FE}/state`, '5');
    await settle();
    expect(xs.read(`${BE}/state`)).toBe('5');
    fe.write(`${FE}/state`, '6');
    await settle();
    expect(xs.read(`${BE}/state`)).toBe('6');
    fe.write(`${FE}/state`, '1');
    await settle();
    expect(xs.read(`${BE}/state`)).toBe('2');
    fe.write(`${FE}/state`, '4');
    await settle();
    expect(xs.read(`${BE}/state`)).toBe('4');
    expect(calls).toEqual(['hotplug', 'connect ring=-', 'disconnect', 'connect ring=-']);
  });

  it('coalesced frontend changes (back at 1 and already at 3 when we look) still end Connected', async () => {
    const { xs, fe, calls, spec } = setup();
    createDevice(xs, spec);
    await settle();
    fe.write(`${FE}/state`, '4');
    await settle();
    fe.write(`${FE}/state`, '5');
    await settle();
    fe.write(`${FE}/state`, '6');
    await settle();
    for (const s of ['1', '3']) fe.write(`${FE}/state`, s);
    await settle();
    expect(xs.read(`${BE}/state`)).toBe('4');
    expect(calls).toEqual(['hotplug', 'connect ring=-', 'disconnect', 'connect ring=-']);
  });

  it('unplug: online 0 and Closing, frontend closes, device removed and destroyed once', async () => {
    const { xs, fe, calls, spec, bus } = setup();
    createDevice(xs, spec);
    await settle();
    fe.write(`${FE}/state`, '4');
    await settle();
    xs.write(`${BE}/online`, '0');
    xs.write(`${BE}/state`, '5');
    await settle();
    expect(calls.at(-1)).toBe('connect ring=-'); // still serving until the frontend closes
    fe.write(`${FE}/state`, '5');
    await settle();
    fe.write(`${FE}/state`, '6');
    await settle();
    expect(xs.read(`${BE}/state`)).toBe('6');
    expect(calls).toEqual(['hotplug', 'connect ring=-', 'disconnect', 'destroy']);
    expect([...bus.devices]).toEqual([]);
    removeDevice(xs, spec);
    await settle();
    expect(calls.filter((c) => c === 'destroy')).toHaveLength(1);
  });

  it('the frontend directory vanishing (domain destroyed) removes the device', async () => {
    const { xs, fe, calls, spec, bus, d } = setup();
    createDevice(xs, spec);
    await settle();
    fe.write(`${FE}/state`, '4');
    await settle();
    xs.rm('/local/domain/5');
    await settle();
    expect(calls).toEqual(['hotplug', 'connect ring=-', 'disconnect', 'destroy']);
    expect([...bus.devices]).toEqual([]);
    xs.rm('/local/domain/0/backend');
    await settle();
    expect(xs.tryRead('/local/domain/0/error')).toBeUndefined();
    expect(checkStore(d.store)).toEqual([]);
  });

  it('a failed hotplug step: hotplug-status error with the reason, Closing, never connected', async () => {
    const { xs, fe, calls, spec } = setup({ hotplug: () => Promise.reject(new DeviceError('no such image')) });
    createDevice(xs, spec);
    await settle();
    expect(xs.read(`${BE}/hotplug-status`)).toBe('error');
    expect(xs.read(`${BE}/hotplug-error`)).toBe('no such image');
    expect(xs.read(`${BE}/state`)).toBe('5');
    fe.write(`${FE}/state`, '4');
    await settle();
    expect(calls).toEqual(['hotplug']);
  });

  it('a frontend the handler cannot connect: error node, Closing; other devices unaffected', async () => {
    const { xs, fe, spec } = setup({
      connect: (dev) => {
        if (dev.devid === 51712) throw new DeviceError('bad ring-ref "x"');
        return {};
      },
    });
    createDevice(xs, spec);
    createDevice(xs, { ...spec, devid: 51728 });
    await settle();
    fe.write(`${FE}/state`, '4');
    fe.write('/local/domain/5/device/vbd/51728/state', '4');
    await settle();
    expect(xs.read(`${BE}/state`)).toBe('5');
    expect(xs.read('/local/domain/0/error/backend/vbd/5/51712/error')).toBe('22 bad ring-ref "x"');
    expect(xs.read('/local/domain/0/backend/vbd/5/51728/state')).toBe('4');
  });

  it('a handler bug stops only its device: reported, Closing; the bus and other devices go on', async () => {
    const errors: string[] = [];
    const d = new XenStored();
    const xs = new XsLocalHandle(d);
    xs.write('/local/domain/5', '');
    const fe = new XsLocalHandle(d, asDomId(5), false);
    const bus = new XenbusBackend(xs, 0, {
      type: 'vbd',
      create: (dev): BackendDeviceHandler => ({
        hotplug: () => undefined,
        features: () => ({}),
        connect: () => {
          if (dev.devid === 1) throw new TypeError('oops');
          return {};
        },
        disconnect: () => undefined,
        destroy: () => undefined,
      }),
    }, { onError: (_dev, e) => errors.push(String(e)) });
    bus.start();
    const spec: DeviceSpec = { front: asDomId(5), back: asDomId(0), type: 'vbd', devid: 1 };
    createDevice(xs, spec);
    createDevice(xs, { ...spec, devid: 2 });
    await settle();
    fe.write('/local/domain/5/device/vbd/1/state', '4');
    fe.write('/local/domain/5/device/vbd/2/state', '4');
    await settle();
    expect(errors).toEqual(['TypeError: oops']);
    expect(xs.read('/local/domain/0/backend/vbd/5/1/state')).toBe('5');
    expect(xs.read('/local/domain/0/error/backend/vbd/5/1/error')).toBe('5 oops');
    expect(xs.read('/local/domain/0/backend/vbd/5/2/state')).toBe('4');
    // guard(): what an event handler throws lands the same way.
    const dev2 = bus.device(5, 2)!; // SAFETY: created above
    dev2.guard(() => {
      throw new RangeError('in an event handler');
    });
    expect(errors.at(-1)).toBe('RangeError: in an event handler');
    expect(xs.read('/local/domain/0/backend/vbd/5/2/state')).toBe('5');
  });

  it('refuses a backend directory whose frontend path names another domain', async () => {
    const { xs, calls } = setup();
    xs.write(`${BE}/frontend`, '/local/domain/7/device/vbd/51712');
    xs.write(`${BE}/frontend-id`, '5');
    xs.write(`${BE}/online`, '1');
    xs.write(`${BE}/state`, '1');
    await settle();
    expect(calls).toEqual([]);
    expect(xs.read(`${BE}/hotplug-status`)).toBe('error');
    expect(xs.read(`${BE}/state`)).toBe('6');
  });

  it('close() force-removes every device', async () => {
    const { xs, fe, calls, spec, bus } = setup();
    createDevice(xs, spec);
    await settle();
    fe.write(`${FE}/state`, '4');
    await settle();
    bus.close();
    expect(calls).toEqual(['hotplug', 'connect ring=-', 'disconnect', 'destroy']);
    expect(bus.router.size).toBe(0);
  });
});
