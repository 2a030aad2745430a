// JSON values and the one check for "can RFC 8785 encode this?", shared by the
// daemon's validator and the emitter's caller-bug checks.

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/**
 * Nesting limit for payloads. Deeper values are refused: JSON.stringify on
 * Node.js 20 throws past ~4,000 levels, structured cloning (to the daemon's
 * writer thread) past ~20,000, and other verifiers' parsers sooner.
 */
export const MAX_JSON_DEPTH = 1000;

/**
 * Returns a description of the first value JCS cannot encode (a non-finite
 * number, a lone surrogate, a non-JSON type, a cycle, or nesting deeper than
 * MAX_JSON_DEPTH), or undefined when the whole value is encodable. Iterative,
 * so deep payloads cannot overflow the stack.
 */
export function findUnencodable(value: unknown, path = "$"): string | undefined {
  const stack: Array<[unknown, string, number]> = [[value, path, 0]];
  const seen = new Set<object>();
  while (stack.length > 0) {
    const [v, p, depth] = stack.pop()!;
    switch (typeof v) {
      case "number":
        if (!Number.isFinite(v)) return `${p} is ${String(v)}, which JSON cannot represent`;
        continue;
      case "string":
        if (!v.isWellFormed()) return `${p} contains a lone UTF-16 surrogate`;
        continue;
      case "boolean":
        continue;
      case "object": {
        if (v === null) continue;
        if (seen.has(v)) return `${p} is a circular reference`;
        if (depth >= MAX_JSON_DEPTH) return `${p.slice(0, 64)}... nests deeper than ${MAX_JSON_DEPTH} levels`;
        seen.add(v);
        if (Array.isArray(v)) {
          v.forEach((item, i) => stack.push([item, `${p}[${i}]`, depth + 1]));
        } else {
          const proto = Object.getPrototypeOf(v);
          if (proto !== Object.prototype && proto !== null) return `${p} is a ${proto?.constructor?.name ?? "non-plain"} object, not plain JSON`;
          for (const [k, item] of Object.entries(v)) {
            if (!k.isWellFormed()) return `${p} has a key with a lone UTF-16 surrogate`;
            stack.push([item, `${p}.${k}`, depth + 1]);
          }
        }
        continue;
      }
      default:
        return `${p} is ${typeof v}, which JSON cannot represent`;
    }
  }
  return undefined;
}
