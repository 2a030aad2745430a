import { defineCommand } from "citty";
import { cliCommand } from "../cli/command.ts";
import { approvalDir } from "../mcp-proxy/approval.ts";
import { decideCall } from "../mcp-proxy/approval-client.ts";

export const denyCommand = cliCommand(defineCommand({
  meta: {
    name: "deny",
    description:
      "Deny a tool call that an mcp-proxy policy paused: the client gets a JSON-RPC error and the receipt records the denial. " +
      "Exit 0 done, 1 no such call waiting, 2 usage error.",
  },
  args: {
    "call-id": { type: "positional", required: true, description: "The call id the proxy printed (e.g. k3x9a2bq-4)", valueHint: "CALL-ID" },
    reason: { type: "string", description: "Why (shown to the client and recorded, after redaction, in the receipt)", valueHint: "TEXT" },
  },
  async run({ args }) {
    const call = await decideCall(approvalDir(), args["call-id"], false, args.reason === "" ? undefined : args.reason);
    process.stdout.write(`denied ${call.call_id}: tool "${call.tool}" was not run\n`);
  },
}));
