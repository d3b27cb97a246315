/**
 * The child host of the durability test (durability.test.ts): a whole tsxen host — the
 * hypervisor, xenstored, blkback — with a frontend domain writing numbered blocks to a
 * disk image as fast as it can. Every block blkback acknowledged is reported on stdout
 * ("ACK <block>") right after the frontend saw the response; the parent kills this
 * process with SIGKILL at an arbitrary moment and checks that every reported block is in
 * the image.
 *
 * Usage: node --import tsx tests/io/durability_child.ts IMAGE BLOCKS
 */
import { writeSync } from 'node:fs';
import { IoHost } from '../../bench/blk_io_host.ts';
import { NativeDomU } from '../../bench/blk_native_domu.ts';
import { TsBlkfront } from '../../bench/blk_tsfront.ts';

const [img, blocksText] = process.argv.slice(2);
if (img === undefined) throw new Error('usage: durability_child.ts IMAGE BLOCKS');
const blocks = Number(blocksText ?? 1024);
const BLOCK = 8 * 4096;

/** Block b's contents: every 32-bit word holds b * 0x10000 + its index. */
export function blockData(b: number): Uint8Array {
  const d = new Uint8Array(BLOCK);
  const v = new DataView(d.buffer);
  for (let w = 0; w < BLOCK / 4; w++) v.setUint32(w * 4, (b * 0x10000 + w) >>> 0, true);
  return d;
}

const io = new IoHost({ clock: 'host' });
const dom = new NativeDomU(io, 'writer');
io.drivers.attachVbd(dom.domid, { target: img, vdev: 'xvda' });
const f = new TsBlkfront(dom, 51712, { ringOrder: 1 });
await io.until(f.connect());
writeSync(1, 'READY\n');
let next = 0;
let inflight = 0;
const issue = (): void => {
  while (inflight < 16 && next < blocks) {
    const b = next++;
    inflight++;
    void f.write(b * (BLOCK / 512), blockData(b)).then((st) => {
      inflight--;
      if (st === 0) writeSync(1, `ACK ${b}\n`);
      else writeSync(1, `ERR ${b} ${st}\n`);
      issue();
    });
  }
};
issue();
await io.run(() => next >= blocks && inflight === 0, { untilIdle: false, timeoutMs: 600_000 });
writeSync(1, 'DONE\n');
