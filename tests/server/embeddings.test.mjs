// POST /v1/embeddings through the official `openai` npm client (client.embeddings.create) and
// on the wire with raw fetch: float and base64 vectors, `dimensions`, batches, token-id inputs,
// the 4xx errors, and a server started without --embedding-model (docs/api.md).
// qwen3-embed-tiny: random weights, Qwen3-Embedding's layout (last-token pooling), 64
// dimensions, a 512-token context.
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { assert_openai_error, data_dir_make, http, key_create, models, models_dir, openai_client, package_load,
         server_start } from "./harness.mjs";

const { NotFoundError, BadRequestError } = await package_load("openai");
const T = { timeout: 180_000 };
const EMB = "/v1/embeddings";
const embed_model = path.join(models_dir, "qwen3-embed-tiny.gguf");
const DIMS = 64;

const norm = (v) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
const max_diff = (a, b) => {
    assert.equal(a.length, b.length);
    return a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
};
// OpenAI's base64: the vector's float32 bytes, little-endian.
const base64_floats = (s) => {
    const buf = Buffer.from(s, "base64");
    assert.equal(buf.length % 4, 0, "base64 embedding is not whole float32s");
    return Array.from({ length: buf.length / 4 }, (_, i) => buf.readFloatLE(i * 4));
};

