import type { ToolCall, Turn } from "./turn";

// Small readings of a call for its card and the chat: python's code, a workspace file's URL,
// whether a turn ran python (its /mnt/data may have changed).

// The `code` argument of a python call (arguments are the JSON the model wrote), or null.
export function pythonCode(call: Pick<ToolCall, "name" | "arguments">): string | null {
  if (call.name !== "python") return null;
  try {
    const args = JSON.parse(call.arguments) as unknown;
    const code = args && typeof args === "object" ? (args as Record<string, unknown>).code : undefined;
    return typeof code === "string" ? code : null;
  } catch {
    return null;
  }
}

// A Markdown code block holding `code` as it is: the fence is longer than any run of backticks in it.
export function fenced(code: string, lang: string): string {
  let longest = 0;
  for (const m of code.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
  const fence = "`".repeat(Math.max(3, longest + 1));
  return `${fence}${lang}\n${code}${code.endsWith("\n") ? "" : "\n"}${fence}`;
}

// GET /v1/workspaces/{id}/files/{path}: each segment of the path encoded, the slashes kept.
export function workspaceFileHref(workspace: string, path: string): string {
  const segments = path.split("/").filter((s) => s !== "").map(encodeURIComponent);
  return `/v1/workspaces/${encodeURIComponent(workspace)}/files/${segments.join("/")}`;
}

// A turn after which the conversation's files may have changed.
export function ranPython(turn: Pick<Turn, "tools">): boolean {
  return turn.tools.some((t) => t.name === "python" || (t.files?.length ?? 0) > 0);
}
