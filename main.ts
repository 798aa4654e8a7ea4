import { runMain } from "./src/cli/main.ts";

Deno.exit(await runMain(Deno.args));
