// The sources a call's result cites, from the fields the tools return (src/agent/tools/web.cpp,
// file-search.cpp): web_search's detail.results [{title, url, snippet}], open_url's and
// find_in_page's detail.url (with title, or the matching lines), file_search's detail.hits
// [{source: "file"|"conversation", title, file_id | message_id, source_id, chunk_id, start, end, snippet}].

export interface Citation {
  kind: "web" | "file" | "conversation";
  title: string;
  href: string | null; // a link to open or download it; null when there is none
  where: string; // the URL, or the file's chunk and byte span
  snippet: string;
}

const str = (v: unknown): string => (typeof v === "string" ? v : "");
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

// Only http(s) links are made clickable: a result's URL is the web's text, not the app's.
export function webHref(url: string): string | null {
  try {
    const u = new URL(url);
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
  } catch {
    return null;
  }
}

function webCitation(url: string, title: string, snippet: string): Citation {
  return { kind: "web", title: title || url, href: webHref(url), where: url, snippet };
}

function hitCitation(h: Record<string, unknown>): Citation | null {
  const source = str(h.source);
  const title = str(h.title);
  const start = num(h.start);
  const end = num(h.end);
  const chunk = num(h.chunk_id);
  const span = start !== null && end !== null ? `bytes ${start}–${end}` : "";
  const snippet = str(h.snippet);
  if (source === "file") {
    const id = str(h.file_id) || str(h.source_id);
    if (!id) return null;
    const where = [chunk !== null ? `chunk ${chunk}` : "", span].filter(Boolean).join(", ");
    return { kind: "file", title: title || id, href: `/v1/files/${encodeURIComponent(id)}/content`, where, snippet };
  }
  if (source === "conversation") {
    const where = [str(h.message_id) ? `message ${str(h.message_id)}` : "", span].filter(Boolean).join(", ");
    return { kind: "conversation", title: title || str(h.source_id) || "conversation", href: null, where, snippet };
  }
  return null;
}

export function citationsOf(detail: unknown): Citation[] {
  if (!detail || typeof detail !== "object") return [];
  const d = detail as Record<string, unknown>;
  if (Array.isArray(d.results)) {
    return d.results.flatMap((r): Citation[] => {
      if (!r || typeof r !== "object") return [];
      const o = r as Record<string, unknown>;
      return str(o.url) ? [webCitation(str(o.url), str(o.title), str(o.snippet))] : [];
    });
  }
  if (Array.isArray(d.hits)) {
    return d.hits.flatMap((h) => {
      const c = h && typeof h === "object" ? hitCitation(h as Record<string, unknown>) : null;
      return c ? [c] : [];
    });
  }
  if (str(d.url)) {
    const lines = Array.isArray(d.lines) ? d.lines.filter((l) => num(l) !== null) : [];
    const snippet = lines.length ? `lines ${lines.map((l) => `L${l}`).join(", ")}` : "";
    return [webCitation(str(d.url), str(d.title), snippet)];
  }
  return [];
}
