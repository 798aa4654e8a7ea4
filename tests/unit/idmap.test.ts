import { assertEquals, assertThrows } from "./assert.ts";
import { formatIdMap, hostIdOf, writeIdMaps } from "../../src/process/idmap.ts";
import { RuntsError } from "../../src/errors.ts";

Deno.test("formatIdMap: one 'container host size' line per mapping", () => {
  assertEquals(formatIdMap(), "");
  assertEquals(formatIdMap([]), "");
  assertEquals(formatIdMap([{ containerID: 0, hostID: 1000, size: 1 }]), "0 1000 1\n");
  assertEquals(
    formatIdMap([
      { containerID: 0, hostID: 100000, size: 1000 },
      { containerID: 1000, hostID: 1000, size: 1 },
      { containerID: 1001, hostID: 101001, size: 4294966294 },
    ]),
    "0 100000 1000\n1000 1000 1\n1001 101001 4294966294\n",
  );
});

Deno.test("writeIdMaps: a missing process is an error naming the file and content", () => {
  // pid_max is at most 2^22: this pid can't exist.
  const file = Deno.uid() === 0 ? "uid_map" : "setgroups";
  const content = Deno.uid() === 0 ? '"0 0 1"' : '"deny"';
  assertThrows(
    () => writeIdMaps(99999999, [{ containerID: 0, hostID: 0, size: 1 }], []),
    RuntsError,
    `write ${file} of the container user namespace (${content})`,
  );
});

Deno.test("hostIdOf: mapped ids, ids outside every range, no mappings", () => {
  const maps = [
    { containerID: 0, hostID: 100000, size: 1000 },
    { containerID: 1000, hostID: 5000, size: 1 },
  ];
  assertEquals(hostIdOf(0, maps), 100000);
  assertEquals(hostIdOf(999, maps), 100999);
  assertEquals(hostIdOf(1000, maps), 5000);
  assertEquals(hostIdOf(2000, maps), 2000);
  assertEquals(hostIdOf(0), 0);
});
