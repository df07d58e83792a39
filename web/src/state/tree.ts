import type { StoredMessage } from "../api/types";

// A conversation is a tree: each message names its parent, and the conversation's current_id
// is the leaf shown. A server without branches sends neither: the messages are then one line.

export interface PathEntry {
  message: StoredMessage;
  siblings: string[]; // ids of the messages sharing its parent, oldest first (itself included)
  position: number; // its index among them
}

function parentOf(m: StoredMessage, linear: Map<string, string | null>): string | null {
  if (m.parent_id !== undefined) return m.parent_id;
  return linear.get(m.id) ?? null;
}

export function conversationPath(messages: StoredMessage[], currentId: string | null | undefined): PathEntry[] {
  const visible = messages.filter((m) => m.role === "user" || m.role === "assistant");
  const linear = new Map<string, string | null>();
  visible.forEach((m, i) => linear.set(m.id, i > 0 ? visible[i - 1]!.id : null));
  const byId = new Map(visible.map((m) => [m.id, m]));
  const children = new Map<string | null, string[]>();
  for (const m of visible) {
    const p = parentOf(m, linear);
    const list = children.get(p) ?? [];
    list.push(m.id);
    children.set(p, list);
  }
  let leaf: string | null = currentId && byId.has(currentId) ? currentId : (visible[visible.length - 1]?.id ?? null);
  const path: PathEntry[] = [];
  const seen = new Set<string>();
  while (leaf !== null && byId.has(leaf) && !seen.has(leaf)) {
    seen.add(leaf);
    const message = byId.get(leaf)!;
    const siblings = children.get(parentOf(message, linear)) ?? [message.id];
    path.push({ message, siblings, position: siblings.indexOf(message.id) });
    leaf = parentOf(message, linear);
  }
  return path.reverse();
}

// The leaf reached from a message by always taking its newest child: what switching to a
// sibling shows.
export function newestLeaf(messages: StoredMessage[], fromId: string): string {
  const children = new Map<string, string[]>();
  for (const m of messages) {
    if (m.parent_id) {
      const list = children.get(m.parent_id) ?? [];
      list.push(m.id);
      children.set(m.parent_id, list);
    }
  }
  let at = fromId;
  const seen = new Set<string>();
  for (;;) {
    seen.add(at);
    const kids = children.get(at);
    const next = kids?.[kids.length - 1];
    if (!next || seen.has(next)) return at;
    at = next;
  }
}

// The stored reply of a turn that just ended: of the ids the stream said were stored (or, when
// it said none, the new last message of the current branch), the last that is an assistant
// message the server has. null when the reply was not kept: the server stored the question
// but could not store the answer, or the turn was stopped before it did.
export function storedReplyId(messages: StoredMessage[], streamIds: string[], newLast: StoredMessage | undefined): string | null {
  const assistants = new Set(messages.filter((m) => m.role === "assistant").map((m) => m.id));
  const candidates = streamIds.length > 0 ? streamIds : newLast ? [newLast.id] : [];
  for (let i = candidates.length - 1; i >= 0; i--) if (assistants.has(candidates[i]!)) return candidates[i]!;
  return null;
}

export function textOf(m: StoredMessage): string {
  if (typeof m.content === "string") return m.content;
  if (!m.content) return "";
  return m.content.map((p) => (p.type === "text" ? p.text : "")).join("");
}
