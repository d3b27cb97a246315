/**
 * HostNet on Node: node:net for TCP, node:dgram for UDP, IPv4 only. The only module of the
 * network stack that touches host sockets, besides the host timer in node_net_driver.ts.
 *
 * Invariants: every socket created here is counted in openSockets from creation until its
 * 'close' event, and every 'error' ends in destroy(), so a failed connect or a reset never
 * leaves a descriptor behind; handler exceptions are not caught here (they are bugs).
 */
import { createSocket, type Socket as DgramSocket } from 'node:dgram';
import { createConnection, createServer, type Socket } from 'node:net';
import type { HostListener, HostNet, HostPeer, HostTcpHandlers, HostTcpSocket, HostUdpSocket } from './host_net.ts';

const asBytes = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

class NodeTcp implements HostTcpSocket {
  constructor(private readonly _s: Socket) {}
  get buffered(): number { return this._s.writableLength; }
  write(data: Uint8Array): boolean {
    if (this._s.destroyed || !this._s.writable) return true;
    return this._s.write(Buffer.from(data)); // copy: the caller's view is lent
  }
  end(): void { if (!this._s.destroyed) this._s.end(); }
  destroy(): void { this._s.destroy(); }
  pause(): void { this._s.pause(); }
  resume(): void { if (!this._s.destroyed) this._s.resume(); }
}

export interface NodeHostNetOptions {
  /** Abort host connects that have not completed after this many ms (default 20000). */
  readonly connectTimeoutMs?: number;
}

export class NodeHostNet implements HostNet {
  private _open = 0;
  private readonly _connectTimeoutMs: number;

  constructor(opts: NodeHostNetOptions = {}) {
    this._connectTimeoutMs = opts.connectTimeoutMs ?? 20_000;
  }

  get openSockets(): number { return this._open; }

  private _wire(s: Socket, h: HostTcpHandlers): void {
    this._open++;
    s.setNoDelay(true);
    s.on('data', (b: Buffer) => h.onData(asBytes(b)));
    s.on('drain', () => h.onDrain());
    s.on('end', () => h.onEnd());
    let err: string | null = null;
    s.on('error', (e: NodeJS.ErrnoException) => { err = e.code ?? e.message; s.destroy(); });
    s.on('close', () => { this._open--; h.onClose(err); });
  }

  connectTcp(ip: string, port: number, h: HostTcpHandlers): HostTcpSocket {
    const s = createConnection({ host: ip, port, allowHalfOpen: true });
    const t = setTimeout(() => { if (s.connecting) s.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })); }, this._connectTimeoutMs);
    s.once('connect', () => { clearTimeout(t); h.onConnect(); });
    s.once('close', () => clearTimeout(t));
    this._wire(s, h);
    return new NodeTcp(s);
  }

  openUdp(onMessage: (data: Uint8Array, from: HostPeer) => void): HostUdpSocket {
    const s = createSocket('udp4');
    this._open++;
    s.on('message', (b, r) => onMessage(asBytes(b), { ip: r.address, port: r.port }));
    s.on('error', () => { /* ICMP errors etc.: a UDP flow just sees no reply */ });
    s.on('close', () => { this._open--; });
    return udpHandle(s);
  }

  listenTcp(ip: string, port: number,
    onConnection: (accept: (h: HostTcpHandlers) => HostTcpSocket, from: HostPeer) => void): Promise<HostListener> {
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (s) => {
      const from = { ip: s.remoteAddress ?? '', port: s.remotePort ?? 0 };
      let accepted = false;
      onConnection((h) => {
        if (accepted) throw new Error('listenTcp: accept() called twice');
        accepted = true;
        this._wire(s, h);
        return new NodeTcp(s);
      }, from);
      if (!accepted) s.destroy();
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, ip, () => {
        this._open++;
        server.on('close', () => { this._open--; });
        const addr = server.address();
        const bound = typeof addr === 'object' && addr !== null ? addr.port : port;
        resolve({ port: bound, close: () => server.close() });
      });
    });
  }

  listenUdp(ip: string, port: number, onMessage: (data: Uint8Array, from: HostPeer) => void): Promise<HostUdpSocket & HostListener> {
    const s = createSocket('udp4');
    return new Promise((resolve, reject) => {
      s.once('error', reject);
      s.bind(port, ip, () => {
        this._open++;
        s.on('close', () => { this._open--; });
        s.on('message', (b, r) => onMessage(asBytes(b), { ip: r.address, port: r.port }));
        s.on('error', () => { /* as in openUdp */ });
        resolve({ ...udpHandle(s), port: s.address().port });
      });
    });
  }
}

function udpHandle(s: DgramSocket): HostUdpSocket {
  let closed = false;
  return {
    send(data, ip, port) {
      if (closed) return;
      try { s.send(Buffer.from(data), port, ip); } catch { /* bad port/address from a guest: dropped */ }
    },
    close() { if (!closed) { closed = true; s.close(); } },
  };
}
