// The official OpenAI client against muse serve: a streamed answer, then a contemplation.
//   MUSE_URL=http://127.0.0.1:8080/v1 MUSE_API_KEY=muse_... node examples/openai-client.mjs
import OpenAI from "openai";

const client = new OpenAI({ baseURL: process.env.MUSE_URL ?? "http://127.0.0.1:8080/v1", apiKey: process.env.MUSE_API_KEY });

const stream = await client.chat.completions.create({
    model: "muse",
    messages: [{ role: "user", content: "What is 4738 + 2956?" }],
    max_tokens: 256,
    temperature: 0,
    stream: true,
});
process.stdout.write("stream: ");
for await (const chunk of stream) process.stdout.write(chunk.choices[0]?.delta?.content ?? "");  // the answer; the reasoning comes as delta.reasoning_content
process.stdout.write("\n");

// muse's extension: 4 agents on one shared prompt, combined by vote.
const r = await client.chat.completions.create({
    model: "muse",
    messages: [{ role: "user", content: "What is 17 * 3?" }],
    max_tokens: 256,
    seed: 1,
    muse: { mode: "contemplate", agents: 4, aggregate: "vote" },
});
console.log("contemplate:", JSON.stringify(r.choices[0].message.content));
for (const a of r.muse.agents) {
    console.log(`  agent ${a.index}: ${a.status}, ${a.reasoning_tokens + a.answer_tokens} tokens, confidence ${a.mean_confidence.toFixed(2)}`);
}
