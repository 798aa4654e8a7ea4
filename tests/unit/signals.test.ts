import { assertEquals, assertThrows } from "./assert.ts";
import { parseSignal, SIGNALS } from "../../src/container/signals.ts";
import { RuntsError } from "../../src/errors.ts";

Deno.test("parseSignal: names with and without SIG, any case", () => {
  assertEquals(parseSignal("KILL"), 9);
  assertEquals(parseSignal("SIGKILL"), 9);
  assertEquals(parseSignal("sigterm"), 15);
  assertEquals(parseSignal("term"), 15);
  assertEquals(parseSignal("Hup"), 1);
  assertEquals(parseSignal("USR1"), 10);
  assertEquals(parseSignal("SIGUSR2"), 12);
  assertEquals(parseSignal("CHLD"), 17);
  assertEquals(parseSignal("WINCH"), 28);
  assertEquals(parseSignal("SYS"), 31);
  assertEquals(parseSignal("IOT"), 6, "alias of ABRT");
  assertEquals(parseSignal("POLL"), 29, "alias of IO");
});

Deno.test("parseSignal: the table has every standard signal 1-31", () => {
  const numbers = new Set(Object.values(SIGNALS));
  for (let n = 1; n <= 31; n++) assertEquals(numbers.has(n), true, `signal ${n}`);
  assertEquals(Object.keys(SIGNALS).every((k) => k.startsWith("SIG")), true);
});

Deno.test("parseSignal: numbers 1-64", () => {
  assertEquals(parseSignal("9"), 9);
  assertEquals(parseSignal("1"), 1);
  assertEquals(parseSignal("64"), 64);
  assertEquals(parseSignal("015"), 15);
  assertThrows(() => parseSignal("0"), RuntsError, "invalid signal number 0");
  assertThrows(() => parseSignal("65"), RuntsError, "invalid signal number 65");
  assertThrows(() => parseSignal("99999999999999999999"), RuntsError, "invalid signal number");
});

Deno.test("parseSignal: real-time signals RTMIN+n and RTMAX-n", () => {
  assertEquals(parseSignal("RTMIN"), 34);
  assertEquals(parseSignal("SIGRTMIN"), 34);
  assertEquals(parseSignal("rtmin+0"), 34);
  assertEquals(parseSignal("RTMIN+1"), 35);
  assertEquals(parseSignal("SIGRTMIN+15"), 49);
  assertEquals(parseSignal("RTMIN+30"), 64);
  assertEquals(parseSignal("RTMAX"), 64);
  assertEquals(parseSignal("SIGRTMAX-1"), 63);
  assertEquals(parseSignal("rtmax-30"), 34);
  assertThrows(() => parseSignal("RTMIN+31"), RuntsError, 'invalid signal "RTMIN+31"');
  assertThrows(() => parseSignal("RTMAX-31"), RuntsError, 'invalid signal "RTMAX-31"');
  assertThrows(() => parseSignal("RTMIN-1"), RuntsError, 'unknown signal "RTMIN-1"');
  assertThrows(() => parseSignal("RTMAX+1"), RuntsError, 'unknown signal "RTMAX+1"');
  assertThrows(() => parseSignal("RTMIN+"), RuntsError, "unknown signal");
});

Deno.test("parseSignal: invalid input", () => {
  for (const bad of ["", "FOO", "SIG", "SIGSIGKILL", "-9", "+9", " 9", "9 ", "KILL ", "1.5"]) {
    assertThrows(() => parseSignal(bad), RuntsError, `unknown signal "${bad}"`);
  }
});
