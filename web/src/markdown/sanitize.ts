import createDOMPurify from "dompurify";

// Model output is untrusted HTML: it must never run script, submit forms, load frames or
// restyle the page. DOMPurify does the parsing-level work (script, event handlers, javascript:
// and data: URLs, mXSS); the policy below narrows it further for a chat transcript.
const FORBIDDEN_TAGS = [
  "style", "form", "input", "button", "textarea", "select", "option", "iframe", "frame",
  "frameset", "object", "embed", "base", "link", "meta", "dialog", "template", "slot", "portal",
];
const FORBIDDEN_ATTRS = ["style", "srcset", "action", "formaction", "xlink:href", "ping", "autofocus"];
const SAFE_LINK = /^(https?:|mailto:|#|\/(?!\/))/i;
const SAFE_IMAGE = /^(data:image\/(png|jpeg|gif|webp);|\/(?!\/))/i;

export type Sanitize = (html: string) => string;

// A sanitizer bound to one window (the page's, or jsdom's in the tests).
export function createSanitizer(win: Window): Sanitize {
  const purify = createDOMPurify(win as unknown as Window & typeof globalThis);
  purify.addHook("afterSanitizeAttributes", (node) => {
    const el = node as Element;
    if (el.tagName === "A") {
      const href = el.getAttribute("href");
      if (href !== null && !SAFE_LINK.test(href.trim())) el.removeAttribute("href");
      el.setAttribute("target", "_blank");
      el.setAttribute("rel", "noopener noreferrer");
    }
    if (el.tagName === "IMG") {
      const src = el.getAttribute("src");
      // A remote image would tell its host that this conversation was read (and what it said,
      // in the URL): only pictures carried inline or from this server are shown.
      if (src === null || !SAFE_IMAGE.test(src.trim())) el.removeAttribute("src");
    }
  });
  return (html: string) =>
    purify.sanitize(html, {
      FORBID_TAGS: FORBIDDEN_TAGS,
      FORBID_ATTR: FORBIDDEN_ATTRS,
      ALLOW_UNKNOWN_PROTOCOLS: false,
      USE_PROFILES: { html: true, svg: false, mathMl: false },
      ADD_ATTR: ["target"],
    }) as string;
}
