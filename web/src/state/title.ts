import type { ContentPart } from "../api/types";

// A new conversation's title: its first message's text, at most `max` characters. Counted by
// code point, so that a cut never halves an emoji (a lone surrogate is not JSON the server
// takes: the conversation would not start).
export function conversationTitle(content: ContentPart[] | null, max = 60): string {
  const text = content?.map((p) => (p.type === "text" ? p.text : "")).join(" ").trim() || "New chat";
  return Array.from(text).slice(0, max).join("");
}
