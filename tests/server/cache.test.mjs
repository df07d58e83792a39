// The prefix cache across requests (docs/api.md, "Prefix cache"): a conversation's next turn
// decodes only what it adds (usage.prompt_tokens_details.cached_tokens, Anthropic's
// cache_read_input_tokens) and answers as a server without the cache does, token for token up
// to near ties; one user's cells never serve another; conversations pushed out of the KV pool
// come back from RAM and disk, across a restart; a damaged file is refused and the prompt
// decoded afresh; deleting a conversation or a user deletes their files.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { anthropic_client, assert_same_tokens, data_dir_make, http, key_create, models, openai_client, server_start } from "./harness.mjs";

const T = { timeout: 300_000 };
const SYSTEM = "You are a patient assistant. You answer questions about rivers, lakes and mountains of every " +
               "continent, with their lengths, their heights and the countries they cross, in full sentences.";

// Greedy answers with their rankings, for comparing two servers' tokens up to near ties.
async function ask(client, messages, max_tokens = 10) {
    const r = await client.chat.completions.create({ model: "m", messages, max_tokens, temperature: 0,
                                                     logprobs: true, top_logprobs: 5 });
    return { text: r.choices[0].message.content ?? "", usage: r.usage, steps: r.choices[0].logprobs?.content ?? [] };
}

// The cached server's tokens are the cold one's up to near ties.
const assert_same_answer = (got, want, what) => assert_same_tokens(got.steps, want.steps, what);

function conversation(topic) {
    return [{ role: "system", content: SYSTEM }, { role: "user", content: `Tell me about ${topic}.` }];
}

function kv_files(dir) {
    const d = path.join(dir, "kv-cache");
    return fs.existsSync(d) ? fs.readdirSync(d).filter((f) => f.endsWith(".kv")) : [];
}

async function metric(server, key, name) {
    const res = await http(server, "GET", "/metrics", { key });
    const m = new RegExp(`^muse_prefix_cache_${name} (\\d+)$`, "m").exec(res.text);
    assert.ok(m, `no muse_prefix_cache_${name} in /metrics: ${res.text.slice(0, 300)}`);
    return Number(m[1]);
}

for (const [name, model] of [["qwen3", models.qwen], ["llama", models.llama]]) {
    describe(`turns of a conversation on ${name}`, () => {
        let cached, cold, key, cold_key, cached_client, cold_client;
        before(async () => {
            const dir = data_dir_make(), cold_dir = data_dir_make();
            key = key_create(dir, "alice", { admin: true });
            cold_key = key_create(cold_dir, "alice");
            cached = await server_start({ model, data_dir: dir });
            cold = await server_start({ model, data_dir: cold_dir, args: ["--no-cache"] });
            cached_client = await openai_client(cached, key);
            cold_client = await openai_client(cold, cold_key);
        });
        after(async () => { await cached?.stop(); await cold?.stop(); });

        test("each turn decodes what it adds and answers as a server without the cache", T, async () => {
            const msgs = conversation("the Danube");
            let previous_prompt = 0;
            for (let turn = 0; turn < 4; turn++) {
                const got = await ask(cached_client, msgs);
                const want = await ask(cold_client, msgs);
                assert_same_answer(got, want, `turn ${turn}`);
                assert.equal(got.usage.prompt_tokens, want.usage.prompt_tokens, `turn ${turn}: the whole prompt is counted`);
                const c = got.usage.prompt_tokens_details?.cached_tokens;
                assert.equal(want.usage.prompt_tokens_details?.cached_tokens, 0);
                if (turn === 0) {
                    assert.equal(c, 0);
                } else {
                    assert.ok(c >= previous_prompt && c < got.usage.prompt_tokens,
                              `turn ${turn}: ${c} cached of ${got.usage.prompt_tokens}; the last prompt had ${previous_prompt}`);
                }
                previous_prompt = got.usage.prompt_tokens;
                msgs.push({ role: "assistant", content: got.text }, { role: "user", content: `And then, part ${turn + 2}?` });
            }
            assert.ok(await metric(cached, key, "hits_total") >= 3);
            assert.ok(await metric(cached, key, "hit_tokens_total") > 0);
        });

        test("streamed usage carries cached_tokens; Anthropic counts cache reads apart", T, async () => {
            const msgs = conversation("the Nile");
            const first = await ask(cached_client, msgs);
            msgs.push({ role: "assistant", content: first.text }, { role: "user", content: "And its delta?" });
            const stream = await cached_client.chat.completions.create({ model: "m", messages: msgs, max_tokens: 6,
                temperature: 0, stream: true, stream_options: { include_usage: true } });
            let usage;
            for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
            assert.ok(usage?.prompt_tokens_details?.cached_tokens >= first.usage.prompt_tokens, JSON.stringify(usage));

            // Its own system prompt: alice's cells above share SYSTEM, which would be read from cache.
            const anthropic = await anthropic_client(cached, key);
            const system    = "You answer in the voice of a ship's captain, about the rivers one can sail.";
            const a_msgs = [{ role: "user", content: "Tell me about the Rhine, the river of Europe, at length." }];
            const a1 = await anthropic.messages.create({ model: "m", max_tokens: 6, system, messages: a_msgs });

            a_msgs.push({ role: "assistant", content: a1.content.map((b) => b.text ?? "").join("") || "." },
                        { role: "user", content: "And its sources?" });
            const a2 = await anthropic.messages.create({ model: "m", max_tokens: 6, system, messages: a_msgs });
            // All of a1's prompt but what a template writes after the last turn only (a1 itself
            // may read the template's opening from alice's earlier cells): Qwen3 without thinking
            // ends its prompt with an empty <think></think> that the history does not repeat.
            assert.ok(a2.usage.cache_read_input_tokens >= a1.usage.input_tokens + a1.usage.cache_read_input_tokens - 8,
                      JSON.stringify({ a1: a1.usage, a2: a2.usage }));
            assert.ok(a2.usage.input_tokens > 0, JSON.stringify(a2.usage));
        });
    });
}

