// Seeing and finding in muse serve, through the real path (a forced call: model → parser →
// tool → result): read_text on an image a text-only model cannot see (real tesseract),
// visual_grounding on a model that sees (its answer held to the grounding schema), file_search
// over uploaded files (real poppler, tesseract, FTS5, hnswlib, the embedding model), memory that
// goes into the prompt and says so, remember, and the web tools refusing what the operator did
// not allow. Random weights: mechanics, never content.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http_node from "node:http";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { data_dir_make, key_create, models, openai_client, server_start } from "./harness.mjs";

const T = { timeout: 300_000 };

// A PNG with `text` in DejaVu Sans on white, rendered by Debian's Pillow.
function text_png(dir, name, text, size = [520, 120]) {
    const file = path.join(dir, name);
    execFileSync("/usr/bin/python3", ["-c", `
from PIL import Image, ImageDraw, ImageFont
import sys
im = Image.new("RGB", (${size[0]}, ${size[1]}), "white")
f = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 40)
ImageDraw.Draw(im).text((16, 30), sys.argv[2], fill="black", font=f)
im.save(sys.argv[1])`, file, text]);
    return file;
}

// A one-page PDF holding `text` (Helvetica), its xref offsets computed.
function text_pdf(text) {
    const objs = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        null,
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ];
    const stream = `BT /F1 18 Tf 72 700 Td (${text}) Tj ET`;
    objs[3] = `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`;
    let out = "%PDF-1.4\n";
    const offsets = [];
    objs.forEach((o, i) => { offsets.push(out.length); out += `${i + 1} 0 obj\n${o}\nendobj\n`; });
    const xref = out.length;
    out += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n`;
    for (const off of offsets) out += `${String(off).padStart(10, "0")} 00000 n \n`;
    out += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
    return Buffer.from(out, "latin1");
}

async function upload(openai, name, bytes) {
    return openai.files.create({ file: new File([bytes], name), purpose: "user_data" });
}

describe("finding: files, memory, web (qwen3-tiny, no projector)", () => {
    let server, dir, alice, bob, openai, openai_bob, page_server, page_port, png;
    const fixed = { temperature: 0, reasoning: { effort: "minimal" }, parallel_tool_calls: false, max_output_tokens: 200 };
    before(async () => {
        dir = data_dir_make();
        alice = key_create(dir, "alice");
        bob   = key_create(dir, "bob");
        png   = text_png(dir, "invoice.png", "Invoice 4711 paid");
        page_server = http_node.createServer((req, res) => {
            res.writeHead(200, { "content-type": "text/html" });
            res.end("<html><title>Pump manual</title><body><h1>Reset</h1><p>Hold the red button.</p></body></html>");
        });
        await new Promise((r) => page_server.listen(0, "127.0.0.1", r));
        page_port = page_server.address().port;
        server = await server_start({ model: models.qwen, data_dir: dir,
                                      args: ["--tools", "vision,file_search,memory", "--web", "--web-allow", `127.0.0.1:${page_port}`,
                                             "--embedding-model", models.embed,
                                             "--max-steps", "2", "--max-argument-chars", "40", "-c", "8192", "--max-concurrency", "2"] });
        openai     = await openai_client(server, alice);
        openai_bob = await openai_client(server, bob);
    });
    after(async () => {
        await server?.stop();
        page_server?.close();
    });

    test("uploads are indexed by kind: text, a PDF through poppler, an image through tesseract", T, async () => {
        const md  = await upload(openai, "notes.md", Buffer.from("# Garden\nThe tomatoes need water every morning.\n"));
        const pdf = await upload(openai, "manual.pdf", text_pdf("The boiler pressure should read 1.5 bar."));
        const img = await upload(openai, "invoice.png", fs.readFileSync(png));
        const bin = await upload(openai, "blob.bin", Buffer.from([0, 1, 2, 3, 0, 255]));
        assert.deepEqual([md.muse.kind, pdf.muse.kind, img.muse.kind, bin.muse.kind], ["text", "pdf", "image", "binary"]);
        for (const f of [md, pdf, img]) {
            assert.ok(f.muse.chunks >= 1, JSON.stringify(f));
            assert.equal(f.muse.embedded, true);
        }
        assert.equal(bin.muse.chunks, 0);
        assert.match(bin.muse.note, /not text/);
    });

    test("file_search (forced) cites only the caller's own files; a deleted file is gone", T, async () => {
        const mine = await upload(openai, "alice.txt", Buffer.from("Alice keeps the spare key under the blue pot."));
        const theirs = await upload(openai_bob, "bob.txt", Buffer.from("Bob parks the van behind the bakery."));
        const ask = (client) => client.responses.create({ model: "muse", input: "Where is the key?", tools: [{ type: "file_search" }],
                                                          tool_choice: { type: "file_search" }, ...fixed });
        const r = await ask(openai);
        const call = r.output.find((it) => it.type === "muse_tool_call" && it.name === "file_search");
        assert.ok(call, JSON.stringify(r.output.map((it) => it.type)));
        assert.equal(call.outcome, "ok", call.output);
        // Any query has nearest vectors: hits come back, and every one is Alice's.
        const alice_files = new Set((await openai.files.list()).data.map((f) => f.id));
        assert.ok(call.detail.hits.length > 0, JSON.stringify(call.detail));
        for (const h of call.detail.hits) {
            if (h.source === "file") assert.ok(alice_files.has(h.source_id), `${h.source_id} is not Alice's`);
            assert.notEqual(h.source_id, theirs.id);
        }
        const rb = await ask(openai_bob);
        const cb = rb.output.find((it) => it.type === "muse_tool_call" && it.name === "file_search");
        for (const h of cb.detail.hits) assert.ok(!alice_files.has(h.source_id), "Bob found Alice's file");
        await openai.files.delete(mine.id);
        const r2 = await ask(openai);
        const c2 = r2.output.find((it) => it.type === "muse_tool_call" && it.name === "file_search");
        for (const h of c2.detail.hits) assert.notEqual(h.source_id, mine.id);
    });

    test("read_text (forced) reads an image the model cannot see; its image argument is bounded", T, async () => {
        const data = `data:image/png;base64,${fs.readFileSync(png).toString("base64")}`;
        let read = 0;
        for (const seed of [1, 2, 3, 4]) {
            const r = await openai.responses.create({
                model: "muse", input: [{ role: "user", content: [{ type: "input_image", image_url: data },
                                                                   { type: "input_text", text: "What does it say?" }] }],
                muse: { tools: ["vision"] }, tool_choice: { type: "function", name: "read_text" }, seed, ...fixed });
            const call = r.output.find((it) => it.type === "muse_tool_call" && it.name === "read_text");
            assert.ok(call, JSON.stringify(r.output.map((it) => it.type)));
            const args = JSON.parse(call.arguments);
            assert.equal(args.image, 1, call.arguments);  // the schema allows only the images there are
            if (call.outcome === "ok" && !args.box) {
                assert.match(call.output, /Invoice\s+4711/, call.output);
                read++;
            }
        }
        assert.ok(read >= 1, "no seed read the whole image");
    });

    test("memory goes into the prompt and says which items; off, or another user, uses none", T, async () => {
        const h = { authorization: `Bearer ${alice}`, "content-type": "application/json" };
        const add = await fetch(`${server.v1}/memory`, { method: "POST", headers: h, body: JSON.stringify({ text: "Alice is vegetarian." }) });
        const item = await add.json();
        const ask = (key, body = {}) => fetch(`${server.v1}/chat/completions`, {
            method: "POST", headers: { ...h, authorization: `Bearer ${key}` },
            body: JSON.stringify({ model: "muse", messages: [{ role: "user", content: "Suggest a dinner." }], max_tokens: 4, ...body }) });
        const r1 = await ask(alice);
        assert.equal(r1.headers.get("x-muse-memory"), item.id);
        const b1 = await r1.json();
        assert.deepEqual(b1.muse.memory_used.map((m) => m.id), [item.id]);
        assert.equal((await ask(alice, { muse: { memory: false } })).headers.get("x-muse-memory"), null);
        assert.equal((await ask(bob)).headers.get("x-muse-memory"), null);
        await fetch(`${server.v1}/memory/settings`, { method: "POST", headers: h, body: JSON.stringify({ enabled: false }) });
        assert.equal((await ask(alice)).headers.get("x-muse-memory"), null);
        const st = await (await fetch(`${server.v1}/memory/settings`, { headers: h })).json();
        assert.equal(st.enabled, false);
        await fetch(`${server.v1}/memory/settings`, { method: "POST", headers: h, body: JSON.stringify({ enabled: true }) });
        assert.equal((await ask(alice)).headers.get("x-muse-memory"), item.id);
        const bad = await fetch(`${server.v1}/memory/settings`, { method: "POST", headers: h, body: JSON.stringify({ enabled: "yes" }) });
        assert.equal(bad.status, 400);
    });

    test("remember (forced) stores an item the user sees in GET /v1/memory", T, async () => {
        const before_n = (await (await fetch(`${server.v1}/memory`, { headers: { authorization: `Bearer ${bob}` } })).json()).data.length;
        const r = await openai_bob.chat.completions.create({
            model: "muse", messages: [{ role: "user", content: "Remember that I like tea." }], muse: { tools: ["memory"] },
            tool_choice: { type: "function", function: { name: "remember" } }, parallel_tool_calls: false, max_tokens: 400,
            temperature: 0, reasoning_effort: "minimal" });
        assert.ok(r.choices[0]);
        const call = r.muse.tool_calls.find((c) => c.name === "remember");
        assert.ok(call, JSON.stringify(r.muse));
        assert.equal(call.outcome, "ok", JSON.stringify(call));
        const list = (await (await fetch(`${server.v1}/memory`, { headers: { authorization: `Bearer ${bob}` } })).json()).data;
        assert.equal(list.length, before_n + 1);
        assert.ok(list.at(-1).text.length <= 40);
    });

    test("open_url (forced) with what a random model writes is refused or fails, with a reason the model reads", T, async () => {
        const r = await openai.responses.create({ model: "muse", input: "Open the manual.", tools: [{ type: "web_search" }],
                                                  tool_choice: { type: "function", name: "open_url" }, ...fixed });
        const call = r.output.find((it) => it.type === "muse_tool_call" && it.name === "open_url");
        assert.ok(call, JSON.stringify(r.output.map((it) => it.type)));
        assert.notEqual(call.outcome, "ok");
        assert.match(call.output, /open_url|URL|url/);
        // The page itself is what the allowed host serves (the guard lets 127.0.0.1:port through).
        assert.ok(page_port > 0);
    });
});

