/**
 * Layout descriptors: the one typed description of every byte layout in Xen's public ABI.
 *
 * A struct is declared once, in the src/abi file named after its Xen header, as a list of
 * fields; this module computes offsets, sizes and alignment from it. Everything else is
 * derived: the C headers in guests/include/xen (tools/abi/gen_c_headers.ts), the literal
 * offset constants in src/abi/gen (`SIZEOF_START_INFO`, `START_INFO_NR_PAGES`) that hot code
 * uses, and the generic readers/writers below that non-hot code uses.
 *
 * Invariants:
 * - Offsets follow the i386 System V rules that Xen's 32-bit (and 32-on-64 "compat") ABI
 *   uses: a scalar is aligned to min(size, 4) — so `uint64_t` inside a struct is 4-byte
 *   aligned —, a struct is aligned to its largest member and padded to a multiple of that.
 *   A struct declared with `abi: 'x86_64'` aligns 64-bit members to 8 instead (the x86_64
 *   block-ring layouts a 32-bit backend must also speak); it may not use `unsigned long` or
 *   pointers, whose width differs between the two ABIs.
 * - `packed` structs have no padding at all (the e820 entry).
 * - A struct declared with `size` must come out at exactly that size, or the module fails to
 *   load: the fact-sheet size is part of the declaration, not only of a test.
 * - Descriptors are frozen after construction; accessors built from them are plain closures
 *   specialised per field (one DataView call, no allocation per access).
 */

/** Scalar kinds: unsigned/signed integers of 1, 2, 4 and 8 bytes, little-endian. */
export type ScalarKind = 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'u64' | 'i64';

/** Who fills a hypercall argument field (Xen's IN/OUT comments). Shared-memory fields say who writes them in `doc`. */
export type Dir = 'IN' | 'OUT' | 'IN/OUT';

export interface ScalarType {
  readonly kind: 'scalar';
  /** C spelling: `uint32_t`, `domid_t`, `unsigned long`, `char`. */
  readonly cName: string;
  readonly scalar: ScalarKind;
  readonly size: number;
  /** For a typedef (`domid_t`), the type it names; the C generator emits the typedef. */
  readonly base?: ScalarType;
  /** True for `unsigned long`/`long`/`xen_pfn_t`-like types whose width depends on the ABI. */
  readonly word?: boolean;
}

/** A pointer-sized guest address: `XEN_GUEST_HANDLE(target)` or a plain `target *`. */
export interface PointerType {
  readonly kind: 'ptr';
  /** C type name the handle points to (`xen_pfn_t`, `void`, `struct vcpu_runstate_info`). */
  readonly target: string;
  /** The pointed-to type when it is an ABI type (so the C generator includes its header). */
  readonly targetType?: TypeRef;
  /** True: spelled `XEN_GUEST_HANDLE(target)` in C; false: `target *`. */
  readonly handle: boolean;
  readonly size: 4;
}

/** A typedef naming a fixed array (`typedef uint8_t xen_domain_handle_t[16]`). */
export interface ArrayTypedef {
  readonly kind: 'array-typedef';
  readonly cName: string;
  readonly elem: ScalarType;
  readonly count: number;
  readonly size: number;
}

export type TypeRef = ScalarType | PointerType | ArrayTypedef | StructDef;

export interface FieldSpec {
  readonly name: string;
  readonly type: TypeRef;
  /** Array length; 0 declares a flexible array member (`buf[]`). Absent: not an array. */
  readonly count?: number;
  readonly dir?: Dir;
  readonly doc?: string;
}

export interface Field extends FieldSpec {
  /** Byte offset from the start of the enclosing struct. */
  readonly offset: number;
  /** Total bytes (element size × count for arrays; 0 for a flexible array). */
  readonly size: number;
}

export interface StructDef {
  readonly kind: 'struct' | 'union';
  /** C tag (`start_info`); null for an anonymous struct/union nested inline in another. */
  readonly name: string | null;
  /** C spelling as a type: `struct start_info`, the typedef of an anonymous typedef'd struct, or null when anonymous. */
  readonly cName: string | null;
  /** `start_info_t`-style typedef emitted after the definition; null for none. */
  readonly typedef: string | null;
  readonly size: number;
  readonly align: number;
  readonly fields: readonly Field[];
  readonly packed: boolean;
  readonly abi: 'x86_32' | 'x86_64';
  readonly doc: string;
  /** False when the module already exports hand-named offset constants for this struct (no generated ones). */
  readonly tsOffsets: boolean;
}