describe("isolation: a user's cells serve that user only", () => {
    let server, alice, bob;
    before(async () => {
        const dir = data_dir_make();
        alice = key_create(dir, "alice");
        bob = key_create(dir, "bob");
        server = await server_start({ model: models.qwen, data_dir: dir });
    });
    after(() => server?.stop());

    test("bob sending alice's exact prompt gets no cached tokens; alice does", T, async () => {
        const msgs = conversation("Lake Baikal");
        const a = await openai_client(server, alice), b = await openai_client(server, bob);
        await ask(a, msgs);
        const again = await ask(a, msgs);
        assert.ok(again.usage.prompt_tokens_details.cached_tokens > 0, "alice's own prompt again is a hit");
        const other = await ask(b, msgs);
        assert.equal(other.usage.prompt_tokens_details.cached_tokens, 0, "bob was served from alice's cells");
        assert.equal(other.text, again.text);
    });
});

describe("--shared-prefix: an operator's system prompt, decoded once for every user", () => {
    let server, alice, bob, dir;
    before(async () => {
        dir = data_dir_make();
        alice = key_create(dir, "alice");
        bob = key_create(dir, "bob");
        fs.writeFileSync(path.join(dir, "system.txt"), SYSTEM);
        server = await server_start({ model: models.qwen, data_dir: dir, args: ["--shared-prefix", path.join(dir, "system.txt")] });
    });
    after(() => server?.stop());

    test("each user's first request copies the shared part, and no more of anyone else's", T, async () => {
        const a = await openai_client(server, alice), b = await openai_client(server, bob);
        const first_a = await ask(a, conversation("the Tigris"));
        const shared  = first_a.usage.prompt_tokens_details.cached_tokens;
        assert.ok(shared > 32, `alice's first request got ${shared} cached tokens from the shared prompt`);
        const again_a = await ask(a, conversation("the Tigris"));
        assert.ok(again_a.usage.prompt_tokens_details.cached_tokens > shared, "alice's own cells");
        const first_b = await ask(b, conversation("the Tigris"));
        assert.equal(first_b.usage.prompt_tokens_details.cached_tokens, shared, "bob got more than the shared part");
        assert.equal(first_b.text, first_a.text);
    });

    test("a system prompt too short to share is refused at start", T, async () => {
        fs.writeFileSync(path.join(dir, "short.txt"), "Hi.");
        await assert.rejects(server_start({ model: models.qwen, data_dir: data_dir_make(),
                                            args: ["--shared-prefix", path.join(dir, "short.txt")] }),
                             /--shared-prefix .*short\.txt/);
    });
});

describe("conversations pushed out of the KV pool", () => {
    let dir, key, server, cold;
    const args = ["--max-concurrency", "2", "--cache-ram", "1", "--cache-disk", "64"];
    before(async () => {
        dir = data_dir_make();
        key = key_create(dir, "alice", { admin: true });
        server = await server_start({ model: models.qwen, data_dir: dir, args });
        const cold_dir = data_dir_make();
        cold = { server: await server_start({ model: models.qwen, data_dir: cold_dir, args: ["--no-cache"] }),
                 key: key_create(cold_dir, "alice") };
    });
    after(async () => { await server?.stop(); await cold?.server.stop(); });

    test("six conversations on two slots: every turn right, the ones pushed out come back from RAM and disk", T, async () => {
        const client = await openai_client(server, key), cold_client = await openai_client(cold.server, cold.key);
        // ~1 KB of cells a token on this model: ~400 tokens each, so that 1 MiB of RAM holds two
        // or three of the four that are out of the pool, and the others go to disk.
        const topics = ["the Amazon", "the Volga", "the Mekong", "the Zambezi", "the Yukon", "the Murray"];
        const long_system = [SYSTEM, SYSTEM, SYSTEM, SYSTEM, SYSTEM, SYSTEM].join(" ");
        const convs = topics.map((t) => [{ role: "system", content: long_system }, { role: "user", content: `Tell me about ${t}.` }]);
        // Turn 1 runs backwards: the two still in the pool first, then the two last pushed out
        // (in RAM), then the two pushed out first (on disk by then).
        for (let turn = 0; turn < 3; turn++) {
            for (let k = 0; k < convs.length; k++) {
                const i = turn === 1 ? convs.length - 1 - k : k;
                const got = await ask(client, convs[i], 6);
                assert_same_answer(got, await ask(cold_client, convs[i], 6), `conversation ${i}, turn ${turn}`);
                if (turn > 0) assert.ok(got.usage.prompt_tokens_details.cached_tokens > 0, `conversation ${i}, turn ${turn}: no hit`);
                convs[i].push({ role: "assistant", content: got.text }, { role: "user", content: `More, part ${turn + 2}?` });
            }
        }
        assert.ok(await metric(server, key, "evictions_total") > 0);
        assert.ok(await metric(server, key, "hits_ram_total") > 0, "nothing came back from RAM");
        assert.ok(await metric(server, key, "hits_disk_total") > 0, "nothing came back from disk");
    });
});

