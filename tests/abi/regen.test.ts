/**
 * The generated files are committed (guests build without node): regenerating them from
 * src/abi must give byte-identical files, and nothing stale may linger beside them.
 * Fix a failure with `npm run abi:gen`.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { generate } from '../../tools/abi/gen_c_headers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

describe('generated ABI files', () => {
  it('regenerating guests/include/xen and src/abi/gen gives identical files', async () => {
    const gen = await generate();
    const stale = [...gen].filter(([path, text]) => !existsSync(path) || readFileSync(path, 'utf8') !== text)
      .map(([path]) => relative(ROOT, path));
    expect(stale, 'stale generated files: run npm run abi:gen').toEqual([]);
  });

  it('no file in the generated trees is left over from an old generation', async () => {
    const gen = new Set((await generate()).keys());
    const onDisk = [...files(join(ROOT, 'guests/include/xen')), ...files(join(ROOT, 'src/abi/gen'))];
    expect(onDisk.filter((p) => !gen.has(p)).map((p) => relative(ROOT, p))).toEqual([]);
  });

  it('generation is deterministic', async () => {
    const a = await generate();
    const b = await generate();
    expect([...a]).toEqual([...b]);
  });
});