export interface StructOptions {
  /** The size the fact sheets pin; construction throws if the computed size differs. */
  readonly size?: number;
  readonly packed?: boolean;
  readonly abi?: 'x86_32' | 'x86_64';
  /** Typedef name; default `<name>_t` for named structs. `null` for none. */
  readonly typedef?: string | null;
  readonly doc?: string;
  /** Generate SIZEOF_/offset constants into src/abi/gen (default true). */
  readonly tsOffsets?: boolean;
}

const SCALAR_SIZE: Readonly<Record<ScalarKind, number>> = { u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4, u64: 8, i64: 8 };

function scalar(cName: string, kind: ScalarKind, word = false): ScalarType {
  return Object.freeze({ kind: 'scalar', cName, scalar: kind, size: SCALAR_SIZE[kind], ...(word ? { word } : {}) });
}

export const u8 = scalar('uint8_t', 'u8');
export const i8 = scalar('int8_t', 'i8');
export const u16 = scalar('uint16_t', 'u16');
export const i16 = scalar('int16_t', 'i16');
export const u32 = scalar('uint32_t', 'u32');
export const i32 = scalar('int32_t', 'i32');
export const u64 = scalar('uint64_t', 'u64');
export const i64 = scalar('int64_t', 'i64');
/** C `char` (signed on x86); char arrays decode as NUL-terminated strings. */
export const char = scalar('char', 'i8');
/** C `unsigned long`: 4 bytes on x86_32. */
export const ulong = scalar('unsigned long', 'u32', true);
/** C `unsigned int`. */
export const uint = scalar('unsigned int', 'u32');
/** C `int`. */
export const int = scalar('int', 'i32');
/** C `long`: 4 bytes on x86_32. */
export const long = scalar('long', 'i32', true);

/** A scalar typedef (`typedef uint16_t domid_t;`). */
export function alias(cName: string, base: ScalarType): ScalarType {
  return Object.freeze({ kind: 'scalar', cName, scalar: base.scalar, size: base.size, base, ...(base.word ? { word: true } : {}) });
}

/** An array typedef (`typedef uint8_t xen_domain_handle_t[16];`). */
export function arrayAlias(cName: string, elem: ScalarType, count: number): ArrayTypedef {
  return Object.freeze({ kind: 'array-typedef', cName, elem, count, size: elem.size * count });
}

function pointee(t: string | TypeRef, forHandle: boolean): { target: string; targetType?: TypeRef } {
  if (typeof t === 'string') return { target: t };
  if (t.kind === 'ptr') throw new Error('abi: pointers to pointers are not part of the ABI');
  const name = t.kind === 'struct' || t.kind === 'union' ? (forHandle ? t.typedef : t.cName) : t.cName;
  if (name === null) throw new Error('abi: a pointer needs a named target type');
  return { target: name, targetType: t };
}

/** `XEN_GUEST_HANDLE(target)`: a guest virtual address (4 bytes on x86_32). Structs are named by their typedef. */
export function handle(target: string | TypeRef): PointerType {
  return Object.freeze({ kind: 'ptr', ...pointee(target, true), handle: true, size: 4 });
}

/** A plain C pointer `target *` (4 bytes on x86_32). */
export function ptr(target: string | TypeRef): PointerType {
  return Object.freeze({ kind: 'ptr', ...pointee(target, false), handle: false, size: 4 });
}

/** Field shorthand: `f('nr_pages', ulong, 'total pages', 'IN')`. */
export function f(name: string, type: TypeRef, doc?: string, dir?: Dir): FieldSpec {
  return { name, type, ...(doc !== undefined ? { doc } : {}), ...(dir !== undefined ? { dir } : {}) };
}

/** Array field shorthand: `arr('cmd_line', char, 1024, 'command line')`. */
export function arr(name: string, type: TypeRef, count: number, doc?: string, dir?: Dir): FieldSpec {
  return { ...f(name, type, doc, dir), count };
}

