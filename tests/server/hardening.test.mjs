// Hostile connections (src/server/connection-guard.cpp): slowloris clients and idle ones do not
// starve a normal client, the header deadline closes them, connections over --max-connections
// get a fast 503, and over-long heads, URLs and bodies (plain and chunked) get a 4xx JSON
// answer while the server stays up with flat memory. Raw sockets on loopback.
import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import { data_dir_make, http, key_create, models, server_start } from "./harness.mjs";

const T = { timeout: 120_000 };
const header_timeout = 5;  // seconds (--header-timeout)
const max_connections = 300;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A raw connection that records what the server sent and when it closed.
function connect(port) {
    const sock = net.connect(port, "127.0.0.1");
    const c = { sock, data: Buffer.alloc(0), opened: Date.now(), closed_at: 0, error: null };
    c.connected = new Promise((resolve, reject) => { sock.once("connect", resolve); sock.once("error", reject); });
    c.closed = new Promise((resolve) => sock.once("close", () => { c.closed_at = Date.now(); resolve(); }));
    sock.on("data", (d) => { c.data = Buffer.concat([c.data, d]); });
    sock.on("error", (e) => { c.error = e; });
    return c;
}

// "HTTP/1.1 413 ...\r\nheaders\r\n\r\nbody" -> { status, headers, json }
function response_parse(buf) {
    const text = buf.toString("latin1");
    const end = text.indexOf("\r\n\r\n");
    assert.ok(end > 0, `no complete response: ${JSON.stringify(text.slice(0, 200))}`);
    const lines = text.slice(0, end).split("\r\n");
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0])?.[1]);
    const headers = {};
    for (const l of lines.slice(1)) {
        const i = l.indexOf(":");
        headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
    }
    let json;
    try { json = JSON.parse(buf.subarray(Buffer.byteLength(text.slice(0, end + 4), "latin1")).toString("utf8")); } catch { /* */ }
    return { status, headers, json };
}

// Sends `parts` (strings/Buffers, written in order; a writer function for custom pacing) and
// resolves with the parsed response once the server has closed the connection or answered.
async function raw(port, parts) {
    const c = connect(port);
    await c.connected;
    try {
        for (const p of parts) {
            if (c.closed_at) break;
            await new Promise((resolve) => c.sock.write(p, () => resolve()));
        }
    } catch { /* the server may close while we still write */ }
    await Promise.race([c.closed, sleep(15_000)]);
    c.sock.destroy();
    return { ...response_parse(c.data), ms: Date.now() - c.opened };
}

function openai_error_check(r, status, code, what) {
    assert.equal(r.status, status, `${what}: ${JSON.stringify(r)}`);
    assert.equal(r.headers["content-type"], "application/json", what);
    assert.equal(typeof r.json?.error?.message, "string", `${what}: ${JSON.stringify(r.json)}`);
    if (code) assert.equal(r.json.error.code, code, what);
}

function rss_kib(pid) {
    return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))[1]);
}

async function metrics(server, admin) {
    const text = (await http(server, "GET", "/metrics", { key: admin })).text;
    const get = (name) => Number(new RegExp(`^${name.replace(/[{}"]/g, "\\$&")} (\\d+)$`, "m").exec(text)?.[1]);
    return { text, get };
}

