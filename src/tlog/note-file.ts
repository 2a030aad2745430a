// A file of signed notes: one note (`checkpoint > FILE`, the published
// log.checkpoint), or many one after another (a `file:` anchor appends each
// note and a blank line). Splits it into notes without verifying them.

const SIGNATURE_PREFIX = "\u2014 ";

/** The notes in `text`, in file order; lines that belong to no note are returned in `stray`. */
export function splitNotes(text: string): { notes: string[]; stray: number } {
  const lines = text.replace(/\r\n/g, "\n").split("\n");
  const notes: string[] = [];
  let body: string[] = [];
  let sigs: string[] = [];
  let inSigs = false;
  let stray = 0;
  const finish = () => {
    if (sigs.length > 0) notes.push(`${body.join("\n")}\n\n${sigs.join("\n")}\n`);
    else stray += body.length;
    body = [];
    sigs = [];
    inSigs = false;
  };
  for (const line of lines) {
    if (inSigs) {
      if (line.startsWith(SIGNATURE_PREFIX)) {
        sigs.push(line);
        continue;
      }
      finish();
      if (line === "") continue;
      body.push(line);
      continue;
    }
    if (line === "") {
      if (body.length > 0) inSigs = true;
      continue;
    }
    body.push(line);
  }
  finish();
  return { notes, stray };
}
