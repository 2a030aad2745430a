// The emitter of the published package: EmitterCore on node:net, so it runs
// on Node.js 20+ and Bun alike.
import { Connection } from "./connection.ts";
import { EmitterCore, type EmitterOptions } from "./emitter-core.ts";

export class Emitter extends EmitterCore {
  constructor(options: EmitterOptions) {
    super(options, (path, connectTimeoutMs, handlers) => new Connection(path, connectTimeoutMs, handlers));
  }
}

export * from "./emitter-core.ts";
