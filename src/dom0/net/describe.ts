/**
 * One-line, tcpdump-like descriptions of frames for traces and test failure messages.
 * Never throws: a frame too short or malformed for a layer says so and stops there.
 */
import { ipv4ToString, macToString, readIpv4, readMac } from './addr.ts';
import { ETH_HLEN, ETH_P_ARP, ETH_P_IPV4, ethType } from './ethernet.ts';
import { tcpFlagsString } from './tcp_wire.ts';

export function describeFrame(f: Uint8Array): string {
  if (f.length < ETH_HLEN) return `runt ${f.length}B`;
  const t = ethType(f);
  const macs = `${macToString(readMac(f, 6))} > ${macToString(readMac(f, 0))}`;
  if (t === ETH_P_ARP) {
    if (f.length < ETH_HLEN + 28) return `${macs} ARP truncated`;
    const op = (f[20] << 8) | f[21];
    const spa = ipv4ToString(readIpv4(f, 28));
    const tpa = ipv4ToString(readIpv4(f, 38));
    return op === 1 ? `ARP who-has ${tpa} tell ${spa}` : op === 2 ? `ARP ${spa} is-at ${macToString(readMac(f, 22))}` : `ARP op ${op}`;
  }
  if (t !== ETH_P_IPV4) return `${macs} ethertype 0x${t.toString(16).padStart(4, '0')} ${f.length}B`;
  const ip = ETH_HLEN;
  if (f.length < ip + 20 || f[ip] >> 4 !== 4) return `${macs} IPv4 truncated/bad`;
  const hl = (f[ip] & 0xf) * 4;
  const total = (f[ip + 2] << 8) | f[ip + 3];
  const src = ipv4ToString(readIpv4(f, ip + 12));
  const dst = ipv4ToString(readIpv4(f, ip + 16));
  const proto = f[ip + 9];
  const frag = ((f[ip + 6] & 0x3f) << 8) | f[ip + 7];
  if (frag !== 0) return `${src} > ${dst} IPv4 fragment proto ${proto} off ${(frag & 0x1fff) * 8}${frag & 0x2000 ? ' MF' : ''} len ${total}`;
  const l4 = ip + hl;
  if (hl < 20 || f.length < l4 + 8) return `${src} > ${dst} proto ${proto} len ${total}`;
  const sp = (f[l4] << 8) | f[l4 + 1];
  const dp = (f[l4 + 2] << 8) | f[l4 + 3];
  if (proto === 6 && f.length >= l4 + 20) {
    const seq = ((f[l4 + 4] << 24) | (f[l4 + 5] << 16) | (f[l4 + 6] << 8) | f[l4 + 7]) >>> 0;
    const ack = ((f[l4 + 8] << 24) | (f[l4 + 9] << 16) | (f[l4 + 10] << 8) | f[l4 + 11]) >>> 0;
    const data = total - hl - (f[l4 + 12] >> 4) * 4;
    const win = (f[l4 + 14] << 8) | f[l4 + 15];
    return `${src}:${sp} > ${dst}:${dp} TCP [${tcpFlagsString(f[l4 + 13])}] seq ${seq} ack ${ack} win ${win} len ${data}`;
  }
  if (proto === 17) return `${src}:${sp} > ${dst}:${dp} UDP len ${total - hl - 8}`;
  if (proto === 1) return `${src} > ${dst} ICMP type ${f[l4]} code ${f[l4 + 1]} len ${total - hl}`;
  return `${src} > ${dst} proto ${proto} len ${total}`;
}
