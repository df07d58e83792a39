// What a rendered answer gets after it is in the page: code highlighting and a copy button,
// typeset math. highlight.js and KaTeX are loaded only when an answer has code or math, so
// the first load stays small.

type Hljs = typeof import("highlight.js/lib/core").default;
let hljsLoading: Promise<Hljs> | null = null;
let katexLoading: Promise<typeof import("katex").default> | null = null;

async function loadHljs(): Promise<Hljs> {
  hljsLoading ??= (async () => {
    const [core, py, js, ts, bash, json, cpp, css, xml, sql, md] = await Promise.all([
      import("highlight.js/lib/core"),
      import("highlight.js/lib/languages/python"),
      import("highlight.js/lib/languages/javascript"),
      import("highlight.js/lib/languages/typescript"),
      import("highlight.js/lib/languages/bash"),
      import("highlight.js/lib/languages/json"),
      import("highlight.js/lib/languages/cpp"),
      import("highlight.js/lib/languages/css"),
      import("highlight.js/lib/languages/xml"),
      import("highlight.js/lib/languages/sql"),
      import("highlight.js/lib/languages/markdown"),
      import("highlight.js/styles/github-dark.css"),
    ]);
    const hljs = core.default;
    const langs = { python: py, javascript: js, typescript: ts, bash, json, cpp, css, xml, sql, markdown: md };
    for (const [name, mod] of Object.entries(langs)) hljs.registerLanguage(name, mod.default);
    hljs.configure({ ignoreUnescapedHTML: true });
    return hljs;
  })();
  return hljsLoading;
}

async function loadKatex() {
  katexLoading ??= Promise.all([import("katex"), import("katex/dist/katex.min.css")]).then(([k]) => k.default);
  return katexLoading;
}

export function enhance(root: HTMLElement): void {
  const blocks = Array.from(root.querySelectorAll<HTMLElement>("pre > code:not([data-enhanced])"));
  for (const code of blocks) {
    code.dataset.enhanced = "1";
    const pre = code.parentElement!;
    const copy = document.createElement("button");
    copy.type = "button";
    copy.className = "copy";
    copy.textContent = "Copy";
    copy.setAttribute("aria-label", "Copy code");
    copy.addEventListener("click", () => {
      void navigator.clipboard?.writeText(code.textContent ?? "").then(
        () => (copy.textContent = "Copied"),
        () => (copy.textContent = "Copy failed"),
      );
    });
    pre.appendChild(copy);
  }
  if (blocks.length) {
    void loadHljs().then((hljs) => {
      for (const code of blocks) {
        if (!code.isConnected) continue;
        const lang = /language-([\w-]+)/.exec(code.className)?.[1];
        if (lang && hljs.getLanguage(lang)) hljs.highlightElement(code);
      }
    });
  }
  const math = Array.from(root.querySelectorAll<HTMLElement>("[data-math]:not([data-typeset])"));
  if (math.length) {
    void loadKatex().then((katex) => {
      for (const el of math) {
        if (!el.isConnected) continue;
        el.dataset.typeset = "1";
        katex.render(el.textContent ?? "", el, {
          displayMode: el.dataset.math === "display",
          throwOnError: false,
          trust: false,
        });
      }
    });
  }
}
