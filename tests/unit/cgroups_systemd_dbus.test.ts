/**
 * D-Bus wire format, byte-exact against encodings derived by hand from the D-Bus spec
 * (little endian; offsets and padding worked out in the comments).
 */
import { assert, assertEquals, assertThrows } from "./assert.ts";
import {
  authExternalLine,
  decodeMessage,
  encodeMessage,
  messageLength,
  Reader,
  socketPathOfAddress,
  splitSignature,
  Variant,
  Writer,
} from "../../src/cgroups/dbus.ts";
import { RuntsError } from "../../src/errors.ts";

/** Bytes from hex groups and quoted ASCII: hex("6c 01", "'abc'"). */
function bytes(...parts: string[]): Uint8Array {
  const out: number[] = [];
  for (const token of parts.join(" ").match(/'[^']*'|[0-9a-fA-F]{2}/g) ?? []) {
    if (token.startsWith("'")) { for (const c of token.slice(1, -1)) out.push(c.charCodeAt(0)); }
    else out.push(parseInt(token, 16));
  }
  return new Uint8Array(out);
}

function marshal(sig: string, values: unknown[]): Uint8Array {
  const w = new Writer();
  w.write(sig, values);
  return w.bytes();
}

// org.freedesktop.DBus.Hello, serial 1: the 128-byte message every client sends first.
const HELLO = bytes(
  "6c 01 00 01", // 'l', METHOD_CALL, flags 0, version 1
  "00 00 00 00", // body length 0
  "01 00 00 00", // serial 1
  "6d 00 00 00", // header field array: 109 bytes (offset 16 .. 125)
  "01 01 'o' 00", // @16 PATH, signature "o"
  "15 00 00 00 '/org/freedesktop/DBus' 00", // @20 length 21, @46 end
  "00 00", // pad to 48
  "02 01 's' 00", // @48 INTERFACE
  "14 00 00 00 'org.freedesktop.DBus' 00", // @52 length 20, @77 end
  "00 00 00", // pad to 80
  "03 01 's' 00", // @80 MEMBER
  "05 00 00 00 'Hello' 00", // @84, @94 end
  "00 00", // pad to 96
  "06 01 's' 00", // @96 DESTINATION
  "14 00 00 00 'org.freedesktop.DBus' 00", // @100, @125 end
  "00 00 00", // header padded to 128; no body
);

Deno.test("dbus: Hello method call is encoded byte for byte", () => {
  assertEquals(HELLO.length, 128);
  const m = encodeMessage({
    type: "method_call",
    serial: 1,
    destination: "org.freedesktop.DBus",
    path: "/org/freedesktop/DBus",
    interface: "org.freedesktop.DBus",
    member: "Hello",
  });
  assertEquals([...m], [...HELLO]);
  assertEquals(messageLength(HELLO), 128);
  assertEquals(messageLength(HELLO.subarray(0, 15)), undefined);
});

Deno.test("dbus: Hello decodes back to its fields", () => {
  const m = decodeMessage(HELLO);
  assertEquals(m.type, "method_call");
  assertEquals(m.serial, 1);
  assertEquals(m.path, "/org/freedesktop/DBus");
  assertEquals(m.interface, "org.freedesktop.DBus");
  assertEquals(m.member, "Hello");
  assertEquals(m.destination, "org.freedesktop.DBus");
  assertEquals(m.body, []);
});

Deno.test("dbus: basic types, alignment from the buffer start", () => {
  // y @0, pad 1, q @2, i @4, pad 0, x @8, b @16, d @24 (pad 4 before it)
  assertEquals(
    [...marshal("yqixbd", [0xff, 0x1234, -2, -1n, true, 1.0])],
    [
      ...bytes(
        "ff 00 34 12",
        "fe ff ff ff",
        "ff ff ff ff ff ff ff ff",
        "01 00 00 00",
        "00 00 00 00",
        "00 00 00 00 00 00 f0 3f",
      ),
    ],
  );
  // t accepts numbers; s: length, bytes, NUL; g: one-byte length
  assertEquals(
    [...marshal("tsg", [2 ** 40, "hé", "a{sv}"])],
    [
      ...bytes(
        "00 00 00 00 00 01 00 00",
        "03 00 00 00 'h' c3 a9 00",
        "05 'a{sv}' 00",
      ),
    ],
  );
});

Deno.test("dbus: array of struct: length excludes the padding before the first element", () => {
  // y @0; array length @4; elements 8-aligned @8: s "A" @8..13, v: g "b" @14..16, b @20..23;
  // length 24 - 8 = 16; t @24
  const expected = bytes(
    "01 00 00 00",
    "10 00 00 00",
    "01 00 00 00 'A' 00 01 'b'",
    "00 00 00 00",
    "01 00 00 00",
    "05 00 00 00 00 00 00 00",
  );
  const got = marshal("ya(sv)t", [1, [["A", new Variant("b", true)]], 5n]);
  assertEquals([...got], [...expected]);
  assertEquals(new Reader(got).read("ya(sv)t"), [1, [["A", new Variant("b", true)]], 5n]);
  // An empty array of 8-aligned elements still pads to 8; its length is 0.
  assertEquals([...marshal("a(sv)", [[]])], [...bytes("00 00 00 00 00 00 00 00")]);
  // a{sv} and au
  assertEquals(
    [...marshal("a{su}au", [[["k", 7]], [1, 2]])],
    [...bytes(
      "0c 00 00 00 00 00 00 00",
      "01 00 00 00 'k' 00 00 00",
      "07 00 00 00",
      "08 00 00 00 01 00 00 00 02 00 00 00",
    )],
  );
});

