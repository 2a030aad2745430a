// Compiles only the binary, to the path given (default dist/agent-receipts):
// `bun scripts/compile-to.ts /tmp/mine/agent-receipts`, then run tests with
// AR_TEST_BINARY=/tmp/mine/agent-receipts.
import { join } from "node:path";
import { compile } from "./release/compile.ts";

const ROOT = join(import.meta.dir, "..");
await compile(ROOT, process.argv[2] ?? join(ROOT, "dist", "agent-receipts"));
