// Short lines to stdout and stderr through console, which Bun writes
// natively: touching process.stdout or process.stderr builds Node streams
// (about 8 MB and a few ms at start), a cost `emit` and `hook` would pay on
// every tool call. Text is printed as is (a single argument is not a format).
export function printLine(text: string): void {
  console.log(text);
}

export function printError(text: string): void {
  console.error(text);
}