function typeAlign(t: TypeRef, abi: 'x86_32' | 'x86_64', packed: boolean): number {
  if (packed) return 1;
  switch (t.kind) {
    case 'scalar':
      if (abi === 'x86_64' && t.word) throw new Error(`abi: ${t.cName} has no fixed width in an x86_64 layout`);
      return t.size === 8 ? (abi === 'x86_64' ? 8 : 4) : t.size;
    case 'ptr':
      if (abi === 'x86_64') throw new Error('abi: pointers have no fixed width in an x86_64 layout');
      return 4;
    case 'array-typedef':
      return t.elem.size === 8 ? (abi === 'x86_64' ? 8 : 4) : t.elem.size;
    default:
      if (t.abi !== abi && t.fields.some((x) => x.type.kind === 'scalar' && x.type.size === 8)) {
        throw new Error(`abi: struct ${t.name ?? '(anonymous)'} is laid out for ${t.abi}, not ${abi}`);
      }
      return t.align;
  }
}

function roundUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

function build(kind: 'struct' | 'union', name: string | null, specs: readonly FieldSpec[], opts: StructOptions): StructDef {
  const abi = opts.abi ?? 'x86_32';
  const packed = opts.packed ?? false;
  const seen = new Set<string>();
  const fields: Field[] = [];
  let cur = 0;
  let align = 1;
  let size = 0;
  specs.forEach((s, i) => {
    if (seen.has(s.name)) throw new Error(`abi: ${name}: duplicate field ${s.name}`);
    seen.add(s.name);
    if (s.count === 0 && (kind === 'union' || i !== specs.length - 1)) {
      throw new Error(`abi: ${name}: flexible array ${s.name} must be the last member of a struct`);
    }
    const a = typeAlign(s.type, abi, packed);
    const bytes = s.type.size * (s.count ?? 1);
    const offset = kind === 'union' ? 0 : roundUp(cur, a);
    fields.push(Object.freeze({ ...s, offset, size: bytes }));
    align = Math.max(align, a);
    if (kind === 'union') size = Math.max(size, bytes);
    else cur = offset + bytes;
  });
  if (kind === 'struct') size = cur;
  size = roundUp(size, align);
  const label = name ?? '(anonymous)';
  if (opts.size !== undefined && opts.size !== size) {
    throw new Error(`abi: ${kind} ${label} is ${size} bytes, the ABI says ${opts.size}`);
  }
  const typedef = opts.typedef === undefined ? (name === null ? null : `${name}_t`) : opts.typedef;
  // An anonymous struct with a typedef (`typedef struct { ... } xen_callback_t;`) is spelled by its typedef.
  const cName = name !== null ? `${kind} ${name}` : typedef;
  return Object.freeze({
    kind, name, cName, typedef, size, align,
    fields: Object.freeze(fields), packed, abi, doc: opts.doc ?? '', tsOffsets: opts.tsOffsets ?? true,
  });
}

/** A C struct. `name` null = anonymous (only valid nested inline in another struct). */
export function struct(name: string | null, fields: readonly FieldSpec[], opts: StructOptions = {}): StructDef {
  return build('struct', name, fields, opts);
}

/** A C union: every member at offset 0, size of the largest. */
export function union(name: string | null, fields: readonly FieldSpec[], opts: StructOptions = {}): StructDef {
  return build('union', name, fields, opts);
}

/** Walk every field, depth-first, with its dotted path and absolute offset (descends into nested structs, not arrays of them). */
export function* walkFields(def: StructDef, prefix = '', base = 0): Generator<{ path: string; field: Field; offset: number }> {
  for (const field of def.fields) {
    const path = prefix === '' ? field.name : `${prefix}.${field.name}`;
    yield { path, field, offset: base + field.offset };
    if (field.count === undefined && (field.type.kind === 'struct' || field.type.kind === 'union')) {
      yield* walkFields(field.type, path, base + field.offset);
    }
  }
}

/** The field at a dotted path (`console.domU.mfn`) and its absolute offset; throws on a typo. */
export function fieldAt(def: StructDef, path: string): { field: Field; offset: number } {
  let cur: StructDef = def;
  let offset = 0;
  const parts = path.split('.');
  for (let i = 0; i < parts.length; i++) {
    const field = cur.fields.find((x) => x.name === parts[i]);
    if (field === undefined) throw new Error(`abi: ${def.name ?? '(anonymous)'} has no field ${path}`);
    offset += field.offset;
    if (i === parts.length - 1) return { field, offset };
    if (field.type.kind !== 'struct' && field.type.kind !== 'union') {
      throw new Error(`abi: ${path}: ${parts[i]} is not a struct`);
    }
    cur = field.type;
  }
  throw new Error(`abi: empty field path`);
}

/** Offset of a field path within a struct (non-hot code; hot code uses the generated constants). */
export function offsetOf(def: StructDef, path: string): number {
  return fieldAt(def, path).offset;
}

