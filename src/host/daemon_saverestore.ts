/**
 * The daemon's save and restore methods: streams that report progress ({progress}) and
 * xl's messages ({stderr}) while the image is written or read, then answer with the result.
 * The file is written by the daemon (same user as the CLI); relative paths are the
 * client's (`cwd`).
 */
import { open, readFile, stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import type { ApiMethod } from '../dom0/api/server.ts';
import { XlError } from '../dom0/toolstack/xl_error.ts';
import { saveDomain } from '../dom0/toolstack/save.ts';
import { restoreDomain } from '../dom0/toolstack/restore.ts';
import { XL_HEADER_SIZE } from '../dom0/toolstack/save_format.ts';
import { parseConfigText } from '../dom0/toolstack/xl_load.ts';
import { formatXlConfig } from '../dom0/toolstack/xl_config.ts';
import { guestArg, type DaemonContext } from './daemon_context.ts';

type Methods = Array<[string, ApiMethod]>;

function pathArg(cwd: string, p: string): string {
  return isAbsolute(p) ? p : resolve(cwd, p);
}

export function saveRestoreMethods(ctx: DaemonContext): Methods {
  const ts = ctx.ts;
  return [
    ['save', {
      stream: true,
      handler: async (p, api) => {
        const g = guestArg(ctx, p.str('domain'));
        const cwd = p.str('cwd');
        const file = pathArg(cwd, p.str('file'));
        const override = p.optStr('config');
        let configText: string | undefined;
        if (override !== undefined) {
          // xl: the given config goes into the image instead of the domain's (checked now, used at restore).
          configText = await readFile(pathArg(cwd, override), 'utf8').catch(() => {
            throw new XlError('unable to read overridden config file');
          });
          parseConfigText(configText, override, [], cwd);
        }
        let fh;
        try {
          fh = await open(file, 'w', 0o644);
        } catch {
          throw new XlError(`Failed to open temp file ${file} for writing`);
        }
        let last = -1;
        try {
          const bytes = await saveDomain(ts, g.domid, async (chunks) => {
            for (const c of chunks) await fh.write(c);
          }, {
            checkpoint: p.bool('checkpoint'), leavePaused: p.bool('pause'), config: configText,
            onHeader: (h) => api.emit({
              stderr: `Saving to ${p.str('file')} new xl format (info 0x${h.mandatoryFlags.toString(16)}/0x${h.optionalFlags.toString(16)}/${h.optionalDataLen})\n`,
            }),
            suspendTimeoutMs: p.optInt('timeoutMs', 100, 3_600_000),
            onProgress: (pr) => {
              const pct = pr.total > 0 ? Math.floor((pr.done * 100) / pr.total) : 0;
              if (pr.phase !== 'memory' || pct !== last) api.emit({ progress: pr });
              last = pct;
            },
            yieldFn: () => new Promise((r) => setImmediate(r)),
          });
          ctx.log(`saved domain ${g.domid} (${g.name}) to ${file}: ${bytes} bytes`);
          return { bytes, file };
        } finally {
          await fh.close();
        }
      },
    }],
    ['restore', {
      stream: true,
      handler: async (p, api) => {
        const cwd = p.str('cwd');
        const file = pathArg(cwd, p.str('file'));
        let bytes: Uint8Array;
        try {
          if ((await stat(file)).size > 2 ** 31) throw new XlError(`${file}: too large for a save file`);
          bytes = new Uint8Array(await readFile(file));
        } catch (e) {
          if (e instanceof XlError) throw e;
          throw new XlError(`Can't open restore file: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (e as Error).message}`);
        }
        if (bytes.length >= XL_HEADER_SIZE) {
          const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
          api.emit({ stderr: `Loading new save file ${p.str('file')} (new xl fmt info 0x${v.getUint32(36, true).toString(16)}/0x${v.getUint32(40, true).toString(16)}/${v.getUint32(44, true)})\n` });
          if (v.getUint32(44, true) > 0) api.emit({ stderr: ' Savefile contains xl domain config\n' });
        }
        const cfgPath = p.optStr('config');
        let config: { text: string; source: string } | undefined;
        if (cfgPath !== undefined) {
          const text = await readFile(pathArg(cwd, cfgPath), 'utf8').catch((e: NodeJS.ErrnoException) => {
            throw new XlError(`Failed to read config file: ${cfgPath}: ${e.code === 'ENOENT' ? 'No such file or directory' : e.message}`);
          });
          config = { text, source: cfgPath };
        }
        api.emit({ stderr: `Parsing config from ${config?.source ?? '<saved>'}\n` });
        const g = await restoreDomain(ts, bytes, {
          config, cwd, paused: p.bool('paused'),
          onProgress: (pr) => api.emit({ progress: pr }),
          yieldFn: () => new Promise((r) => setImmediate(r)),
        });
        ctx.log(`restored domain ${g.domid} (${g.name}) from ${file}`);
        return { domid: g.domid, name: g.name, config: formatXlConfig(g.config) };
      },
    }],
  ];
}
