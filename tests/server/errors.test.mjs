// Every error class of docs/api.md ("Errors") on the wire itself — raw fetch, so the status,
// the headers and the body are exactly what the server sent — plus /health and /metrics.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { assert_anthropic_error, assert_openai_error, data_dir_make, data_url, health_wait, http, key_create,
         key_revoke, models, png_make, server_start } from "./harness.mjs";

const T = { timeout: 180_000 };
const CHAT = "/v1/chat/completions";
const MESSAGES = "/v1/messages";
const ask = (content) => [{ role: "user", content }];
const long_prompt = Array.from({ length: 700 }, (_, i) => `word${i}`).join(" ");  // > 512 tokens

describe("errors, qwen3-tiny: --ctx-size 512 --max-tokens 256 --max-body-mb 1 --max-concurrency 1 --queue 1", () => {
    let server, dir, user, admin;
    before(async () => {
        dir = data_dir_make();
        user = key_create(dir, "alice");
        admin = key_create(dir, "ops", { admin: true });
        server = await server_start({ model: models.qwen, data_dir: dir, args: ["--ctx-size", "512", "--max-tokens", "256",
            "--max-body-mb", "1", "--max-concurrency", "1", "--queue", "1"] });
    });
    after(() => server?.stop());

    test("/health needs no key and has the documented shape", T, async () => {
        const r = await http(server, "GET", "/health");
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.status, "ok");
        assert.equal(typeof r.json.model, "string");
        assert.equal(r.json.slots.busy, 0);
        assert.equal(r.json.slots.total, 1, "--max-concurrency 1");
        assert.equal(r.json.queue, 0);
    });

    test("401: no key, an unknown key, a malformed key — OpenAI and Anthropic shapes", T, async () => {
        const bad = "muse_k_00000000_" + "0".repeat(64);
        assert_openai_error(await http(server, "GET", "/v1/models"), 401, "authentication_error", "no key");
        assert_openai_error(await http(server, "GET", "/v1/models", { key: bad }), 401, "authentication_error", "unknown key");
        assert_openai_error(await http(server, "GET", "/v1/models", { key: "nope" }), 401, "authentication_error", "malformed");
        assert_openai_error(await http(server, "GET", "/v1/models", { headers: { authorization: "Basic abc" } }), 401,
                            "authentication_error", "Basic auth");
        assert_openai_error(await http(server, "POST", CHAT, { body: { model: "m", messages: ask("hi") } }), 401,
                            "authentication_error", "chat without key");
        assert_anthropic_error(await http(server, "POST", MESSAGES, { body: { model: "m", max_tokens: 4, messages: ask("hi") } }),
                               401, "authentication_error", "messages without key");
        assert_anthropic_error(await http(server, "POST", MESSAGES, { headers: { "x-api-key": bad },
            body: { model: "m", max_tokens: 4, messages: ask("hi") } }), 401, "authentication_error", "messages, unknown x-api-key");
    });

    test("both key styles work: Authorization: Bearer and x-api-key", T, async () => {
        assert.equal((await http(server, "GET", "/v1/models", { key: user })).status, 200);
        assert.equal((await http(server, "GET", "/v1/models", { headers: { "x-api-key": user } })).status, 200);
    });

    test("401: a revoked key stops working at once", T, async () => {
        const key = key_create(dir, "carol");
        assert.equal((await http(server, "GET", "/v1/models", { key })).status, 200);
        key_revoke(dir, key);
        const e = assert_openai_error(await http(server, "GET", "/v1/models", { key }), 401, "authentication_error", "revoked");
        assert.ok(!e.message.includes(key), "the error echoes the key");
    });

    test("403: a user key on /metrics; 401 without a key", T, async () => {
        assert_openai_error(await http(server, "GET", "/metrics", { key: user }), 403, "permission_error", "user key on /metrics");
        assert.equal((await http(server, "GET", "/metrics")).status, 401);
    });

    test("404: unknown routes", T, async () => {
        assert_openai_error(await http(server, "GET", "/v1/nope", { key: user }), 404, "not_found_error", "GET /v1/nope");
        assert_openai_error(await http(server, "POST", "/v1/nope", { key: user, body: {} }), 404, "not_found_error", "POST /v1/nope");
        // A path with an extension: others are the web app's own routes (its index.html).
        assert.equal((await http(server, "GET", "/nope.txt", { key: user })).status, 404);
    });

    test("400: body not JSON, messages missing or mistyped, unknown role, bad n", T, async () => {
        const cases = [
            ["not JSON", { raw: "{nope", headers: { "content-type": "application/json" } }, null],
            ["empty body", { raw: "", headers: { "content-type": "application/json" } }, null],
            ["messages missing", { body: { model: "m" } }, "messages"],
            ["messages a string", { body: { model: "m", messages: "hi" } }, "messages"],
            ["unknown role", { body: { model: "m", messages: [{ role: "robot", content: "x" }] } }, "messages[0].role"],
            ["content a number", { body: { model: "m", messages: [{ role: "user", content: 5 }] } }, "messages[0].content"],
            ["n = 0", { body: { model: "m", messages: ask("x"), n: 0 } }, "n"],
            ["n = 17", { body: { model: "m", messages: ask("x"), n: 17 } }, "n"],
            ["temperature a string", { body: { model: "m", messages: ask("x"), temperature: "hot" } }, "temperature"],
            ["tool_choice unknown", { body: { model: "m", messages: ask("x"), tool_choice: "sometimes" } }, "tool_choice"],
        ];
        for (const [what, opts, param] of cases) {
            const e = assert_openai_error(await http(server, "POST", CHAT, { key: user, ...opts }), 400,
                                          "invalid_request_error", what);
            if (param) assert.equal(e.param, param, what);
        }
        for (const [what, body] of [["not JSON", null], ["max_tokens missing", { model: "m", messages: ask("x") }],
                                    ["messages missing", { model: "m", max_tokens: 4 }]]) {
            const opts = body ? { body } : { raw: "{nope", headers: { "content-type": "application/json" } };
            assert_anthropic_error(await http(server, "POST", MESSAGES, { key: user, ...opts }), 400,
                                   "invalid_request_error", `messages: ${what}`);
        }
    });

    test("400: max_tokens over --max-tokens", T, async () => {
        for (const field of ["max_tokens", "max_completion_tokens"]) {
            const e = assert_openai_error(await http(server, "POST", CHAT, { key: user,
                body: { model: "m", messages: ask("x"), [field]: 257 } }), 400, "invalid_request_error", field);
            assert.equal(e.param, field);
        }
        assert_anthropic_error(await http(server, "POST", MESSAGES, { key: user,
            body: { model: "m", messages: ask("x"), max_tokens: 257 } }), 400, "invalid_request_error", "messages max_tokens");
        assert.equal((await http(server, "POST", CHAT, { key: user,
            body: { model: "m", messages: ask("x"), max_tokens: 256 } })).status, 200, "max_tokens at the limit");
    });

    test("413: a body over --max-body-mb 1", T, async () => {
        const big = "x".repeat(1_200_000);
        assert_openai_error(await http(server, "POST", CHAT, { key: user, body: { model: "m", messages: ask(big) } }), 413,
                            "request_too_large", "chat 1.2 MB");
        assert_anthropic_error(await http(server, "POST", MESSAGES, { key: user,
            body: { model: "m", max_tokens: 4, messages: ask(big) } }), 413, "request_too_large", "messages 1.2 MB");
        assert.equal((await http(server, "GET", "/health")).status, 200, "the server survives");
    });

    test("422: a prompt longer than the context (OpenAI: unprocessable_entity; Anthropic: invalid_request_error)", T, async () => {
        const e = assert_openai_error(await http(server, "POST", CHAT, { key: user,
            body: { model: "m", messages: ask(long_prompt), max_tokens: 8 } }), 422, "unprocessable_entity", "long prompt");
        assert.equal(e.code, "context_length_exceeded");
        assert_anthropic_error(await http(server, "POST", MESSAGES, { key: user,
            body: { model: "m", messages: ask(long_prompt), max_tokens: 8 } }), 422, "invalid_request_error", "messages long prompt");
    });

    test("422: an invalid JSON schema; an image without --mmproj", T, async () => {
        const schema = { type: "object", properties: { a: { $ref: "#/definitions/nope" } } };
        assert_openai_error(await http(server, "POST", CHAT, { key: user, body: { model: "m", messages: ask("x"), max_tokens: 8,
            response_format: { type: "json_schema", json_schema: { name: "s", schema } } } }), 422, "unprocessable_entity", "bad schema");
        assert_openai_error(await http(server, "POST", CHAT, { key: user, body: { model: "m", max_tokens: 8, messages: [{ role: "user",
            content: [{ type: "image_url", image_url: { url: data_url(png_make(8, 8)) } }] }] } }), 422, "unprocessable_entity",
                            "image without mmproj");
        assert.equal((await http(server, "POST", MESSAGES, { key: user, body: { model: "m", max_tokens: 8, messages: [{ role: "user",
            content: [{ type: "image", source: { type: "base64", media_type: "image/png", data: png_make(8, 8).toString("base64") } }] }] }
        })).status, 422, "messages: image without mmproj");
    });

    test("429 with Retry-After when the queue is full (--max-concurrency 1 --queue 1)", T, async () => {
        const body = { model: "m", messages: ask("Write a long essay."), max_tokens: 256, temperature: 1, seed: 1,
                       muse: { mode: "instant" } };
        const results = await Promise.all(Array.from({ length: 6 }, () => http(server, "POST", CHAT, { key: user, body })));
        const statuses = results.map((r) => r.status);
        const refused = results.filter((r) => r.status === 429);
        assert.ok(refused.length >= 1, `no 429 among ${statuses}`);
        assert.ok(statuses.filter((s) => s === 200).length >= 1, `none served: ${statuses}`);
        assert.ok(statuses.every((s) => s === 200 || s === 429), `${statuses}`);
        for (const r of refused) {
            const e = assert_openai_error(r, 429, "rate_limit_error", "queue full");
            assert.equal(e.code, "queue_full");
            assert.match(r.headers.get("retry-after") ?? "", /^[1-9][0-9]*$/, "Retry-After: SECONDS");
        }
        // The Anthropic route says it in its own shape.
        const anthropic = { model: "m", messages: ask("Write a long essay."), max_tokens: 256 };
        const mixed = await Promise.all(Array.from({ length: 5 }, () => http(server, "POST", MESSAGES, { key: user, body: anthropic })));
        const refused_a = mixed.filter((r) => r.status === 429);
        assert.ok(refused_a.length >= 1, `no 429 among ${mixed.map((r) => r.status)}`);
        for (const r of refused_a) {
            assert_anthropic_error(r, 429, "rate_limit_error", "messages queue full");
            assert.ok(r.headers.get("retry-after"), "Retry-After");
        }
        await health_wait(server, (h) => h.slots.busy === 0 && h.queue === 0, 10_000);
    });

    test("/metrics with an admin key: Prometheus text with the documented series", T, async () => {
        const r = await http(server, "GET", "/metrics", { key: admin });
        assert.equal(r.status, 200, r.text);
        assert.match(r.headers.get("content-type") ?? "", /^text\/plain/);
        for (const name of ["muse_requests_total", "muse_tokens_prompt_total", "muse_tokens_generated_total",
                            "muse_queue_depth", "muse_sequences_active", "muse_ttft_seconds_bucket",
                            "muse_tokens_per_second_bucket"]) {
            assert.match(r.text, new RegExp(`^${name}[{ ]`, "m"), `no ${name} series`);
        }
        assert.match(r.text, /^muse_requests_total\{[^}]*route="[^"]+"[^}]*status="200"[^}]*\} [0-9]/m);
        assert.match(r.text, /^muse_requests_total\{[^}]*status="429"[^}]*\} [0-9]/m);
        const generated = Number(/^muse_tokens_generated_total(?:\{[^}]*\})? ([0-9.e+]+)/m.exec(r.text)?.[1]);
        assert.ok(generated > 0, "muse_tokens_generated_total counted nothing");
    });
});

