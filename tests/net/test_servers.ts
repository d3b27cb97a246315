/**
 * Loopback servers for the network tests: a DNS responder that answers every A query with
 * a fixed address, a TCP echo server, and a UDP echo server. All bind 127.0.0.1 on an
 * ephemeral port and close cleanly.
 */
import { createSocket, type Socket as DgramSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';

export interface Closable { readonly port: number; close(): Promise<void> }

/** DNS over UDP: every query gets one A record `answer` (RFC 1035 4.1), TTL 60. */
export async function startDnsResponder(answer: [number, number, number, number]): Promise<Closable & { queries: string[] }> {
  const s = createSocket('udp4');
  const queries: string[] = [];
  s.on('message', (q, r) => {
    if (q.length < 12) return;
    let i = 12;
    const labels: string[] = [];
    while (i < q.length && q[i] !== 0) { labels.push(q.subarray(i + 1, i + 1 + q[i]).toString('latin1')); i += 1 + q[i]; }
    const qEnd = i + 5; // zero label, qtype, qclass
    if (qEnd > q.length) return;
    queries.push(labels.join('.'));
    const ans = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, ...answer]);
    const resp = Buffer.concat([q.subarray(0, qEnd), ans]);
    resp[2] = 0x81; resp[3] = 0x80; // QR, RD, RA
    resp[6] = 0; resp[7] = 1; // ANCOUNT
    resp[8] = 0; resp[9] = 0; resp[10] = 0; resp[11] = 0;
    s.send(resp, r.port, r.address);
  });
  await new Promise<void>((res) => s.bind(0, '127.0.0.1', () => res()));
  return { port: s.address().port, queries, close: () => new Promise((res) => s.close(() => res())) };
}

function closeServer(srv: Server, socks: Set<Socket>): Promise<void> {
  for (const c of socks) c.destroy();
  return new Promise((res) => srv.close(() => res()));
}

/** TCP echo: writes back everything, ends when the client ends. */
export async function startTcpEcho(): Promise<Closable & { accepted: number }> {
  const socks = new Set<Socket>();
  const st = { accepted: 0 };
  const srv = createServer({ allowHalfOpen: true }, (c) => {
    st.accepted++;
    socks.add(c);
    c.on('close', () => socks.delete(c));
    c.on('error', () => c.destroy());
    c.pipe(c);
  });
  await new Promise<void>((res) => srv.listen(0, '127.0.0.1', () => res()));
  const port = (srv.address() as { port: number }).port; // SAFETY: a TCP server's address() is an AddressInfo
  return { port, get accepted() { return st.accepted; }, close: () => closeServer(srv, socks) };
}

/** UDP echo. */
export async function startUdpEcho(): Promise<Closable> {
  const s: DgramSocket = createSocket('udp4');
  s.on('message', (m, r) => s.send(m, r.port, r.address));
  await new Promise<void>((res) => s.bind(0, '127.0.0.1', () => res()));
  return { port: s.address().port, close: () => new Promise((res) => s.close(() => res())) };
}

/** A DNS query for `name`, type A (for guests that build their own). */
export function dnsQuery(id: number, name: string): Uint8Array {
  const parts = name.split('.').flatMap((l) => [l.length, ...Buffer.from(l, 'latin1')]);
  return Uint8Array.from([id >> 8, id & 0xff, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, ...parts, 0, 0, 1, 0, 1]);
}
