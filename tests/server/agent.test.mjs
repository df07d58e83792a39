// The agent loop in muse serve: the Responses API (official `openai` client, the OpenAI Agents
// SDK's default Responses model, LangChain with useResponsesApi), server-side tools through
// the real path (a forced call: model → parser → tool → result → model), chat completions with
// muse.tools, artifacts, isolation between users, the audit of every call. Random weights:
// mechanics, never content.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { key_create, data_dir_make, http, models, openai_client, package_load, server_start } from "./harness.mjs";

const agents = await package_load("@openai/agents");
const { ChatOpenAI } = await package_load("@langchain/openai");
const T = { timeout: 300_000 };
agents.setTracingDisabled(true);

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const weather = { type: "function", name: "get_weather", description: "Weather for a city",
                  parameters: { type: "object", properties: { city: { type: "string", maxLength: 12 } }, required: ["city"] } };

function mcp_config(dir) {
    const file = path.join(dir, "mcp.json");
    const entry = path.join(root, "node_modules/@modelcontextprotocol/server-everything/dist/index.js");
    fs.writeFileSync(file, JSON.stringify({ mcpServers: { everything: { command: process.execPath, args: [entry, "stdio"] } } }));
    return file;
}

// The response without what differs between two runs of it (ids, times).
function shape(r) {
    return r.output.map((it) => ({ type: it.type, status: it.status,
                                   text: it.type === "message" ? it.content[0].text : undefined,
                                   name: it.name, arguments: it.arguments }));
}

