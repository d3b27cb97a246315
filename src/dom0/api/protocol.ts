/**
 * The host daemon's control API protocol: newline-delimited JSON over a Unix socket (the
 * same messages, one request per HTTP call, over http://127.0.0.1 when enabled).
 *
 *   client -> host   {"id": 7, "method": "list", "params": {...}}
 *   host -> client   {"id": 7, "result": ...}                         a plain call ends
 *                    {"id": 7, "error": {"message": "...", "exitCode": 1}}
 *                    {"id": 7, "event": ...}                          a stream's events, then
 *                    {"id": 7, "result": ...} or {"id": 7, "error": ...}  its end
 *   client -> host   {"id": 8, "method": "cancel", "params": {"id": 7}}   stop a stream
 *
 * Bytes (console data, save progress never carries any) travel base64-encoded. Ids are
 * chosen by the client and unique per connection; a response or event always names the
 * request it belongs to. A line longer than MAX_LINE or that is not a JSON object with a
 * numeric id and a string method is answered with an error (id 0 if it had none) and the
 * connection stays usable.
 *
 * Errors carry what the CLI prints (xl's message) and the exit status it exits with.
 */

export const PROTOCOL_VERSION = 1;
/** Longest accepted request line (a config file with its overrides fits many times over). */
export const MAX_LINE = 1 << 20;

export interface ApiRequest {
  readonly id: number;
  readonly method: string;
  readonly params?: Record<string, unknown>;
}

export interface ApiErrorBody {
  readonly message: string;
  readonly exitCode: number;
}

export type ApiResponse =
  | { readonly id: number; readonly result: unknown }
  | { readonly id: number; readonly error: ApiErrorBody }
  | { readonly id: number; readonly event: unknown };

/** An API failure as the client sees it. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

/** Parse and check one request line; an ApiErrorBody (with the id if known) if malformed. */
export function parseRequest(line: string): ApiRequest | { id: number; error: ApiErrorBody } {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return { id: 0, error: { message: 'malformed request: not JSON', exitCode: 2 } };
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    return { id: 0, error: { message: 'malformed request: not an object', exitCode: 2 } };
  }
  const o = v as Record<string, unknown>; // checked to be a plain object above
  const id = typeof o.id === 'number' && Number.isSafeInteger(o.id) ? o.id : 0;
  if (id <= 0) return { id: 0, error: { message: 'malformed request: "id" must be a positive integer', exitCode: 2 } };
  if (typeof o.method !== 'string' || o.method.length === 0 || o.method.length > 64) {
    return { id, error: { message: 'malformed request: "method" must be a method name', exitCode: 2 } };
  }
  if (o.params !== undefined && (o.params === null || typeof o.params !== 'object' || Array.isArray(o.params))) {
    return { id, error: { message: 'malformed request: "params" must be an object', exitCode: 2 } };
  }
  return { id, method: o.method, params: o.params as Record<string, unknown> | undefined }; // shape checked above
}

/** Typed access to request parameters, with errors naming the parameter. */
export class Params {
  constructor(readonly method: string, private readonly _p: Record<string, unknown> = {}) {}

  private _bad(key: string, what: string): never {
    throw new ApiError(`${this.method}: parameter "${key}" must be ${what}`, 2);
  }

  has(key: string): boolean {
    return this._p[key] !== undefined && this._p[key] !== null;
  }

  str(key: string): string {
    const v = this._p[key];
    if (typeof v !== 'string') return this._bad(key, 'a string');
    return v;
  }

  optStr(key: string): string | undefined {
    return this.has(key) ? this.str(key) : undefined;
  }

  int(key: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const v = this._p[key];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) return this._bad(key, `an integer in ${min}..${max}`);
    return v;
  }

  optInt(key: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
    return this.has(key) ? this.int(key, min, max) : undefined;
  }

  bool(key: string, dflt = false): boolean {
    const v = this._p[key];
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'boolean') return this._bad(key, 'true or false');
    return v;
  }

  strList(key: string): string[] {
    const v = this._p[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) return this._bad(key, 'a list of strings');
    return v as string[]; // element types checked above
  }
}
