/**
 * Generates, from the TypeScript ABI in src/abi:
 *   - the C headers in guests/include/xen (constants as #defines with Xen's spelling,
 *     typedefs, structs with explicit padding where i386 C layout would differ, enums,
 *     DEFINE_RING_TYPES, and a static assert of every struct size and field offset);
 *   - src/abi/gen/<module>.ts: literal offset constants for hot code
 *     (SIZEOF_START_INFO = 1112, START_INFO_NR_PAGES = 32).
 *
 * Usage: `npm run abi:gen` (writes the files) or `tsx tools/abi/gen_c_headers.ts --check`
 * (exits 1 if any generated file is stale). The outputs are committed so guests build
 * without node; tests/abi/regen.test.ts fails when they are stale.
 *
 * How it reads the sources: the TypeScript compiler API lists each module's top-level
 * `export const` declarations in source order with their JSDoc; the values come from
 * importing the module. So the C header follows the TS file's order and comments. A JSDoc
 * `@tsonly` keeps a declaration out of C. Functions, maps and other objects are TS-only by
 * nature; their C counterparts (function-like macros) live in the fragments in tools/abi/c.
 *
 * Invariants:
 * - Output is a pure function of src/abi and tools/abi (no dates, no host paths), so
 *   regeneration is byte-identical.
 * - A generated TS name that collides with any exported ABI name fails generation.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { walkFields, type CEnum, type Field, type StructDef, type TypeRef } from '../../src/abi/layout.ts';
import type { RingDef } from '../../src/abi/io/ring.ts';
import { HEADERS, NO_GEN_OFFSETS, TS_ONLY, type HeaderSpec } from './headers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ABI = join(ROOT, 'src/abi');
const INCLUDE = join(ROOT, 'guests/include/xen');
const FRAGMENTS = join(ROOT, 'tools/abi/c');

/** One top-level `export const` of a module, in source order. */
interface Decl {
  readonly name: string;
  readonly value: unknown;
  readonly doc: string;
  readonly tsonly: boolean;
  /** Title of a `// ---- Title ----` comment that opens a section before this declaration. */
  readonly section: string | null;
  /** The initializer's source text and kind, to print numbers the way the source wrote them. */
  readonly init: ts.Expression | undefined;
}

interface Module {
  readonly path: string; // relative to src/abi, e.g. 'io/ring.ts'
  readonly decls: readonly Decl[];
  readonly header: HeaderSpec | null;
  /** The generated offsets module it re-exports (absolute path), if any. */
  readonly genFile: string | null;
}

const GEN_REEXPORT = /^export \* from '((?:\.\.?\/)+gen\/[^']+)';$/m;

function genFileOf(path: string, text: string): string | null {
  const m = GEN_REEXPORT.exec(text);
  return m === null ? null : join(dirname(join(ABI, path)), m[1]);
}

const isStruct = (v: unknown): v is StructDef =>
  typeof v === 'object' && v !== null && ((v as StructDef).kind === 'struct' || (v as StructDef).kind === 'union') && 'fields' in v;
const isEnum = (v: unknown): v is CEnum => typeof v === 'object' && v !== null && (v as CEnum).kind === 'enum';
const isRing = (v: unknown): v is RingDef => typeof v === 'object' && v !== null && (v as RingDef).kind === 'ring';
const isAlias = (v: unknown): v is TypeRef =>
  typeof v === 'object' && v !== null && ((v as TypeRef).kind === 'scalar' || (v as TypeRef).kind === 'array-typedef');

function sectionOf(node: ts.Node, text: string): string | null {
  const ranges = ts.getLeadingCommentRanges(text, node.pos) ?? [];
  for (const r of ranges) {
    const m = /^\/\/ -{3,} (.*?) -{3,}\s*$/.exec(text.slice(r.pos, r.end));
    if (m !== null) return m[1];
  }
  return null;
}

function jsdocOf(node: ts.Node, text: string): string {
  const ranges = ts.getLeadingCommentRanges(text, node.pos) ?? [];
  const last = ranges.filter((r) => text.startsWith('/**', r.pos)).at(-1);
  if (last === undefined) return '';
  return text.slice(last.pos + 3, last.end - 2)
    .split('\n')
    .map((l) => l.replace(/^\s*\*\s?/, '').trimEnd())
    .join('\n')
    .trim();
}

