import { Marked, type TokenizerAndRendererExtension } from "marked";
import type { Sanitize } from "./sanitize";

// Markdown → sanitized HTML. Math is not typeset here: `$...$` and `$$...$$` become
// placeholders carrying their TeX as text, which enhance.ts typesets with KaTeX (loaded only
// when a placeholder exists). Code blocks stay `<pre><code class="language-x">` for the same
// reason (highlight.js loads on demand).

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const blockMath: TokenizerAndRendererExtension = {
  name: "mathBlock",
  level: "block",
  start: (src) => src.indexOf("$$"),
  tokenizer(src) {
    const m = /^\$\$([\s\S]+?)\$\$(?:\n|$)/.exec(src);
    if (m) return { type: "mathBlock", raw: m[0], text: m[1]!.trim() };
    return undefined;
  },
  renderer: (token) => `<div class="math math-display" data-math="display">${escapeHtml(String(token.text))}</div>\n`,
};

const inlineMath: TokenizerAndRendererExtension = {
  name: "mathInline",
  level: "inline",
  start: (src) => src.indexOf("$"),
  tokenizer(src) {
    // `$x$` but not prices like "$5 and $6": no space inside the dollars' edges.
    const m = /^\$\$([^$]+?)\$\$|^\$(?=\S)([^$\n]*?\S)\$(?!\d)/.exec(src);
    if (!m) return undefined;
    const display = m[1] !== undefined;
    return { type: "mathInline", raw: m[0], text: (m[1] ?? m[2])!, display };
  },
  renderer: (token) =>
    `<span class="math" data-math="${token.display ? "display" : "inline"}">${escapeHtml(String(token.text))}</span>`,
};

export type RenderMarkdown = (markdown: string) => string;

export function createMarkdownRenderer(sanitize: Sanitize): RenderMarkdown {
  const marked = new Marked({ gfm: true, breaks: false });
  marked.use({ extensions: [blockMath, inlineMath] });
  return (markdown: string) => sanitize(marked.parse(markdown, { async: false }) as string);
}
