// The hook's payload from stdin. node:fs is already loaded on this path (the
// path resolver), and a plain read of fd 0 costs far less memory at start
// than Bun's stdin stream; a non-blocking stdin (EAGAIN) falls back to it.
import { readFileSync } from "node:fs";

export async function readStdin(): Promise<string> {
  try {
    return readFileSync(0, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EAGAIN") throw err;
    return await Bun.stdin.text();
  }
}
