import type { StoredMessage } from "../api/types";
import { finishedToolCall, type ToolCall } from "./turn";

// The tool cards of a stored answer: its muse.tool_calls (what the server kept of the calls the
// agent ran) as the finished calls a streamed turn ends with, so a reload shows the same cards.
export function storedToolCalls(message: StoredMessage): ToolCall[] {
  const calls = message.muse?.tool_calls;
  if (!Array.isArray(calls)) return [];
  return calls.map((c) =>
    finishedToolCall({
      id: c.id, name: c.name, arguments: c.arguments ?? "", outcome: c.outcome, output: c.output, detail: c.detail,
      files: c.files,
      images: (c.images ?? []).map((img) => ({ name: img.name, mime_type: img.mime_type, ...(img.data ? { data: img.data } : {}) })),
    }, 0, c.duration_ms ?? 0),
  );
}
