import type { StoredMessage } from "../api/types";
import { toolFiles, type ToolCall } from "./turn";

// The tool cards of a stored answer: its muse.tool_calls (what the server kept of the calls the
// agent ran) as the finished calls a streamed turn ends with, so a reload shows the same cards.
export function storedToolCalls(message: StoredMessage): ToolCall[] {
  const calls = message.muse?.tool_calls;
  if (!Array.isArray(calls)) return [];
  return calls.map((c) => {
    const call: ToolCall = {
      id: c.id,
      name: c.name,
      arguments: c.arguments ?? "",
      startedAt: 0,
      finished: true,
      images: (c.images ?? []).map((img) => ({ name: img.name, mime_type: img.mime_type, ...(img.data ? { data: img.data } : {}) })),
      durationMs: c.duration_ms ?? 0,
    };
    if (c.outcome !== undefined) call.outcome = c.outcome;
    if (c.output !== undefined) call.output = c.output;
    if (c.detail?.artifact) call.artifact = c.detail.artifact;
    if (c.detail) call.detail = c.detail;
    const files = toolFiles(c.files);
    if (files.length) call.files = files;
    return call;
  });
}