async function loadModule(path: string, header: HeaderSpec | null): Promise<Module> {
  const file = join(ABI, path);
  const text = readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const ns = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const decls: Decl[] = [];
  // A section comment may sit before any statement (a function, an import); it opens the
  // section at the next exported const.
  let pendingSection: string | null = null;
  for (const st of sf.statements) {
    pendingSection = sectionOf(st, text) ?? pendingSection;
    if (!ts.isVariableStatement(st)) continue;
    if (!st.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) continue;
    const raw = jsdocOf(st, text);
    const tsonly = /@tsonly\b/.test(raw);
    const doc = raw.replace(/@tsonly\b/g, '').trim();
    let section = pendingSection;
    pendingSection = null;
    for (const d of st.declarationList.declarations) {
      if (!ts.isIdentifier(d.name)) continue;
      decls.push({ name: d.name.text, value: ns[d.name.text], doc, tsonly, section, init: d.initializer });
      section = null;
    }
  }
  return { path, decls, header, genFile: genFileOf(path, text) };
}

// ---------------------------------------------------------------------------------------
// TS offset constants

const upper = (s: string): string => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

function genOffsets(mod: Module, taken: Map<string, string>): string {
  const out: string[] = [
    `// Generated by tools/abi/gen_c_headers.ts from the layouts in src/abi/${mod.path}. Do not edit.`,
    '// Byte offsets and sizes as literals, for hot code; the descriptors hold the same numbers.',
    '// In hot loops copy the ones you use into module-local consts: V8 folds those, not imported',
    '// bindings (npm run bench abi: imported ~6x a literal, local copy = literal).',
  ];
  const claim = (name: string, what: string): void => {
    const prev = taken.get(name);
    if (prev !== undefined) throw new Error(`abi gen: ${name} (${what}) collides with ${prev}`);
    taken.set(name, what);
  };
  let n = 0;
  for (const d of mod.decls) {
    if (!isStruct(d.value) || !d.value.tsOffsets) continue;
    const s = d.value;
    const base = upper(d.name);
    out.push('', `/** ${s.cName ?? d.name}: ${s.size} bytes. */`);
    claim(`SIZEOF_${base}`, `sizeof ${d.name}`);
    out.push(`export const SIZEOF_${base} = ${s.size};`);
    for (const { path, offset } of walkFields(s)) {
      if (path.split('.').some((p) => p.startsWith('_'))) continue;
      const name = `${base}_${upper(path.replace(/\./g, '_'))}`;
      claim(name, `offset of ${d.name}.${path}`);
      out.push(`export const ${name} = ${offset};`);
    }
    n++;
  }
  if (n === 0) out.push('', 'export {};');
  return out.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------
// C headers

/** Where each ABI object (type, constant) was first declared: module path and export name. */
interface Home { readonly module: Module; readonly name: string }

/** What the C headers declare, for tests that compile them and compare with TypeScript. */
export interface CInventory {
  /** Header paths under guests/include/xen, in generation order. */
  readonly headers: string[];
  /** Every numeric #define with the value TypeScript gave it. */
  readonly constants: Array<{ readonly header: string; readonly name: string; readonly value: number | bigint }>;
  /** Every struct with its C type spelling (`struct start_info`, `xen_callback_t`). */
  readonly structs: Array<{ readonly header: string; readonly cType: string; readonly def: StructDef }>;
  readonly rings: Array<{ readonly header: string; readonly ring: RingDef }>;
  /** String #defines. */
  readonly strings: Array<{ readonly header: string; readonly name: string; readonly value: string }>;
}

class CGen {
  readonly inventory: CInventory = { headers: [], constants: [], structs: [], rings: [], strings: [] };
  private readonly homes = new Map<unknown, Home>();
  private readonly constHomes = new Map<string, Home>();
  private readonly headerOf = new Map<string, HeaderSpec>();

  constructor(private readonly modules: readonly Module[]) {
    for (const m of modules) {
      if (m.header !== null) this.headerOf.set(m.path, m.header);
      for (const d of m.decls) {
        if (typeof d.value === 'object' && d.value !== null && !this.homes.has(d.value)) this.homes.set(d.value, { module: m, name: d.name });
        if (!this.constHomes.has(d.name)) this.constHomes.set(d.name, { module: m, name: d.name });
      }
    }
  }

  /** The C name of a constant as emitted (with its header's prefix), or null if it has no C form. */
  private cConstName(name: string): string | null {
    const home = this.constHomes.get(name);
    if (home === undefined || home.module.header === null) return null;
    const d = home.module.decls.find((x) => x.name === name);
    if (d === undefined || d.tsonly || typeof d.value !== 'number') return null;
    return (home.module.header.prefix ?? '') + name;
  }

  private formatNumber(d: Decl, deps: Set<string>): string {
    const v = d.value as number;
    const init = d.init;
    if (init !== undefined) {
      if (ts.isNumericLiteral(init)) return init.getText().replace(/_/g, '');
      if (ts.isPrefixUnaryExpression(init) && init.operator === ts.SyntaxKind.MinusToken && ts.isNumericLiteral(init.operand)) {
        return `(-${init.operand.getText()})`;
      }
      if (ts.isIdentifier(init)) {
        const ref = this.cConstName(init.text);
        const home = this.constHomes.get(init.text);
        if (ref !== null && home !== undefined && home.module.header !== null) {
          deps.add(home.module.header.c);
          return ref;
        }
      }
    }
    if (!Number.isInteger(v)) throw new Error(`abi gen: ${d.name} = ${v} is not an integer`);
    if (v < 0) return `(${v})`;
    const text = init?.getText() ?? '';
    return /0x|<<|\|/.test(text) || v >= 0x10000 ? `0x${v.toString(16).toUpperCase()}` : String(v);
  }

  /** The header (path under xen/) that declares a type, or null for C builtins. */
  private typeHeader(t: unknown): string | null {
    const home = this.homes.get(t);
    return home?.module.header?.c ?? null;
  }

  private collectTypeDeps(t: TypeRef, deps: Set<string>): void {
    switch (t.kind) {
      case 'scalar': if (t.base !== undefined) this.addDep(t, deps); return;
      case 'array-typedef': this.addDep(t, deps); return;
      case 'ptr': if (t.targetType !== undefined) this.collectTypeDeps(t.targetType, deps); return;
      default:
        if (t.name !== null || t.typedef !== null) { this.addDep(t, deps); return; }
        for (const fld of t.fields) this.collectTypeDeps(fld.type, deps);
    }
  }

  private addDep(t: unknown, deps: Set<string>): void {
    const h = this.typeHeader(t);
    if (h !== null) deps.add(h);
  }

  header(spec: HeaderSpec): string {
    this.inventory.headers.push(spec.c);
    const deps = new Set<string>(spec.includes ?? []);
    const body: string[] = [];
    const asserts: string[] = [];
    let inC = false; // inside #ifndef __ASSEMBLY__
    let hasC = false;
    const cOnly = (on: boolean): void => {
      hasC ||= on;
      if (on && !inC) body.push('', '#ifndef __ASSEMBLY__');
      if (!on && inC) body.push('', '#endif /* !__ASSEMBLY__ */');
      inC = on;
    };
    const prefix = spec.prefix ?? '';
    const mods = spec.modules.map((p) => {
      const m = this.modules.find((x) => x.path === p);
      if (m === undefined) throw new Error(`abi gen: ${spec.c}: no module ${p}`);
      return m;
    });
    const enumMembers = new Set<string>();
    for (const m of mods) for (const d of m.decls) if (isEnum(d.value)) for (const k of Object.keys(d.value.members)) enumMembers.add(k);

    let pendingSection: string | null = null;
    const isEmitted = (v: unknown, enumMember: boolean): boolean =>
      (typeof v === 'number' && !enumMember) || typeof v === 'bigint' || typeof v === 'string' ||
      (Array.isArray(v) && v.every((x) => typeof x === 'string')) || isAlias(v) || isStruct(v) || isEnum(v) || isRing(v);
    for (const m of mods) {
      for (const d of m.decls) {
        if (d.section !== null) {
          pendingSection = d.section;
        }
        if (d.tsonly) continue;
        const v = d.value;
        if (pendingSection !== null && isEmitted(v, enumMembers.has(d.name))) {
          cOnly(!(typeof v === 'number' || typeof v === 'bigint' || typeof v === 'string'));
          body.push('', `/* ${pendingSection} */`);
          pendingSection = null;
        }
        if (typeof v === 'number') {
          if (enumMembers.has(d.name)) continue;
          cOnly(false);
          body.push(...comment(d.doc), `#define ${prefix}${d.name} ${this.formatNumber(d, deps)}`);
          this.inventory.constants.push({ header: spec.c, name: prefix + d.name, value: v });
        } else if (typeof v === 'bigint') {
          cOnly(false);
          body.push(...comment(d.doc), `#define ${prefix}${d.name} xen_mk_ullong(0x${v.toString(16).toUpperCase()})`);
          this.inventory.constants.push({ header: spec.c, name: prefix + d.name, value: v });
        } else if (typeof v === 'string') {
          cOnly(false);
          body.push(...comment(d.doc), `#define ${prefix}${d.name} ${cString(v)}`);
          this.inventory.strings.push({ header: spec.c, name: prefix + d.name, value: v });
        } else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) {
          cOnly(true);
          body.push(...comment(d.doc), `#define ${prefix}${d.name} { \\`, ...v.map((x, i) => `    ${cString(x)}${i < v.length - 1 ? ',' : ''} \\`), '}');
        } else if (isAlias(v) && this.homes.get(v)?.name === d.name) {
          cOnly(true);
          body.push('', ...comment(d.doc), ...this.typedef(v, deps));
        } else if (isStruct(v) && this.homes.get(v)?.name === d.name) {
          cOnly(true);
          body.push('', ...comment(d.doc || v.doc), ...this.struct(v, deps));
          asserts.push(...this.asserts(v));
          this.inventory.structs.push({ header: spec.c, cType: cTypeOf(v), def: v });
        } else if (isEnum(v)) {
          cOnly(true);
          body.push('', ...comment(d.doc), `enum ${v.name} {`,
            ...Object.entries(v.members).map(([k, n]) => `    ${k} = ${n},`), '};');
          if (v.typedef !== null) body.push(`typedef enum ${v.name} ${v.typedef};`);
        } else if (isRing(v)) {
          cOnly(true);
          this.collectTypeDeps(v.req, deps);
          this.collectTypeDeps(v.rsp, deps);
          deps.add('io/ring.h');
          this.inventory.rings.push({ header: spec.c, ring: v });
          body.push('', ...comment(d.doc || `Shared ring of ${v.name}: ${v.nrEnts} slots of ${v.entrySize} bytes in one page.`),
            `DEFINE_RING_TYPES(${v.name}, ${v.req.cName}, ${v.rsp.cName});`);
          asserts.push(
            `XEN_ABI_ASSERT(sizeof(union ${v.name}_sring_entry) == ${v.entrySize});`,
            `XEN_ABI_ASSERT(__builtin_offsetof(struct ${v.name}_sring, ring) == 64);`,
            `XEN_ABI_ASSERT(__CONST_RING_SIZE(${v.name}, 4096) == ${v.nrEnts});`,
          );
        }
      }
    }
    cOnly(false);
    // C declarations need the base machinery (stdint, guest handles, asserts) of xen.h.
    if (hasC || spec.post !== undefined) deps.add('xen.h');
    if (spec.c === 'xen.h') deps.add('arch-x86_32.h');
    deps.delete(spec.c);
    if (spec.c === 'arch-x86_32.h') deps.clear();

    const guard = `__XEN_PUBLIC_${spec.c.replace(/[^A-Za-z0-9]/g, '_').toUpperCase()}__`;
    const from = mods.map((m) => `src/abi/${m.path}`).join(', ');
    const out: string[] = [
      `/* ${spec.c}: ${spec.doc}`,
      ` * Generated by tools/abi/gen_c_headers.ts from ${from}. Do not edit: change the TypeScript`,
      ` * and run \`npm run abi:gen\`. */`,
      `#ifndef ${guard}`,
      `#define ${guard}`,
    ];
    const inc = [...deps].sort((a, b) => order(a) - order(b) || a.localeCompare(b));
    if (inc.length > 0) out.push('', ...inc.map((h) => `#include "${posix.relative(posix.dirname(spec.c), h)}"`));
    if (spec.pre !== undefined) out.push('', fragment(spec.pre));
    out.push(...body);
    if (spec.post !== undefined) out.push('', fragment(spec.post));
    if (asserts.length > 0) {
      out.push('', '#if !defined(__ASSEMBLY__) && !defined(XEN_ABI_NO_ASSERTS)', '/* Layout checks: the sizes and offsets of src/abi, which pins them to the fact sheets. */',
        ...asserts, '#endif');
    }
    out.push('', `#endif /* ${guard} */`, '');
    return out.join('\n');
  }

  private typedef(t: TypeRef, deps: Set<string>): string[] {
    if (t.kind === 'array-typedef') return [`typedef ${this.cType(t.elem, deps)} ${t.cName}[${t.count}];`];
    if (t.kind !== 'scalar' || t.base === undefined) throw new Error('abi gen: not a typedef');
    return [`typedef ${this.cType(t.base, deps)} ${t.cName};`, `DEFINE_XEN_GUEST_HANDLE(${t.cName});`];
  }

  private cType(t: TypeRef, deps: Set<string>): string {
    this.collectTypeDeps(t, deps);
    if (t.kind === 'scalar' || t.kind === 'array-typedef') return t.cName;
    if (t.kind === 'ptr') throw new Error('abi gen: pointer spelled by field');
    if (t.cName === null) throw new Error('abi gen: anonymous struct has no type name');
    return t.cName;
  }

  private struct(s: StructDef, deps: Set<string>): string[] {
    const lines = this.structBody(s, deps, '', s.cName !== null && s.name !== null ? `${s.kind} ${s.name}` : s.kind);
    if (s.name === null) {
      if (s.typedef === null) throw new Error('abi gen: a top-level struct needs a name or a typedef');
      lines[0] = `typedef ${lines[0]}`;
      lines[lines.length - 1] = lines[lines.length - 1].replace(/;$/, ` ${s.typedef};`);
      return [...lines, `DEFINE_XEN_GUEST_HANDLE(${s.typedef});`];
    }
    if (s.typedef !== null) lines.push(`typedef ${s.cName} ${s.typedef};`, `DEFINE_XEN_GUEST_HANDLE(${s.typedef});`);
    return lines;
  }

  /** `head {` ... `};` with members; nested anonymous structs inline. Inserts padding where i386 C would lay out differently. */
  private structBody(s: StructDef, deps: Set<string>, indent: string, head: string, member?: string): string[] {
    const lines = [`${indent}${head} {`];
    let cur = 0;
    let pads = 0;
    let maxAlign = 1;
    const inner = indent + '    ';
    for (const fld of s.fields) {
      const a = s.packed ? 1 : cAlign(fld.type);
      maxAlign = Math.max(maxAlign, a);
      if (s.kind === 'struct') {
        const natural = roundUp(cur, a);
        if (fld.offset < natural) throw new Error(`abi gen: ${s.name}.${fld.name} at ${fld.offset} cannot be laid out by C (natural ${natural})`);
        if (fld.offset > natural) lines.push(`${inner}uint8_t _abi_pad${pads++}[${fld.offset - cur}];`);
        cur = fld.offset + fld.size;
      }
      lines.push(...this.member(fld, deps, inner));
    }
    if (s.kind === 'struct') {
      const natural = roundUp(cur, maxAlign);
      if (s.size > natural) lines.push(`${inner}uint8_t _abi_pad${pads++}[${s.size - cur}];`);
    } else if (s.size > Math.max(...s.fields.map((x) => x.size))) {
      throw new Error(`abi gen: union ${s.name} has no member of its full size`);
    }
    lines.push(`${indent}}${member !== undefined ? ` ${member}` : ''}${s.packed ? ' __attribute__((__packed__))' : ''};`);
    return lines;
  }

  private member(fld: Field, deps: Set<string>, indent: string): string[] {
    const dim = fld.count === undefined ? '' : fld.count === 0 ? '[]' : `[${fld.count}]`;
    const note = [fld.dir, fld.doc].filter((x) => x !== undefined && x !== '').join(': ');
    const tail = note === '' ? '' : ` /* ${note.replace(/\*\//g, '* /')} */`;
    const t = fld.type;
    if ((t.kind === 'struct' || t.kind === 'union') && t.name === null && t.typedef === null) {
      const body = this.structBody(t, deps, indent, t.kind, `${fld.name}${dim}`);
      if (tail !== '') body[0] += tail;
      return body;
    }
    if (t.kind === 'ptr') {
      if (t.targetType !== undefined) this.collectTypeDeps(t.targetType, deps);
      const decl = t.handle ? `XEN_GUEST_HANDLE(${handleName(t.target)}) ${fld.name}${dim}` : `${t.target} *${fld.name}${dim}`;
      return [`${indent}${decl};${tail}`];
    }
    return [`${indent}${this.cType(t, deps)} ${fld.name}${dim};${tail}`];
  }

  private asserts(s: StructDef): string[] {
    const ty = cTypeOf(s);
    const out = [`XEN_ABI_ASSERT(sizeof(${ty}) == ${s.size});`];
    for (const { path, field, offset } of walkFields(s)) {
      if (field.count === 0) continue;
      out.push(`XEN_ABI_ASSERT(__builtin_offsetof(${ty}, ${path}) == ${offset});`);
    }
    return out;
  }
}

