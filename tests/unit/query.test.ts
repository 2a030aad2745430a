// The read-only query layer (src/query): every selection it plans — led by
// the chain index, a filter's index, or a time window's rowid range — must
// return exactly what a plain scan of every row returns. Checked on a real
// SQLite file with the daemon's schema and indexes, rows whose clock steps
// back, tampered rows, and enough rows to take every path of the planner.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { agentChainSql, isAgentChain } from "../../src/query/chains.ts";
import { riskAtLeast, type ReceiptFilter } from "../../src/query/filter.ts";
import { ReceiptReader } from "../../src/query/reader.ts";
import { parseTime } from "../../src/read-cli/time.ts";
import { cut, layout, line, type Column } from "../../src/read-cli/table.ts";
import { READER_INDEXES_SQL, SCHEMA_SQL } from "../../src/store/schema.ts";
import { tempDir } from "../helpers/fixtures.ts";

const ROWS = 30_000;
const T0 = Date.parse("2026-11-01T00:00:00.000Z");
const CHAINS = ["c1", "c1-2", "c1/agent/a", "c1/agent/a-2", "c1/agent/ab", "x/agent/a", "c1/agent/a-2x"];
const TOOLS = ["Read", "Bash", "mcp__gh__issue", "mcp__fs__read", "read_file", "a*b", "rare"];
const CHANNELS = ["sdk", "claude-code", "mcp"];
const RISKS = ["low", "medium", "high", "critical"];
const STATUSES = ["success", "failure", "pending"];
const EXES = ["/usr/bin/node", "/usr/local/bin/claude", "/opt/x/node", "/usr/bin/python3"];

interface Synthetic {
  rowid: number;
  chainId: string;
  sequence: number;
  timestamp: string;
  tool: string;
  actionType: string;
  risk: string;
  status: string;
  session?: string;
  uid?: number;
  exe?: string;
}

/** A small deterministic generator, so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

let dir: string;
let db: string;
const rows: Synthetic[] = [];

beforeAll(() => {
  dir = tempDir("ar-query-");
  db = join(dir, "receipts.db");
  const w = new Database(db, { create: true });
  w.run("PRAGMA journal_mode = WAL");
  w.run(SCHEMA_SQL);
  w.run(READER_INDEXES_SQL);
  const insert = w.prepare(
    "INSERT INTO receipts (id, chain_id, sequence, action_type, tool_name, risk_level, status, timestamp, issuer_id, receipt_json, receipt_hash) " +
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'i', ?, 'h')",
  );
  const r = rng(42);
  const seq = new Map<string, number>();
  w.run("BEGIN");
  for (let i = 1; i <= ROWS; i++) {
    const chainId = i < 50 ? "c1" : pick(r, CHAINS);
    const sequence = (seq.get(chainId) ?? 0) + 1;
    seq.set(chainId, sequence);
    // Mostly one receipt a second; now and then the clock stepped back an hour.
    const timestamp = new Date(T0 + i * 1000 - (i % 97 === 0 ? 3_600_000 : 0)).toISOString();
    const tool = i % 5000 === 1 ? "rare" : pick(r, TOOLS.slice(0, 6));
    const explicit = r() < 0.2;
    const actionType = explicit ? "filesystem.file.read" : `${pick(r, CHANNELS)}.${tool}`;
    const s: Synthetic = { rowid: i, chainId, sequence, timestamp, tool, actionType, risk: pick(r, RISKS), status: r() < 0.02 ? "pending" : pick(r, STATUSES.slice(0, 2)) };
    const receipt: Record<string, unknown> = { issuer: {}, credentialSubject: { action: {} } };
    if (r() < 0.9) {
      s.session = `s${Math.floor(r() * 10)}`;
      (receipt.issuer as Record<string, unknown>).session_id = s.session;
    }
    if (r() < 0.9) {
      s.uid = 1000 + Math.floor(r() * 3);
      s.exe = pick(r, EXES);
      (receipt.credentialSubject as { action: Record<string, unknown> }).action.peer_credential = { uid: s.uid, exe_path: s.exe };
    }
    // A tampered row that is not JSON at all: it has no session, uid or exe.
    const json = i % 1013 === 0 ? "not json {" : JSON.stringify(receipt);
    if (i % 1013 === 0) {
      delete s.session;
      delete s.uid;
      delete s.exe;
    }
    insert.run(`urn:receipt:${i}`, chainId, sequence, actionType, tool, s.risk, s.status, timestamp, json);
    rows.push(s);
  }
  w.run("COMMIT");
  // Finalized first: an open statement keeps the connection alive and its -wal/-shm files behind.
  insert.finalize();
  w.close(true);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Shell-style GLOB: *, ? and one-character classes like [*] (the patterns the test generates). */
