// What is not a Unix socket path: shared by the daemon (refuses to listen) and
// emitters (refuse to connect). Plain TypeScript, Node-compatible.

/** `tcp://...`, `host:port`, `[::1]:9000`, `:9000` are TCP addresses, not socket paths (docs/protocol.md §2). */
export function looksLikeTcp(path: string): boolean {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) return true;
  if (/^\[[^\]]*\](:\d+)?$/.test(path)) return true;
  return /^[^/]*:\d+$/.test(path);
}
