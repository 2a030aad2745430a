// The raw text of each element of a JSON array, so that a batch with some
// elements held back by the policy is forwarded with the others exactly as
// the client wrote them (never re-serialized).

/** Element texts of a JSON array text (whitespace around each trimmed), or null if it is not an array. */
export function arrayElements(text: string): string[] | null {
  let i = 0;
  while (i < text.length && /\s/.test(text[i]!)) i++;
  if (text[i] !== "[") return null;
  const out: string[] = [];
  let depth = 0;
  let inString = false;
  let start = i + 1;
  for (i = i + 1; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") {
      if (depth === 0) {
        const last = text.slice(start, i).trim();
        if (last !== "") out.push(last);
        return out;
      }
      depth--;
    } else if (c === "," && depth === 0) {
      out.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  return null;
}
