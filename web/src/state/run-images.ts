import type { ContentPart, StoredMessage } from "../api/types";
import type { ToolCall } from "./turn";

// The images of one agent run, numbered as the server numbers them (src/agent/image-set.h):
// the prompt's images from 1 in the order they appear (the branch's stored messages, then the
// request's), then each image a call returned, in call order. Tools name images by these numbers.

// A part's image as a URL the page can show: a data URL as it is, an uploaded file by its content.
function imageUrl(url: string): string | null {
  if (url.startsWith("data:image/")) return url;
  if (url.startsWith("file-")) return `/v1/files/${encodeURIComponent(url)}/content`;
  return null;
}

// The image URLs of some messages' contents, in order (null: an image the page cannot show).
export function promptImages(contents: (string | ContentPart[] | null | undefined)[]): (string | null)[] {
  const out: (string | null)[] = [];
  for (const content of contents) {
    if (!Array.isArray(content)) continue;
    for (const p of content) if (p.type === "image_url") out.push(imageUrl(p.image_url.url));
  }
  return out;
}

// The images the run that wrote path[upTo] was given: those of every message before it.
export function promptImagesBefore(path: StoredMessage[], upTo: number): (string | null)[] {
  return promptImages(path.slice(0, upTo).map((m) => m.content));
}

// The image a run numbered `n`: a prompt image, or one a call returned (with its data: a stored
// call keeps only the name). Null when the page does not have it.
export function runImage(n: number, prompt: (string | null)[], calls: ToolCall[]): string | null {
  if (!Number.isInteger(n) || n < 1) return null;
  if (n <= prompt.length) return prompt[n - 1] ?? null;
  let k = prompt.length;
  for (const c of calls) {
    for (const img of c.images) {
      if (++k === n) return img.data ? `data:${img.mime_type};base64,${img.data}` : null;
    }
  }
  return null;
}
