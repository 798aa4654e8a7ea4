/**
 * A minimal, synchronous D-Bus client: just what the systemd cgroup driver needs.
 *
 * - transport: the system bus unix socket (`DBUS_SYSTEM_BUS_ADDRESS` = `unix:path=...`,
 *   default /run/dbus/system_bus_socket), SASL `AUTH EXTERNAL <hex of uid>` then `BEGIN`;
 * - wire format: little endian, protocol version 1, types y b n q i u x t d s o g a ( ) { } v;
 * - method calls with replies and error replies (→ RuntsError naming the error), signals kept in
 *   a queue for `waitForSignal` (after an `AddMatch`).
 *
 * Values: y/n/q/i/u/d are numbers, x/t bigints (numbers accepted when marshalling), b booleans,
 * s/o/g strings, arrays and structs JS arrays, dict entries `[key, value]` pairs, variants
 * `Variant`. Everything is synchronous (FFI read/write/ppoll): the cgroup manager API is.
 */
import { RuntsError } from "../errors.ts";
import { close, connectUnix, pollIn, readFd, write } from "../linux/syscalls.ts";

/** A value of type `v`: its signature (one complete type) and the value. */
export class Variant {
  constructor(readonly signature: string, readonly value: unknown) {}
}

export type MessageType = "method_call" | "method_return" | "error" | "signal";

const TYPE_CODES: Record<MessageType, number> = {
  method_call: 1,
  method_return: 2,
  error: 3,
  signal: 4,
};

/** Header field codes of the D-Bus spec, with the type each one's variant holds. */
export const HEADER_FIELDS = {
  path: [1, "o"],
  interface: [2, "s"],
  member: [3, "s"],
  errorName: [4, "s"],
  replySerial: [5, "u"],
  destination: [6, "s"],
  sender: [7, "s"],
  signature: [8, "g"],
  unixFds: [9, "u"],
} as const;

export type HeaderFieldName = keyof typeof HEADER_FIELDS;

export interface Message {
  type: MessageType;
  /** Header flags (1 = NO_REPLY_EXPECTED, 2 = NO_AUTO_START). */
  flags?: number;
  serial: number;
  path?: string;
  interface?: string;
  member?: string;
  errorName?: string;
  replySerial?: number;
  destination?: string;
  sender?: string;
  /** Body signature ("" or absent: no body). */
  signature?: string;
  unixFds?: number;
  body?: unknown[];
}

function fail(what: string): never {
  throw new RuntsError(`dbus: ${what}`);
}

/** Split a signature into its complete types ("sa{sv}u" → ["s", "a{sv}", "u"]). */
export function splitSignature(sig: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < sig.length) {
    const end = completeTypeEnd(sig, i);
    out.push(sig.slice(i, end));
    i = end;
  }
  return out;
}

/** Index just after the complete type starting at `i`. */
function completeTypeEnd(sig: string, i: number): number {
  const c = sig[i];
  if (c === undefined) fail(`truncated signature ${JSON.stringify(sig)}`);
  if ("ybnqiuxtdsogvh".includes(c)) return i + 1;
  if (c === "a") return completeTypeEnd(sig, i + 1);
  if (c === "(" || c === "{") {
    const close = c === "(" ? ")" : "}";
    let j = i + 1;
    while (sig[j] !== close) {
      if (j >= sig.length) fail(`unbalanced signature ${JSON.stringify(sig)}`);
      j = completeTypeEnd(sig, j);
    }
    if (j === i + 1) fail(`empty container in signature ${JSON.stringify(sig)}`);
    return j + 1;
  }
  fail(`unknown type ${JSON.stringify(c)} in signature ${JSON.stringify(sig)}`);
}

/** Alignment of a type (the spec's table). */
export function alignmentOf(type: string): number {
  switch (type[0]) {
    case "y":
    case "g":
    case "v":
      return 1;
    case "n":
    case "q":
      return 2;
    case "b":
    case "i":
    case "u":
    case "s":
    case "o":
    case "a":
    case "h":
      return 4;
    default: // x t d ( {
      return 8;
  }
}

const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: true });

/** Little-endian marshaller; offsets (and so alignment) count from the start of the buffer. */
export class Writer {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  align(n: number): void {
    const pad = (n - (this.length % n)) % n;
    this.ensure(pad);
    this.buf.fill(0, this.length, this.length + pad);
    this.length += pad;
  }

  bytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }

  raw(data: Uint8Array): void {
    this.ensure(data.length);
    this.buf.set(data, this.length);
    this.length += data.length;
  }

  u8(v: number): void {
    this.ensure(1);
    this.view.setUint8(this.length, v);
    this.length += 1;
  }

  u32(v: number): void {
    this.align(4);
    this.ensure(4);
    this.view.setUint32(this.length, v, true);
    this.length += 4;
  }

  setU32(at: number, v: number): void {
    this.view.setUint32(at, v, true);
  }

  /** Marshal each complete type of `sig` with the matching value of `values`. */
  write(sig: string, values: unknown[]): void {
    const types = splitSignature(sig);
    if (types.length !== values.length) {
      fail(
        `signature ${JSON.stringify(sig)} has ${types.length} types, got ${values.length} values`,
      );
    }
    types.forEach((t, i) => this.value(t, values[i]));
  }

  value(type: string, v: unknown): void {
    const c = type[0];
    this.align(alignmentOf(type));
    switch (c) {
      case "y":
        this.ensure(1);
        this.view.setUint8(this.length, num(v, type));
        this.length += 1;
        return;
      case "b":
        if (typeof v !== "boolean") fail(`expected a boolean for "b", got ${typeof v}`);
        return this.u32(v ? 1 : 0);
      case "n":
      case "q":
        this.ensure(2);
        if (c === "n") this.view.setInt16(this.length, num(v, type), true);
        else this.view.setUint16(this.length, num(v, type), true);
        this.length += 2;
        return;
      case "i":
      case "u":
      case "h":
        this.ensure(4);
        if (c === "i") this.view.setInt32(this.length, num(v, type), true);
        else this.view.setUint32(this.length, num(v, type), true);
        this.length += 4;
        return;
      case "x":
      case "t":
        this.ensure(8);
        if (c === "x") this.view.setBigInt64(this.length, big(v, type), true);
        else this.view.setBigUint64(this.length, big(v, type), true);
        this.length += 8;
        return;
      case "d":
        this.ensure(8);
        this.view.setFloat64(this.length, num(v, type), true);
        this.length += 8;
        return;
      case "s":
      case "o": {
        const b = enc.encode(str(v, type));
        this.u32(b.length);
        this.raw(b);
        return this.u8(0);
      }
      case "g": {
        const b = enc.encode(str(v, type));
        if (b.length > 255) fail("signature longer than 255 bytes");
        this.u8(b.length);
        this.raw(b);
        return this.u8(0);
      }
      case "v": {
        if (!(v instanceof Variant)) fail(`expected a Variant for "v"`);
        if (splitSignature(v.signature).length !== 1) {
          fail(`variant signature ${JSON.stringify(v.signature)} is not one complete type`);
        }
        this.value("g", v.signature);
        return this.value(v.signature, v.value);
      }
      case "a": {
        if (!Array.isArray(v)) fail(`expected an array for ${JSON.stringify(type)}`);
        const elem = type.slice(1);
        this.u32(0);
        const lengthAt = this.length - 4;
        this.align(alignmentOf(elem)); // padding before the first element is not counted
        const start = this.length;
        for (const e of v) this.value(elem, e);
        this.setU32(lengthAt, this.length - start);
        return;
      }
      case "(":
      case "{": {
        const inner = splitSignature(type.slice(1, -1));
        if (!Array.isArray(v) || v.length !== inner.length) {
          fail(`expected ${inner.length} fields for ${JSON.stringify(type)}`);
        }
        inner.forEach((t, i) => this.value(t, v[i]));
        return;
      }
    }
    fail(`cannot marshal type ${JSON.stringify(type)}`);
  }
}

function num(v: unknown, type: string): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  fail(`expected a number for ${JSON.stringify(type)}, got ${typeof v}`);
}

function big(v: unknown, type: string): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "number" && Number.isInteger(v)) return BigInt(v);
  fail(`expected an integer for ${JSON.stringify(type)}, got ${String(v)}`);
}

function str(v: unknown, type: string): string {
  if (typeof v === "string") return v;
  fail(`expected a string for ${JSON.stringify(type)}, got ${typeof v}`);
}

