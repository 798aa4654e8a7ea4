/** Go's time.ParseDuration, for runc-compatible flags like `--interval 5s`. */
import { RuntsError } from "../errors.ts";

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  "μs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** "1h30m", "500ms", "2.5s", "-1s", "0" → milliseconds; throws naming the flag. */
export function parseGoDuration(text: string, flag: string): number {
  const bad = () =>
    new RuntsError(`invalid value "${text}" for flag --${flag}: time: invalid duration`);
  let s = text;
  let sign = 1;
  if (s.startsWith("-") || s.startsWith("+")) {
    if (s[0] === "-") sign = -1;
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s === "") throw bad();
  let total = 0;
  const re = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;
  while (s !== "") {
    const m = re.exec(s);
    if (!m) throw bad();
    total += Number(m[1]) * UNIT_MS[m[2]];
    s = s.slice(m[0].length);
  }
  return sign * total;
}
