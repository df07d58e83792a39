// `muse serve` through the official `@anthropic-ai/sdk` npm client (docs/api.md, /v1/messages):
// the message shape, the event stream and its final message equal to non-streaming, tools,
// thinking, images and the error shape. The SDK's baseURL is the server root: it adds /v1.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { anthropic_client, data_dir_make, key_create, models, package_load, png_make,
         server_start } from "./harness.mjs";

const { default: Anthropic } = await package_load("@anthropic-ai/sdk");
const T = { timeout: 180_000 };
const ask = (content) => [{ role: "user", content }];
const STOP_REASONS = ["end_turn", "max_tokens", "stop_sequence", "tool_use"];

// The comparable part of a content block (the SDK adds fields of its own, e.g. parsed_output).
const block_view = (b) => b.type === "text" ? { type: b.type, text: b.text }
    : b.type === "thinking" ? { type: b.type, thinking: b.thinking }
    : b.type === "tool_use" ? { type: b.type, name: b.name, input: b.input } : { type: b.type };

function assert_message(m, what = "") {
    const where = `${what}: ${JSON.stringify(m)}`;
    assert.match(m.id, /^msg_/, where);
    assert.equal(m.type, "message", where);
    assert.equal(m.role, "assistant", where);
    assert.equal(typeof m.model, "string", where);
    assert.ok(Array.isArray(m.content), where);
    for (const b of m.content) {
        assert.ok(["text", "thinking", "tool_use"].includes(b.type), where);
        if (b.type === "text") assert.equal(typeof b.text, "string", where);
        if (b.type === "thinking") assert.equal(typeof b.thinking, "string", where);
    }
    assert.ok(STOP_REASONS.includes(m.stop_reason), where);
    assert.ok(m.stop_sequence === null || typeof m.stop_sequence === "string", where);
    assert.ok(m.usage.input_tokens > 0, where);
    assert.ok(m.usage.output_tokens > 0, where);
}

