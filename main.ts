import { mark } from "./src/trace.ts";
import { runMain } from "./src/cli/main.ts";

mark("main: modules loaded");
const code = await runMain(Deno.args);
mark("main: exit");
Deno.exit(code);
