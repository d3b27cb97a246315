/**
 * A terminal attached to a guest's PV console through the host API (xl console): guest
 * output to stdout as it arrives, keys to the guest, Ctrl-] (0x1d) detaches as in xl.
 * On a TTY stdin is put in raw mode for the session and restored afterwards; a pipe is
 * forwarded as is (`echo help | tsxen console vm1`) and its end does not end the session.
 *
 * The session ends when the domain ends (resolves with how), or when the user detaches
 * (resolves null). With `follow`, a domain restarted by its on_reboot action is followed
 * to its new domid.
 */
import type { ApiClient } from '../dom0/api/client.ts';
import { err } from './output.ts';

export const ESCAPE = 0x1d;

export interface ConsoleEnd {
  readonly domid: number;
  readonly reason: number;
  readonly action: string;
}

export interface ConsoleSessionOptions {
  /** Replay this many bytes of earlier output first (create -c: all of it). */
  readonly replay?: number;
  readonly follow?: boolean;
  /** Forward stdin (default true). */
  readonly input?: boolean;
  readonly stdout?: NodeJS.WritableStream;
}

export async function consoleSession(c: ApiClient, domain: string, opts: ConsoleSessionOptions = {}): Promise<ConsoleEnd | null> {
  const stdout = opts.stdout ?? process.stdout;
  let target = domain;
  let detached = false;
  const stream = c.stream<ConsoleEnd | null>('console', { domain, replay: opts.replay ?? 0, follow: opts.follow ?? false }, (e) => {
    const ev = e as { data?: string; restarted?: { from: number; to: number } };
    if (ev.data !== undefined) stdout.write(Buffer.from(ev.data, 'base64'));
    if (ev.restarted !== undefined) target = String(ev.restarted.to);
  });
  const stdin = process.stdin;
  const tty = stdin.isTTY === true;
  const wantInput = opts.input ?? true;
  const onData = (b: Buffer): void => {
    let bytes = b;
    const esc = bytes.indexOf(ESCAPE);
    if (esc >= 0 && tty) {
      bytes = bytes.subarray(0, esc);
      detached = true;
    }
    if (bytes.length > 0) {
      c.call('console.input', { domain: target, data: bytes.toString('base64') }).catch((e: Error) => err(`tsxen console: ${e.message}\n`));
    }
    if (detached) stream.cancel();
  };
  if (wantInput) {
    if (tty) stdin.setRawMode(true);
    stdin.on('data', onData);
    stdin.resume();
  }
  try {
    const end = await stream.done;
    return detached ? null : end;
  } finally {
    if (wantInput) {
      stdin.off('data', onData);
      if (tty) stdin.setRawMode(false);
      stdin.pause();
    }
  }
}