/** Little-endian unmarshaller over `buf`; alignment counts from `base` (the message start). */
export class Reader {
  private readonly view: DataView;
  constructor(private readonly buf: Uint8Array, public offset = 0, private readonly base = 0) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private need(n: number): void {
    if (this.offset + n > this.buf.length) fail("message truncated");
  }

  align(n: number): void {
    const rel = this.offset - this.base;
    this.offset += (n - (rel % n)) % n;
  }

  read(sig: string): unknown[] {
    return splitSignature(sig).map((t) => this.value(t));
  }

  value(type: string): unknown {
    this.align(alignmentOf(type));
    const c = type[0];
    const at = this.offset;
    switch (c) {
      case "y":
        this.need(1);
        this.offset += 1;
        return this.view.getUint8(at);
      case "b": {
        this.need(4);
        this.offset += 4;
        const b = this.view.getUint32(at, true);
        if (b > 1) fail(`invalid boolean ${b}`);
        return b === 1;
      }
      case "n":
      case "q":
        this.need(2);
        this.offset += 2;
        return c === "n" ? this.view.getInt16(at, true) : this.view.getUint16(at, true);
      case "i":
      case "u":
      case "h":
        this.need(4);
        this.offset += 4;
        return c === "i" ? this.view.getInt32(at, true) : this.view.getUint32(at, true);
      case "x":
      case "t":
        this.need(8);
        this.offset += 8;
        return c === "x" ? this.view.getBigInt64(at, true) : this.view.getBigUint64(at, true);
      case "d":
        this.need(8);
        this.offset += 8;
        return this.view.getFloat64(at, true);
      case "s":
      case "o": {
        this.need(4);
        const n = this.view.getUint32(at, true);
        this.offset += 4;
        return this.text(n);
      }
      case "g": {
        this.need(1);
        const n = this.view.getUint8(at);
        this.offset += 1;
        return this.text(n);
      }
      case "v": {
        const sig = this.value("g") as string;
        return new Variant(sig, this.value(sig));
      }
      case "a": {
        this.need(4);
        const n = this.view.getUint32(at, true);
        this.offset += 4;
        const elem = type.slice(1);
        this.align(alignmentOf(elem));
        const end = this.offset + n;
        if (end > this.buf.length) fail("array runs past the end of the message");
        const out: unknown[] = [];
        while (this.offset < end) out.push(this.value(elem));
        if (this.offset !== end) fail("array length does not match its elements");
        return out;
      }
      case "(":
      case "{":
        return splitSignature(type.slice(1, -1)).map((t) => this.value(t));
    }
    fail(`cannot unmarshal type ${JSON.stringify(type)}`);
  }

  private text(n: number): string {
    this.need(n + 1);
    const s = dec.decode(this.buf.subarray(this.offset, this.offset + n));
    if (this.buf[this.offset + n] !== 0) fail("string not NUL-terminated");
    this.offset += n + 1;
    return s;
  }
}

/** The whole wire form of a message (header, padding to 8, body). */
export function encodeMessage(m: Message): Uint8Array {
  const body = new Writer();
  const signature = m.signature ?? "";
  if (signature !== "") body.write(signature, m.body ?? []);
  else if ((m.body ?? []).length > 0) fail("a message body needs a signature");
  const fields: [number, Variant][] = [];
  for (const [name, [code, type]] of Object.entries(HEADER_FIELDS)) {
    const v = name === "signature" ? (signature === "" ? undefined : signature) : m[name as never];
    if (v !== undefined) fields.push([code, new Variant(type, v)]);
  }
  const w = new Writer();
  w.write("yyyyuua(yv)", [
    "l".charCodeAt(0),
    TYPE_CODES[m.type],
    m.flags ?? 0,
    1,
    body.length,
    m.serial,
    fields,
  ]);
  w.align(8);
  w.raw(body.bytes());
  return w.bytes();
}

/** Total length of the message starting at `buf[0]`, once its first 16 bytes are there. */
export function messageLength(buf: Uint8Array): number | undefined {
  if (buf.length < 16) return undefined;
  if (buf[0] !== 0x6c) fail("only little-endian messages are supported");
  const v = new DataView(buf.buffer, buf.byteOffset, 16);
  const bodyLen = v.getUint32(4, true);
  const fieldsLen = v.getUint32(12, true);
  const headerEnd = 16 + fieldsLen;
  return headerEnd + ((8 - (headerEnd % 8)) % 8) + bodyLen;
}