describe("hostile connections", () => {
    let server, key, admin, port;
    before(async () => {
        const dir = data_dir_make();
        key = key_create(dir, "alice");
        admin = key_create(dir, "root", { admin: true });
        server = await server_start({ model: models.qwen, data_dir: dir, args: [
            "--max-connections", String(max_connections), "--header-timeout", String(header_timeout), "--max-body-mb", "1"] });
        port = Number(new URL(server.url).port);
    });
    after(() => server?.stop());

    test("64 slowloris and 200 idle connections: others are served; over the cap gets 503; the deadline closes them", T, async () => {
        const idle = Array.from({ length: 200 }, () => connect(port));
        await Promise.all(idle.map((c) => c.connected));
        const slow = Array.from({ length: 64 }, () => connect(port));
        await Promise.all(slow.map((c) => c.connected));
        const head = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Slow: " + "a".repeat(200);
        let stop = false;
        const drip = (async () => {
            for (let i = 0; !stop && i < head.length; i++) {
                for (const c of slow) if (!c.closed_at) c.sock.write(head[i]);
                await sleep(1000);
            }
        })();
        await sleep(200);  // the server has taken them all

        // Over the cap: 264 are held and 60 more connect; the ones over 300 get 503 at once and are
        // closed, the others are held (idle) until the burst is over.
        const burst = Array.from({ length: 60 }, () => connect(port));
        await Promise.all(burst.map((c) => c.connected));
        await sleep(1000);
        const refused = burst.filter((c) => c.data.length > 0);
        assert.ok(refused.length >= 20, `only ${refused.length} of 60 over-cap connections got an answer`);
        for (const c of refused) {
            const r = response_parse(c.data);
            openai_error_check(r, 503, "too_many_connections", "over the cap");
            assert.equal(r.headers["retry-after"], "1");
            assert.ok(c.closed_at > 0 && c.closed_at - c.opened < 1000, `a refusal took ${c.closed_at - c.opened} ms`);
        }
        for (const c of burst) c.sock.destroy();
        await sleep(200);

        // A normal client still gets /health and a completion in a few seconds.
        let t0 = Date.now();
        const h = await http(server, "GET", "/health");
        const health_ms = Date.now() - t0;
        assert.equal(h.status, 200);
        assert.ok(health_ms < 2000, `/health took ${health_ms} ms`);
        t0 = Date.now();
        const chat = await http(server, "POST", "/v1/chat/completions", { key, body: {
            model: "m", max_tokens: 8, messages: [{ role: "user", content: "hi" }], muse: { mode: "instant" } } });
        const chat_ms = Date.now() - t0;
        assert.equal(chat.status, 200, chat.text);
        assert.ok(chat_ms < 5000, `a completion took ${chat_ms} ms`);
        const m = await metrics(server, admin);
        assert.ok(m.get("muse_connections_open") >= 264, m.text);
        assert.ok(m.get("muse_connections_refused_total") >= refused.length, m.text);

        // The deadline closes the slow ones (408 JSON) and the idle ones (silently), on time.
        await Promise.race([Promise.all([...slow, ...idle].map((c) => c.closed)), sleep((header_timeout + 5) * 1000)]);
        stop = true;
        await drip;
        for (const c of [...slow, ...idle]) {
            assert.ok(c.closed_at > 0, "a connection was still open 8 s after its header deadline");
            const held = (c.closed_at - c.opened) / 1000;
            assert.ok(held > header_timeout - 0.5 && held < header_timeout + 3, `held ${held} s`);
        }
        for (const c of slow) openai_error_check(response_parse(c.data), 408, "request_timeout", "slowloris");
        for (const c of idle) assert.equal(c.data.length, 0, "an idle connection got bytes");
        const m2 = await metrics(server, admin);
        assert.ok(m2.get('muse_connections_closed_total{reason="header_deadline"}') >= 64, m2.text);
        console.log(`held 264 connections; ${refused.length}/60 over the cap refused; /health ${health_ms} ms, ` +
                    `a completion ${chat_ms} ms meanwhile; all closed by the ${header_timeout} s deadline`);
    });

    test("a body slower than the minimum rate gets 408", T, async () => {
        const c = connect(port);
        await c.connected;
        c.sock.write("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
                     "Content-Length: 100000\r\n\r\n{");
        const timer = setInterval(() => { if (!c.closed_at) c.sock.write(" "); }, 500);
        await Promise.race([c.closed, sleep((header_timeout + 6) * 1000)]);
        clearInterval(timer);
        assert.ok(c.closed_at > 0, "the slow body's connection was not closed");
        openai_error_check(response_parse(c.data), 408, "request_timeout", "slow body");
    });

    test("over-long heads, URLs and bodies get a 4xx JSON; memory stays flat; the server stays up", T, async () => {
        const rss0 = rss_kib(server.proc.pid);
        const big_line = "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(1 << 20) + "\r\n\r\n";
        for (let i = 0; i < 8; i++) openai_error_check(await raw(port, [big_line]), 431, "headers_too_large", "1 MiB header line");
        const many = "GET /health HTTP/1.1\r\nHost: x\r\n" + Array.from({ length: 10_000 }, (_, i) => `X-H${i}: v\r\n`).join("") + "\r\n";
        openai_error_check(await raw(port, [many]), 431, "headers_too_large", "10,000 headers");
        openai_error_check(await raw(port, [`GET /health?${"a".repeat(100 << 10)} HTTP/1.1\r\nHost: x\r\n\r\n`]), 414,
                           "uri_too_long", "100 KiB URL");
        // Over httplib's own 8 KiB request line, under the head cap: httplib's 414, as JSON.
        openai_error_check(await raw(port, [`GET /health?${"a".repeat(10 << 10)} HTTP/1.1\r\nHost: x\r\n\r\n`]), 414, null,
                           "10 KiB URL");
        openai_error_check(await raw(port, [`GET /health HTTP/1.1\r\nHost: x\r\nX-Long: ${"a".repeat(10 << 10)}\r\n\r\n`]), 400,
                           null, "10 KiB header line");

        const body = Buffer.alloc(2 << 20, 0x61);  // 2 MiB, over --max-body-mb 1
        const post = (extra) => `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\n` +
                                `Content-Type: application/json\r\n${extra}\r\n`;
        openai_error_check(await raw(port, [post(`Content-Length: ${body.length}\r\n`), body]), 413, "body_too_large", "plain body");
        const chunks = [post("Transfer-Encoding: chunked\r\n")];
        for (let off = 0; off < body.length; off += 64 << 10) {
            chunks.push(`${(64 << 10).toString(16)}\r\n`, body.subarray(off, off + (64 << 10)), "\r\n");
        }
        chunks.push("0\r\n\r\n");
        openai_error_check(await raw(port, chunks), 413, "body_too_large", "chunked body");
        // A small gzip body could inflate past any limit: refused.
        openai_error_check(await raw(port, [post("Content-Encoding: gzip\r\nContent-Length: 2\r\n"), "{}"]), 415,
                           "unsupported_content_encoding", "gzip body");
        // Anthropic's route answers in Anthropic's shape.
        const a = await raw(port, [`POST /v1/messages HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`,
                                   ...chunks.slice(1)]);
        assert.equal(a.status, 413);
        assert.equal(a.json?.type, "error");
        assert.equal(a.json?.error?.type, "request_too_large");

        const rss1 = rss_kib(server.proc.pid);
        assert.ok(rss1 - rss0 < 24 * 1024, `RSS grew from ${rss0} to ${rss1} KiB over the oversized requests`);
        assert.equal(server.proc.exitCode, null);
        const h = await http(server, "GET", "/health");
        assert.equal(h.status, 200);
        const ok = await http(server, "POST", "/v1/chat/completions", { key, body: {
            model: "m", max_tokens: 4, messages: [{ role: "user", content: "still there?" }], muse: { mode: "instant" } } });
        assert.equal(ok.status, 200, ok.text);
        const m = await metrics(server, admin);
        assert.ok(m.get('muse_connections_closed_total{reason="head_too_large"}') >= 10, m.text);
        assert.ok(m.get('muse_connections_closed_total{reason="body_too_large"}') >= 3, m.text);
        console.log(`RSS ${rss0} -> ${rss1} KiB over 8 x 1 MiB header lines, 10,000 headers, long URLs and 2 MiB bodies`);
    });
});