describe("embeddings, qwen3-tiny + --embedding-model qwen3-embed-tiny", () => {
    let server, client, key;
    before(async () => {
        const dir = data_dir_make();
        key = key_create(dir, "alice");
        server = await server_start({ model: models.qwen, data_dir: dir, args: ["--embedding-model", embed_model] });
        client = await openai_client(server, key);
    });
    after(() => server?.stop());

    test("the start says what was loaded", T, async () => {
        assert.match(server.stderr(), /embedding model qwen3-embed-tiny, 64 dimensions, last pooling, up to 512 tokens/);
    });

    test("client default (base64 on the wire, decoded by the client): the response shape", T, async () => {
        const r = await client.embeddings.create({ model: "text-embedding-3-small", input: "hello world" });
        assert.equal(r.object, "list");
        assert.equal(r.model, "text-embedding-3-small", "the model is echoed");
        assert.equal(r.data.length, 1);
        assert.equal(r.data[0].object, "embedding");
        assert.equal(r.data[0].index, 0);
        const v = r.data[0].embedding;
        assert.ok(Array.isArray(v), `decoded to an array, not ${typeof v}`);
        assert.equal(v.length, DIMS);
        assert.ok(Math.abs(norm(v) - 1) < 1e-5, `norm ${norm(v)}`);
        assert.ok(r.usage.prompt_tokens >= 2, JSON.stringify(r.usage));  // text + <|endoftext|>
        assert.equal(r.usage.total_tokens, r.usage.prompt_tokens);
    });

    test("float, base64 through the client, and the client's own decoding agree bit for bit", T, async () => {
        const input = "the same text, three encodings";
        const as_float = await client.embeddings.create({ model: "m", input, encoding_format: "float" });
        const as_b64 = await client.embeddings.create({ model: "m", input, encoding_format: "base64" });
        const decoded = await client.embeddings.create({ model: "m", input });
        const f = as_float.data[0].embedding;
        assert.ok(Array.isArray(f) && f.length === DIMS);
        assert.equal(typeof as_b64.data[0].embedding, "string", "an explicit base64 stays a string");
        const b = base64_floats(as_b64.data[0].embedding);
        assert.deepEqual(b, f.map(Math.fround), "base64 is the float32 bytes of the float vector");
        assert.deepEqual(decoded.data[0].embedding, b);
        assert.equal(as_float.usage.prompt_tokens, as_b64.usage.prompt_tokens);
    });

    test("the same text twice gives the same vector; different texts differ", T, async () => {
        const a = await client.embeddings.create({ model: "m", input: "cats sleep all day", encoding_format: "float" });
        const b = await client.embeddings.create({ model: "m", input: "cats sleep all day", encoding_format: "float" });
        const c = await client.embeddings.create({ model: "m", input: "the stock market fell", encoding_format: "float" });
        assert.deepEqual(a.data[0].embedding, b.data[0].embedding);
        assert.ok(max_diff(a.data[0].embedding, c.data[0].embedding) > 1e-3);
    });

    test("a batch: one vector per input, in order, each as it is alone", T, async () => {
        const inputs = ["first", "a second, longer input", "3", "fourth input, with punctuation!"];
        const batch = await client.embeddings.create({ model: "m", input: inputs, encoding_format: "float" });
        assert.equal(batch.data.length, inputs.length);
        let tokens = 0;
        for (let i = 0; i < inputs.length; i++) {
            assert.equal(batch.data[i].index, i);
            const one = await client.embeddings.create({ model: "m", input: inputs[i], encoding_format: "float" });
            tokens += one.usage.prompt_tokens;
            assert.ok(max_diff(batch.data[i].embedding, one.data[0].embedding) < 1e-4, `input ${i}`);
        }
        assert.equal(batch.usage.prompt_tokens, tokens);
    });

    test("many inputs (more than one decode holds) through the client's base64", T, async () => {
        const inputs = Array.from({ length: 200 }, (_, i) => `input number ${i} on topic ${i % 17}`);
        const r = await client.embeddings.create({ model: "m", input: inputs });
        assert.equal(r.data.length, 200);
        r.data.forEach((d, i) => {
            assert.equal(d.index, i);
            assert.equal(d.embedding.length, DIMS);
            assert.ok(Math.abs(norm(d.embedding) - 1) < 1e-5);
        });
        const last = await client.embeddings.create({ model: "m", input: inputs[199] });
        assert.ok(max_diff(r.data[199].embedding, last.data[0].embedding) < 1e-4);
    });

    test("dimensions truncates, then re-normalizes", T, async () => {
        const input = "matryoshka";
        const full = (await client.embeddings.create({ model: "m", input, encoding_format: "float" })).data[0].embedding;
        for (const d of [1, 16, DIMS]) {
            const r = await client.embeddings.create({ model: "m", input, dimensions: d, encoding_format: "float" });
            const v = r.data[0].embedding;
            assert.equal(v.length, d);
            assert.ok(Math.abs(norm(v) - 1) < 1e-5, `dimensions ${d}: norm ${norm(v)}`);
            const head = full.slice(0, d);
            const n = norm(head);
            assert.ok(max_diff(v, head.map((x) => x / n)) < 1e-5, `dimensions ${d}`);
        }
        const b64 = await client.embeddings.create({ model: "m", input, dimensions: 8, encoding_format: "base64" });
        assert.equal(base64_floats(b64.data[0].embedding).length, 8);
    });

    test("token-id inputs: one array, and an array of arrays", T, async () => {
        const ids = [9707, 1879, 151643];  // "Hello", " world", <|endoftext|> in Qwen's vocab
        const one = await client.embeddings.create({ model: "m", input: ids, encoding_format: "float" });
        assert.equal(one.data.length, 1);
        assert.equal(one.usage.prompt_tokens, 3, "token ids are used as given");
        const many = await client.embeddings.create({ model: "m", input: [ids, [100, 200], ids], encoding_format: "float" });
        assert.equal(many.data.length, 3);
        assert.equal(many.usage.prompt_tokens, 8);
        assert.deepEqual(many.data[0].embedding, one.data[0].embedding);
        assert.deepEqual(many.data[2].embedding, one.data[0].embedding);
        assert.ok(max_diff(many.data[1].embedding, one.data[0].embedding) > 1e-4);
        for (const d of many.data) assert.ok(Math.abs(norm(d.embedding) - 1) < 1e-5);
        // "Hello world" as text tokenizes to exactly these ids, so it gives the same vector.
        const text = await client.embeddings.create({ model: "m", input: "Hello world", encoding_format: "float" });
        assert.equal(text.usage.prompt_tokens, 3);
        assert.deepEqual(text.data[0].embedding, one.data[0].embedding);
    });

    test("no model field: the embedding model's name", T, async () => {
        const r = await http(server, "POST", EMB, { key, body: { input: "x" } });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.model, "qwen3-embed-tiny");
        assert.equal(r.json.data[0].embedding.length, DIMS, "float is the wire default");
        assert.ok(r.json.data[0].embedding.every((x) => typeof x === "number"));
    });

    test("4xx on the wire: every bad input names its field", T, async () => {
        const long = Array.from({ length: 700 }, (_, i) => `word${i}`).join(" ");  // > 512 tokens
        const cases = [
            [{ model: "m" }, "input", "missing_field"],
            [{ input: null }, "input", "missing_field"],
            [{ input: [] }, "input", "empty_input"],
            [{ input: "" }, "input", "empty_input"],
            [{ input: ["a", ""] }, "input[1]", "empty_input"],
            [{ input: [[]] }, "input[0]", "empty_input"],
            [{ input: Array.from({ length: 2049 }, () => "a") }, "input", "too_many_inputs"],
            [{ input: ["a", 1] }, "input[1]", "invalid_type"],
            [{ input: [[1, 2], "a"] }, "input[1]", "invalid_type"],
            [{ input: [1, "a"] }, "input[1]", "invalid_type"],
            [{ input: [[1, "a"]] }, "input[0][1]", "invalid_type"],
            [{ input: [1.5] }, "input[0]", "invalid_type"],
            [{ input: { text: "a" } }, "input", "invalid_type"],
            [{ input: 42 }, "input", "invalid_type"],
            [{ input: [{ text: "a" }] }, "input[0]", "invalid_type"],
            [{ input: [999999] }, "input[0]", "invalid_token"],
            [{ input: [[5], [-1]] }, "input[1][0]", "invalid_token"],
            [{ input: ["short", long] }, "input[1]", "context_length_exceeded"],
            [{ input: long }, "input", "context_length_exceeded"],
            [{ input: "a", encoding_format: "hex" }, "encoding_format", "invalid_value"],
            [{ input: "a", encoding_format: 1 }, "encoding_format", "invalid_type"],
            [{ input: "a", dimensions: 0 }, "dimensions", "out_of_range"],
            [{ input: "a", dimensions: DIMS + 1 }, "dimensions", "out_of_range"],
            [{ input: "a", dimensions: 1.5 }, "dimensions", "invalid_type"],
            [{ input: "a", dimensions: "8" }, "dimensions", "invalid_type"],
            [{ input: "a", model: 7 }, "model", "invalid_type"],
        ];
        for (const [body, param, code] of cases) {
            const what = JSON.stringify(body).slice(0, 120);
            const e = assert_openai_error(await http(server, "POST", EMB, { key, body }), 400, "invalid_request_error", what);
            assert.equal(e.param, param, what);
            assert.equal(e.code, code, what);
        }
        const over = assert_openai_error(await http(server, "POST", EMB, { key, body: { input: ["short", long] } }), 400,
                                         "invalid_request_error");
        assert.match(over.message, /input\[1\] has \d+ tokens, over the embedding model's limit of 512/);
        assert_openai_error(await http(server, "POST", EMB, { key, raw: "{not json", headers: { "content-type": "application/json" } }),
                            400, "invalid_request_error", "not JSON");
        assert_openai_error(await http(server, "POST", EMB, { key, body: ["a"] }), 400, "invalid_request_error", "an array body");
        assert_openai_error(await http(server, "POST", EMB, { body: { input: "a" } }), 401, "authentication_error", "no key");
        // The server is still fine.
        assert.equal((await http(server, "POST", EMB, { key, body: { input: "still up" } })).status, 200);
    });

    test("the client raises BadRequestError for a 400", T, async () => {
        await assert.rejects(client.embeddings.create({ model: "m", input: "a", dimensions: 1000 }),
                             (e) => e instanceof BadRequestError && /dimensions/.test(e.message));
    });

    test("chat still works beside the embedding model", T, async () => {
        const r = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }], max_tokens: 4 });
        assert.equal(r.choices.length, 1);
    });
});

