import { describe, expect, it } from "vitest";
import { SseParser, type SseEvent } from "./sse";

// Feeds the whole stream cut at the given offsets; answers every event.
function parse(stream: string, cuts: number[] = []): SseEvent[] {
  const parser = new SseParser();
  const events: SseEvent[] = [];
  let at = 0;
  for (const cut of [...cuts, stream.length]) {
    events.push(...parser.push(stream.slice(at, cut)));
    at = cut;
  }
  events.push(...parser.end());
  return events;
}

// Every way to cut the stream in two and in three must give the same events as one piece.
function expectEveryCut(stream: string, expected: Partial<SseEvent>[]): void {
  const whole = parse(stream);
  expect(whole.map((e) => ({ event: e.event, data: e.data }))).toEqual(
    expected.map((e) => ({ event: e.event ?? "message", data: e.data })),
  );
  for (let i = 0; i <= stream.length; i++) {
    expect(parse(stream, [i]), `cut at ${i}`).toEqual(whole);
    for (let j = i; j <= stream.length; j += 3) expect(parse(stream, [i, j]), `cuts ${i},${j}`).toEqual(whole);
  }
}

describe("SseParser", () => {
  it("parses OpenAI chunks and [DONE] at every chunk boundary", () => {
    const stream =
      'data: {"choices":[{"delta":{"content":"he"}}]}\n\n' +
      'data: {"choices":[{"delta":{"content":"llo"}}]}\n\n' +
      "data: [DONE]\n\n";
    expectEveryCut(stream, [
      { data: '{"choices":[{"delta":{"content":"he"}}]}' },
      { data: '{"choices":[{"delta":{"content":"llo"}}]}' },
      { data: "[DONE]" },
    ]);
  });

  it("accepts CRLF, lone CR and LF line ends, split between CR and LF", () => {
    expectEveryCut("data: a\r\n\r\ndata: b\r\rdata: c\n\n", [{ data: "a" }, { data: "b" }, { data: "c" }]);
  });

  it("skips comments and joins multi-line data with newlines", () => {
    expectEveryCut(": keep-alive\n\ndata: one\ndata: two\n: mid comment\ndata:three\n\n", [
      { data: "one\ntwo\nthree" },
    ]);
  });

  it("keeps the event name and resets it after each event", () => {
    expectEveryCut("event: ping\ndata: x\n\ndata: y\n\n", [{ event: "ping", data: "x" }, { data: "y" }]);
  });

  it("ignores keep-alive spaces between and before events", () => {
    expectEveryCut("   \n \ndata: a\n  \n\n  data: b\n\n", [{ data: "a" }, { data: "b" }]);
  });

  it("drops an event the stream cut off before its blank line", () => {
    expect(parse("data: a\n\ndata: half")).toEqual([{ event: "message", data: "a", id: null }]);
  });

  it("keeps non-ASCII text whole however the bytes were split", async () => {
    const bytes = new TextEncoder().encode("data: héllo ∑ 😀\n\n");
    for (let i = 0; i <= bytes.length; i++) {
      const decoder = new TextDecoder();
      const parser = new SseParser();
      const events = [
        ...parser.push(decoder.decode(bytes.slice(0, i), { stream: true })),
        ...parser.push(decoder.decode(bytes.slice(i), { stream: true })),
        ...parser.push(decoder.decode()),
      ];
      expect(events.map((e) => e.data)).toEqual(["héllo ∑ 😀"]);
    }
  });

  it("an empty data field still makes an event; a lone blank line does not", () => {
    expectEveryCut("\n\ndata:\n\n", [{ data: "" }]);
  });
});