function glob(pattern: string, text: string): boolean {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*") re += ".*";
    else if (c === "?") re += ".";
    else if (c === "[" && pattern[i + 2] === "]") {
      re += pattern[i + 1]!.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      i += 2;
    } else re += c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`, "s").test(text);
}

function agentOf(chainId: string, agent: string, root?: string): boolean {
  const m = /^(.+)\/agent\/(.+)$/.exec(chainId);
  if (!m || (root !== undefined && m[1] !== root)) return false;
  return m[2] === agent || new RegExp(`^${agent.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}-[0-9]+$`).test(m[2]!);
}

function expected(f: ReceiptFilter, limit: number, oldestFirst: boolean): number[] {
  const out = rows.filter((s) => {
    if (f.agent !== undefined) {
      if (!agentOf(s.chainId, f.agent, f.chain)) return false;
    } else if (f.chain !== undefined && s.chainId !== f.chain) return false;
    if (f.since !== undefined && s.timestamp < f.since.toISOString()) return false;
    if (f.until !== undefined && s.timestamp >= f.until.toISOString()) return false;
    if (f.session !== undefined && s.session !== f.session) return false;
    if (f.channel !== undefined && !s.actionType.startsWith(`${f.channel}.`)) return false;
    if (f.tool !== undefined && !glob(f.tool, s.tool)) return false;
    if (f.type !== undefined && !glob(f.type, s.actionType)) return false;
    if (f.risk !== undefined && !riskAtLeast(f.risk).includes(s.risk as never)) return false;
    if (f.status !== undefined && s.status !== f.status) return false;
    if (f.uid !== undefined && s.uid !== f.uid) return false;
    if (f.exe !== undefined && (s.exe === undefined || !glob(f.exe, f.exe.includes("/") ? s.exe : s.exe.slice(s.exe.lastIndexOf("/") + 1)))) return false;
    return true;
  }).map((s) => s.rowid);
  if (!oldestFirst) out.reverse();
  return out.slice(0, limit);
}

function randomFilter(r: () => number): ReceiptFilter {
  const f: ReceiptFilter = {};
  const at = (x: number) => new Date(T0 + Math.floor(x * ROWS) * 1000);
  if (r() < 0.25) f.chain = pick(r, [...CHAINS, "nope"]);
  if (r() < 0.15) f.agent = pick(r, ["a", "ab", "zz"]);
  if (r() < 0.3) f.since = at(pick(r, [0.001, 0.2, 0.5, 0.9, 0.999, r()]));
  if (r() < 0.3) f.until = at(pick(r, [0.002, 0.3, 0.5, 0.95, 1.1, r()]));
  if (r() < 0.15) f.session = pick(r, ["s1", "s7", "none"]);
  if (r() < 0.15) f.channel = pick(r, CHANNELS);
  if (r() < 0.2) f.tool = pick(r, ["Bash", "mcp__*", "*read*", "rare", "a*b", "a[*]b", "R??d", "zz*"]);
  if (r() < 0.15) f.type = pick(r, ["sdk.*", "filesystem.*", "*.Bash", "mcp.mcp__*"]);
  if (r() < 0.15) f.risk = pick(r, ["low", "medium", "high", "critical"] as const);
  if (r() < 0.15) f.status = pick(r, ["success", "failure", "pending"] as const);
  if (r() < 0.15) f.uid = pick(r, [1000, 1002, 4242]);
  if (r() < 0.15) f.exe = pick(r, ["node", "/usr/*", "py*", "/opt/x/node", "claude"]);
  return f;
}

describe("select: the planned query returns exactly what a scan of every row returns", () => {
  test("300 random filter combinations, newest and oldest first, various limits", () => {
    const reader = new ReceiptReader(db);
    try {
      expect(reader.mode).toBe("snapshot");
      const r = rng(7);
      for (let k = 0; k < 300; k++) {
        const f = randomFilter(r);
        const limit = pick(r, [1, 5, 50, 1000]);
        const oldestFirst = r() < 0.3;
        const got = reader.select(f, { limit, oldestFirst }).map((x) => x.rowid);
        const want = expected(f, limit, oldestFirst);
        if (JSON.stringify(got) !== JSON.stringify(want)) {
          throw new Error(`filter ${JSON.stringify(f)} limit ${limit} oldestFirst ${oldestFirst}: got ${got.slice(0, 8)}... (${got.length}), want ${want.slice(0, 8)}... (${want.length})`);
        }
      }
    } finally {
      reader.close();
    }
  });

  test("each single filter alone", () => {
    const reader = new ReceiptReader(db);
    const singles: ReceiptFilter[] = [
      {}, { chain: "c1-2" }, { agent: "a" }, { chain: "c1", agent: "a" }, { since: new Date(T0 + 29_000_000) }, { until: new Date(T0 + 500_000) },
      { since: new Date(T0 + 15_000_000) }, { until: new Date(T0 + 15_000_000) }, { session: "s3" }, { channel: "claude-code" },
      { tool: "rare" }, { tool: "mcp__*" }, { type: "*.read_file" }, { risk: "high" }, { status: "pending" }, { uid: 1001 }, { exe: "node" },
    ];
    try {
      for (const f of singles) {
        for (const oldestFirst of [false, true]) {
          expect(reader.select(f, { limit: 50, oldestFirst }).map((x) => x.rowid)).toEqual(expected(f, 50, oldestFirst));
        }
      }
    } finally {
      reader.close();
    }
  });

  test("a pattern or chain that matches nothing gives an empty result", () => {
    const reader = new ReceiptReader(db);
    try {
      expect(reader.select({ tool: "zz*" }, { limit: 50 })).toEqual([]);
      expect(reader.select({ chain: "nope" }, { limit: 50 })).toEqual([]);
      expect(reader.select({ since: new Date(T0 + 10 * ROWS * 1000) }, { limit: 50 })).toEqual([]);
    } finally {
      reader.close();
    }
  });

  test("after(): rows past a rowid that match, oldest first", () => {
    const reader = new ReceiptReader(db);
    try {
      const f: ReceiptFilter = { tool: "mcp__*", exe: "node" };
      const got = reader.after(ROWS - 3000, f, 100000).map((x) => x.rowid);
      expect(got).toEqual(expected(f, ROWS, true).filter((id) => id > ROWS - 3000));
    } finally {
      reader.close();
    }
  });

  test("the reader never creates -wal or -shm files (the database has no writer)", () => {
    const before = readdirSync(dir).sort();
    const reader = new ReceiptReader(db);
    reader.select({ tool: "Bash", since: new Date(T0) }, { limit: 10 });
    reader.close();
    expect(readdirSync(dir).sort()).toEqual(before);
    expect(before.filter((n) => n.endsWith("-wal") || n.endsWith("-shm"))).toEqual([]);
  });
});

describe("exportPlan: per chain, the contiguous run from the first receipt inside the window to the last", () => {
  test("every chain's slice starts at its first in-window receipt and ends at its last", () => {
    const reader = new ReceiptReader(db);
    try {
      const since = new Date(T0 + 10_000_000);
      const until = new Date(T0 + 20_000_000);
      const plan = reader.exportPlan({ since, until });
      for (const chainId of CHAINS) {
        const inside = rows.filter((s) => s.chainId === chainId && s.timestamp >= since.toISOString() && s.timestamp < until.toISOString());
        const slice = plan.find((p) => p.chain.chainId === chainId);
        if (inside.length === 0) {
          expect(slice).toBeUndefined();
          continue;
        }
        expect({ from: slice!.from, to: slice!.to }).toEqual({ from: inside[0]!.sequence, to: inside[inside.length - 1]!.sequence });
        const got = [...reader.slice(slice!, {})].map((x) => x.sequence);
        expect(got).toEqual(Array.from({ length: slice!.to - slice!.from + 1 }, (_, k) => slice!.from + k));
      }
    } finally {
      reader.close();
    }
  });
});

describe("sub-agent chains", () => {
  test("the JS and SQL tests agree on which chains belong to an agent", () => {
    const ids = ["r/agent/a", "r/agent/a-2", "r/agent/a-23", "r/agent/a-", "r/agent/a-2x", "r/agent/ab", "r-2/agent/a", "agent/a", "/agent/a", "r/agent/b/agent/a", "r/agent/x-1-2"];
    const conn = new Database(":memory:");
    for (const [agent, root] of [["a", undefined], ["a", "r"], ["a", "r-2"], ["x-1", undefined], ["x", undefined]] as Array<[string, string | undefined]>) {
      const q = agentChainSql(agent, root);
      for (const id of ids) {
        const sql = conn.query<{ m: number }, Array<string>>(`SELECT ${q.sql.replaceAll("chain_id", "?1")} AS m`).get(id, ...(q.params as string[]).map(String));
        expect({ id, agent, root, m: sql?.m === 1 }).toEqual({ id, agent, root, m: isAgentChain(id, agent, root) });
      }
    }
    conn.close();
  });
});

describe("time expressions", () => {
  const now = new Date("2026-11-28T15:30:00.000Z");
  test("relative, RFC 3339 with a zone, local date and time, words", () => {
    expect(parseTime("15m", now)!.toISOString()).toBe("2026-11-28T15:15:00.000Z");
    expect(parseTime("2h", now)!.toISOString()).toBe("2026-11-28T13:30:00.000Z");
    expect(parseTime("3d", now)!.toISOString()).toBe("2026-11-25T15:30:00.000Z");
    expect(parseTime("-90s", now)!.toISOString()).toBe("2026-11-28T15:28:30.000Z");
    expect(parseTime("2026-11-28T10:00:00Z", now)!.toISOString()).toBe("2026-11-28T10:00:00.000Z");
    expect(parseTime("2026-11-28T10:00:00.5+02:00", now)!.toISOString()).toBe("2026-11-28T08:00:00.500Z");
    expect(parseTime("2026-11-28", now)!.getTime()).toBe(new Date(2026, 10, 28).getTime());
    expect(parseTime("2026-11-28 10:15", now)!.getTime()).toBe(new Date(2026, 10, 28, 10, 15).getTime());
    expect(parseTime("now", now)).toBe(now);
    expect(parseTime("today", now)!.getTime()).toBe(new Date(now.getFullYear(), now.getMonth(), now.getDate()).getTime());
  });
  test("not times: undefined", () => {
    for (const bad of ["yesterdayy", "15x", "2026-02-30", "2026-13-01", "2026-11-28T25:00:00Z", "2026-11-28T10:61:00Z", "", "1h ago later"]) {
      expect(parseTime(bad, now)).toBeUndefined();
    }
  });
});

describe("table", () => {
  const columns: Column[] = [
    { header: "SEQ", right: true }, { header: "TIME" }, { header: "TYPE", flexible: true, min: 6 },
    { header: "SESSION", flexible: true, min: 6, dropOrder: 2 }, { header: "EXE", flexible: true, min: 6, dropOrder: 1 },
  ];
  const data = [["1", "10:00:00", "claude-code.mcp__github__create_issue", "a9a50488-d6f2-4dee-ac2e-ed3db47b9d00", "node"], ["1204", "10:00:01", "sdk.Bash", "s", "python3"]];
  test("every line fits the width, cut columns end in …, and columns are dropped before they become unreadable", () => {
    for (const width of [30, 40, 60, 80, 200]) {
      const l = layout(columns, data, width);
      for (const cells of [columns.map((c) => c.header), ...data]) expect([...line(columns, l, cells)].length).toBeLessThanOrEqual(width);
    }
    expect(layout(columns, data, 200).shown).toEqual([0, 1, 2, 3, 4]);
    // 38 columns at the minimum widths: at 34 the first column to drop (SESSION) goes, EXE stays.
    expect(layout(columns, data, 40).shown).toEqual([0, 1, 2, 3, 4]);
    expect(layout(columns, data, 34).shown).toEqual([0, 1, 2, 4]);
    expect(cut("abcdef", 4)).toBe("abc…");
  });
});
