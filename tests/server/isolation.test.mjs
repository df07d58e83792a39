// One user's things are invisible to another (docs/api.md: "another user's id answers 404,
// exactly like an id that does not exist"), /v1/me/export holds the caller's things only, and
// DELETE /v1/me removes the user, their data and their keys.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { assert_openai_error, data_dir_make, http, key_create, models, openai_client, package_load,
         server_start } from "./harness.mjs";

const { toFile, NotFoundError } = await package_load("openai");
const T = { timeout: 180_000 };

describe("isolation between users", () => {
    let server, dir, alice, bob, alice_client, bob_client;
    const a = {};  // alice's ids
    const file_bytes = Buffer.from("alice's private notes\n");

    before(async () => {
        dir = data_dir_make();
        alice = key_create(dir, "alice");
        bob = key_create(dir, "bob");
        server = await server_start({ model: models.qwen, data_dir: dir });
        alice_client = await openai_client(server, alice);
        bob_client = await openai_client(server, bob);

        const conv = await http(server, "POST", "/v1/conversations", { key: alice, body: { title: "alice's", metadata: { k: "v" } } });
        assert.equal(conv.status, 200, conv.text);
        a.conv = conv.json.id;
        const chat = await http(server, "POST", "/v1/chat/completions", { key: alice, body: { model: "m", max_tokens: 8,
            messages: [{ role: "user", content: "hello from alice" }], muse: { conversation_id: a.conv } } });
        assert.equal(chat.status, 200, chat.text);
        a.file = (await alice_client.files.create({ file: await toFile(file_bytes, "notes.txt", { type: "text/plain" }),
                                                    purpose: "assistants" })).id;
        const mem = await http(server, "POST", "/v1/memory", { key: alice, body: { text: "alice likes tea" } });
        assert.equal(mem.status, 200, mem.text);
        a.mem = mem.json.id;
    });
    after(() => server?.stop());

    test("the created things have the documented shapes", T, async () => {
        assert.match(a.conv, /^conv_/);
        assert.match(a.file, /^file-/);
        assert.match(a.mem, /^mem_/);
        const conv = await http(server, "GET", `/v1/conversations/${a.conv}`, { key: alice });
        assert.equal(conv.status, 200, conv.text);
        assert.equal(conv.json.object, "conversation");
        assert.equal(conv.json.title, "alice's");
        assert.deepEqual(conv.json.metadata, { k: "v" });
        assert.equal(typeof conv.json.created_at, "number");
        assert.deepEqual(conv.json.messages.map((m) => m.role), ["user", "assistant"]);
        for (const m of conv.json.messages) {
            assert.equal(typeof m.id, "string");
            assert.equal(typeof m.created_at, "number");
        }
        const mems = await http(server, "GET", "/v1/memory", { key: alice });
        assert.ok(mems.json.data.some((m) => m.id === a.mem && m.text === "alice likes tea"), mems.text);
    });

    test("bob gets 404 for alice's conversation (get, delete, use in a completion)", T, async () => {
        const none = "conv_" + "0".repeat(24);
        const missing = assert_openai_error(await http(server, "GET", `/v1/conversations/${none}`, { key: bob }), 404, "not_found_error");
        const theirs = assert_openai_error(await http(server, "GET", `/v1/conversations/${a.conv}`, { key: bob }), 404,
                                           "not_found_error", "bob GET alice's conversation");
        assert.equal(theirs.code, missing.code, "another user's id reads exactly like a missing one");
        assert.equal(theirs.message.replace(a.conv, "ID"), missing.message.replace(none, "ID"));
        assert_openai_error(await http(server, "DELETE", `/v1/conversations/${a.conv}`, { key: bob }), 404, "not_found_error",
                            "bob DELETE alice's conversation");
        assert_openai_error(await http(server, "POST", "/v1/chat/completions", { key: bob, body: { model: "m", max_tokens: 4,
            messages: [{ role: "user", content: "hi" }], muse: { conversation_id: a.conv } } }), 404, "not_found_error",
                            "bob chats in alice's conversation");
        const list = await http(server, "GET", "/v1/conversations", { key: bob });
        assert.equal(list.status, 200);
        assert.equal(list.json.object, "list");
        assert.ok(!list.json.data.some((c) => c.id === a.conv), list.text);
    });

    test("bob gets 404 for alice's file (retrieve, content, delete) through the openai client", T, async () => {
        for (const [what, call] of [["retrieve", () => bob_client.files.retrieve(a.file)],
                                    ["content", () => bob_client.files.content(a.file)],
                                    ["delete", () => bob_client.files.delete(a.file)]]) {
            const err = await call().then(() => null, (e) => e);
            assert.ok(err instanceof NotFoundError, `${what}: ${err}`);
            assert.equal(err.error?.type, "not_found_error", `${what}: ${JSON.stringify(err.error)}`);
        }
        const list = await bob_client.files.list();
        assert.ok(!list.data.some((f) => f.id === a.file));
    });

    test("bob gets 404 for alice's memory item", T, async () => {
        assert_openai_error(await http(server, "DELETE", `/v1/memory/${a.mem}`, { key: bob }), 404, "not_found_error");
        const list = await http(server, "GET", "/v1/memory", { key: bob });
        assert.equal(list.status, 200);
        assert.ok(!list.text.includes(a.mem), list.text);
    });

    test("alice's things are intact after bob's attempts", T, async () => {
        const conv = await http(server, "GET", `/v1/conversations/${a.conv}`, { key: alice });
        assert.equal(conv.status, 200, conv.text);
        assert.equal(conv.json.messages.length, 2);
        const bytes = Buffer.from(await (await alice_client.files.content(a.file)).arrayBuffer());
        assert.ok(bytes.equals(file_bytes));
        assert.equal((await alice_client.files.retrieve(a.file)).filename, "notes.txt");
        const mems = await http(server, "GET", "/v1/memory", { key: alice });
        assert.ok(mems.json.data.some((m) => m.id === a.mem));
    });

    test("/v1/me/export: the caller's things only, key ids but never the key", T, async () => {
        const bob_conv = (await http(server, "POST", "/v1/conversations", { key: bob, body: { title: "bob's" } })).json.id;
        const ea = await http(server, "GET", "/v1/me/export", { key: alice });
        assert.equal(ea.status, 200, ea.text);
        for (const id of [a.conv, a.file, a.mem, "alice likes tea", "hello from alice"]) assert.ok(ea.text.includes(id), `export lacks ${id}`);
        assert.ok(!ea.text.includes(bob_conv), "alice's export shows bob's conversation");
        assert.ok(!ea.text.includes(alice.split("_").at(-1)), "the export holds the key's secret");
        assert.ok(ea.text.includes(alice.split("_").slice(1, 3).join("_")), "the export lacks the key id");
        const eb = await http(server, "GET", "/v1/me/export", { key: bob });
        assert.equal(eb.status, 200);
        for (const id of [a.conv, a.file, a.mem, "alice likes tea"]) assert.ok(!eb.text.includes(id), `bob's export shows ${id}`);
        assert.ok(eb.text.includes(bob_conv));
    });

    test("DELETE /v1/me: the key stops working and a re-created alice sees nothing of the old one", T, async () => {
        const del = await http(server, "DELETE", "/v1/me", { key: alice });
        assert.equal(del.status, 200, del.text);
        assert_openai_error(await http(server, "GET", "/v1/models", { key: alice }), 401, "authentication_error", "deleted user's key");
        const again = key_create(dir, "alice");
        for (const route of ["/v1/conversations", "/v1/files", "/v1/memory"]) {
            const r = await http(server, "GET", route, { key: again });
            assert.equal(r.status, 200, `${route}: ${r.text}`);
            assert.deepEqual(r.json.data, [], `${route} after DELETE /v1/me: ${r.text}`);
        }
        for (const route of [`/v1/conversations/${a.conv}`, `/v1/files/${a.file}`, `/v1/files/${a.file}/content`]) {
            assert_openai_error(await http(server, "GET", route, { key: again }), 404, "not_found_error", route);
        }
        const ex = await http(server, "GET", "/v1/me/export", { key: again });
        for (const id of [a.conv, a.file, a.mem]) assert.ok(!ex.text.includes(id), `the new alice's export shows ${id}`);
        // bob is untouched
        assert.equal((await http(server, "GET", "/v1/models", { key: bob })).status, 200);
    });
});
