/**
 * From an xl.cfg file to what createPv needs: parse the text with xl's extra config lines,
 * type it (xl_config.ts), resolve relative paths (kernel, ramdisk, disk targets) against
 * the directory xl was run from, and read the images. Every failure is an XlError naming
 * the file, line and key.
 *
 * tsxen convenience beyond xl: a config without name= takes the kernel's base name, so
 * `create /dev/null kernel=guest.elf` is enough.
 */
import { readFileSync } from 'node:fs';
import { basename, isAbsolute, resolve } from 'node:path';
import { applyXlOverrides, parseXlConfig, pvConfig, type PvGuestConfig, XlConfigError, XlSettings } from './xl_config.ts';
import { XlError } from './xl_error.ts';

export interface LoadedConfig {
  readonly cfg: PvGuestConfig;
  readonly kernel: Uint8Array;
  readonly ramdisk: Uint8Array | null;
  /** Where a key was set (`file:line`, or `command line`), for errors found later. */
  readonly at: (key: string) => string;
}

/** Parse and type a config (no file access); throws XlError (exit 1, xl's parse failures). */
export function parseConfigText(text: string, source: string, overrides: readonly string[], cwd: string): { cfg: PvGuestConfig; raw: XlSettings } {
  let raw: XlSettings;
  try {
    raw = parseXlConfig(text, source);
    applyXlOverrides(raw, overrides);
    if (!raw.has('name') && typeof raw.get('kernel') === 'string') {
      raw.set('name', basename(raw.get('kernel') as string).replace(/\.elf$/, ''), raw.where('kernel')); // a string: checked above
    }
    const cfg = pvConfig(raw);
    const abs = (p: string): string => (isAbsolute(p) ? p : resolve(cwd, p));
    return {
      raw,
      cfg: {
        ...cfg, kernel: abs(cfg.kernel), ramdisk: cfg.ramdisk !== null ? abs(cfg.ramdisk) : null,
        disks: cfg.disks.map((d) => (d.target === '' ? d : { ...d, target: abs(d.target) })),
      },
    };
  } catch (e) {
    if (e instanceof XlConfigError) throw new XlError(e.message);
    throw e;
  }
}

function readImage(raw: XlSettings, key: string, path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'No such file or directory' : code === 'EACCES' ? 'Permission denied'
      : code === 'EISDIR' ? 'Is a directory' : (e as Error).message;
    throw new XlError(`${raw.at(key)}: ${key}: cannot read ${JSON.stringify(path)}: ${why}`);
  }
}

/** Parse, type and read the images of a config. */
export function loadConfig(text: string, source: string, overrides: readonly string[], cwd: string): LoadedConfig {
  const { cfg, raw } = parseConfigText(text, source, overrides, cwd);
  const kernel = readImage(raw, 'kernel', cfg.kernel);
  const ramdisk = cfg.ramdisk !== null ? readImage(raw, 'ramdisk', cfg.ramdisk) : null;
  return { cfg, kernel, ramdisk, at: (key) => raw.at(key) };
}