describe("--cache-disk across a restart", () => {
    const args = ["--cache-disk", "64"];
    test("a conversation's next turn after a restart starts from its file; a damaged file is decoded afresh", T, async () => {
        const dir = data_dir_make();
        const key = key_create(dir, "alice", { admin: true });
        let server = await server_start({ model: models.qwen, data_dir: dir, args });
        let client = await openai_client(server, key);
        const a = conversation("the Andes"), b = conversation("the Alps");
        const a1 = await ask(client, a), b1 = await ask(client, b);
        await server.stop();
        assert.equal(kv_files(dir).length, 2, "the stopping server wrote its conversations");

        server = await server_start({ model: models.qwen, data_dir: dir, args });
        client = await openai_client(server, key);
        a.push({ role: "assistant", content: a1.text }, { role: "user", content: "And its highest peak?" });
        const a2 = await ask(client, a);
        assert.ok(a2.usage.prompt_tokens_details.cached_tokens >= a1.usage.prompt_tokens, JSON.stringify(a2.usage));
        assert.equal(await metric(server, key, "hits_disk_total"), 1);
        await server.stop();

        // Damage every file in its middle: the restarted server must refuse them.
        for (const f of kv_files(dir)) {
            const p = path.join(dir, "kv-cache", f);
            const fd = fs.openSync(p, "r+");
            const size = fs.fstatSync(fd).size;
            fs.writeSync(fd, Buffer.from([0x5a, 0xa5, 0x5a, 0xa5]), 0, 4, Math.floor(size / 2));
            fs.closeSync(fd);
        }
        server = await server_start({ model: models.qwen, data_dir: dir, args });
        client = await openai_client(server, key);
        b.push({ role: "assistant", content: b1.text }, { role: "user", content: "And its glaciers?" });
        const b2 = await ask(client, b);
        assert.equal(b2.usage.prompt_tokens_details.cached_tokens, 0, "cells from a damaged file were used");
        assert.ok(await metric(server, key, "corrupt_total") >= 1);
        const cold_dir = data_dir_make();
        const cold = await server_start({ model: models.qwen, data_dir: cold_dir, args: ["--no-cache"] });
        assert_same_answer(b2, await ask(await openai_client(cold, key_create(cold_dir, "x")), b), "after a damaged file");
        await cold.stop();
        await server.stop();
    });

    test("deleting a conversation, then a user, deletes their files", T, async () => {
        const dir = data_dir_make();
        const alice = key_create(dir, "alice"), bob = key_create(dir, "bob");
        // One slot, no RAM: whoever is not running is on disk.
        const server = await server_start({ model: models.qwen, data_dir: dir,
                                            args: ["--max-concurrency", "1", "--cache-ram", "0", "--cache-disk", "64"] });
        const conv = await http(server, "POST", "/v1/conversations", { key: alice, body: { title: "t" } });
        assert.equal(conv.status, 200, conv.text);
        const chat = (who, body) => http(server, "POST", "/v1/chat/completions", { key: who, body: { model: "m", max_tokens: 4, ...body } });
        assert.equal((await chat(alice, { messages: conversation("the Ganges"), muse: { conversation_id: conv.json.id } })).status, 200);
        assert.equal((await chat(bob, { messages: conversation("the Indus") })).status, 200);
        assert.equal(kv_files(dir).length, 1, "alice's conversation went to disk for bob's");
        const del = await http(server, "DELETE", `/v1/conversations/${conv.json.id}`, { key: alice });
        assert.equal(del.status, 200, del.text);
        assert.equal(kv_files(dir).length, 0, "the deleted conversation's file is still there");

        assert.equal((await chat(alice, { messages: conversation("the Ob") })).status, 200);  // bob's to disk
        assert.equal(kv_files(dir).length, 1);
        assert.equal((await http(server, "DELETE", "/v1/me", { key: bob })).status, 200);
        assert.equal(kv_files(dir).length, 0, "the deleted user's file is still there");
        await server.stop();
    });
});