for (const [label, model] of [["qwen3-tiny", models.qwen], ["muse-glimmer-tiny", models.glimmer]]) {
    describe(`agent, ${label}`, () => {
        let server, dir, alice, bob, openai, openai_bob;
        before(async () => {
            dir    = data_dir_make();
            alice  = key_create(dir, "alice");
            bob    = key_create(dir, "bob");
            server = await server_start({ model, data_dir: dir,
                                          args: ["--tools", "python,artifacts,spawn_agent,mcp", "--mcp", mcp_config(dir),
                                                 "--max-steps", "3", "--max-argument-chars", "40", "-c", "8192", "--subagent-max-tokens", "24",
                                                 "--max-concurrency", "2"] });
            openai     = await openai_client(server, alice);
            openai_bob = await openai_client(server, bob);
        });
        after(() => server?.stop());

        test("a response streams as Responses events and ends equal to the non-streamed one", T, async () => {
            const params = { model: "muse", input: "Tell me a story.", max_output_tokens: 40, temperature: 0,
                             reasoning: { effort: "minimal" } };
            const whole = await openai.responses.create(params);
            assert.equal(whole.object, "response");
            assert.equal(whole.status, "incomplete");  // 40 tokens of gibberish hit max_output_tokens
            assert.ok(whole.output_text.length > 0);
            const types = [];
            let text = "", done;
            const stream = await openai.responses.create({ ...params, stream: true });
            for await (const ev of stream) {
                types.push(ev.type);
                if (ev.type === "response.output_text.delta") text += ev.delta;
                if (ev.type === "response.completed" || ev.type === "response.incomplete") done = ev.response;
            }
            assert.equal(types[0], "response.created");
            for (const t of ["response.output_item.added", "response.content_part.added", "response.output_text.delta",
                             "response.output_text.done", "response.output_item.done"]) {
                assert.ok(types.includes(t), `${t} in ${types.join(",")}`);
            }
            assert.equal(text, whole.output_text);
            assert.deepEqual(shape(done), shape(whole));
            assert.equal(done.output_text, whole.output_text);
        });

        test("client.responses.stream: its events and finalResponse() equal responses.create", T, async () => {
            const params = { model: "muse", input: "Tell me a story.", max_output_tokens: 32, temperature: 0, reasoning: { effort: "minimal" } };
            const whole  = await openai.responses.create(params);
            const stream = openai.responses.stream(params);
            let text = "";
            stream.on("response.output_text.delta", (ev) => { text += ev.delta; });
            const final = await stream.finalResponse();
            assert.equal(text, whole.output_text);
            assert.equal(final.output_text, whole.output_text);
            assert.deepEqual(shape(final), shape(whole));
        });

        test("spawn_agent: the sub-agents run as requests of their own and their answers come back to the model", T, async () => {
            const r = await openai.responses.create({ model: "muse", input: "Research three topics.", muse: { tools: ["spawn_agent"] },
                                                      tool_choice: { type: "function", name: "spawn_agent" }, parallel_tool_calls: false,
                                                      max_output_tokens: 600, reasoning: { effort: "minimal" }, temperature: 0 });
            const item = r.output.find((it) => it.type === "muse_tool_call" && it.name === "spawn_agent");
            assert.ok(item, JSON.stringify(r.output));
            const tasks = JSON.parse(item.arguments).tasks;
            assert.ok(Array.isArray(tasks) && tasks.length >= 1);
            if (item.outcome === "ok") {
                assert.equal(item.detail.subagents.length, tasks.length);
                for (const t of tasks) assert.ok(item.output.includes(`## ${t.title || ""}`), item.output);
            } else {
                assert.match(item.output, /instruction|tasks/);  // a task without an instruction is refused whole
            }
            assert.ok(r.muse.steps >= 2, JSON.stringify(r.muse));
        });

        test("previous_response_id continues a stored conversation; GET and DELETE; another user gets 404", T, async () => {
            const first = await openai.responses.create({ model: "muse", input: "My name is Ada.", max_output_tokens: 8,
                                                          reasoning: { effort: "minimal" } });
            const second = await openai.responses.create({ model: "muse", input: "What is my name?", max_output_tokens: 8,
                                                           previous_response_id: first.id, reasoning: { effort: "minimal" } });
            assert.equal(second.previous_response_id, first.id);
            assert.ok(second.usage.input_tokens > first.usage.input_tokens + 4,
                      `${second.usage.input_tokens} input tokens after ${first.usage.input_tokens}`);
            const got = await openai.responses.retrieve(first.id);
            assert.equal(got.id, first.id);
            assert.equal(got.output_text, first.output_text);
            for (const res of [await http(server, "GET", `/v1/responses/${first.id}`, { key: bob }),
                               await http(server, "POST", "/v1/responses", { key: bob, body: { model: "muse", input: "hi", previous_response_id: first.id } })]) {
                assert.equal(res.status, 404, res.text);
            }
            await openai.responses.delete(first.id);
            assert.equal((await http(server, "GET", `/v1/responses/${first.id}`, { key: alice })).status, 404);
        });

        test("a forced client-side function call ends the turn with a function_call item; its output continues it", T, async () => {
            const r = await openai.responses.create({ model: "muse", input: "Weather in Oslo?", tools: [weather],
                                                      tool_choice: { type: "function", name: "get_weather" },
                                                      max_output_tokens: 300, temperature: 0 });
            const call = r.output.find((it) => it.type === "function_call");
            assert.ok(call, JSON.stringify(r.output));
            assert.equal(call.name, "get_weather");
            assert.equal(typeof JSON.parse(call.arguments).city, "string");
            assert.ok(call.call_id);
            // Streamed, the arguments arrive as deltas that add up to the call.
            let args = "";
            const stream = await openai.responses.create({ model: "muse", input: "Weather in Oslo?", tools: [weather],
                                                           tool_choice: { type: "function", name: "get_weather" },
                                                           max_output_tokens: 300, temperature: 0, stream: true });
            let streamed;
            for await (const ev of stream) {
                if (ev.type === "response.function_call_arguments.delta") args += ev.delta;
                if (ev.type === "response.completed") streamed = ev.response;
            }
            assert.equal(args, call.arguments);
            assert.deepEqual(shape(streamed), shape(r));
            const next = await openai.responses.create({ model: "muse", previous_response_id: r.id, max_output_tokens: 8,
                                                         input: [{ type: "function_call_output", call_id: call.call_id, output: "sunny, 21 C" }] });
            assert.ok(["completed", "incomplete"].includes(next.status));
        });

        test("the previous output sent back as input (reasoning, messages, calls: what the SDKs do) continues it", T, async () => {
            const first = await openai.responses.create({ model: "muse", input: "Weather in Oslo?", tools: [weather],
                                                          tool_choice: { type: "function", name: "get_weather" },
                                                          parallel_tool_calls: false, max_output_tokens: 400, temperature: 0 });
            const call = first.output.find((it) => it.type === "function_call");
            assert.ok(call, JSON.stringify(first.output));
            const reasoning = { type: "reasoning", id: "rs_1", summary: [], content: [{ type: "reasoning_text", text: "Use the tool." }] };
            const input = [{ role: "user", content: "Weather in Oslo?" }, reasoning, ...first.output,
                           { type: "function_call_output", call_id: call.call_id, output: "sunny" }];
            const next = await openai.responses.create({ model: "muse", input, tools: [weather], max_output_tokens: 8,
                                                         reasoning: { effort: "minimal" } });
            assert.ok(next.usage.input_tokens > first.usage.input_tokens, `${next.usage.input_tokens} after ${first.usage.input_tokens}`);
            // A server-side call's item sent back is its call and its result.
            const ci = await openai.responses.create({ model: "muse", max_output_tokens: 8, reasoning: { effort: "minimal" }, input: [
                { role: "user", content: "Run it." },
                { type: "code_interpreter_call", id: "ci_1", code: "print(1)", container_id: "x", status: "completed",
                  outputs: [{ type: "logs", logs: "1\n" }] }] });
            assert.ok(["completed", "incomplete"].includes(ci.status));
            const bad = await http(server, "POST", "/v1/responses", { key: alice, body: { model: "muse", input: [{ type: "item_reference", id: "x" }] } });
            assert.equal(bad.status, 400);
        });

        test("code_interpreter runs the model's code in the sandbox and the model reads the result", T, async () => {
            const r = await openai.responses.create({ model: "muse", input: "Compute 2**10 in Python.",
                                                      tools: [{ type: "code_interpreter", container: { type: "auto" } }],
                                                      tool_choice: { type: "code_interpreter" }, max_output_tokens: 400, parallel_tool_calls: false,
                                                      reasoning: { effort: "minimal" },
                                                      temperature: 0 });
            const ci = r.output.find((it) => it.type === "code_interpreter_call");
            assert.ok(ci, JSON.stringify(r.output));
            assert.ok(["completed", "failed"].includes(ci.status));
            assert.equal(typeof ci.code, "string");
            // Gibberish code fails in Python: its traceback (or output) is what the model read.
            assert.ok(ci.outputs.length >= 1 && ci.outputs[0].type === "logs", JSON.stringify(ci));
            assert.ok(r.output.indexOf(ci) < r.output.length - 1 || r.status !== "completed", "the model went on after the call");
            assert.equal(r.muse.steps >= 2, true, JSON.stringify(r.muse));
        });


        test("code_interpreter's files go into /mnt/data; the workspace's files are listed, served without links, and private", T, async () => {
            const { toFile } = await package_load("openai");
            const up = await openai.files.create({ file: await toFile(Buffer.from("a,b\n1,2\n"), "data.csv"), purpose: "assistants" });
            const r = await openai.responses.create({ model: "muse", input: "Sum the csv.", max_output_tokens: 400,
                                                      tools: [{ type: "code_interpreter", container: { type: "auto", file_ids: [up.id] } }],
                                                      tool_choice: { type: "code_interpreter" }, parallel_tool_calls: false,
                                                      reasoning: { effort: "minimal" }, temperature: 0 });
            const ws = r.muse.workspace;
            const list = await http(server, "GET", `/v1/workspaces/${ws}/files`, { key: alice });
            assert.equal(list.status, 200, list.text);
            assert.ok(list.json.data.some((f) => f.path === "data.csv" && f.bytes === 8), list.text);
            const got = await http(server, "GET", `/v1/workspaces/${ws}/files/data.csv`, { key: alice });
            assert.equal(got.status, 200);
            assert.equal(got.text, "a,b\n1,2\n");
            assert.match(got.headers.get("content-disposition"), /attachment/);
            // A link planted in the workspace (as sandboxed code could) is never followed.
            const owner = fs.readdirSync(path.join(dir, "workspaces")).find((u) => fs.existsSync(path.join(dir, "workspaces", u, ws)));
            fs.symlinkSync("/etc/passwd", path.join(dir, "workspaces", owner, ws, "passwd"));
            const link = await http(server, "GET", `/v1/workspaces/${ws}/files/passwd`, { key: alice });
            assert.equal(link.status, 404, link.text);
            assert.doesNotMatch(link.text, /root:/);
            for (const route of [`/v1/workspaces/${ws}/files`, `/v1/workspaces/${ws}/files/data.csv`,
                                 `/v1/workspaces/${ws}/files/..%2F..%2Fmuse.db`]) {
                assert.equal((await http(server, "GET", route, { key: bob })).status, 404, route);
            }
            assert.equal((await http(server, "GET", `/v1/workspaces/${ws}/files/..%2Fx`, { key: alice })).status, 404);
            // store: false keeps nothing: the response's fresh workspace is gone once it is answered.
            const unstored = await openai.responses.create({ model: "muse", input: "Sum the csv.", max_output_tokens: 400, store: false,
                tools: [{ type: "code_interpreter", container: { type: "auto", file_ids: [up.id] } }],
                tool_choice: { type: "code_interpreter" }, parallel_tool_calls: false, reasoning: { effort: "minimal" }, temperature: 0 });
            assert.equal((await http(server, "GET", `/v1/workspaces/${unstored.muse.workspace}/files`, { key: alice })).status, 404);
            assert.equal((await http(server, "GET", `/v1/responses/${unstored.id}`, { key: alice })).status, 404);
        });

        test("mcp tools of the operator's servers: a forced call of everything.echo returns its output", T, async () => {
            const r = await openai.responses.create({ model: "muse", input: "Echo hello.",
                                                      tools: [{ type: "mcp", server_label: "everything" }],
                                                      tool_choice: { type: "mcp", server_label: "everything", name: "echo" }, parallel_tool_calls: false,
                                                      max_output_tokens: 400, reasoning: { effort: "minimal" }, temperature: 0 });
            const call = r.output.find((it) => it.type === "mcp_call");  // the forced first step's
            assert.ok(call, JSON.stringify(r.output));
            assert.equal(call.server_label, "everything");
            assert.equal(call.name, "echo");
            const msg = JSON.parse(call.arguments).message;
            assert.equal(typeof msg, "string");
            assert.equal(call.status, "completed", JSON.stringify(call));
            // muse shows a server's control characters in caret notation (src/agent/mcp/tool-result.cpp);
            // a random-weight model's message can hold some (U+009A on AMD EPYC).
            const shown = msg.replace(/[\u0080-\u009f]/g, "^[").replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g,
                (c) => "^" + (c === "\u007f" ? "?" : String.fromCharCode(c.charCodeAt(0) + 0x40)));
            assert.ok(call.output.includes(shown), `${call.output} echoes ${shown}`);
            // Streamed: the arguments arrive as mcp_call_arguments deltas, and the end equals the above.
            const stream = await openai.responses.create({ model: "muse", input: "Echo hello.", stream: true,
                                                           tools: [{ type: "mcp", server_label: "everything" }],
                                                           tool_choice: { type: "mcp", server_label: "everything", name: "echo" },
                                                           parallel_tool_calls: false, max_output_tokens: 400,
                                                           reasoning: { effort: "minimal" }, temperature: 0 });
            let args = "", done, completed = 0;
            for await (const ev of stream) {
                if (ev.type === "response.mcp_call_arguments.delta" && ev.output_index === r.output.indexOf(call)) args += ev.delta;
                if (ev.type === "response.mcp_call.completed") completed++;
                if (ev.type === "response.completed" || ev.type === "response.incomplete") done = ev.response;
            }
            assert.equal(args, call.arguments);
            assert.ok(completed >= 1);
            assert.deepEqual(shape(done), shape(r));
            const res = await http(server, "POST", "/v1/responses", { key: alice, body: {
                model: "muse", input: "x", tools: [{ type: "mcp", server_label: "x", server_url: "http://example.com/mcp" }] } });
            assert.equal(res.status, 400, res.text);
            assert.match(res.json.error.message, /operator/);
        });

        test("artifacts: a forced create_artifact is stored, versioned, served with a strict CSP, and private", T, async () => {
            const r = await openai.responses.create({ model: "muse", input: "Make a tiny game.", muse: { tools: ["artifacts"] },
                                                      tool_choice: { type: "function", name: "create_artifact" }, parallel_tool_calls: false,
                                                      max_output_tokens: 400, reasoning: { effort: "minimal" }, temperature: 0 });
            const item = r.output.find((it) => it.type === "muse_tool_call");
            assert.ok(item, JSON.stringify(r.output));
            const args = JSON.parse(item.arguments);
            if (item.outcome !== "ok") {
                // Random weights may write an svg without <svg: refused whole, never stored cut.
                assert.match(item.output, /svg|empty/);
                return;
            }
            const id = item.detail.artifact.id;
            const res = await http(server, "GET", `/v1/artifacts/${id}`, { key: alice });
            assert.equal(res.status, 200);
            assert.equal(res.text, args.content);
            assert.match(res.headers.get("content-security-policy"), /default-src 'none'.*sandbox allow-scripts/);
            assert.match(res.headers.get("content-type"), /^(text\/html|image\/svg\+xml|text\/markdown)/);
            assert.equal((await http(server, "GET", `/v1/artifacts/${id}`, { key: bob })).status, 404);
        });

        test("chat completions with muse.tools: the loop runs, streamed equal to not, and every call is audited", T, async () => {
            const params = { model: "muse", messages: [{ role: "user", content: "Make a chart." }],
                             muse: { tools: ["artifacts"] }, tool_choice: { type: "function", function: { name: "create_artifact" } },
                             parallel_tool_calls: false,
                             max_tokens: 400, temperature: 0, reasoning_effort: "none" };
            const whole = await openai.chat.completions.create(params);
            assert.ok(whole.muse.tool_calls.length >= 1, JSON.stringify(whole.muse));
            assert.equal(whole.muse.tool_calls[0].name, "create_artifact");
            const stream = await openai.chat.completions.create({ ...params, stream: true });
            let text = "", finished = 0;
            for await (const c of stream) {
                text += c.choices[0]?.delta?.content ?? "";
                if (c.muse?.event === "tool_call.finished") finished++;
            }
            assert.equal(finished, whole.muse.tool_calls.length);
            const exp = (await http(server, "GET", "/v1/me/export", { key: alice })).json;
            const audited = exp.audit.filter((a) => a.action === "tool_call");
            assert.ok(audited.length >= 2, JSON.stringify(exp.audit));
            for (const a of audited) {
                assert.match(a.detail.arguments_digest, /^[0-9a-f]{64}$/);
                assert.ok(typeof a.detail.duration_ms === "number" && a.detail.outcome);
            }
            const none = await http(server, "POST", "/v1/chat/completions", { key: alice, body: { ...params, muse: { tools: ["shell"] } } });
            assert.equal(none.status, 400, none.text);
        });

        test("contemplate with tools: each agent runs its own loop, the answers are voted on, every call audited", T, async () => {
            const params = { model: "muse", messages: [{ role: "user", content: "Make a chart." }], max_tokens: 500, temperature: 0.7,
                             muse: { tools: ["artifacts"], mode: "contemplate", agents: 3, think_budget: 8 },
                             tool_choice: { type: "function", function: { name: "create_artifact" } }, parallel_tool_calls: false };
            const before = (await http(server, "GET", "/v1/me/export", { key: alice })).json.audit.filter((a) => a.action === "tool_call").length;
            const r = await openai.chat.completions.create(params);
            assert.equal(r.muse.mode, "contemplate");
            assert.equal(r.muse.agents.length, 3);
            let calls = 0;
            for (const a of r.muse.agents) {
                assert.ok(a.tool_calls >= 1, JSON.stringify(a));  // each agent's forced first step ran its own call
                calls += a.tool_calls;
            }
            assert.ok(r.muse.agreement > 0 && r.muse.agreement <= 1);
            assert.equal(typeof r.choices[0].message.content, "string");
            const after = (await http(server, "GET", "/v1/me/export", { key: alice })).json.audit.filter((a) => a.action === "tool_call").length;
            assert.equal(after - before, calls);
            const orch = await http(server, "POST", "/v1/chat/completions", { key: alice, body: { ...params, muse: { tools: ["artifacts"], mode: "orchestrate" } } });
            assert.equal(orch.status, 400);
            assert.match(orch.json.error.message, /spawn_agent/);
            // The same through the Responses API: the winner's turn is the output.
            for (const stream of [false, true]) {
                const body = { model: "muse", input: "Make a chart.", max_output_tokens: 500, temperature: 0.7, seed: 7, stream,
                               muse: { tools: ["artifacts"], mode: "contemplate", agents: 3, think_budget: 8 },
                               tool_choice: { type: "function", name: "create_artifact" }, parallel_tool_calls: false };
                let resp;
                if (!stream) {
                    resp = await openai.responses.create(body);
                } else {
                    for await (const ev of await openai.responses.create(body)) {
                        if (ev.type === "response.completed" || ev.type === "response.incomplete") resp = ev.response;
                    }
                }
                assert.equal(resp.muse.mode, "contemplate");
                assert.equal(resp.muse.agents.length, 3);
                const item = resp.output.find((it) => it.type === "muse_tool_call");
                assert.ok(item && item.name === "create_artifact" && item.status !== "in_progress", JSON.stringify(resp.output));
            }
        });

        test("a client that goes away while a tool runs stops the tool and the model within a step", T, async (t) => {
            if (label !== "qwen3-tiny") return t.skip("the greedy call checked here is qwen3-tiny's ({} = 10 s)");
            const before = (await http(server, "GET", "/v1/me/export", { key: alice })).json.audit.length;
            const controller = new AbortController();
            const res = await fetch(`${server.v1}/chat/completions`, {
                method: "POST", signal: controller.signal,
                headers: { authorization: `Bearer ${alice}`, "content-type": "application/json" },
                body: JSON.stringify({ model: "muse", messages: [{ role: "user", content: "Run it." }], stream: true,
                                       muse: { tools: ["mcp"] }, parallel_tool_calls: false, max_tokens: 300, temperature: 0,
                                       reasoning_effort: "none",
                                       tool_choice: { type: "function", function: { name: "everything.trigger-long-running-operation" } } }) });
            const reader = res.body.getReader();
            let text = "", started;
            while (!started) {
                const { value, done } = await reader.read();
                assert.ok(!done, text);
                text += new TextDecoder().decode(value);
                for (const line of text.split("\n")) {
                    if (!line.startsWith("data: {")) continue;
                    const m = JSON.parse(line.slice(6)).muse;
                    if (m?.event === "tool_call.started") started = m;
                }
            }
            const args = JSON.parse(started.arguments);
            assert.ok(args.duration === undefined || args.duration >= 5, started.arguments);  // the operation takes 10 s by default
            const t0 = Date.now();
            controller.abort();
            let audit;
            for (;;) {
                audit = (await http(server, "GET", "/v1/me/export", { key: alice })).json.audit.slice(before).find((a) => a.action === "tool_call");
                if (audit || Date.now() - t0 > 8000) break;
                await new Promise((r) => setTimeout(r, 100));
            }
            assert.ok(audit, "the call was audited");
            assert.equal(audit.detail.outcome, "cancelled", JSON.stringify(audit));
            assert.ok(Date.now() - t0 < 4000, `${Date.now() - t0} ms after the client left`);
            const h = (await http(server, "GET", "/health")).json;
            assert.equal(h.slots.busy, 0, JSON.stringify(h));
        });

        test("the OpenAI Agents SDK's default (Responses) model runs a tool loop against muse", T, async () => {
            // The SDK's default provider (Responses API) over this server's client; a Runner of its
            // own, since the default provider keeps the first client it made.
            const client = await openai_client(server, alice);
            const runner = new agents.Runner({ modelProvider: new agents.OpenAIProvider({ openAIClient: client, useResponses: true }) });
            let called = 0;
            const get_weather = agents.tool({ name: "get_weather", description: "Weather for a city", strict: false,
                parameters: { type: "object", properties: { city: { type: "string", maxLength: 12 } }, required: ["city"],
                              additionalProperties: false },
                execute: async ({ city }) => { called++; return `sunny in ${city}`; } });
            const agent = new agents.Agent({ name: "weather", instructions: "Use the tool.", model: "muse", tools: [get_weather],
                                             modelSettings: { toolChoice: "required", maxTokens: 400, temperature: 0, parallelToolCalls: false,
                                                                             reasoning: { effort: "minimal" } },
                                             toolUseBehavior: "stop_on_first_tool" });
            const result = await runner.run(agent, "Weather in Rome?");
            assert.equal(called, 1);
            assert.match(String(result.finalOutput), /^sunny in /);
        });

        test("LangChain's ChatOpenAI with useResponsesApi: a message and a forced tool call", T, async () => {
            const llm = new ChatOpenAI({ model: "muse", apiKey: alice, useResponsesApi: true, maxTokens: 400, temperature: 0,
                                         reasoning: { effort: "minimal" }, configuration: { baseURL: server.v1 }, maxRetries: 0 });
            const msg = await llm.invoke("Hello");
            const text = typeof msg.content === "string" ? msg.content : msg.content.map((p) => p.text ?? "").join("");
            assert.ok(text.length > 0, JSON.stringify(msg.content));
            const bound = llm.bindTools([{ type: "function", function: { name: weather.name, description: weather.description,
                                                                          parameters: weather.parameters } }],
                                        { tool_choice: "get_weather" });
            const called = await bound.invoke("Weather in Lima?");
            assert.equal(called.tool_calls.length >= 1, true, JSON.stringify(called));
            assert.equal(called.tool_calls[0].name, "get_weather");
        });
    });
}

