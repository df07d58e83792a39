// The client libraries people build on, unchanged, against `muse serve` on every test model:
// the Vercel AI SDK (`ai` + `@ai-sdk/openai-compatible`), LangChain (`@langchain/openai`), the
// OpenAI Agents SDK (`@openai/agents`, tracing off: nothing leaves the machine), and the
// official `openai` and `@anthropic-ai/sdk` clients for what the libraries rely on: tool
// arguments and text that stream as they are generated, the token-count routes, the model
// list. Random weights: mechanics (valid calls, valid objects, stream equal to non-stream),
// never content.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { key_create, data_dir_make, models, openai_client, package_load, server_start } from "./harness.mjs";

const { default: OpenAI } = await package_load("openai");
const { default: Anthropic } = await package_load("@anthropic-ai/sdk");
const ai = await package_load("ai");
const { createOpenAICompatible } = await package_load("@ai-sdk/openai-compatible");
const { ChatOpenAI } = await package_load("@langchain/openai");
const { tool: lc_tool } = await package_load("@langchain/core/tools");
const { HumanMessage, ToolMessage } = await package_load("@langchain/core/messages");
const agents = await package_load("@openai/agents");
const { z } = await package_load("zod");

const T = { timeout: 240_000 };
agents.setTracingDisabled(true);

const weather_params = {
    type: "object",
    properties: { city: { type: "string", minLength: 3, maxLength: 16 }, days: { type: "integer" } },
    required: ["city"],
};
const weather_tool = { type: "function", function: { name: "get_weather", description: "Weather for a city", parameters: weather_params } };
const weather_zod = z.object({ city: z.string().max(16).describe("a city"), days: z.number().int().optional() });

