/**
 * Output helpers for xl's tables and tsxen's extras: C printf-style padding (xl's columns
 * are printf formats, reproduced here field by field), colours only on a TTY (and never
 * with NO_COLOR), JSON for --json.
 */

/** %-Ns (left) / %Ns (right) of a string. */
export function padL(s: string | number, n: number): string {
  return String(s).padEnd(n);
}

export function padR(s: string | number, n: number): string {
  return String(s).padStart(n);
}

/** %N.1f */
export function fixed1(x: number, n: number): string {
  return x.toFixed(1).padStart(n);
}

export function useColour(stream: NodeJS.WriteStream = process.stdout): boolean {
  return stream.isTTY === true && process.env.NO_COLOR === undefined && process.env.TERM !== 'dumb';
}

const CODES = { bold: [1, 22], dim: [2, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39] } as const;

export function colour(s: string, c: keyof typeof CODES, stream: NodeJS.WriteStream = process.stdout): string {
  if (!useColour(stream)) return s;
  const [a, b] = CODES[c];
  return `\x1b[${a}m${s}\x1b[${b}m`;
}

export function out(s: string): void {
  process.stdout.write(s);
}

export function err(s: string): void {
  process.stderr.write(s);
}

export function json(v: unknown): void {
  process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);
}

/** Seconds as xl's uptime string: "d days, hh:mm:ss" (short: "hh:mm"). */
export function uptimeString(seconds: number, short: boolean): string {
  let s = Math.max(0, Math.floor(seconds));
  const day = Math.floor(s / 86400);
  s -= day * 86400;
  const hour = Math.floor(s / 3600);
  s -= hour * 3600;
  const min = Math.floor(s / 60);
  const sec = s - min * 60;
  const two = (n: number): string => String(n).padStart(2, '0');
  const hh = String(hour).padStart(2);
  const days = day > 1 ? `${day} days, ` : day === 1 ? `${day} day, ` : '';
  return short ? `${days}${hh}:${two(min)}` : `${days}${hh}:${two(min)}:${two(sec)}`;
}

/** A progress line that redraws itself on a TTY and prints only milestones otherwise. */
export class Progress {
  private _lastPct = -1;
  private _lastLine = '';

  constructor(private readonly _stream: NodeJS.WriteStream = process.stderr) {}

  update(label: string, done: number, total: number): void {
    const pct = total > 0 ? Math.min(100, Math.floor((done * 100) / total)) : 0;
    if (this._stream.isTTY) {
      const width = 30;
      const fill = Math.round((pct / 100) * width);
      const line = `${label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${String(pct).padStart(3)}%`;
      if (line !== this._lastLine) this._stream.write(`\r${line}`);
      this._lastLine = line;
    } else if (pct >= this._lastPct + 25 || (pct === 100 && this._lastPct !== 100)) {
      this._stream.write(`${label}: ${pct}%\n`);
      this._lastPct = pct - (pct % 25);
      if (pct === 100) this._lastPct = 100;
    }
  }

  end(): void {
    if (this._stream.isTTY && this._lastLine !== '') this._stream.write('\n');
    this._lastLine = '';
  }
}