describe("anthropic client, qwen3-tiny", () => {
    let server, client, key;
    before(async () => {
        const dir = data_dir_make();
        key = key_create(dir, "alice");
        server = await server_start({ model: models.qwen, data_dir: dir });
        client = await anthropic_client(server, key);
    });
    after(() => server?.stop());

    test("messages.create: the message shape", T, async () => {
        const m = await client.messages.create({ model: "muse", max_tokens: 24, temperature: 0, messages: ask("Hello") });
        assert_message(m);
        assert.ok(m.usage.output_tokens <= 24, JSON.stringify(m.usage));
    });

    test("system as a string and as text blocks: both add input tokens", T, async () => {
        const base = { model: "muse", max_tokens: 4, messages: ask("Hello") };
        const none = await client.messages.create(base);
        const str = await client.messages.create({ ...base, system: "You are a terse assistant." });
        const blocks = await client.messages.create({ ...base, system: [{ type: "text", text: "You are a terse assistant." }] });
        assert.ok(str.usage.input_tokens > none.usage.input_tokens);
        assert.equal(blocks.usage.input_tokens, str.usage.input_tokens);
    });

    test("max_tokens: stop_reason max_tokens, output_tokens within it", T, async () => {
        const m = await client.messages.create({ model: "muse", max_tokens: 5, temperature: 0,
                                                 messages: ask("Write a long essay.") });
        assert.equal(m.stop_reason, "max_tokens", JSON.stringify(m));
        assert.ok(m.usage.output_tokens <= 5);
    });

    test("messages.stream: the event sequence; the final message equals non-stream at temperature 0", T, async () => {
        const params = { model: "muse", max_tokens: 40, temperature: 0, messages: ask("Tell me a story.") };
        const whole = await client.messages.create(params);
        const stream = client.messages.stream(params);
        const types = [];
        for await (const event of stream) types.push(event.type);
        const final = await stream.finalMessage();
        assert.equal(types[0], "message_start", types.join(","));
        assert.equal(types.at(-1), "message_stop", types.join(","));
        assert.equal(types.filter((t) => t === "message_delta").length, 1, types.join(","));
        assert.equal(types.filter((t) => t === "content_block_start").length, final.content.length, types.join(","));
        assert.equal(types.filter((t) => t === "content_block_stop").length, final.content.length, types.join(","));
        assert.ok(types.includes("content_block_delta"), types.join(","));
        assert_message(final, "final");
        assert.deepEqual(final.content.map(block_view), whole.content.map(block_view));
        assert.equal(final.stop_reason, whole.stop_reason);
        assert.deepEqual(final.usage.output_tokens, whole.usage.output_tokens);
        assert.deepEqual(final.usage.input_tokens, whole.usage.input_tokens);
    });

    test("stream: true through messages.create yields raw events with block indices in order", T, async () => {
        const stream = await client.messages.create({ model: "muse", max_tokens: 16, temperature: 0, stream: true,
                                                      messages: ask("Hi") });
        let open = null;
        let next = 0;
        for await (const e of stream) {
            if (e.type === "content_block_start") { assert.equal(open, null); assert.equal(e.index, next); open = e.index; }
            if (e.type === "content_block_delta") {
                assert.equal(e.index, open);
                assert.ok(["text_delta", "thinking_delta", "input_json_delta", "signature_delta"].includes(e.delta.type));
            }
            if (e.type === "content_block_stop") { assert.equal(e.index, open); open = null; next++; }
        }
        assert.equal(open, null);
    });

    // Bounded strings: random weights otherwise write one input string until max_tokens.
    const arg = { type: "string", maxLength: 12 };
    const tools = [
        { name: "get_weather", description: "Weather in a city", input_schema: { type: "object", properties: { city: arg },
          required: ["city"], additionalProperties: false } },
        { name: "get_time", description: "Time in a timezone", input_schema: { type: "object", properties: { tz: arg },
          required: ["tz"], additionalProperties: false } },
    ];
    const names = tools.map((t) => t.name);
    const assert_tool_use = (m) => {
        assert.equal(m.stop_reason, "tool_use", JSON.stringify(m));
        const uses = m.content.filter((b) => b.type === "tool_use");
        assert.ok(uses.length >= 1, JSON.stringify(m.content));
        for (const u of uses) {
            assert.equal(typeof u.id, "string");
            assert.ok(u.id.length > 0);
            assert.ok(names.includes(u.name), u.name);
            assert.ok(u.input !== null && typeof u.input === "object" && !Array.isArray(u.input), JSON.stringify(u));
        }
        return uses;
    };

    test("tools with tool_choice any: a tool_use block with an object input", T, async () => {
        const m = await client.messages.create({ model: "muse", max_tokens: 400, messages: ask("Weather in Paris?"),
                                                 tools, tool_choice: { type: "any" } });
        assert_tool_use(m);
    });

    test("tools streamed: input_json_delta assembles the same tool_use at temperature 0", T, async () => {
        const params = { model: "muse", max_tokens: 400, temperature: 0, messages: ask("Weather in Paris?"), tools,
                         tool_choice: { type: "tool", name: "get_time" } };
        const whole = await client.messages.create(params);
        const uses = assert_tool_use(whole);
        assert.ok(uses.every((u) => u.name === "get_time"), JSON.stringify(uses));
        const stream = client.messages.stream(params);
        const deltas = [];
        stream.on("streamEvent", (e) => { if (e.type === "content_block_delta") deltas.push(e.delta.type); });
        const final = await stream.finalMessage();
        assert.ok(deltas.includes("input_json_delta"), deltas.join(","));
        assert.deepEqual(final.content.map(block_view), whole.content.map(block_view));
    });

    test("a tool_result goes back in", T, async () => {
        const m = await client.messages.create({ model: "muse", max_tokens: 8, tools, messages: [
            { role: "user", content: "Weather in Paris?" },
            { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris" } }] },
            { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "21 C" }] },
        ] });
        assert_message(m);
    });

    // Random weights choose whether to open a thinking block; when they do, it comes first.
    test("thinking enabled: any thinking block comes before the text", T, async () => {
        for (const seed of [1, 2, 3, 4, 5]) {
            const m = await client.messages.create({ model: "muse", max_tokens: 64, messages: ask("Why?"),
                thinking: { type: "enabled", budget_tokens: 16 }, metadata: { user_id: "t" }, temperature: 1, top_k: 40 });
            assert_message(m, `seed ${seed}`);
            const types = m.content.map((b) => b.type).join(",");
            assert.match(types, /^(thinking,)*(text)?$/, JSON.stringify(m.content));
        }
    });

    test("a bad request: BadRequestError, status 400, Anthropic's error shape", T, async () => {
        const err = await client.messages.create({ model: "muse", max_tokens: 8, messages: [{ role: "robot", content: "x" }] })
            .catch((e) => e);
        assert.ok(err instanceof Anthropic.BadRequestError, String(err));
        assert.equal(err.status, 400);
        assert.equal(err.error?.type, "error", JSON.stringify(err.error));
        assert.equal(err.error?.error?.type, "invalid_request_error", JSON.stringify(err.error));
    });

    test("max_tokens missing: 400", T, async () => {
        const err = await client.messages.create({ model: "muse", messages: ask("x") }).catch((e) => e);
        assert.ok(err instanceof Anthropic.BadRequestError, String(err));
    });

    test("a wrong key: AuthenticationError, status 401", T, async () => {
        const bad = new Anthropic({ baseURL: server.url, apiKey: "muse_k_00000000_" + "0".repeat(64), maxRetries: 0 });
        const err = await bad.messages.create({ model: "muse", max_tokens: 4, messages: ask("x") }).catch((e) => e);
        assert.ok(err instanceof Anthropic.AuthenticationError, String(err));
        assert.equal(err.error?.error?.type, "authentication_error");
    });

    test("x-api-key authenticates too (the Anthropic style)", T, async () => {
        const viaHeader = new Anthropic({ baseURL: server.url, apiKey: null, maxRetries: 0,
                                          defaultHeaders: { "x-api-key": key } });
        const m = await viaHeader.messages.create({ model: "muse", max_tokens: 4, messages: ask("x") });
        assert_message(m);
    });
});

describe("anthropic client, muse-glimmer-tiny with its vision projector", () => {
    let server, client;
    before(async () => {
        const dir = data_dir_make();
        server = await server_start({ model: models.glimmer, mmproj: models.glimmer_mmproj, data_dir: dir });
        client = await anthropic_client(server, key_create(dir, "alice"));
    });
    after(() => server?.stop());

    test("an image block (base64) adds input tokens; same answer streamed", T, async () => {
        const png = png_make(48, 32);
        const image = { type: "image", source: { type: "base64", media_type: "image/png", data: png.toString("base64") } };
        const base = { model: "muse", max_tokens: 12, temperature: 0 };
        const plain = await client.messages.create({ ...base, messages: ask("What is this?") });
        const seen = await client.messages.create({ ...base, messages: [{ role: "user",
            content: [image, { type: "text", text: "What is this?" }] }] });
        assert_message(seen);
        assert.ok(seen.usage.input_tokens > plain.usage.input_tokens,
                  `the image added no input tokens: ${plain.usage.input_tokens} -> ${seen.usage.input_tokens}`);
        const final = await client.messages.stream({ ...base, messages: [{ role: "user",
            content: [image, { type: "text", text: "What is this?" }] }] }).finalMessage();
        assert.deepEqual(final.content.map(block_view), seen.content.map(block_view));
    });
});
