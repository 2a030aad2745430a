// How the policy's rules match (src/mcp-proxy/policy.ts), on policies parsed
// from TOML as the proxy reads them: first match wins, and a rule naming
// servers when the server's name is unknown applies if it refuses or pauses,
// never if it allows.
import { expect, test } from "bun:test";
import { decide } from "../../src/mcp-proxy/policy.ts";
import { parsePolicy } from "../../src/mcp-proxy/policy-file.ts";

const policy = parsePolicy(
  `
default = "allow"

[[rule]]
name = "files-may-read"
tool = "read_*"
server = "files"
action = "allow"

[[rule]]
name = "no-file-writes"
tool = "write_*"
server = "files"
action = "deny"

[[rule]]
name = "ask-before-files-delete"
tool = "delete_*"
server = ["files", "disk*"]
action = "pause"

[[rule]]
name = "no-reads-elsewhere"
tool = "read_*"
action = "deny"
`,
  "rules.toml",
);

test("a known server name: server globs match as written, first match wins", () => {
  expect(decide(policy, "write_file", "files")).toMatchObject({ action: "deny", rule: "no-file-writes" });
  expect(decide(policy, "write_file", "other")).toMatchObject({ action: "allow", rule: "default" });
  expect(decide(policy, "delete_file", "disk2")).toMatchObject({ action: "pause", rule: "ask-before-files-delete" });
  expect(decide(policy, "read_file", "files")).toMatchObject({ action: "allow", rule: "files-may-read" });
  expect(decide(policy, "read_file", "other")).toMatchObject({ action: "deny", rule: "no-reads-elsewhere" });
});

test("an unknown server name: a server-scoped deny or pause applies, a server-scoped allow does not", () => {
  expect(decide(policy, "write_file", undefined)).toMatchObject({ action: "deny", rule: "no-file-writes" });
  expect(decide(policy, "delete_file", undefined)).toMatchObject({ action: "pause", rule: "ask-before-files-delete" });
  // "files-may-read" cannot vouch for a server it cannot name: the next rule decides.
  expect(decide(policy, "read_file", undefined)).toMatchObject({ action: "deny", rule: "no-reads-elsewhere" });
  expect(decide(policy, "list_dir", undefined)).toMatchObject({ action: "allow", rule: "default" });
});