describe("errors, muse-glimmer-tiny with its projector: images", () => {
    let server, user;
    before(async () => {
        const dir = data_dir_make();
        user = key_create(dir, "alice");
        server = await server_start({ model: models.glimmer, mmproj: models.glimmer_mmproj, data_dir: dir });
    });
    after(() => server?.stop());
    const with_image = (url) => ({ model: "m", max_tokens: 4, messages: [{ role: "user",
        content: [{ type: "text", text: "What is this?" }, { type: "image_url", image_url: { url } }] }] });

    test("413: an image over the pixel limit (a valid 8000 x 8000 PNG)", T, async () => {
        const e = assert_openai_error(await http(server, "POST", CHAT, { key: user,
            body: with_image(data_url(png_make(8000, 8000, { bilevel: true }))) }), 413, "request_too_large", "64 MP image");
        assert.match(e.param ?? "", /^messages\[0\]\.content\[1\]/);
        assert_anthropic_error(await http(server, "POST", MESSAGES, { key: user, body: { model: "m", max_tokens: 4,
            messages: [{ role: "user", content: [{ type: "image", source: { type: "base64", media_type: "image/png",
                data: png_make(8000, 8000, { bilevel: true }).toString("base64") } }] }] } }), 413, "request_too_large", "messages 64 MP");
    });

    test("400: an image that does not decode; base64 that is not base64; a remote URL; a file id that does not exist", T, async () => {
        const png = png_make(32, 32);
        const half = png.subarray(0, png.length >> 1);
        assert_openai_error(await http(server, "POST", CHAT, { key: user, body: with_image(data_url(half)) }), 400,
                            "invalid_request_error", "half a PNG");
        assert_openai_error(await http(server, "POST", CHAT, { key: user, body: with_image("data:image/png;base64,@@@@") }), 400,
                            "invalid_request_error", "bad base64");
        assert_openai_error(await http(server, "POST", CHAT, { key: user, body: with_image("https://example.com/a.png") }), 400,
                            "invalid_request_error", "remote URL");
        const missing = await http(server, "POST", CHAT, { key: user, body: with_image("file-" + "0".repeat(24)) });
        assert.ok([400, 404].includes(missing.status), `unknown file id: ${missing.status} ${missing.text}`);
        assert_openai_error(missing, missing.status, missing.status === 404 ? "not_found_error" : "invalid_request_error");
    });

    test("a good image still works after the refusals", T, async () => {
        const r = await http(server, "POST", CHAT, { key: user, body: with_image(data_url(png_make(32, 32))) });
        assert.equal(r.status, 200, r.text);
    });
});