export function decodeMessage(buf: Uint8Array): Message {
  const r = new Reader(buf);
  const [endian, type, flags, version, bodyLen, serial, fields] = r.read("yyyyuua(yv)") as [
    number,
    number,
    number,
    number,
    number,
    number,
    [number, Variant][],
  ];
  if (endian !== 0x6c) fail("only little-endian messages are supported");
  if (version !== 1) fail(`protocol version ${version}`);
  const kind = (Object.entries(TYPE_CODES).find(([, c]) => c === type)?.[0]) as
    | MessageType
    | undefined;
  if (!kind) fail(`unknown message type ${type}`);
  const m: Message = { type: kind, flags, serial };
  for (const [code, v] of fields) {
    const entry = Object.entries(HEADER_FIELDS).find(([, [c]]) => c === code);
    if (entry) (m as unknown as Record<string, unknown>)[entry[0]] = v.value;
  }
  r.align(8);
  const bodyStart = r.offset;
  if (bodyStart + bodyLen > buf.length) fail("message body truncated");
  if (m.signature) {
    const br = new Reader(buf.subarray(0, bodyStart + bodyLen), bodyStart, bodyStart);
    m.body = br.read(m.signature);
    if (br.offset !== bodyStart + bodyLen) fail("message body longer than its signature");
  } else m.body = [];
  return m;
}

/** `unix:path=/x` (first unix:path entry of a ';'-separated address list). */
export function socketPathOfAddress(address: string): string {
  for (const entry of address.split(";")) {
    if (!entry.startsWith("unix:")) continue;
    for (const kv of entry.slice(5).split(",")) {
      const eq = kv.indexOf("=");
      if (kv.slice(0, eq) === "path") return unescapeAddress(kv.slice(eq + 1));
    }
  }
  throw new RuntsError(
    `dbus: unsupported bus address ${JSON.stringify(address)} (only unix:path=... is supported)`,
  );
}