Deno.test("dbus: StartTransientUnit call body and header", () => {
  const m = encodeMessage({
    type: "method_call",
    serial: 2,
    destination: "org.freedesktop.systemd1",
    path: "/org/freedesktop/systemd1",
    interface: "org.freedesktop.systemd1.Manager",
    member: "StartTransientUnit",
    signature: "ssa(sv)a(sa(sv))",
    body: ["u.scope", "replace", [["PIDs", new Variant("au", [42])]], []],
  });
  // body: s "u.scope" @0..11, s "replace" @12..23, a(sv) length @24, elements 8-aligned @32:
  // s "PIDs" @32..40, v: g "au" @41..44, pad, au length @48, 42 @52 → a(sv) length 56-32 = 24;
  // a(sa(sv)) length @56, padded to 64, empty.
  const body = bytes(
    "07 00 00 00 'u.scope' 00",
    "07 00 00 00 'replace' 00",
    "18 00 00 00 00 00 00 00",
    "04 00 00 00 'PIDs' 00",
    "02 'au' 00 00 00 00",
    "04 00 00 00 2a 00 00 00",
    "00 00 00 00 00 00 00 00",
  );
  assertEquals(body.length, 64);
  assertEquals([...m.subarray(m.length - body.length)], [...body]);
  assertEquals(new DataView(m.buffer).getUint32(4, true), body.length);
  const back = decodeMessage(m);
  assertEquals(back.signature, "ssa(sv)a(sa(sv))");
  assertEquals(back.body, ["u.scope", "replace", [["PIDs", new Variant("au", [42])]], []]);
});

Deno.test("dbus: error and signal messages round-trip (REPLY_SERIAL, ERROR_NAME, SENDER)", () => {
  const err = decodeMessage(encodeMessage({
    type: "error",
    serial: 9,
    replySerial: 3,
    errorName: "org.freedesktop.systemd1.NoSuchUnit",
    sender: ":1.0",
    signature: "s",
    body: ["Unit x.scope not loaded."],
  }));
  assertEquals(err.type, "error");
  assertEquals(err.replySerial, 3);
  assertEquals(err.errorName, "org.freedesktop.systemd1.NoSuchUnit");
  assertEquals(err.sender, ":1.0");
  assertEquals(err.body, ["Unit x.scope not loaded."]);
  const sig = decodeMessage(encodeMessage({
    type: "signal",
    serial: 10,
    path: "/org/freedesktop/systemd1",
    interface: "org.freedesktop.systemd1.Manager",
    member: "JobRemoved",
    signature: "uoss",
    body: [7, "/org/freedesktop/systemd1/job/7", "u.scope", "done"],
  }));
  assertEquals(sig.type, "signal");
  assertEquals(sig.body, [7, "/org/freedesktop/systemd1/job/7", "u.scope", "done"]);
});

Deno.test("dbus: malformed input is refused", () => {
  assertThrows(() => splitSignature("a{sv"), RuntsError, "unbalanced");
  assertThrows(() => splitSignature("()"), RuntsError, "empty container");
  assertThrows(() => splitSignature("z"), RuntsError, "unknown type");
  assertThrows(() => marshal("s", [1]), RuntsError, "expected a string");
  assertThrows(() => marshal("ss", ["a"]), RuntsError, "2 types, got 1");
  assertThrows(() => new Reader(bytes("05 00 00 00 'ab'")).read("s"), RuntsError, "truncated");
  assertThrows(() => new Reader(bytes("02 00 00 00")).read("b"), RuntsError, "invalid boolean");
  const big = HELLO.slice();
  big[0] = 0x42; // 'B'
  assertThrows(() => decodeMessage(big), RuntsError, "little-endian");
});

Deno.test("dbus: signatures split into complete types", () => {
  assertEquals(splitSignature("ssa(sv)a(sa(sv))"), ["s", "s", "a(sv)", "a(sa(sv))"]);
  assertEquals(splitSignature("a{sv}uv"), ["a{sv}", "u", "v"]);
  assertEquals(splitSignature(""), []);
});

Deno.test("dbus: SASL EXTERNAL line and bus addresses", () => {
  assertEquals(authExternalLine(0), "AUTH EXTERNAL 30\r\n");
  assertEquals(authExternalLine(1000), "AUTH EXTERNAL 31303030\r\n");
  assertEquals(
    socketPathOfAddress("unix:path=/run/dbus/system_bus_socket"),
    "/run/dbus/system_bus_socket",
  );
  assertEquals(socketPathOfAddress("tcp:host=x;unix:guid=1,path=/tmp/a%20b"), "/tmp/a b");
  assertThrows(
    () => socketPathOfAddress("unix:abstract=/x"),
    RuntsError,
    "unsupported bus address",
  );
  assert(true);
});
