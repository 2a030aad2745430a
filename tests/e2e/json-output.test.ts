// Issue 13, item 15: every --json output uses snake_case keys, the protocol's
// style, so that scripts can rely on one convention (README "JSON output").
// Each command runs as the compiled binary; every key at every depth is checked.
import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeChainDb } from "../helpers/fixtures.ts";
import { chainFixture, cli, removeTempDirs, scratchDir, sql } from "../helpers/verify-run.ts";
import { generateKeyPair } from "../../src/receipt/keys.ts";

afterAll(removeTempDirs);

const SNAKE = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;

/** Every key of a JSON value that is not snake_case, with its path. */
function badKeys(value: unknown, path = "$"): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => badKeys(v, `${path}[${i}]`));
  if (typeof value !== "object" || value === null) return [];
  return Object.entries(value).flatMap(([k, v]) => [...(SNAKE.test(k) ? [] : [`${path}.${k}`]), ...badKeys(v, `${path}.${k}`)]);
}

function jsonOf(args: string[], expectedCode: number): unknown {
  const r = cli(args);
  expect({ args, code: r.code, stderr: expectedCode === 0 ? r.stderr : "" }).toEqual({ args, code: expectedCode, stderr: "" });
  return JSON.parse(r.stdout);
}

describe("every --json output has snake_case keys only", () => {
  test("verify --json: valid, broken, wrong key, retries", () => {
    const f = chainFixture(4, { chainId: "ok", terminate: true, frames: (i) => ({ v: "1", ts_emit: new Date().toISOString(), session_id: "s", channel: "sdk", tool: { name: "t" }, decision: "allowed", idempotency_key: `k${i % 2}` }) });
    makeChainDb(f.db, f.keys.privateKeyPem, 3, { chainId: "bad" });
    const valid = jsonOf(["verify", "--db", f.db, "--public-key", f.keys.publicKey, "--chain", "ok", "--json"], 0) as { retries: { count: number } };
    expect(valid.retries.count).toBe(2);
    expect(badKeys(valid)).toEqual([]);
    sql(f.db, "UPDATE receipts SET tool_name = 'x' WHERE chain_id = 'bad' AND sequence = 2");
    const broken = jsonOf(["verify", "--db", f.db, "--public-key", f.keys.publicKey, "--json"], 1) as { chains: Array<{ break?: unknown }> };
    expect(broken.chains[1]!.break).toBeDefined();
    expect(badKeys(broken)).toEqual([]);
    const other = join(f.dir, "other.pub");
    writeFileSync(other, generateKeyPair().publicKeyPem);
    const wrongKey = JSON.parse(cli(["verify", "--db", f.db, "--public-key", other, "--json"]).stdout) as { key_mismatch: boolean };
    expect(wrongKey.key_mismatch).toBe(true);
    expect(badKeys(wrongKey)).toEqual([]);
  });

  test("keys init --json and keys show --json", () => {
    const dir = scratchDir("ar-e2e-json-");
    const key = join(dir, "k", "signing.key");
    expect(badKeys(jsonOf(["keys", "init", "--key", key, "--json"], 0))).toEqual([]);
    const shown = jsonOf(["keys", "show", "--key", key, "--json"], 0) as { public_key: string };
    expect(shown.public_key).toBe(`${key}.pub`);
    expect(badKeys(shown)).toEqual([]);
  });

  test.each([
    [["install", "--system", "--platform", "linux", "--binary", "/usr/local/bin/agent-receipts"]],
    [["install", "--user", "--platform", "linux", "--binary", "/usr/local/bin/agent-receipts"]],
    [["install", "--system", "--platform", "darwin", "--binary", "/usr/local/bin/agent-receipts"]],
    [["install", "--user", "--platform", "darwin", "--binary", "/usr/local/bin/agent-receipts"]],
    [["uninstall", "--system", "--platform", "linux"]],
    [["uninstall", "--user", "--platform", "darwin"]],
  ])("service %p --dry-run --json", (args) => {
    const plan = jsonOf(["service", ...args, "--dry-run", "--json"], 0) as { steps: Array<Record<string, unknown>> };
    expect(plan.steps.length).toBeGreaterThan(0);
    expect(badKeys(plan)).toEqual([]);
  });

  test("the plan says which files are kept and which commands may fail, in snake_case", () => {
    const plan = jsonOf(["service", "install", "--system", "--platform", "linux", "--binary", "/usr/local/bin/agent-receipts", "--dry-run", "--json"], 0) as {
      steps: Array<{ kind: string; keep_existing?: boolean; may_fail?: boolean }>;
    };
    expect(plan.steps.some((s) => s.kind === "write" && s.keep_existing === true)).toBe(true);
    const uninstall = jsonOf(["service", "uninstall", "--system", "--platform", "linux", "--dry-run", "--json"], 0) as typeof plan;
    expect(uninstall.steps.some((s) => s.kind === "run" && s.may_fail === true)).toBe(true);
  });

  test("emit --json (no daemon: the event's line says not_delivered)", () => {
    const socket = join(scratchDir("ar-e2e-json-"), "none.sock");
    const r = cli(["emit", "--tool", "t", "--socket", socket, "--best-effort", "--json"]);
    expect(r.code).toBe(0);
    const line = JSON.parse(r.stdout) as { status: string };
    expect(line.status).toBe("not_delivered");
    expect(badKeys(line)).toEqual([]);
  });

  test("service status --json (the manager may be absent here: exit 3, the JSON is printed all the same)", () => {
    const r = cli(["service", "status", "--user", "--json"]);
    expect([0, 3]).toContain(r.code);
    const status = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(status)).toEqual(expect.arrayContaining(["socket_state", "paths_from", "running"]));
    expect(badKeys(status)).toEqual([]);
  });
});