for (const [label, model] of [["qwen3-tiny", models.qwen], ["llama-tiny", models.llama], ["muse-glimmer-tiny", models.glimmer]]) {
    describe(`client libraries, ${label}`, () => {
        let server, key, openai, anthropic;
        before(async () => {
            const dir = data_dir_make();
            key       = key_create(dir, "alice");
            // Stream and whole answers are compared token for token, tool arguments included (no
            // logprobs there to tell a near tie): no prefix cache, so the repeat decodes its prompt
            // in the same batch shapes (docs/api.md, "seed"; the cache has its own suite).
            server    = await server_start({ model, data_dir: dir, args: ["--no-cache"] });
            openai    = await openai_client(server, key);
            anthropic = new Anthropic({ baseURL: server.url, apiKey: key, maxRetries: 0 });
        });
        after(() => server?.stop());

        // --- what the libraries stand on --------------------------------------------------

        test("text streams in many chunks whose concatenation is the non-streamed answer", T, async () => {
            const params = { model: "muse", messages: [{ role: "user", content: "Tell me a story." }], max_tokens: 48,
                             temperature: 0, reasoning_effort: "none" };
            const whole = await openai.chat.completions.create(params);
            const stream = await openai.chat.completions.create({ ...params, stream: true });
            const pieces = [];
            for await (const c of stream) if (c.choices[0]?.delta?.content) pieces.push(c.choices[0].delta.content);
            assert.equal(pieces.join(""), whole.choices[0].message.content);
            assert.ok(pieces.length >= 8, `${pieces.length} content chunks for ${whole.usage.completion_tokens} tokens`);
        });

        test("tool arguments stream as they are generated (OpenAI) and equal the non-streamed call", T, async () => {
            for (const [n, city] of [[1, "Paris"], [2, "Lima"], [3, "Oslo"]]) {
                const seed = n;
                const params = { model: "muse", messages: [{ role: "user", content: `Weather in ${city}?` }], max_tokens: 200,
                                 temperature: 0, tools: [weather_tool], tool_choice: "required", reasoning_effort: "none",
                                 parallel_tool_calls: false };
                const whole = await openai.chat.completions.create(params);
                const call  = whole.choices[0].message.tool_calls[0];
                const stream = await openai.chat.completions.create({ ...params, stream: true });
                const pieces = [];
                let name = "", id = "", finish = null;
                for await (const c of stream) {
                    for (const tc of c.choices[0]?.delta?.tool_calls ?? []) {
                        assert.equal(tc.index, 0);
                        if (tc.function?.name) name += tc.function.name;
                        if (tc.id) id += tc.id;
                        if (tc.function?.arguments) pieces.push(tc.function.arguments);
                    }
                    finish = c.choices[0]?.finish_reason ?? finish;
                }
                assert.equal(finish, "tool_calls");
                assert.equal(name, "get_weather");
                assert.ok(id.length > 0);
                assert.equal(pieces.join(""), call.function.arguments, `seed ${seed}`);
                assert.equal(typeof JSON.parse(call.function.arguments).city, "string", call.function.arguments);
                assert.ok(pieces.length >= 3, `seed ${seed}: arguments in ${pieces.length} chunks: ${JSON.stringify(pieces)}`);
            }
        });

        test("tool input streams as input_json_delta pieces (Anthropic) and equals the non-streamed tool_use", T, async () => {
            const params = { model: "muse", max_tokens: 200, temperature: 0, messages: [{ role: "user", content: "Weather in Paris?" }],
                             tools: [{ name: "get_weather", description: "Weather", input_schema: weather_params }],
                             tool_choice: { type: "any" } };
            const whole = await anthropic.messages.create(params);
            const use   = whole.content.find((b) => b.type === "tool_use");
            assert.ok(use, JSON.stringify(whole.content));
            const pieces = [];
            const stream = await anthropic.messages.create({ ...params, stream: true });
            for await (const ev of stream) {
                if (ev.type === "content_block_delta" && ev.delta.type === "input_json_delta") pieces.push(ev.delta.partial_json);
            }
            assert.deepEqual(JSON.parse(pieces.join("")), use.input);
            assert.ok(pieces.length >= 3, `input in ${pieces.length} pieces`);
        });

        test("count_tokens (Anthropic) and responses/input_tokens (OpenAI) equal the prompt a request runs", T, async () => {
            const messages = [{ role: "user", content: "How many tokens is this?" }];
            const counted = await anthropic.messages.countTokens({ model: "muse", messages, system: "Be brief." });
            const ran = await anthropic.messages.create({ model: "muse", max_tokens: 2, messages, system: "Be brief." });
            assert.equal(counted.input_tokens, ran.usage.input_tokens + (ran.usage.cache_read_input_tokens ?? 0));
            const r = await fetch(`${server.url}/v1/responses/input_tokens`, {
                method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
                body: JSON.stringify({ model: "muse", instructions: "Be brief.", input: "How many tokens is this?" }) });
            assert.equal(r.status, 200);
            const body = await r.json();
            assert.equal(body.object, "response.input_tokens");
            const chat = await openai.chat.completions.create({ model: "muse", max_tokens: 1,
                messages: [{ role: "system", content: "Be brief." }, ...messages] });
            assert.equal(body.input_tokens, chat.usage.prompt_tokens);
            const bad = await fetch(`${server.url}/v1/responses/input_tokens`, {
                method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
                body: JSON.stringify({ model: "muse", input: [{ type: "web_search_call" }] }) });
            assert.equal(bad.status, 400);
            assert.match((await bad.json()).error.message, /input\[0\]: unknown item type 'web_search_call'/);
        });

        test("models.list: Anthropic's type and display_name, OpenAI's object", T, async () => {
            const page = await anthropic.models.list();
            assert.equal(page.data.length, 1);
            assert.equal(page.data[0].type, "model");
            assert.equal(typeof page.data[0].display_name, "string");
            assert.ok(!Number.isNaN(Date.parse(page.data[0].created_at)));
            const o = await openai.models.list();
            assert.equal(o.data[0].object, "model");
        });

        // --- the Vercel AI SDK ---------------------------------------------------------------

        const sdk_model = () => createOpenAICompatible({ name: "muse", baseURL: `${server.url}/v1`, apiKey: key,
                                                         supportsStructuredOutputs: true }).chatModel("muse");

        test("AI SDK: generateText and streamText (same text at temperature 0)", T, async () => {
            const opts = { model: sdk_model(), prompt: "Hello!", maxOutputTokens: 32, temperature: 0,
                           providerOptions: { muse: { reasoningEffort: "none" } } };
            const whole = await ai.generateText(opts);
            assert.equal(typeof whole.text, "string");
            assert.ok(["stop", "length"].includes(whole.finishReason), whole.finishReason);
            const s = ai.streamText(opts);
            let text = "";
            for await (const piece of s.textStream) text += piece;
            assert.equal(text, whole.text);
        });

        test("AI SDK: a forced tool call and its own tool loop (stopWhen)", T, async () => {
            const executed = [];
            const tools = { get_weather: ai.tool({ description: "Weather for a city", inputSchema: weather_zod,
                                                   execute: async (input) => { executed.push(input); return { temperature: 21 }; } }) };
            // Room for every parallel call the forced turn may write (at most 8, each a city of at
            // most 16 characters and an optional integer): with 200 tokens, seed 4 on one AMD EPYC
            // ran out in a later call (finish "length"), and the loop stopped after one step.
            const r = await ai.generateText({ model: sdk_model(), prompt: "Weather in Paris?", tools, toolChoice: "required",
                                              stopWhen: ai.stepCountIs(2), maxOutputTokens: 600, temperature: 1, seed: 4,
                                              providerOptions: { muse: { reasoningEffort: "none" } } });
            assert.equal(r.steps.length, 2, "two steps: the call, then a turn with its result");
            assert.equal(r.steps[0].toolCalls[0].toolName, "get_weather");
            assert.equal(typeof r.steps[0].toolCalls[0].input.city, "string");
            assert.equal(r.steps[0].toolResults[0].output.temperature, 21);
            assert.ok(executed.length >= 1);
        });

        test("AI SDK: generateObject with a zod schema", T, async () => {
            for (const seed of [1, 2]) {
                const r = await ai.generateObject({ model: sdk_model(), prompt: "Weather?", schema: weather_zod,
                                                    maxOutputTokens: 300, temperature: 1, seed });
                assert.equal(typeof r.object.city, "string");
                assert.equal(r.finishReason, "stop");
            }
        });

        // --- LangChain ----------------------------------------------------------------------

        const lc_model = (extra = {}) => new ChatOpenAI({ model: "muse", apiKey: key, configuration: { baseURL: `${server.url}/v1` },
                                                          temperature: 0, maxTokens: 200, maxRetries: 0, ...extra });
        const lc_weather = lc_tool(async ({ city }) => `21 degrees in ${city}`,
                                   { name: "get_weather", description: "Weather for a city", schema: weather_zod });

        test("LangChain: invoke and stream (the chunks add up to the invoked answer)", T, async () => {
            const m = lc_model({ maxTokens: 32, reasoning: { effort: "minimal" } });
            const whole = await m.invoke("Hello!");
            assert.equal(typeof whole.content, "string");
            let text = "";
            for await (const chunk of await m.stream("Hello!")) text += chunk.content;
            assert.equal(text, whole.content);
        });

        test("LangChain: bindTools with a forced call, streamed tool chunks, and the tool message back", T, async () => {
            const m = lc_model({ reasoning: { effort: "minimal" } }).bindTools([lc_weather], { tool_choice: "required" });
            const ask = [new HumanMessage("Weather in Paris?")];
            const msg = await m.invoke(ask);
            assert.equal(msg.tool_calls.length >= 1, true, JSON.stringify(msg));
            assert.equal(msg.tool_calls[0].name, "get_weather");
            assert.equal(typeof msg.tool_calls[0].args.city, "string");
            let gathered;
            let n_chunks = 0;
            for await (const chunk of await m.stream(ask)) {
                gathered = gathered ? gathered.concat(chunk) : chunk;
                n_chunks += (chunk.tool_call_chunks ?? []).length;
            }
            assert.deepEqual(gathered.tool_calls[0].args, msg.tool_calls[0].args);
            assert.ok(n_chunks >= 3, `tool call in ${n_chunks} chunks`);
            const result = await lc_weather.invoke(msg.tool_calls[0]);
            assert.ok(result instanceof ToolMessage);
            const next = await lc_model({ maxTokens: 16, reasoning: { effort: "minimal" } }).bindTools([lc_weather])
                .invoke([...ask, msg, result]);
            assert.equal(typeof next.content, "string");
        });

        test("LangChain: withStructuredOutput (JSON schema)", T, async () => {
            const m = lc_model({ temperature: 1 }).withStructuredOutput(weather_zod, { method: "jsonSchema" });
            const r = await m.invoke("Weather?");
            assert.equal(typeof r.city, "string");
        });

        // --- the OpenAI Agents SDK ------------------------------------------------------------

        const agents_model = () => new agents.OpenAIChatCompletionsModel(
            new OpenAI({ baseURL: `${server.url}/v1`, apiKey: key, maxRetries: 0 }), "muse");

        // The run ends with the tool's output (toolUseBehavior stop_on_first_tool): the turn
        // after a tool result is random text that may run to maxTokens inside a lazy call,
        // which the SDK rightly calls a model error. Tool results going back in are the AI SDK
        // and LangChain tests' part.
        test("Agents SDK: the run loop calls the tool and ends with its output, streamed too", T, async () => {
            const executed = [];
            // A JSON schema, not zod: the SDK's strict zod schemas drop maxLength, and random
            // weights then write the city until maxTokens (a real model ends its string).
            const get_weather = agents.tool({ name: "get_weather", description: "Weather for a city", strict: false,
                                              parameters: { ...weather_params, additionalProperties: false },
                                              execute: async ({ city }) => { executed.push(city); return `21 degrees in ${city}`; } });
            const agent = new agents.Agent({ name: "weather", instructions: "Answer with the weather.", model: agents_model(),
                                             tools: [get_weather], toolUseBehavior: "stop_on_first_tool",
                                             modelSettings: { toolChoice: "required", maxTokens: 300, temperature: 0,
                                                              reasoning: { effort: "minimal" } } });
            const r = await agents.run(agent, "Weather in Paris?", { maxTurns: 4 });
            assert.ok(executed.length >= 1, "the tool never ran");
            assert.equal(r.finalOutput, `21 degrees in ${executed[0]}`);
            const s = await agents.run(agent, "Weather in Paris?", { maxTurns: 4, stream: true });
            let events = 0;
            for await (const ev of s) events += ev.type === "raw_model_stream_event";
            await s.completed;
            assert.ok(events > 3, `${events} raw stream events`);
            assert.match(s.finalOutput, /^21 degrees in /);
        });

        test("Agents SDK: outputType (structured output)", T, async () => {
            // Every field required: the SDK's strict schemas make an optional field a nullable
            // one, and then its own zod check refuses the null the schema allowed.
            const agent = new agents.Agent({ name: "structured", instructions: "Give the weather.", model: agents_model(),
                                             outputType: z.object({ city: z.string().max(16), days: z.number().int() }),
                                             modelSettings: { maxTokens: 300, temperature: 1 } });
            const r = await agents.run(agent, "Weather?");
            assert.equal(typeof r.finalOutput.city, "string");
            assert.ok(Number.isSafeInteger(r.finalOutput.days), JSON.stringify(r.finalOutput));
        });
    });
}
