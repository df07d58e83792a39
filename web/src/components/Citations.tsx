import type { Citation } from "../state/citations";

// A call's sources: web pages as links that open in a new tab without access to the app
// (rel="noopener noreferrer"), the user's files as downloads, conversations by title.
export function Citations({ items }: { items: Citation[] }) {
  if (!items.length) return null;
  return (
    <ol class="citations" aria-label="Sources">
      {items.map((c, i) => (
        <li key={i} data-testid="citation" data-kind={c.kind}>
          {c.href ? (
            c.kind === "web" ? (
              <a href={c.href} target="_blank" rel="noopener noreferrer">{c.title}</a>
            ) : (
              <a href={c.href} download={c.title}>{c.title}</a>
            )
          ) : (
            <span class="citation-title">{c.title}</span>
          )}
          {c.where && c.where !== c.title && <span class="citation-where"> · {c.where}</span>}
          {c.snippet && <div class="citation-snippet">{c.snippet}</div>}
        </li>
      ))}
    </ol>
  );
}