// ---------------------------------------------------------------------------------------
// Accessors. DataViews are little-endian by the ABI; `base` is the struct's byte offset.

export type Getter = (view: DataView, base: number) => number;
export type Setter = (view: DataView, base: number, value: number) => void;
export type Getter64 = (view: DataView, base: number) => bigint;
export type Setter64 = (view: DataView, base: number, value: bigint) => void;

function scalarOf(def: StructDef, path: string): { kind: ScalarKind; offset: number } {
  const { field, offset } = fieldAt(def, path);
  const t = field.type;
  if (field.count !== undefined) throw new Error(`abi: ${path} is an array`);
  if (t.kind === 'scalar') return { kind: t.scalar, offset };
  if (t.kind === 'ptr') return { kind: 'u32', offset };
  throw new Error(`abi: ${path} is not a scalar`);
}

/** A reader specialised to one field of at most 32 bits (values are the field's signedness). */
export function getter(def: StructDef, path: string): Getter {
  const { kind, offset: o } = scalarOf(def, path);
  switch (kind) {
    case 'u8': return (v, b) => v.getUint8(b + o);
    case 'i8': return (v, b) => v.getInt8(b + o);
    case 'u16': return (v, b) => v.getUint16(b + o, true);
    case 'i16': return (v, b) => v.getInt16(b + o, true);
    case 'u32': return (v, b) => v.getUint32(b + o, true);
    case 'i32': return (v, b) => v.getInt32(b + o, true);
    default: throw new Error(`abi: ${path} is 64-bit: use getter64`);
  }
}

/** A writer specialised to one field of at most 32 bits (the value is truncated to the field's width). */
export function setter(def: StructDef, path: string): Setter {
  const { kind, offset: o } = scalarOf(def, path);
  switch (kind) {
    case 'u8': case 'i8': return (v, b, x) => v.setUint8(b + o, x & 0xff);
    case 'u16': case 'i16': return (v, b, x) => v.setUint16(b + o, x & 0xffff, true);
    case 'u32': case 'i32': return (v, b, x) => v.setUint32(b + o, x >>> 0, true);
    default: throw new Error(`abi: ${path} is 64-bit: use setter64`);
  }
}

/** A reader for a 64-bit field. */
export function getter64(def: StructDef, path: string): Getter64 {
  const { kind, offset: o } = scalarOf(def, path);
  if (kind === 'u64') return (v, b) => v.getBigUint64(b + o, true);
  if (kind === 'i64') return (v, b) => v.getBigInt64(b + o, true);
  throw new Error(`abi: ${path} is not 64-bit: use getter`);
}

/** A writer for a 64-bit field (the value is taken modulo 2^64). */
export function setter64(def: StructDef, path: string): Setter64 {
  const { kind, offset: o } = scalarOf(def, path);
  if (kind !== 'u64' && kind !== 'i64') throw new Error(`abi: ${path} is not 64-bit: use setter`);
  return (v, b, x) => v.setBigUint64(b + o, BigInt.asUintN(64, x), true);
}

// ---------------------------------------------------------------------------------------
// Whole-struct decode/encode for non-hot paths (toolstack, tests, debugging). Allocates.

/** A decoded value: numbers for ≤ 32-bit scalars, bigint for 64-bit, strings for char arrays. */
export type Decoded = number | bigint | string | Uint8Array | Decoded[] | { [field: string]: Decoded };

function readScalar(view: DataView, at: number, t: ScalarType): number | bigint {
  switch (t.scalar) {
    case 'u8': return view.getUint8(at);
    case 'i8': return view.getInt8(at);
    case 'u16': return view.getUint16(at, true);
    case 'i16': return view.getInt16(at, true);
    case 'u32': return view.getUint32(at, true);
    case 'i32': return view.getInt32(at, true);
    case 'u64': return view.getBigUint64(at, true);
    case 'i64': return view.getBigInt64(at, true);
  }
}

function decodeOne(t: TypeRef, view: DataView, at: number): Decoded {
  switch (t.kind) {
    case 'scalar': return readScalar(view, at, t);
    case 'ptr': return view.getUint32(at, true);
    case 'array-typedef': return new Uint8Array(view.buffer.slice(view.byteOffset + at, view.byteOffset + at + t.size));
    default: return decode(t, view, at);
  }
}

