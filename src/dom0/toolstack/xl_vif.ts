/**
 * xl's vif specification (xl-network-configuration(5)): comma-separated `key=value`
 * terms, all optional, parsed as xl's parse_nic_config does (terms are cut at ',', leading
 * blanks skipped, each term matched by key prefix "key="). An empty spec is a vif with
 * every default. Errors use xl's wording ("Invalid parameter `mac'.", "unrecognized
 * argument `x'").
 *
 * Defaults (libxl): bridge xenbr0, MAC 00:16:3e:xx:xx:xx chosen by the toolstack, type vif
 * for PV guests, backend dom0, vifname vif<domid>.<devid>.
 */
import { parseMac } from './xl_values.ts';

export interface VifSpec {
  /** The guest's MAC address, or null for one chosen at creation. */
  readonly mac: Uint8Array | null;
  readonly bridge: string;
  readonly ip: string | null;
  readonly script: string | null;
  readonly backend: string | null;
  readonly vifname: string | null;
  readonly model: string | null;
  readonly type: 'vif' | 'ioemu' | null;
  readonly rate: string | null;
  readonly devid: number | null;
  readonly mtu: number | null;
  readonly gatewaydev: string | null;
  readonly trusted: boolean | null;
  /** Terms xl accepts but that change nothing on tsxen (rate, model, ...), for a warning. */
  readonly unsupported: readonly string[];
}

export class VifSpecError extends Error {
  override name = 'VifSpecError';
}

/** The rate grammar xl checks ("^[0-9]+[GMK]?[Bb]/s$", optional "@interval"). */
const RATE = /^[0-9]+[GMK]?[Bb]\/s(@[0-9]+(?:ms|us|s)?)?$/;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Parse one vif spec (a config list item, or network-attach's arguments joined by ','). */
export function parseVifSpec(spec: string | readonly string[]): VifSpec | VifSpecError {
  const v: Mutable<VifSpec> & { unsupported: string[] } = {
    mac: null, bridge: 'xenbr0', ip: null, script: null, backend: null, vifname: null, model: null, type: null,
    rate: null, devid: null, mtu: null, gatewaydev: null, trusted: null, unsupported: [],
  };
  const terms = (typeof spec === 'string' ? spec.split(',') : spec.flatMap((s) => s.split(',')))
    .map((t) => t.replace(/^ +/, ''))
    .filter((t) => t !== '');
  for (const t of terms) {
    const eq = t.indexOf('=');
    const key = eq < 0 ? t : t.slice(0, eq);
    const val = eq < 0 ? '' : t.slice(eq + 1);
    const ulong = (what: string): number | VifSpecError => {
      if (!/^\d+$/.test(val)) return new VifSpecError(`xl: failed to convert "${val}" to number (${what})`);
      return Number(val);
    };
    if (eq < 0) {
      if (t === 'trusted') v.trusted = true;
      else if (t === 'untrusted') v.trusted = false;
      else return new VifSpecError(`unrecognized argument \`${t}'`);
      continue;
    }
    switch (key) {
      case 'type':
        if (val !== 'vif' && val !== 'ioemu') return new VifSpecError('Invalid parameter `type\'.');
        v.type = val;
        break;
      case 'mac': {
        const mac = parseMac(val);
        if (mac === null) return new VifSpecError(`Invalid parameter \`mac'. (${JSON.stringify(val)})`);
        if ((mac[0]! & 1) !== 0) return new VifSpecError(`Invalid parameter \`mac'. (${val} is a multicast address)`);
        v.mac = mac;
        break;
      }
      case 'bridge':
        v.bridge = val;
        break;
      case 'netdev':
      case 'gatewaydev':
        v.gatewaydev = val;
        v.unsupported.push(key);
        break;
      case 'ip':
        v.ip = val;
        break;
      case 'script':
        v.script = val;
        break;
      case 'backend':
        v.backend = val;
        break;
      case 'vifname':
        v.vifname = val;
        break;
      case 'model':
        v.model = val;
        v.unsupported.push(key);
        break;
      case 'rate':
        if (!RATE.test(val)) return new VifSpecError(`config parsing error in vif: invalid rate in \`${val}'`);
        v.rate = val;
        v.unsupported.push(key);
        break;
      case 'devid': {
        const n = ulong('devid');
        if (typeof n !== 'number') return n;
        v.devid = n;
        break;
      }
      case 'mtu': {
        const n = ulong('mtu');
        if (typeof n !== 'number') return n;
        if (n < 68 || n > 1500) return new VifSpecError(`Invalid parameter \`mtu'. (${n}: xenbr0 carries 68..1500)`);
        v.mtu = n;
        break;
      }
      case 'accel':
        v.unsupported.push(key);
        break;
      default:
        return new VifSpecError(`unrecognized argument \`${t}'`);
    }
  }
  return v;
}
