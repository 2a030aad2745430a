// Whether a stream gets ANSI colour: only a terminal does, unless the user
// says otherwise (--no-color, NO_COLOR, TERM=dumb; FORCE_COLOR forces it on).
export interface ColorInputs {
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
  noColorFlag: boolean;
}

export function colorEnabled({ isTTY, env, noColorFlag }: ColorInputs): boolean {
  if (noColorFlag) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== "") return force !== "0" && force !== "false";
  if (env.TERM === "dumb") return false;
  return isTTY;
}

export interface Paint {
  bold(text: string): string;
  dim(text: string): string;
  accent(text: string): string;
}

const plain = (text: string) => text;
const sgr = (code: string) => (text: string) => `\x1b[${code}m${text}\x1b[0m`;

export function paint(enabled: boolean): Paint {
  return enabled ? { bold: sgr("1"), dim: sgr("2"), accent: sgr("36") } : { bold: plain, dim: plain, accent: plain };
}
