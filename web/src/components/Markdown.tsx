import { createContext } from "preact";
import { useContext, useEffect, useMemo, useRef } from "preact/hooks";
import type { RenderMarkdown } from "../markdown/render";
import { enhance } from "../markdown/enhance";

export const MarkdownContext = createContext<RenderMarkdown | null>(null);

// Model output, rendered through marked and DOMPurify (markdown/), never as raw HTML.
export function Markdown({ text }: { text: string }) {
  const render = useContext(MarkdownContext);
  if (!render) throw new Error("Markdown needs a MarkdownContext provider");
  const html = useMemo(() => render(text), [render, text]);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (ref.current) enhance(ref.current);
  }, [html]);
  return <div class="markdown" ref={ref} dangerouslySetInnerHTML={{ __html: html }} />;
}
