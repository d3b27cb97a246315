/**
 * Test plumbing for xenstored: a daemon, domains attached through real ring pages and a
 * loopback event channel, socket clients, and a way to wait until everything is quiet.
 *
 * The loopback event channel stands in for the hypervisor's (another engineer's layer):
 * `notify` on one end calls the other end's handler from a microtask, as an upcall would
 * arrive later, never inside the notifier.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asDomId } from '../../src/abi/types.ts';
import { XenStored, type XenStoredOptions } from '../../src/dom0/xenstored/xenstored.ts';
import type { XsEventChannel } from '../../src/dom0/xenstored/domain_ring.ts';
import { RingFrontend, type XsGuestEventChannel } from '../../src/dom0/xenstored/ring_frontend.ts';
import { XsClient } from '../../src/dom0/xenstored/xs_client.ts';
import { XsLocalHandle } from '../../src/dom0/xenstored/local_handle.ts';
import { XsSocketServer } from '../../src/dom0/xenstored/socket_server.ts';

export interface EvtchnPair {
  readonly server: XsEventChannel;
  readonly guest: XsGuestEventChannel;
  /** Notifications the server sent to the guest. */
  readonly toGuest: { count: number };
  closed: boolean;
  /** When true, events to the guest are held (a guest that does not run). */
  guestPaused: boolean;
  /** Deliver held guest events. */
  resumeGuest(): void;
}

export function evtchnPair(): EvtchnPair {
  let serverHandler: (() => void) | undefined;
  let guestHandler: (() => void) | undefined;
  let held = false;
  const pair: EvtchnPair = {
    closed: false,
    guestPaused: false,
    toGuest: { count: 0 },
    server: {
      notify: () => {
        pair.toGuest.count++;
        if (pair.guestPaused) {
          held = true;
          return;
        }
        queueMicrotask(() => guestHandler?.());
      },
      onEvent: (h) => (serverHandler = h),
      close: () => {
        pair.closed = true;
        serverHandler = undefined;
      },
    },
    guest: {
      notify: () => queueMicrotask(() => serverHandler?.()),
      onEvent: (h) => (guestHandler = h),
    },
    resumeGuest: () => {
      pair.guestPaused = false;
      if (held) {
        held = false;
        queueMicrotask(() => guestHandler?.());
      }
    },
  };
  return pair;
}

export interface RingDomain {
  readonly domid: number;
  readonly page: Uint8Array;
  readonly evt: EvtchnPair;
  readonly frontend: RingFrontend;
  readonly client: XsClient;
}

/** Introduce `domid` with a fresh ring page and return its guest-side client. */
export function ringDomain(d: XenStored, domid: number, page = new Uint8Array(4096)): RingDomain {
  const evt = evtchnPair();
  d.domains.introduce(asDomId(domid), page, evt.server);
  const frontend = new RingFrontend(page, evt.guest);
  const client = new XsClient(frontend);
  return { domid, page, evt, frontend, client };
}

/** A daemon whose log lines are collected (and printed only if a test fails). */
export function daemon(opts: XenStoredOptions = {}): { d: XenStored; log: string[]; dom0: XsLocalHandle } {
  const log: string[] = [];
  const d = new XenStored({ log: (l) => log.push(l), ...opts });
  return { d, log, dom0: new XsLocalHandle(d) };
}

/** Create /local/domain/<domid> owned by the domain itself (so it may write its home). */
export function ownHome(dom0: XsLocalHandle, domid: number): void {
  dom0.mkdir(`/local/domain/${domid}`);
  dom0.setPerms(`/local/domain/${domid}`, [`n${domid}`]);
}

/** Let every pending microtask and one macrotask turn run. */
export async function settle(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}

export interface SocketFixture {
  readonly dir: string;
  readonly path: string;
  readonly server: XsSocketServer;
  readonly sockets: Socket[];
  client(): Promise<{ client: XsClient; socket: Socket }>;
  close(): Promise<void>;
}

/** A socket server on a fresh temporary path. */
export async function socketFixture(d: XenStored): Promise<SocketFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'tsxen-xs-'));
  const path = join(dir, 'socket');
  const server = await XsSocketServer.listen(d, path);
  const sockets: Socket[] = [];
  return {
    dir,
    path,
    server,
    sockets,
    client: () =>
      new Promise((resolve, reject) => {
        const socket = netConnect(path);
        sockets.push(socket);
        socket.once('error', reject);
        socket.once('connect', () => {
          const client = new XsClient({
            write: (b) => void socket.write(b),
            onData: (h) => void socket.on('data', (chunk: Buffer) => h(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))),
          });
          resolve({ client, socket });
        });
      }),
    close: async () => {
      for (const s of sockets) s.destroy();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Decode an XS_ERROR / reply payload as text without its final NUL. */
export function text(p: Uint8Array): string {
  let s = '';
  for (const b of p) s += String.fromCharCode(b);
  return s;
}
