import { defineCommand } from "citty";
import { cliCommand } from "../cli/command.ts";
import { createKeyPair, loadPublicKey } from "../keys/key-files.ts";
import { publicKeyPathFor, resolvePaths } from "../paths/resolve.ts";

const keyArgs = {
  key: { type: "string", description: "Signing key path (default: $AGENTRECEIPTS_KEY or <data dir>/signing.key)", valueHint: "PATH" },
  "public-key": { type: "string", description: "Public key path (default: $AGENTRECEIPTS_PUBLIC_KEY or <key>.pub)", valueHint: "PATH" },
  json: { type: "boolean", description: "Print JSON" },
} as const;

function paths(args: { key?: string; "public-key"?: string }): { key: string; publicKey: string } {
  const defaults = resolvePaths();
  const key = args.key ?? defaults.key;
  return { key, publicKey: args["public-key"] ?? (args.key !== undefined ? publicKeyPathFor(key) : defaults.publicKey) };
}

const initCommand = defineCommand({
  meta: { name: "init", description: "Create a new Ed25519 key pair (private 0600, public 0644, directories 0750). Never overwrites." },
  args: keyArgs,
  run({ args }) {
    const p = paths(args);
    process.umask(0o027);
    const key = createKeyPair(p.key, p.publicKey);
    process.stdout.write(
      args.json
        ? `${JSON.stringify({ key: p.key, public_key: p.publicKey, fingerprint: key.fingerprint })}\n`
        : `created signing key ${p.key}\npublished public key ${p.publicKey}\nfingerprint ${key.fingerprint}\n`,
    );
  },
});

const showCommand = defineCommand({
  meta: { name: "show", description: "Print the public key (PEM) and its fingerprint, for verifiers." },
  args: keyArgs,
  run({ args }) {
    const p = paths(args);
    const pub = loadPublicKey(p.publicKey);
    process.stdout.write(
      args.json
        ? `${JSON.stringify({ public_key: p.publicKey, fingerprint: pub.fingerprint, pem: pub.pem })}\n`
        : `${pub.pem}fingerprint ${pub.fingerprint}\n`,
    );
  },
});

export const keysCommand = cliCommand(defineCommand({
  meta: { name: "keys", description: "Manage the daemon's signing key" },
  subCommands: { init: initCommand, show: showCommand },
}));
