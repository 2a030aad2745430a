import { defineCommand } from "citty";
import { cliCommand } from "../cli/command.ts";
import { UserFacingError } from "../errors.ts";
import { approvalDir } from "../mcp-proxy/approval.ts";
import { decideCall, describeWaiting, listWaiting } from "../mcp-proxy/approval-client.ts";

export const approveCommand = cliCommand(defineCommand({
  meta: {
    name: "approve",
    description:
      "Approve a tool call that an mcp-proxy policy paused: the proxy forwards it to the server. With --list, show the calls waiting " +
      "in every running proxy of yours. Exit 0 done, 1 no such call waiting, 2 usage error.",
  },
  args: {
    "call-id": { type: "positional", required: false, description: "The call id the proxy printed (e.g. k3x9a2bq-4)", valueHint: "CALL-ID" },
    list: { type: "boolean", description: "List the waiting calls instead" },
    json: { type: "boolean", description: "With --list: one JSON object per line" },
  },
  async run({ args }) {
    const dir = approvalDir();
    const callId = args["call-id"];
    if (args.list) {
      if (callId !== undefined) throw new UserFacingError("give either a call id or --list, not both");
      const calls = await listWaiting(dir);
      if (args.json) return void process.stdout.write(calls.map((c) => `${JSON.stringify(c)}\n`).join(""));
      process.stdout.write(calls.length === 0 ? "no calls are waiting for approval\n" : `${calls.map(describeWaiting).join("\n")}\n`);
      return;
    }
    if (callId === undefined) throw new UserFacingError('give the call id to approve (the proxy printed it), or --list to see the waiting calls');
    const call = await decideCall(dir, callId, true, undefined);
    process.stdout.write(`approved ${call.call_id}: tool "${call.tool}" goes to the server\n`);
  },
}));
