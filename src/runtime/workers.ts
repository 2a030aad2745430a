// The Worker entrypoints, named once: the code that starts them and the
// compile script (each must be an extra entrypoint of the binary) read this.
export const WORKERS = {
  writer: "daemon/writer/worker.ts",
  verify: "verify/worker.ts",
} as const;
