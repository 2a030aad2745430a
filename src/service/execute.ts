// Carries out a plan step by step, reporting each; stops at the first step
// that fails, naming it. Files are written whole (temp file + rename), never
// through a symlink.
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, closeSync, constants, existsSync, fsyncSync, lstatSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { gidOfGroup, uidOfLogin } from "../os/accounts.ts";
import { checkRegularOrAbsent } from "../os/files.ts";
import { commandLine, describeStep, type Owner, type Plan, type Step } from "./plan.ts";
import { EXIT_FAILURE, UserFacingError } from "../errors.ts";

export class StepError extends UserFacingError {
  constructor(message: string) {
    super(message, EXIT_FAILURE);
  }
}

export type Progress = (line: string) => void;

/** Gives `path` to `owner` (by name, resolved now: an earlier step may have just created the account). */
function chownTo(path: string, owner: Owner | undefined): void {
  if (owner === undefined) return;
  const uid = uidOfLogin(owner.user);
  const gid = gidOfGroup(owner.group);
  if (uid === undefined || gid === undefined) throw new StepError(`user ${owner.user} or group ${owner.group} does not exist (the step that creates them must have failed)`);
  chownSync(path, uid, gid);
}

function writeFile(step: Extract<Step, { kind: "write" }>): string {
  if (checkRegularOrAbsent(step.path, "service file") && step.keepExisting) return `kept existing ${step.path}`;
  mkdirSync(dirname(step.path), { recursive: true, mode: 0o755 });
  const tmp = `${step.path}.tmp-${process.pid}`;
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, step.content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    chmodSync(tmp, step.mode);
    chownTo(tmp, step.owner);
    renameSync(tmp, step.path);
  } catch (err) {
    if (existsSync(tmp)) unlinkSync(tmp);
    throw err;
  }
  return `wrote ${step.path}`;
}

function makeDir(step: Extract<Step, { kind: "mkdir" }>): string {
  if (lstatSync(step.path, { throwIfNoEntry: false })?.isSymbolicLink()) throw new StepError(`${step.path} is a symlink; refusing to use it`);
  mkdirSync(step.path, { recursive: true, mode: step.mode });
  chmodSync(step.path, step.mode);
  chownTo(step.path, step.owner);
  return `made ${step.path}`;
}

function run(step: Extract<Step, { kind: "run" }>): string {
  const r = spawnSync(step.argv[0]!, step.argv.slice(1), { input: step.stdin, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
  const output = `${r.stdout ?? ""}${r.stderr ?? ""}`.trim();
  if (r.error !== undefined || r.status !== 0) {
    const why = r.error !== undefined ? r.error.message : `exited with ${r.status ?? r.signal}`;
    if (step.mayFail) return `ran ${commandLine(step.argv)} (${why}; fine here)`;
    throw new StepError(`${commandLine(step.argv)} ${why}${output ? `:\n${output}` : ""}`);
  }
  return `ran ${commandLine(step.argv)}${output ? `\n${output.replace(/^/gm, "    ")}` : ""}`;
}

function remove(step: Extract<Step, { kind: "remove" }>): string {
  try {
    unlinkSync(step.path);
    return `removed ${step.path}`;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return `${step.path} was already gone`;
    throw err;
  }
}

export function executePlan(plan: Plan, progress: Progress): void {
  plan.steps.forEach((step, i) => {
    let done: string;
    try {
      done = step.kind === "write" ? writeFile(step) : step.kind === "mkdir" ? makeDir(step) : step.kind === "run" ? run(step) : remove(step);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new StepError(`step ${i + 1} of ${plan.steps.length} failed (${describeStep(step)}): ${message}`);
    }
    progress(`${i + 1}/${plan.steps.length} ${done}`);
  });
}
