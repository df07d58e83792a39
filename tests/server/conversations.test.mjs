// Conversations as trees (docs/api.md, "Conversations"): a regenerate and an edit are new
// branches beside the first, each prompt holds only its own branch, the replies say which
// messages they stored, and the conversation can be renamed, switched, searched and exported.
// A real `muse serve` on the tiny Qwen3 model.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { assert_openai_error, data_dir_make, http, key_create, models, openai_client, server_start } from "./harness.mjs";

const T = { timeout: 180_000 };
const user = (content) => ({ role: "user", content });
const sampling = { model: "m", max_tokens: 8, temperature: 0, seed: 7 };

describe("conversations: branches, rename, switch, search, export", () => {
    let server, key, other_key, client;
    before(async () => {
        const dir = data_dir_make();
        key       = key_create(dir, "alice");
        other_key = key_create(dir, "bob");
        server    = await server_start({ model: models.qwen, data_dir: dir, args: ["--tools", "artifacts", "--max-argument-chars", "120"] });
        client    = await openai_client(server, key);
    });
    after(() => server?.stop());

    const get = async (id, k = key) => (await http(server, "GET", `/v1/conversations/${id}`, { key: k }));
    const chat = (body, k = key) => http(server, "POST", "/v1/chat/completions", { key: k, body: { ...sampling, ...body } });

    test("ask, regenerate and edit keep every branch; each prompt holds only its branch", T, async () => {
        const conv = (await http(server, "POST", "/v1/conversations", { key, body: { title: "Trip planning" } })).json;
        assert.equal(conv.current_id, null);
        const muse = { conversation_id: conv.id, mode: "instant" };

        // Turn 1: ask. The reply names what it stored: the user message, then the answer.
        const r1 = await client.chat.completions.create({ ...sampling, muse, messages: [user("which tram goes to zanzibarium")] });
        const [u1, a1] = r1.muse.conversation.message_ids;
        assert.equal(r1.muse.conversation.id, conv.id);
        assert.equal(r1.muse.conversation.message_ids.length, 2);
        let got = (await get(conv.id)).json;
        assert.deepEqual(got.messages.map((m) => [m.id, m.role, m.parent_id]), [[u1, "user", null], [a1, "assistant", u1]]);
        assert.equal(got.current_id, a1);
        assert.equal(got.messages[1].content, r1.choices[0].message.content);

        // Turn 2, then a regenerate of its answer: empty messages, parent_id = the user message.
        const r2 = await chat({ muse, messages: [user("and the ferry to belem")] });
        assert.equal(r2.status, 200, r2.text);
        const [u2, a2] = r2.json.muse.conversation.message_ids;
        const regen = await chat({ muse: { ...muse, parent_id: u2 }, messages: [] });
        assert.equal(regen.status, 200, regen.text);
        assert.equal(regen.json.muse.conversation.message_ids.length, 1);
        const a2b = regen.json.muse.conversation.message_ids[0];
        assert.equal(regen.json.usage.prompt_tokens, r2.json.usage.prompt_tokens, "a regenerate's prompt is its branch's");
        got = (await get(conv.id)).json;
        const by_id = Object.fromEntries(got.messages.map((m) => [m.id, m]));
        assert.equal(by_id[a2b].parent_id, u2);
        assert.equal(by_id[a2b].role, "assistant");
        assert.deepEqual(got.messages.filter((m) => m.parent_id === u2).map((m) => m.id), [a2, a2b], "two assistant siblings");
        assert.equal(got.current_id, a2b);

        // Edit turn 2's question: parent_id = the message before it. Its prompt is turn 1 plus
        // the new question only: the same length as turn 2's (the same words), not longer.
        const edit = await chat({ muse: { ...muse, parent_id: a1 }, messages: [user("and the ferry to porto")] });
        assert.equal(edit.status, 200, edit.text);
        const [u2b, a3] = edit.json.muse.conversation.message_ids;
        assert.equal(edit.json.usage.prompt_tokens, r2.json.usage.prompt_tokens, "an edit's prompt holds only its branch");
        got = (await get(conv.id)).json;
        assert.deepEqual(got.messages.filter((m) => m.parent_id === a1).map((m) => m.id), [u2, u2b], "two user siblings");
        assert.equal(got.messages.find((m) => m.id === a3).parent_id, u2b);
        assert.equal(got.current_id, a3);
        assert.equal(got.messages.length, 7);

        // Without parent_id a turn continues the current branch; a longer prompt than turn 2's.
        const r4 = await chat({ muse, messages: [user("thanks")] });
        assert.equal(r4.status, 200, r4.text);
        const [u4] = r4.json.muse.conversation.message_ids;
        got = (await get(conv.id)).json;
        assert.equal(got.messages.find((m) => m.id === u4).parent_id, a3);

        // A regenerate of a branch that ends with an answer has nothing to answer.
        assert_openai_error(await chat({ muse: { ...muse, parent_id: a1 }, messages: [] }), 400, "invalid_request_error",
                            "empty messages after an assistant message");
        // Empty messages without a conversation stay an error.
        assert_openai_error(await chat({ messages: [] }), 400, "invalid_request_error", "empty messages, no conversation");
    });

    test("a streamed reply names its stored messages in its last chunk before [DONE]", T, async () => {
        const conv = (await http(server, "POST", "/v1/conversations", { key, body: { title: "streamed" } })).json;
        for (const include_usage of [false, true]) {
            const res = await fetch(`${server.v1}/chat/completions`, {
                method:  "POST",
                headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
                body:    JSON.stringify({ ...sampling, stream: true, stream_options: include_usage ? { include_usage } : undefined,
                                          muse: { conversation_id: conv.id, mode: "instant" },
                                          messages: [user(`streamed question ${include_usage}`)] }),
            });
            assert.equal(res.status, 200);
            const events = (await res.text()).split("\n\n").filter((e) => e.startsWith("data: ")).map((e) => e.slice(6));
            assert.equal(events.at(-1), "[DONE]");
            const last = JSON.parse(events.at(-2));
            assert.ok(last.muse?.conversation, `no muse.conversation in the last chunk: ${events.at(-2)}`);
            if (include_usage) assert.ok(last.usage, "the usage chunk stays last");
            const text = events.slice(0, -1).map((e) => JSON.parse(e)).map((c) => c.choices[0]?.delta?.content ?? "").join("");
            const ids = last.muse.conversation.message_ids;
            assert.equal(last.muse.conversation.id, conv.id);
            assert.equal(ids.length, 2);
            const got = (await get(conv.id)).json;
            assert.deepEqual(got.messages.slice(-2).map((m) => m.id), ids, "the ids are what GET shows");
            assert.equal(got.messages.at(-1).content, text);
            assert.equal(got.current_id, ids[1]);
        }
    });

    test("the agent loop (muse.tools) stores on the branch the same way", T, async () => {
        const conv = (await http(server, "POST", "/v1/conversations", { key, body: { title: "agent" } })).json;
        const muse = { conversation_id: conv.id, tools: ["artifacts"] };
        const r1 = await chat({ muse, messages: [user("make a note")] });
        assert.equal(r1.status, 200, r1.text);
        const [u1, a1] = r1.json.muse.conversation.message_ids;
        const regen = await chat({ muse: { ...muse, parent_id: u1 }, messages: [] });
        assert.equal(regen.status, 200, regen.text);
        assert.equal(regen.json.usage.prompt_tokens, r1.json.usage.prompt_tokens);
        const [a1b] = regen.json.muse.conversation.message_ids;
        const got = (await get(conv.id)).json;
        assert.deepEqual(got.messages.map((m) => [m.id, m.parent_id]), [[u1, null], [a1, u1], [a1b, u1]]);
        assert.equal(got.current_id, a1b);
    });

    test("a forced tool call is stored on the answer, left out of the next prompt, and exported", T, async () => {
        const conv = (await http(server, "POST", "/v1/conversations", { key, body: { title: "make a game" } })).json;
        const muse = { conversation_id: conv.id, tools: ["artifacts"] };
        const r1 = await chat({ muse, messages: [user("Make me a tiny mini-game.")], max_tokens: 400, reasoning_effort: "none",
                                tool_choice: { type: "function", function: { name: "create_artifact" } }, parallel_tool_calls: false });
        assert.equal(r1.status, 200, r1.text);
        const replied = r1.json.muse.tool_calls;
        assert.ok(replied.length >= 1 && replied[0].name === "create_artifact", JSON.stringify(r1.json.muse));
        assert.equal(r1.json.choices[0].message.muse, undefined, "the reply's message stays a standard one");
        const [, a1] = r1.json.muse.conversation.message_ids;

        // GET shows the calls on the stored answer, as the reply had them (images without data).
        let got = (await get(conv.id)).json;
        const answer = got.messages.find((m) => m.id === a1);
        assert.ok(answer.muse?.tool_calls, JSON.stringify(answer));
        assert.equal(answer.muse.tool_calls.length, replied.length);
        for (const [i, stored] of answer.muse.tool_calls.entries()) {
            const live = replied[i];
            for (const f of ["id", "name", "arguments", "outcome", "output", "files", "detail", "duration_ms"]) {
                assert.deepEqual(stored[f], live[f], `muse.tool_calls[${i}].${f}`);
            }
            assert.deepEqual(stored.images, live.images.map((img) => ({ name: img.name, mime_type: img.mime_type })));
        }
        const first = answer.muse.tool_calls[0];
        if (first.outcome === "ok") {
            // The artifact the call made: its id and version, and GET serves that version.
            assert.match(first.detail.artifact.id, /./, JSON.stringify(first.detail));
            assert.equal(typeof first.detail.artifact.version, "number");
            const art = await http(server, "GET", `/v1/artifacts/${first.detail.artifact.id}?format=json`, { key });
            assert.equal(art.status, 200, art.text);
        } else {
            // Random weights may write arguments the tool refuses: the refusal is what is stored.
            assert.ok(first.output.length > 0, JSON.stringify(first));
        }

        // A second turn on the branch: its history holds the answer (without "muse"), and works.
        const r2 = await chat({ muse: { conversation_id: conv.id, mode: "instant" }, messages: [user("thanks, and now?")] });
        assert.equal(r2.status, 200, r2.text);
        const [u2, a2] = r2.json.muse.conversation.message_ids;
        got = (await get(conv.id)).json;
        assert.equal(got.messages.find((m) => m.id === u2).parent_id, a1);
        assert.equal(got.current_id, a2);
        // The agent loop on that branch too (its history parsed with the muse.tools limits).
        const r3 = await chat({ muse, messages: [user("once more")] });
        assert.equal(r3.status, 200, r3.text);

        // The Markdown export names each call and its outcome under the answer.
        const md = await http(server, "GET", `/v1/conversations/${conv.id}/export?format=markdown`, { key });
        assert.equal(md.status, 200, md.text);
        assert.ok(md.text.includes(`Tool calls:\n\n- \`create_artifact\`: ${first.outcome}\n`), md.text);
    });

    test("rename, switch branch, search, export, and the errors", T, async () => {
        const conv = (await http(server, "POST", "/v1/conversations", { key, body: { title: "old name" } })).json;
        const muse = { conversation_id: conv.id, mode: "instant" };
        const r1 = await chat({ muse, messages: [user("tell me about quokkaville penguins")] });
        assert.equal(r1.status, 200, r1.text);
        const [u1, a1] = r1.json.muse.conversation.message_ids;
        const regen = await chat({ muse: { ...muse, parent_id: u1 }, messages: [] });
        const [a1b] = regen.json.muse.conversation.message_ids;

        // Rename; switch to the first answer.
        let res = await http(server, "POST", `/v1/conversations/${conv.id}`, { key, body: { title: "Penguins / \"notes\"" } });
        assert.equal(res.status, 200, res.text);
        assert.equal(res.json.title, "Penguins / \"notes\"");
        assert.equal(res.json.current_id, a1b);
        res = await http(server, "POST", `/v1/conversations/${conv.id}`, { key, body: { current_id: a1 } });
        assert.equal(res.status, 200, res.text);
        assert.equal(res.json.current_id, a1);
        assert.equal((await get(conv.id)).json.current_id, a1);
        // The list is newest first: the updated conversation leads.
        const list = (await http(server, "GET", "/v1/conversations?limit=1", { key })).json;
        assert.equal(list.data.length, 1);
        assert.equal(list.data[0].id, conv.id);
        assert.equal(typeof list.data[0].updated_at, "number");

        // Search: a word of a message (with a snippet), and a piece of the title.
        let found = (await http(server, "GET", "/v1/conversations?q=quokkaville", { key })).json;
        assert.deepEqual(found.data.map((c) => c.id), [conv.id]);
        assert.match(found.data[0].snippet, /quokkaville/i);
        assert.equal(found.data[0].title, "Penguins / \"notes\"");
        found = (await http(server, "GET", `/v1/conversations?q=${encodeURIComponent("guins / \"no")}`, { key })).json;
        assert.deepEqual(found.data.map((c) => c.id), [conv.id]);
        assert.equal(found.data[0].snippet, undefined);
        assert.equal((await http(server, "GET", "/v1/conversations?q=quokkaville", { key: other_key })).json.data.length, 0);

        // Export: the current branch (u1, a1) as Markdown, the whole tree as JSON.
        res = await http(server, "GET", `/v1/conversations/${conv.id}/export?format=markdown`, { key });
        assert.equal(res.status, 200, res.text);
        assert.match(res.headers.get("content-type"), /^text\/markdown/);
        assert.equal(res.headers.get("content-disposition"), 'attachment; filename="Penguins _ _notes_.md"');
        const got = (await get(conv.id)).json;
        const text = (id) => got.messages.find((m) => m.id === id).content;
        assert.ok(res.text.startsWith("# Penguins / \"notes\"\n"), res.text);
        assert.ok(res.text.includes("**User:**\n\ntell me about quokkaville penguins\n"), res.text);
        assert.ok(res.text.includes(`**Assistant:**\n\n${text(a1)}\n`), res.text);
        if (text(a1b) !== text(a1)) assert.ok(!res.text.includes(text(a1b)), "only the current branch");
        assert.equal(res.text.split("**Assistant:**").length, 2, "one answer: the current branch's");
        res = await http(server, "GET", `/v1/conversations/${conv.id}/export?format=json`, { key });
        assert.equal(res.status, 200);
        assert.equal(res.json.messages.length, 3);
        assert.equal(res.json.current_id, a1);
        assert_openai_error(await http(server, "GET", `/v1/conversations/${conv.id}/export?format=pdf`, { key }),
                            400, "invalid_request_error", "export format");

        // A parent_id that is not a message of the conversation; a current_id likewise.
        const elsewhere = (await http(server, "POST", "/v1/conversations", { key, body: {} })).json;
        let e = assert_openai_error(await chat({ muse: { conversation_id: elsewhere.id, parent_id: u1 }, messages: [user("x")] }),
                                    400, "invalid_request_error", "foreign parent_id");
        assert.match(e.message, new RegExp(u1));
        assert.equal(e.param, "muse.parent_id");
        e = assert_openai_error(await chat({ muse: { parent_id: u1 }, messages: [user("x")] }), 400, "invalid_request_error",
                                "parent_id without a conversation");
        assert.equal(e.param, "muse.parent_id");
        assert.equal((await get(elsewhere.id)).json.messages.length, 0, "nothing stored by a refused request");
        e = assert_openai_error(await http(server, "POST", `/v1/conversations/${elsewhere.id}`, { key, body: { current_id: a1 } }),
                                400, "invalid_request_error", "foreign current_id");
        assert.match(e.message, new RegExp(a1));
        assert_openai_error(await http(server, "POST", `/v1/conversations/${conv.id}`, { key, body: { title: 5 } }),
                            400, "invalid_request_error", "a title that is not a string");
        assert_openai_error(await http(server, "POST", `/v1/conversations/${conv.id}`, { key, body: {} }),
                            400, "invalid_request_error", "nothing to update");
        assert_openai_error(await http(server, "GET", "/v1/conversations?limit=0", { key }), 400, "invalid_request_error", "limit 0");

        // Another user's conversation is not there for them, by any route.
        assert_openai_error(await get(conv.id, other_key), 404, "not_found_error", "GET as bob");
        assert_openai_error(await http(server, "POST", `/v1/conversations/${conv.id}`, { key: other_key, body: { title: "mine" } }),
                            404, "not_found_error", "rename as bob");
        assert_openai_error(await http(server, "GET", `/v1/conversations/${conv.id}/export?format=markdown`, { key: other_key }),
                            404, "not_found_error", "export as bob");
        assert_openai_error(await chat({ muse: { conversation_id: conv.id, parent_id: u1 }, messages: [] }, other_key),
                            404, "not_found_error", "regenerate as bob");
        assert.equal((await get(conv.id)).json.messages.length, 3);
    });
});