function unescapeAddress(s: string): string {
  return s.replace(/%([0-9a-fA-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
}

export const DEFAULT_SYSTEM_BUS_SOCKET = "/run/dbus/system_bus_socket";

/** The system bus socket path: `DBUS_SYSTEM_BUS_ADDRESS` or the default. */
export function systemBusSocketPath(): string {
  const addr = Deno.env.get("DBUS_SYSTEM_BUS_ADDRESS");
  return addr ? socketPathOfAddress(addr) : DEFAULT_SYSTEM_BUS_SOCKET;
}

/** The SASL line `AUTH EXTERNAL <hex of the decimal uid>`. */
export function authExternalLine(uid: number): string {
  const hex = [...String(uid)].map((c) => c.charCodeAt(0).toString(16)).join("");
  return `AUTH EXTERNAL ${hex}\r\n`;
}

/** A D-Bus error reply as an exception: `name` is e.g. org.freedesktop.systemd1.NoSuchUnit. */
export class DBusError extends RuntsError {
  constructor(readonly dbusName: string, readonly dbusMessage: string, call: string) {
    super(`dbus: ${call}: ${dbusName}${dbusMessage ? `: ${dbusMessage}` : ""}`);
    this.name = "DBusError";
  }
}

const DEFAULT_TIMEOUT_MS = 30_000;

/** One connection to a bus; every call blocks this thread (FFI read/write/ppoll). */
export class DBusConnection {
  private serial = 0;
  private inbox = new Uint8Array(0);
  private readonly queued: Message[] = [];
  /** Our unique bus name (":1.42"), from Hello. */
  uniqueName = "";
  private closed = false;

  private constructor(private readonly fd: number, readonly socketPath: string) {}

  /** Connect, authenticate (EXTERNAL) and say Hello. */
  static connect(socketPath: string, timeoutMs = DEFAULT_TIMEOUT_MS): DBusConnection {
    let fd: number;
    try {
      fd = connectUnix(socketPath);
    } catch (e) {
      throw new RuntsError(
        `dbus: cannot connect to the system bus at ${socketPath}: ${(e as Error).message}`,
        { cause: e },
      );
    }
    const c = new DBusConnection(fd, socketPath);
    try {
      c.authenticate(timeoutMs);
      const [name] = c.call({
        destination: "org.freedesktop.DBus",
        path: "/org/freedesktop/DBus",
        interface: "org.freedesktop.DBus",
        member: "Hello",
      }, timeoutMs);
      c.uniqueName = String(name);
    } catch (e) {
      c.close();
      throw e;
    }
    return c;
  }

  private authenticate(timeoutMs: number): void {
    this.send(new Uint8Array([0]));
    this.send(enc.encode(authExternalLine(Deno.uid() ?? 0)));
    const line = this.readLine(timeoutMs);
    if (!line.startsWith("OK ")) {
      throw new RuntsError(`dbus: ${this.socketPath}: EXTERNAL authentication refused: ${line}`);
    }
    this.send(enc.encode("BEGIN\r\n"));
  }

  private readLine(timeoutMs: number): string {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const nl = this.inbox.indexOf(0x0a);
      if (nl >= 0) {
        const line = new TextDecoder().decode(this.inbox.subarray(0, nl)).replace(/\r$/, "");
        this.inbox = this.inbox.slice(nl + 1);
        return line;
      }
      this.fill(deadline, "the authentication reply");
    }
  }

  private send(data: Uint8Array): void {
    let off = 0;
    while (off < data.length) off += write(this.fd, data.subarray(off));
  }

  /** Read more bytes into the inbox, waiting until `deadline`. */
  private fill(deadline: number, what: string): void {
    const left = deadline - performance.now();
    if (left <= 0 || !pollIn(this.fd, Math.ceil(left))) {
      throw new RuntsError(`dbus: ${this.socketPath}: timed out waiting for ${what}`);
    }
    const chunk = new Uint8Array(65536);
    const n = readFd(this.fd, chunk);
    if (n === 0) throw new RuntsError(`dbus: ${this.socketPath}: the bus closed the connection`);
    if (n < 0) return;
    const next = new Uint8Array(this.inbox.length + n);
    next.set(this.inbox);
    next.set(chunk.subarray(0, n), this.inbox.length);
    this.inbox = next;
  }

  private readMessage(deadline: number, what: string): Message {
    for (;;) {
      const len = messageLength(this.inbox);
      if (len !== undefined && this.inbox.length >= len) {
        const m = decodeMessage(this.inbox.subarray(0, len));
        this.inbox = this.inbox.slice(len);
        return m;
      }
      this.fill(deadline, what);
    }
  }

  /** Call a method and return the reply's body; an error reply throws DBusError. */
  call(
    m: Omit<Message, "type" | "serial">,
    timeoutMs = DEFAULT_TIMEOUT_MS,
  ): unknown[] {
    const serial = ++this.serial;
    this.send(encodeMessage({ ...m, type: "method_call", serial }));
    const what = `the reply to ${m.interface}.${m.member}`;
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const r = this.readMessage(deadline, what);
      if (r.replySerial === serial && r.type === "method_return") return r.body ?? [];
      if (r.replySerial === serial && r.type === "error") {
        const text = typeof r.body?.[0] === "string" ? r.body[0] : "";
        throw new DBusError(r.errorName ?? "(no error name)", text, `${m.interface}.${m.member}`);
      }
      if (r.type === "signal") this.queued.push(r);
    }
  }

  /** org.freedesktop.DBus.AddMatch(rule). */
  addMatch(rule: string): void {
    this.call({
      destination: "org.freedesktop.DBus",
      path: "/org/freedesktop/DBus",
      interface: "org.freedesktop.DBus",
      member: "AddMatch",
      signature: "s",
      body: [rule],
    });
  }

  /** The first signal (queued or new) for which `match` is true; others stay queued. */
  waitForSignal(match: (m: Message) => boolean, timeoutMs: number, what: string): Message {
    const i = this.queued.findIndex(match);
    if (i >= 0) return this.queued.splice(i, 1)[0];
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const m = this.readMessage(deadline, what);
      if (m.type !== "signal") continue;
      if (match(m)) return m;
      this.queued.push(m);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    close(this.fd);
  }
}
