// Bench emitter process: sends `count` frames over one connection as fast as
// the socket accepts them, then half-closes and waits for the daemon's close.
// Prints {sent, sampled: [[correlation_id, sentAtMs], ...]} on stdout.
import { connect } from "node:net";
import { encodeFrame } from "../../src/protocol/framing.ts";

const [socketPath, countArg, tag, sampleEveryArg, rateArg] = process.argv.slice(2);
const count = Number(countArg);
const sampleEvery = Number(sampleEveryArg ?? 50);
/** Frames per second from this sender; 0 = as fast as the socket takes them. */
const rate = Number(rateArg ?? 0);
const now = () => performance.timeOrigin + performance.now();
const sampled: Array<[string, number]> = [];
const start = now();

const sock = connect(socketPath!);
await new Promise<void>((resolve, reject) => {
  sock.once("connect", resolve);
  sock.once("error", reject);
});
for (let i = 0; i < count; i++) {
  const correlation = `${tag}-${i}`;
  const frame = encodeFrame(JSON.stringify({
    v: "1", ts_emit: new Date().toISOString(), session_id: `bench-${tag}`, channel: "sdk",
    tool: { name: "read_file" }, decision: "allowed", correlation_id: correlation,
    input: { path: `/workspace/src/module-${i % 100}.ts`, offset: i, limit: 200 },
    output: { bytes: 4096, sha: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
  }));
  if (rate > 0) {
    const due = start + (i / rate) * 1000;
    if (due > now()) await Bun.sleep(due - now());
  }
  if (i % sampleEvery === 0) sampled.push([correlation, now()]);
  if (!sock.write(frame)) await new Promise((r) => sock.once("drain", r));
}
sock.end();
await new Promise((r) => sock.once("close", r));
process.stdout.write(JSON.stringify({ sent: count, sampled }));
