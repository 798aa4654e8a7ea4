/** `runts features`: what this runtime supports, as the runtime-spec Features JSON. */
import type { Command } from "../command.ts";

export const featuresCommand: Command = {
  name: "features",
  summary: "show the enabled features",
  usage: "",
  description: "Show the enabled features.\n   The result is parsable as a JSON.",
  flags: [],
  positionals: { min: 0, max: 0, names: [] },
  async run() {
    const { features } = await import("../../container/features.ts");
    console.log(JSON.stringify(features(), null, "    "));
    return 0;
  },
};
