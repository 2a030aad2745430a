// The progress line of `verify` appears on a terminal only, for long chains.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { BINARY, makeChainDb, tempDir, writeKeyFiles } from "../helpers/fixtures.ts";

const dir = tempDir("ar-progress-");
const keys = writeKeyFiles(dir);
const db = join(dir, "long.db");
makeChainDb(db, keys.privateKeyPem, 6000, { chainId: "long", terminate: true });
const command = `${BINARY} verify --db ${db} --public-key ${keys.publicKey}`;

test.skipIf(!Bun.which("script"))("on a terminal, a chain of 6,001 receipts shows a progress line on stderr", () => {
  // script(1) gives the command a pseudo-terminal, as an interactive shell would.
  const r = Bun.spawnSync(["script", "-qec", `${command} >/dev/null`, "/dev/null"]);
  const screen = r.stdout.toString();
  expect(r.exitCode).toBe(0);
  expect(screen).toMatch(/verifying long: \d+ \/ 6001 receipts \(\d+\/s\)/);
  expect(screen).toContain("verifying long: 6001 / 6001 receipts");
});

test("without a terminal there is no progress output", () => {
  const r = Bun.spawnSync(["sh", "-c", command]);
  expect(r.exitCode).toBe(0);
  expect(r.stderr.toString()).toBe("");
  expect(r.stdout.toString()).toContain("VALID   chain long  6001 receipts  status: interrupted");
});