describe("seeing: visual_grounding on a model with a projector (muse-glimmer-tiny)", () => {
    let server, openai, png;
    before(async () => {
        const dir = data_dir_make();
        const key = key_create(dir, "alice");
        png = text_png(dir, "sign.png", "EXIT 12", [320, 200]);
        server = await server_start({ model: models.glimmer, mmproj: models.glimmer_mmproj, data_dir: dir,
                                      args: ["--tools", "vision", "--max-steps", "2", "--max-argument-chars", "40", "-c", "8192",
                                             "--max-concurrency", "2"] });
        openai = await openai_client(server, key);
    });
    after(() => server?.stop());

    test("the model's answer is held to the schema, mapped to pixels and drawn as a new image", T, async () => {
        const data = `data:image/png;base64,${fs.readFileSync(png).toString("base64")}`;
        const r = await openai.responses.create({
            model: "muse", input: [{ role: "user", content: [{ type: "input_image", image_url: data },
                                                               { type: "input_text", text: "Where is the sign?" }] }],
            muse: { tools: ["vision"] }, tool_choice: { type: "function", name: "visual_grounding" },
            temperature: 0, parallel_tool_calls: false, max_output_tokens: 200 });
        const call = r.output.find((it) => it.type === "muse_tool_call" && it.name === "visual_grounding");
        assert.ok(call, JSON.stringify(r.output.map((it) => it.type)));
        assert.equal(call.outcome, "ok", call.output);
        const d = call.detail;
        assert.equal(d.width, 320);
        assert.equal(d.height, 200);
        for (const it of d.items) {
            const px = it.box_px ?? [...it.point_px, it.point_px[0] + 1, it.point_px[1] + 1];
            assert.ok(px[0] >= 0 && px[2] <= 320 && px[1] >= 0 && px[3] <= 200 && px[0] <= px[2] && px[1] <= px[3], JSON.stringify(it));
        }
        assert.equal(call.images.length, 1);
        assert.equal(call.images[0].number, 2);  // the annotated copy follows the user's image
        assert.match(call.images[0].url, /^data:image\/png;base64,/);
    });
});
