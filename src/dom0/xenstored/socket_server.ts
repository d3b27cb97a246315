/**
 * The Unix-socket transport for host tools: speaks exactly what Xen's xenstored socket
 * speaks (xsd_sockmsg header + payload, both directions), so Debian's libxenstore and the
 * xenstore-* utilities work against it when pointed at the socket with XENSTORED_PATH (or
 * XENSTORED_RUNDIR, whose `socket` file libxenstore opens).
 *
 * Every socket client is privileged and speaks for domain 0, like the real daemon's socket
 * clients. A header announcing a payload over XENSTORE_PAYLOAD_MAX closes that socket (Xen
 * drops the connection); other clients are not affected.
 *
 * This is the only Node-dependent module of xenstored.
 */
import { existsSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { asDomId } from '../../abi/types.ts';
import type { Connection, XsTransport } from './connection.ts';
import { MessageReader, ReadState } from './wire.ts';
import type { XenStored } from './xenstored.ts';

/** Stop reading a client whose unread replies exceed this (it is not reading them). */
const WRITE_HIGH_WATER = 4 * 1024 * 1024;

class SocketTransport implements XsTransport {
  readonly conn: Connection;
  private readonly _reader = new MessageReader();
  private _paused = false;

  constructor(private readonly _d: XenStored, private readonly _sock: Socket) {
    this.conn = _d.connect(asDomId(0), true, this);
    _sock.on('data', (chunk: Buffer) => this._onData(chunk));
    _sock.on('drain', () => this._onDrain());
    _sock.on('close', () => _d.disconnect(this.conn));
    _sock.on('error', () => _sock.destroy());
  }

  service(_budget: number): boolean {
    this._flush();
    return false;
  }

  shutdown(): void {
    this._sock.destroy();
  }

  private _onData(chunk: Buffer): void {
    const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let off = 0;
    while (off < bytes.length) {
      const state = this._reader.push(bytes, off, bytes.length - off);
      off += this._reader.consumed;
      if (state === ReadState.Oversized) {
        this._d.log('xenstored: socket client sent an oversized message; closing it');
        this._d.disconnect(this.conn);
        return;
      }
      if (state === ReadState.Ready) {
        this._d.handleMessage(this.conn, this._reader.message());
        if (this.conn.closed) return;
      }
    }
    this._flush();
  }

  private _flush(): void {
    if (this._sock.destroyed) return;
    if (!this.conn.hasOutput()) return;
    // One writev for everything queued, not a syscall per reply.
    this._sock.cork();
    for (let m = this.conn.takeMessage(); m !== undefined; m = this.conn.takeMessage()) this._sock.write(m);
    this._sock.uncork();
    if (!this._paused && this._sock.writableLength > WRITE_HIGH_WATER) {
      this._paused = true;
      this._sock.pause();
    }
  }

  private _onDrain(): void {
    if (this._paused) {
      this._paused = false;
      this._sock.resume();
    }
  }
}

export class XsSocketServer {
  private readonly _sockets = new Set<Socket>();

  private constructor(private readonly _server: Server, readonly path: string) {
    _server.on('connection', (sock: Socket) => {
      this._sockets.add(sock);
      sock.on('close', () => this._sockets.delete(sock));
    });
  }

  /**
   * Listen on `path` (a stale socket file there is replaced; its directory is created).
   * Resolves once clients can connect.
   */
  static listen(d: XenStored, path: string): Promise<XsSocketServer> {
    mkdirSync(dirname(path), { recursive: true });
    if (existsSync(path)) {
      if (!lstatSync(path).isSocket()) throw new Error(`xenstored: ${path} exists and is not a socket`);
      unlinkSync(path);
    }
    const server = createServer((sock) => void new SocketTransport(d, sock));
    const wrapper = new XsSocketServer(server, path);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve(wrapper);
      });
    });
  }

  /** Stop listening and drop every client. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this._server.close(() => resolve());
      for (const s of this._sockets) s.destroy();
    });
  }
}
