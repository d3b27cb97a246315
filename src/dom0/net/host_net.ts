/**
 * The gateway's view of the host's sockets. The protocol logic (gateway, NAT tables, TCP)
 * is pure TypeScript driven by frames, the Clock and these callbacks; node_host_net.ts is
 * the thin adapter onto node:net and node:dgram.
 *
 * Contract:
 * - Callbacks arrive asynchronously from the host event loop, never from inside a call the
 *   gateway made (so the gateway's state is consistent whenever one runs).
 * - write() copies the bytes; it returns false when the socket's buffer is above its
 *   high-water mark, and onDrain follows once it has emptied.
 * - After onClose no other callback arrives, and every socket reaches onClose exactly once
 *   after destroy()/end() (or an error): that is what lets tests prove no socket leaks.
 */

export interface HostTcpHandlers {
  onConnect(): void;
  onData(chunk: Uint8Array): void;
  onDrain(): void;
  /** The remote end will send no more (half-close). */
  onEnd(): void;
  /** Gone; `error` is a short reason (e.g. "ECONNREFUSED") or null for an orderly close. */
  onClose(error: string | null): void;
}

export interface HostTcpSocket {
  write(data: Uint8Array): boolean;
  /** Bytes written but not yet handed to the host kernel. */
  readonly buffered: number;
  /** Half-close after the written data. */
  end(): void;
  destroy(): void;
  pause(): void;
  resume(): void;
}

export interface HostUdpSocket {
  send(data: Uint8Array, ip: string, port: number): void;
  close(): void;
}

export interface HostListener {
  /** The bound port (useful when 0 was asked for). */
  readonly port: number;
  close(): void;
}

export interface HostPeer {
  readonly ip: string;
  readonly port: number;
}

export interface HostNet {
  connectTcp(ip: string, port: number, h: HostTcpHandlers): HostTcpSocket;
  openUdp(onMessage: (data: Uint8Array, from: HostPeer) => void): HostUdpSocket;
  /** Accepted sockets start paused; `accept` installs their handlers. */
  listenTcp(ip: string, port: number,
    onConnection: (accept: (h: HostTcpHandlers) => HostTcpSocket, from: HostPeer) => void): Promise<HostListener>;
  listenUdp(ip: string, port: number, onMessage: (data: Uint8Array, from: HostPeer) => void): Promise<HostUdpSocket & HostListener>;
  /** Sockets currently open (tests assert this returns to 0). */
  readonly openSockets: number;
}
