// The allow-list decision and the refusal log's rate limit, as pure logic.
import { describe, expect, test } from "bun:test";
import { AccessPolicy } from "../../src/daemon/access/policy.ts";
import { RefusalLog } from "../../src/daemon/access/refusal-log.ts";

describe("AccessPolicy", () => {
  const noGroups = () => {
    throw new Error("groups must not be asked for");
  };

  test("without lists: root and the daemon's own uid only, and peer groups are never asked for", () => {
    const p = new AccessPolicy({ uids: [], gids: [] }, 990);
    expect(p.decide({ uid: 0, gid: 0 }, noGroups).allowed).toBe(true);
    expect(p.decide({ uid: 990, gid: 990 }, noGroups).allowed).toBe(true);
    const refused = p.decide({ uid: 1000, gid: 990 }, noGroups);
    expect(refused).toEqual({ allowed: false, reason: expect.stringContaining("no allow_uids/allow_groups") });
  });

  test("allow_uids and allow_groups: primary gid first, supplementary groups only when needed", () => {
    const p = new AccessPolicy({ uids: [1001], gids: [500] }, 990);
    expect(p.decide({ uid: 1001, gid: 1 }, noGroups).allowed).toBe(true);
    expect(p.decide({ uid: 1002, gid: 500 }, noGroups).allowed).toBe(true);
    let asked = 0;
    expect(p.decide({ uid: 1003, gid: 1003 }, () => (asked++, [7, 500])).allowed).toBe(true);
    expect(p.decide({ uid: 1004, gid: 1004 }, () => (asked++, [7, 8]))).toEqual({ allowed: false, reason: expect.stringContaining("uid 1004") });
    expect(asked).toBe(2);
  });
});

describe("RefusalLog", () => {
  test("one line per uid per interval, carrying how many were suppressed", () => {
    const log = new RefusalLog(1000);
    expect(log.shouldLog(5, 0)).toBe(0);
    expect(log.shouldLog(5, 10)).toBeNull();
    expect(log.shouldLog(5, 500)).toBeNull();
    expect(log.shouldLog(6, 600)).toBe(0); // another uid has its own budget
    expect(log.shouldLog(5, 1000)).toBe(2);
    expect(log.shouldLog(5, 1001)).toBeNull();
  });
});