/** Read a whole struct into a plain object (field names as in C). */
export function decode(def: StructDef, view: DataView, base: number): { [field: string]: Decoded } {
  const out: { [field: string]: Decoded } = {};
  for (const field of def.fields) {
    const at = base + field.offset;
    if (field.count === undefined) { out[field.name] = decodeOne(field.type, view, at); continue; }
    const t = field.type;
    if (t === char) {
      let s = '';
      for (let i = 0; i < field.count; i++) {
        const c = view.getUint8(at + i);
        if (c === 0) break;
        s += String.fromCharCode(c);
      }
      out[field.name] = s;
    } else if (t.kind === 'scalar' && t.size === 1) {
      out[field.name] = new Uint8Array(view.buffer.slice(view.byteOffset + at, view.byteOffset + at + field.count));
    } else {
      const items: Decoded[] = [];
      for (let i = 0; i < field.count; i++) items.push(decodeOne(t, view, at + i * t.size));
      out[field.name] = items;
    }
  }
  return out;
}

function writeScalar(view: DataView, at: number, t: ScalarType, x: Decoded, path: string): void {
  if (t.size === 8) {
    if (typeof x !== 'bigint' && typeof x !== 'number') throw new TypeError(`abi: ${path}: expected a bigint`);
    view.setBigUint64(at, BigInt.asUintN(64, BigInt(x)), true);
    return;
  }
  if (typeof x !== 'number') throw new TypeError(`abi: ${path}: expected a number, got ${typeof x}`);
  if (t.size === 1) view.setUint8(at, x & 0xff);
  else if (t.size === 2) view.setUint16(at, x & 0xffff, true);
  else view.setUint32(at, x >>> 0, true);
}

function encodeOne(t: TypeRef, view: DataView, at: number, x: Decoded, path: string): void {
  switch (t.kind) {
    case 'scalar': writeScalar(view, at, t, x, path); return;
    case 'ptr': writeScalar(view, at, u32, x, path); return;
    case 'array-typedef':
      if (!(x instanceof Uint8Array) || x.length > t.size) throw new TypeError(`abi: ${path}: expected at most ${t.size} bytes`);
      for (let i = 0; i < t.size; i++) view.setUint8(at + i, x[i] ?? 0);
      return;
    default:
      if (typeof x !== 'object' || x instanceof Uint8Array || Array.isArray(x)) throw new TypeError(`abi: ${path}: expected an object`);
      encode(t, view, at, x, path);
  }
}

/**
 * Write the fields present in `values` (absent fields are left untouched, so a caller zeroes
 * the struct first when it builds one from scratch). Unknown field names throw.
 */
export function encode(def: StructDef, view: DataView, base: number, values: { readonly [field: string]: Decoded }, prefix = def.name ?? ''): void {
  for (const key of Object.keys(values)) {
    const field = def.fields.find((x) => x.name === key);
    const path = `${prefix}.${key}`;
    if (field === undefined) throw new Error(`abi: ${prefix} has no field ${key}`);
    const x = values[key];
    const at = base + field.offset;
    if (field.count === undefined) { encodeOne(field.type, view, at, x, path); continue; }
    const t = field.type;
    if (typeof x === 'string') {
      if (t !== char || x.length >= field.count) throw new TypeError(`abi: ${path}: string of ${x.length} chars does not fit ${field.count} bytes with its NUL`);
      for (let i = 0; i < field.count; i++) view.setUint8(at + i, i < x.length ? x.charCodeAt(i) & 0xff : 0);
    } else if (x instanceof Uint8Array) {
      if (t.size !== 1 || x.length > field.count) throw new TypeError(`abi: ${path}: expected at most ${field.count} bytes`);
      for (let i = 0; i < x.length; i++) view.setUint8(at + i, x[i]);
    } else if (Array.isArray(x)) {
      if (x.length > field.count) throw new TypeError(`abi: ${path}: ${x.length} items for ${field.count} slots`);
      x.forEach((item, i) => encodeOne(t, view, at + i * t.size, item, `${path}[${i}]`));
    } else {
      throw new TypeError(`abi: ${path}: expected an array`);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Named C enums and shared rings, for the C generator.

/** A C enum whose members are also exported one by one as constants (`XenbusStateConnected`). */
export interface CEnum {
  readonly kind: 'enum';
  readonly name: string;
  readonly typedef: string | null;
  readonly members: Readonly<Record<string, number>>;
}

export function cEnum(name: string, members: Readonly<Record<string, number>>, typedef: string | null = null): CEnum {
  return Object.freeze({ kind: 'enum', name, typedef, members: Object.freeze({ ...members }) });
}