describe("agent tools are off unless the operator turns them on", () => {
    let server, key;
    before(async () => {
        const dir = data_dir_make();
        key       = key_create(dir, "alice");
        server    = await server_start({ model: models.qwen, data_dir: dir });
    });
    after(() => server?.stop());
    test("code_interpreter and muse.tools answer 400 tool_not_enabled", T, async () => {
        for (const body of [{ model: "muse", input: "x", tools: [{ type: "code_interpreter", container: { type: "auto" } }] },
                            { model: "muse", input: "x", muse: { tools: ["artifacts"] } }]) {
            const res = await http(server, "POST", "/v1/responses", { key, body });
            assert.equal(res.status, 400, res.text);
            assert.equal(res.json.error.code, "tool_not_enabled");
            assert.match(res.json.error.message, /--tools/);
        }
    });
});

describe("images a tool returns are shown to a model that sees", () => {
    let seeing, blind, key_s, key_b, dir_s, dir_b;
    before(async () => {
        dir_s = data_dir_make();
        dir_b = data_dir_make();
        key_s = key_create(dir_s, "alice");
        key_b = key_create(dir_b, "alice");
        const args = (dir) => ["--tools", "mcp", "--mcp", mcp_config(dir), "--max-steps", "2", "-c", "8192", "--max-concurrency", "2"];
        seeing = await server_start({ model: models.glimmer, mmproj: models.glimmer_mmproj, data_dir: dir_s, args: args(dir_s) });
        blind  = await server_start({ model: models.glimmer, data_dir: dir_b, args: args(dir_b) });
    });
    after(() => { seeing?.stop(); blind?.stop(); });
    test("server-everything's get-tiny-image: the next step's prompt holds the image (with the projector only)", T, async () => {
        const body = { model: "muse", input: "Show me an image.", tools: [{ type: "mcp", server_label: "everything" }],
                       tool_choice: { type: "mcp", server_label: "everything", name: "get-tiny-image" }, parallel_tool_calls: false,
                       max_output_tokens: 300, reasoning: { effort: "minimal" }, temperature: 0 };
        const a = (await http(seeing, "POST", "/v1/responses", { key: key_s, body })).json;
        const b = (await http(blind, "POST", "/v1/responses", { key: key_b, body })).json;
        for (const r of [a, b]) {
            const call = r.output.find((it) => it.type === "mcp_call");
            assert.ok(call && call.status === "completed", JSON.stringify(r.output));
            assert.equal(r.muse.steps, 2, JSON.stringify(r.muse));
        }
        // The same first step on both (greedy, same prompt); the second prompt is longer by the image.
        assert.equal(a.muse.step_usage[0].prompt_tokens, b.muse.step_usage[0].prompt_tokens);
        assert.equal(a.output[0].arguments, b.output[0].arguments);
        const grown_a = a.muse.step_usage[1].prompt_tokens - a.muse.step_usage[0].prompt_tokens;
        const grown_b = b.muse.step_usage[1].prompt_tokens - b.muse.step_usage[0].prompt_tokens;
        assert.ok(grown_a > grown_b + 8, `with the projector the second prompt grew by ${grown_a} tokens, without by ${grown_b}`);
    });
});
