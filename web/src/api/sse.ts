// A Server-Sent Events parser (the WHATWG event-stream format) fed with text pieces that may
// split anywhere: inside a line, between CR and LF, inside a multi-byte character (the caller
// decodes with a streaming TextDecoder). Pure, so the tests can cut a stream at every offset.

export interface SseEvent {
  event: string; // "message" unless an `event:` field named another
  data: string; // the event's data lines joined with "\n"
  id: string | null;
}

export class SseParser {
  private buffer = "";
  private data: string[] = [];
  private eventName = "";
  private lastId: string | null = null;
  private sawCr = false;

  // Feeds a piece of the stream; answers the events it completed.
  push(text: string): SseEvent[] {
    const events: SseEvent[] = [];
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10 /* LF */ && this.sawCr && i === 0 && this.buffer === "") {
        // The LF of a CRLF whose CR ended the previous piece.
        this.sawCr = false;
        start = 1;
        continue;
      }
      this.sawCr = false;
      if (c === 10 || c === 13) {
        this.line(this.buffer + text.slice(start, i), events);
        this.buffer = "";
        if (c === 13) {
          if (i + 1 < text.length) {
            if (text.charCodeAt(i + 1) === 10) i++;
          } else {
            this.sawCr = true;
          }
        }
        start = i + 1;
      }
    }
    this.buffer += text.slice(start);
    return events;
  }

  // The stream ended: an event without its closing blank line is dropped, as the spec says.
  end(): SseEvent[] {
    this.buffer = "";
    this.data = [];
    this.eventName = "";
    return [];
  }

  private line(line: string, events: SseEvent[]): void {
    if (line === "") {
      this.dispatch(events);
      return;
    }
    // Keep-alive padding: a line of spaces carries nothing and must not end an event.
    if (line.trim() === "") return;
    if (line.startsWith(":")) return; // a comment
    const trimmed = line.replace(/^[ \t]+/, "");
    const colon = trimmed.indexOf(":");
    const field = colon < 0 ? trimmed : trimmed.slice(0, colon);
    let value = colon < 0 ? "" : trimmed.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "data":
        this.data.push(value);
        break;
      case "event":
        this.eventName = value;
        break;
      case "id":
        if (!value.includes("\0")) this.lastId = value;
        break;
      default:
        break; // `retry` and unknown fields: nothing for this app
    }
  }

  private dispatch(events: SseEvent[]): void {
    if (this.data.length === 0) {
      this.eventName = "";
      return;
    }
    events.push({ event: this.eventName || "message", data: this.data.join("\n"), id: this.lastId });
    this.data = [];
    this.eventName = "";
  }
}

// Reads a fetch Response body as SSE events; ends at the body's end. Throws what the read throws
// (an AbortError when the caller stopped it, a TypeError when the connection broke).
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parser = new SseParser();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      for (const e of parser.push(decoder.decode(value, { stream: true }))) yield e;
    }
    for (const e of parser.push(decoder.decode())) yield e;
    parser.end();
  } finally {
    reader.releaseLock();
  }
}
