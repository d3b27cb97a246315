/**
 * netback end to end: minios guests (netfront) on xenbr0 with the user-mode gateway.
 * Guest to guest (rx-copy and rx-flip), guest to the host through the uplink (with the
 * packet trace of one datagram from the guest's ring to the host socket and back), and
 * the host to a guest through a port forward. Teardown must leave nothing behind.
 */
import { createSocket, type Socket } from 'node:dgram';
import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { auditMemory } from '../../src/xen/audit.ts';
import { parseMiniosConsole } from '../minios/console_log.ts';
import { IoHost } from '../../bench/blk_io_host.ts';

const GUESTS = new URL('../../guests/', import.meta.url).pathname;

beforeAll(() => {
  execFileSync('make', ['-s', '-C', GUESTS, 'minios'], { stdio: 'inherit' });
});

function expectNoLeaks(io: IoHost): void {
  expect(io.drivers.errors).toEqual([]);
  expect(io.drivers.counts()).toMatchObject({ devices: 0, grantMappings: 0, ports: 0 });
  expect(io.xs.tryRead('/local/domain/0/backend')).toBeUndefined();
  expect(io.net?.bridge.ports.filter((p) => p.name.startsWith("vif"))).toEqual([]);
  expect(auditMemory(io.host.xen)).toEqual([]);
}

async function udpEchoServer(): Promise<{ sock: Socket; port: number }> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  sock.on('message', (m, rinfo) => sock.send(m, rinfo.port, rinfo.address));
  return { sock, port: sock.address().port };
}

describe('netback', () => {
  it.each(['copy', 'flip'] as const)('two guests: ping and UDP echo between them (receiver in rx-%s)', async (mode) => {
    const io = await IoHost.withNet();
    const a = io.create({
      name: 'server', vifs: [{ mac: '00:16:3e:00:00:0a' }],
      extra: 'ip=10.0.2.15 gw=10.0.2.2 cmd="net serve 4; net info"',
    });
    const b = io.create({
      name: 'client', vifs: [{ mac: '00:16:3e:00:00:0b' }],
      extra: `net=${mode} ip=10.0.2.16 gw=10.0.2.2 cmd="sleep 500ms; ping 10.0.2.15 5 1000; udp echo 10.0.2.15 7 50 1000; net info; mem"`,
    });
    expect(await io.runAll()).toBe('done');
    const ra = parseMiniosConsole(a.text), rb = parseMiniosConsole(b.text);
    expect(rb.verdict, b.text.slice(-1500)).toBe('SUCCESS');
    expect(ra.verdict, a.text.slice(-1500)).toBe('SUCCESS');
    expect(rb.results.find((r) => r.what === 'ping 10.0.2.15')?.fields).toMatchObject({ sent: '5', received: '5' });
    expect(ra.results.find((r) => r.what === 'net serve')?.fields).toMatchObject({ icmp_answered: '5', udp_echoed: '50' });
    const info = rb.results.find((r) => r.what === 'net info')!.fields; // SAFETY: SUCCESS ran it
    expect(info.mode).toBe(mode);
    const vif = io.drivers.netback!.vif(b.domid, 0)!; // SAFETY: attached above
    expect(vif.rxMode).toBe(mode);
    if (mode === 'flip') {
      expect(Number(info.flips)).toBeGreaterThanOrEqual(55);
      expect(vif.counters.rxFlipped).toBe(Number(info.rx));
      expect(vif.counters.rxCopied).toBe(0);
    } else {
      expect(vif.counters.rxCopied).toBe(Number(info.rx));
    }
    expect(vif.counters).toMatchObject({ txErrors: 0, rxErrors: 0, faults: 0 });
    io.teardown();
    expectNoLeaks(io);
  });

  it('guest to the host through the uplink: the trace follows one datagram from the ring to the socket and back', async () => {
    const echo = await udpEchoServer();
    const io = await IoHost.withNet();
    io.net!.trace.enabled = true;
    const g = io.create({
      name: 'uplink', vifs: [{ mac: '00:16:3e:00:00:0c' }],
      extra: `ip=10.0.2.15 gw=10.0.2.2 cmd="ping 10.0.2.2 2; udp echo 10.0.2.2 ${echo.port} 3 200"`,
    });
    await io.runAll();
    echo.sock.close();
    expect(parseMiniosConsole(g.text).verdict, g.text.slice(-1500)).toBe('SUCCESS');
    const events = io.net!.trace.events().filter((e) => e.text.includes(`:${echo.port}`));
    const stages = events.map((e) => `${e.stage} ${e.where}`);
    // The first datagram out and its echo back, in order.
    const out = ['event vif1.0', 'ring vif1.0', 'netback-tx vif1.0', 'bridge-in vif1.0', 'bridge-out gateway', 'gateway-in gateway', 'socket-write udp'];
    const back = ['socket-read udp', 'gateway-out gateway', 'bridge-in gateway', 'bridge-out vif1.0', 'netback-rx vif1.0', 'ring vif1.0'];
    expect(stages.slice(0, out.length)).toEqual(out);
    const r0 = stages.indexOf('socket-read udp');
    expect(stages.slice(r0, r0 + back.length)).toEqual(back);
    expect(events[1]!.text).toMatch(/tx slot \d+ id \d+ gref \d+ size 242/);
    expect(events[r0 + 4]!.text).toMatch(/GNTTABOP_copy into gref \d+/);
    io.teardown();
    expectNoLeaks(io);
  });

  it('the host reaches a guest through a port forward (UDP echo, host clock)', async () => {
    const io = await IoHost.withNet({ clock: 'host' });
    const fwdPort = await io.net!.gateway.addForward({ proto: 'udp', hostPort: 0, guestIp: '10.0.2.15', guestPort: 7 });
    const g = io.create({
      name: 'served', vifs: [{ mac: '00:16:3e:00:00:0d' }], extra: 'ip=10.0.2.15 gw=10.0.2.2 cmd="net serve 60"',
    });
    const client = createSocket('udp4');
    await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
    const replies = new Set<string>();
    client.on('message', (m) => replies.add(m.toString()));
    let lastSend = 0;
    let waiting = '';
    await io.run(() => {
      // UDP: resend what was lost (minios drops a datagram whose reply needs ARP first).
      if (g.text.includes('NET serving') && replies.size < 10 && (replies.has(waiting) || Date.now() - lastSend > 200)) {
        waiting = `hello ${replies.size}`;
        lastSend = Date.now();
        client.send(waiting, fwdPort, '127.0.0.1');
      }
      return replies.size >= 10 || g.exited;
    }, { timeoutMs: 60_000 });
    client.close();
    expect([...replies]).toEqual(Array.from({ length: 10 }, (_, i) => `hello ${i}`));
    io.teardown();
    expectNoLeaks(io);
  });
});
