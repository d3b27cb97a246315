/**
 * console_io (18): the hypervisor console for domains (Xen's do_console_io).
 *
 * Permission (Xen's dummy XSM, release build): only the control domain may use it; any
 * other domain gets -EPERM for every command, as Debian's release Xen 4.17 does (domUs
 * print through their PV console ring). `allowDomU` reproduces a debug build, where domUs
 * may CONSOLEIO_write.
 *   write: `count` bytes from the buffer go to the console (a domU's are filtered and
 *          prefixed "(dN) "); returns 0, or -EFAULT for an unreadable buffer.
 *   read:  up to `count` bytes of serial input; returns how many; -E2BIG for count >= 2^31.
 */
import { E2BIG, EFAULT, ENOSYS, EPERM } from '../../abi/errno.ts';
import { CONSOLEIO_read, CONSOLEIO_write } from '../../abi/xen.ts';
import type { Xen } from '../xen.ts';
import type { Vcpu } from './vcpu.ts';
import { guestOf } from './kernel.ts';

const CHUNK = 128;
const chunk = new Uint8Array(CHUNK);

export const consoleIoPolicy = { allowDomU: false };

export function doConsoleIo(xen: Xen, v: Vcpu, cmd: number, count: number, buffer: number): number {
  const d = v.domain;
  if (!d.privileged && !(consoleIoPolicy.allowDomU && cmd === CONSOLEIO_write)) return -EPERM;
  const mem = guestOf(v);
  switch (cmd) {
    case CONSOLEIO_write: {
      for (let done = 0; done < count;) {
        const n = Math.min(CHUNK, count - done);
        if (!mem.read(buffer + done, chunk, n)) return -EFAULT;
        xen.console.guestWrite(d.domid, chunk.subarray(0, n), d.privileged);
        done += n;
      }
      return 0;
    }
    case CONSOLEIO_read: {
      if (count >= 0x80000000) return -E2BIG;
      const bytes = xen.console.readInput(count);
      if (bytes.length > 0 && !mem.write(buffer, bytes, bytes.length)) return -EFAULT;
      return bytes.length;
    }
    default:
      return -ENOSYS;
  }
}