/** How C names a top-level struct: `struct x`, or the typedef of an anonymous one. */
function cTypeOf(s: StructDef): string {
  if (s.cName === null) throw new Error('abi gen: a top-level struct needs a name or a typedef');
  return s.cName;
}

/** Natural alignment of a type in i386 C (uint64_t: 4). */
function cAlign(t: TypeRef): number {
  switch (t.kind) {
    case 'scalar': return Math.min(t.size, 4);
    case 'ptr': return 4;
    case 'array-typedef': return Math.min(t.elem.size, 4);
    default: return t.packed ? 1 : Math.max(1, ...t.fields.map((x) => cAlign(x.type)));
  }
}

function roundUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/** Guest-handle names are single tokens: `unsigned long` → ulong, `struct x` → x. */
function handleName(target: string): string {
  const map: Record<string, string> = { 'unsigned long': 'ulong', 'unsigned int': 'uint', 'unsigned char': 'uchar' };
  return map[target] ?? target.replace(/^(struct|union) /, '');
}

function comment(doc: string): string[] {
  if (doc === '') return [];
  const lines = doc.replace(/\*\//g, '* /').split('\n');
  if (lines.length === 1) return [`/* ${lines[0]} */`];
  return ['/*', ...lines.map((l) => ` * ${l}`.trimEnd()), ' */'];
}

function cString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function fragment(name: string): string {
  return readFileSync(join(FRAGMENTS, name), 'utf8').trimEnd();
}

/** Include order: the arch header and xen.h first, then the rest alphabetically. */
function order(h: string): number {
  return h === 'arch-x86_32.h' ? 0 : h === 'xen.h' ? 1 : 2;
}

// ---------------------------------------------------------------------------------------

const genPath = (module: string): string => join(ABI, 'gen', module);

/** Every generated file: absolute path → content. */
export async function generate(): Promise<Map<string, string>> {
  return (await generateAll()).files;
}

/** The generated files and the inventory of what the C headers declare. */
export async function generateAll(): Promise<{ files: Map<string, string>; inventory: CInventory }> {
  const specs: Array<[string, HeaderSpec | null]> = [];
  for (const h of HEADERS) for (const m of h.modules) specs.push([m, h]);
  for (const m of TS_ONLY) specs.push([m, null]);
  const modules: Module[] = [];
  for (const [path, header] of specs) modules.push(await loadModule(path, header));

  const files = new Map<string, string>();
  const taken = new Map<string, string>();
  for (const m of modules) for (const d of m.decls) taken.set(d.name, `src/abi/${m.path}`);
  for (const m of modules) {
    const hasStructs = m.decls.some((d) => isStruct(d.value) && d.value.tsOffsets);
    if (m.genFile === null) {
      if (hasStructs && !NO_GEN_OFFSETS.has(m.path)) throw new Error(`abi gen: src/abi/${m.path} has structs but does not re-export its gen/ offsets module`);
      continue;
    }
    if (m.genFile !== genPath(m.path)) throw new Error(`abi gen: src/abi/${m.path} must re-export ${relative(ABI, genPath(m.path))}`);
    files.set(m.genFile, genOffsets(m, taken));
  }

  const gen = new CGen(modules);
  for (const h of HEADERS) files.set(join(INCLUDE, h.c), gen.header(h));
  return { files, inventory: gen.inventory };
}

/** Create empty offset modules for new ABI modules, so importing them works before the first run. */
function ensureStubs(): void {
  const all = [...HEADERS.flatMap((h) => h.modules), ...TS_ONLY];
  for (const m of all) {
    const p = genFileOf(m, readFileSync(join(ABI, m), 'utf8'));
    if (p !== null && !existsSync(p)) {
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, 'export {};\n');
    }
  }
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  if (!check) ensureStubs();
  const files = await generate();
  const stale: string[] = [];
  for (const [path, text] of files) {
    const old = existsSync(path) ? readFileSync(path, 'utf8') : null;
    if (old === text) continue;
    stale.push(relative(ROOT, path));
    if (!check) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
    }
  }
  if (check) {
    if (stale.length > 0) {
      console.error(`abi: stale generated files (run npm run abi:gen):\n  ${stale.join('\n  ')}`);
      process.exit(1);
    }
    console.log(`abi: ${files.size} generated files up to date`);
  } else {
    console.log(`abi: ${files.size} files, ${stale.length} updated${stale.length > 0 ? ':\n  ' + stale.join('\n  ') : ''}`);
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await main();
}