describe("embeddings without --embedding-model", () => {
    let server, client, key;
    before(async () => {
        const dir = data_dir_make();
        key = key_create(dir, "bob");
        server = await server_start({ model: models.qwen, data_dir: dir });
        client = await openai_client(server, key);
    });
    after(() => server?.stop());

    test("a clear 404 that says how to turn it on", T, async () => {
        const e = assert_openai_error(await http(server, "POST", EMB, { key, body: { model: "m", input: "a" } }), 404,
                                      "not_found_error");
        assert.match(e.message, /--embedding-model/);
        assert.equal(e.code, "model_not_found");
        await assert.rejects(client.embeddings.create({ model: "m", input: "a" }),
                             (err) => err instanceof NotFoundError && /--embedding-model/.test(err.message));
    });
});

describe("a bad --embedding-model stops the start", () => {
    test("a missing file is named, before the chat model loads", T, async () => {
        await assert.rejects(server_start({ model: models.qwen, args: ["--embedding-model", "/nonexistent/embed.gguf"] }),
                             /\/nonexistent\/embed\.gguf: embedding model not found/);
    });
    test("a file that is not GGUF is named", T, async () => {
        await assert.rejects(server_start({ model: models.qwen, args: ["--embedding-model", import.meta.filename] }),
                             /not a GGUF file/);
    });
});
