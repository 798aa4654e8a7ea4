/**
 * RUNTS_TRACE=1 prints how long each start-up phase took (ms since process start),
 * for the measurements in docs/design.md. Off: one env lookup, nothing else.
 */
const enabled = (() => {
  try {
    return Deno.env.get("RUNTS_TRACE") === "1";
  } catch {
    return false;
  }
})();

export function mark(label: string): void {
  if (enabled) console.error(`runts-trace ${performance.now().toFixed(2)} ${label}`);
}
