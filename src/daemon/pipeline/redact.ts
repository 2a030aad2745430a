// Secret redaction for `outcome.error` (docs/protocol.md §4). Errors often echo the
// request that failed, so tokens and credentials must not reach a receipt.

export const REDACTED = "[REDACTED]";

const SENSITIVE_KEY = "(?:password|passwd|pwd|secret|client_secret|api[_-]?key|apikey|access[_-]?token|refresh[_-]?token|auth[_-]?token|token|authorization|private[_-]?key|credentials?|session[_-]?token|cookie)";

const RULES: Array<[RegExp, string]> = [
  // PEM private keys, whole block.
  [/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g, REDACTED],
  // "key": "value" in embedded JSON.
  [new RegExp(`("${SENSITIVE_KEY}"\\s*:\\s*)"(?:[^"\\\\]|\\\\.)*"`, "gi"), `$1"${REDACTED}"`],
  // Authorization headers.
  [/\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{8,}/g, `$1 ${REDACTED}`],
  // token=... style URL / query / form parameters and key=value pairs.
  [new RegExp(`([?&;\\s]|^)(${SENSITIVE_KEY}|sig|signature|key)=[^&\\s#"']+`, "gi"), `$1$2=${REDACTED}`],
  // Provider tokens with recognisable shapes.
  [/\bgithub_pat_[A-Za-z0-9_]{20,}/g, REDACTED],
  [/\bgh[pousr]_[A-Za-z0-9]{20,}/g, REDACTED],
  [/\bsk-[A-Za-z0-9_-]{16,}/g, REDACTED],
  [/\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, REDACTED],
  [/\bxox[abposr]-[A-Za-z0-9-]{8,}/g, REDACTED],
  [/\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+/g, REDACTED],
  // password: value / secret: value in plain text.
  [new RegExp(`\\b(${SENSITIVE_KEY})(\\s*:\\s*)(?!"?\\[REDACTED\\])[^\\s,;"'}]+`, "gi"), `$1$2${REDACTED}`],
];

export function redactSecrets(text: string): string {
  let out = text;
  for (const [pattern, replacement] of RULES) out = out.replace(pattern, replacement);
  return out;
}
