// The binary runs in directories it does not control (an agent's project, a
// hook's cwd): a bunfig.toml there must not preload code into it, and a .env
// there must not redirect it to another socket.
import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BINARY, tempDir } from "../helpers/fixtures.ts";

test("bunfig.toml, .env, package.json and tsconfig.json in the working directory are ignored", () => {
  const cwd = tempDir("ar-untrusted-cwd-");
  writeFileSync(join(cwd, "evil.ts"), 'console.error("PRELOADED"); process.exit(9);\n');
  writeFileSync(join(cwd, "bunfig.toml"), 'preload = ["./evil.ts"]\n');
  writeFileSync(join(cwd, ".env"), `AGENTRECEIPTS_SOCKET=${join(cwd, "redirect.sock")}\n`);
  writeFileSync(join(cwd, "package.json"), '{"type":"commonjs","imports":{"#x":"./evil.ts"}}\n');
  writeFileSync(join(cwd, "tsconfig.json"), '{"compilerOptions":{"paths":{"*":["./evil.ts"]}}}\n');
  const env = { PATH: process.env.PATH ?? "", HOME: cwd, XDG_DATA_HOME: join(cwd, "data"), XDG_RUNTIME_DIR: join(cwd, "run") };
  for (const args of [["--version"], ["emit", "--tool", "x", "--timeout-ms", "50"], ["hook", "claude-code"]]) {
    const r = spawnSync(BINARY, args, { cwd, env, encoding: "utf8", input: "{}" });
    expect({ args, preloaded: r.stderr.includes("PRELOADED"), code: r.status === 9 }).toEqual({ args, preloaded: false, code: false });
    expect(r.stderr).not.toContain("redirect.sock");
  }
  const emit = spawnSync(BINARY, ["emit", "--tool", "x", "--timeout-ms", "50"], { cwd, env, encoding: "utf8" });
  expect(emit.status).toBe(1);
  expect(emit.stderr).toContain(join(cwd, "run", "agentreceipts", "events.sock"));
});
