// The elements of a JSON array as byte ranges of its text, so that a batch
// with some elements held back by the policy is forwarded with the others
// exactly as the client wrote them (never re-serialized). It works on the
// bytes, one element at a time, so that a batch of millions of elements in a
// 64 MiB line costs no more than the line itself: JSON's structural
// characters are ASCII, and no byte of a multi-byte UTF-8 sequence is ASCII.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/**
 * Calls `element(start, end, index)` for each element of the JSON array in
 * `text` (whitespace around it excluded); false if `text` is not an array
 * (the caller has already checked that it is valid JSON).
 */
export function forEachArrayElement(text: Buffer, element: (start: number, end: number, index: number) => void): boolean {
  let i = 0;
  while (i < text.length && isSpace(text[i]!)) i++;
  if (text[i] !== 0x5b) return false;
  let depth = 0;
  let start = i + 1;
  let index = 0;
  const emit = (end: number): void => {
    let s = start;
    let e = end;
    while (s < e && isSpace(text[s]!)) s++;
    while (e > s && isSpace(text[e - 1]!)) e--;
    if (e > s) element(s, e, index++);
  };
  for (i = i + 1; i < text.length; i++) {
    const c = text[i]!;
    if (c === QUOTE) {
      // Jump to the closing quote: one not preceded by an odd run of backslashes.
      for (;;) {
        const q = text.indexOf(QUOTE, i + 1);
        if (q < 0) return false;
        let k = q;
        while (text[k - 1] === BACKSLASH) k--;
        i = q;
        if ((q - k) % 2 === 0) break;
      }
    } else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      if (depth === 0) {
        emit(i);
        return true;
      }
      depth--;
    } else if (c === 0x2c && depth === 0) {
      emit(i);
      start = i + 1;
    }
  }
  return false;
}
