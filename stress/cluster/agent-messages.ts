// What the in-cluster agent prints, one JSON object a line, and how the CLI reads it back from the
// pod's log. The prefix keeps the protocol apart from anything else the runtime may print.
import type { Bucket, RunResult } from "../load/series";

export type AgentMessage =
  | { type: "start"; startedAt: number }
  | { type: "bucket"; bucket: Bucket }
  | { type: "result"; result: RunResult }
  | { type: "error"; message: string };

const messagePrefix = "stress-agent ";

export function formatMessage(message: AgentMessage): string {
  return messagePrefix + JSON.stringify(message);
}

/** The message on a log line, or undefined for any other line. */
export function parseMessage(line: string): AgentMessage | undefined {
  if (!line.startsWith(messagePrefix)) return undefined;
  return JSON.parse(line.slice(messagePrefix.length)) as AgentMessage;
}
