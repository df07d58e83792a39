// The server tests' harness: keys through `muse keys`, a real `muse serve` on a free loopback
// port as a child process, the official npm clients pointed at it, and small wire helpers.
// ctest sets MUSE_BIN and MUSE_TEST_MODELS_DIR (tests/CMakeLists.txt).
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

function env_required(name) {
    const value = process.env[name];
    if (!value) {
        throw new Error(`${name} is not set: run these tests through ctest (ctest --test-dir build -R server), ` +
                        `or set MUSE_BIN=path/to/muse and MUSE_TEST_MODELS_DIR=build/models/tiny`);
    }
    return value;
}

export const muse_bin    = env_required("MUSE_BIN");
export const models_dir  = env_required("MUSE_TEST_MODELS_DIR");
export const models = {
    qwen:           path.join(models_dir, "qwen3-tiny.gguf"),
    llama:          path.join(models_dir, "llama-tiny.gguf"),
    glimmer:        path.join(models_dir, "muse-glimmer-tiny.gguf"),
    glimmer_mmproj: path.join(models_dir, "muse-glimmer-tiny-mmproj.gguf"),
    embed:          path.join(models_dir, "qwen3-embed-tiny.gguf"),
};

// An npm package from the repo root's node_modules, or a failure that says how to get it.
export async function package_load(name) {
    try {
        return await import(name);
    } catch (e) {
        if (e.code === "ERR_MODULE_NOT_FOUND") {
            throw new Error(`the npm package "${name}" is not installed in ${root}/node_modules: ` +
                            `run scripts/setup.sh (it runs "npm ci" from package-lock.json)`);
        }
        throw e;
    }
}

// --- data dirs and keys --------------------------------------------------------------------

const dirs_made = [];
const children  = new Set();
process.on("exit", () => {
    for (const child of children) child.kill("SIGKILL");
    for (const dir of dirs_made) fs.rmSync(dir, { recursive: true, force: true });
});

// Two greedy runs' tokens (logprobs.content of each, with top_logprobs) agree up to a near tie:
// where they part, the other run's token is within 0.01 of the top in `want`'s ranking (as
// tests/test-util.h). A prefix-cache hit decodes the rest of a prompt in another batch shape,
// which moves random weights' logits by ~1e-4: enough to part at a near tie, never elsewhere.
export function assert_same_tokens(got, want, what) {
    for (let i = 0; i < Math.max(got.length, want.length); i++) {
        const g = got[i], w = want[i];
        assert.ok(g && w, `${what}: ${got.length} tokens against ${want.length}`);
        if (g.token === w.token) continue;
        const alt = w.top_logprobs.find((t) => t.token === g.token);
        assert.ok(alt && w.top_logprobs[0].logprob - alt.logprob <= 0.01,
                  `${what}: token ${i} is ${JSON.stringify(g.token)} where the other run has ${JSON.stringify(w.token)}`);
        return;
    }
}

export function data_dir_make() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "muse-server-test-"));
    dirs_made.push(dir);
    return dir;
}

function muse_run(args) {
    return execFileSync(muse_bin, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
}

// Creates a key with `muse keys create` (it prints only the key on stdout).
export function key_create(data_dir, user, { admin = false } = {}) {
    const args = ["keys", "create", "--user", user, "--data-dir", data_dir];
    if (admin) args.push("--admin");
    const key = muse_run(args).trim();
    assert.match(key, /^muse_\S+$/, `muse keys create printed ${JSON.stringify(key)}, not a key`);
    return key;
}

// The key's public id ("k_3f9a1c2b" in "muse_k_3f9a1c2b_<secret>", src/store/database.h).
export function key_id(key) {
    const m = /^muse_(k_[0-9a-f]+)_[0-9a-f]+$/.exec(key);
    assert.ok(m, `cannot find the key id in ${key}`);
    return m[1];
}

export function key_revoke(data_dir, key) {
    muse_run(["keys", "revoke", key_id(key), "--data-dir", data_dir]);
}

export function keys_list(data_dir) {
    return muse_run(["keys", "list", "--data-dir", data_dir]);
}

// --- the server --------------------------------------------------------------------------------

// Starts `muse serve` on 127.0.0.1 with --port 0 and waits for its "listening on" line.
// Returns { url, v1, proc, stderr(), stop(), kill9() }.
export async function server_start({ model = models.qwen, mmproj, data_dir, args = [], timeout_ms = 120_000 } = {}) {
    data_dir ??= data_dir_make();
    const argv = ["serve", "-m", model, "--host", "127.0.0.1", "--port", "0", "--data-dir", data_dir];
    if (mmproj) argv.push("--mmproj", mmproj);
    argv.push(...args);
    const proc = spawn(muse_bin, argv, {
        stdio: ["ignore", "pipe", "pipe"],
        env:   { ...process.env, OMP_WAIT_POLICY: "PASSIVE" },
    });
    children.add(proc);
    let stderr = "";
    let stdout = "";
    proc.stderr.setEncoding("utf8");
    proc.stderr.on("data", (s) => { stderr = (stderr + s).slice(-64 * 1024); });
    const exited = new Promise((resolve) => proc.on("exit", (code, signal) => {
        children.delete(proc);
        resolve({ code, signal });
    }));

    const url = await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(
            `muse serve did not print "listening on" within ${timeout_ms} ms\nstdout: ${stdout}\nstderr: ${stderr}`)), timeout_ms);
        proc.stdout.setEncoding("utf8");
        proc.stdout.on("data", (s) => {
            stdout += s;
            const m = /muse serve: listening on (http:\/\/\S+)/.exec(stdout);
            if (m) {
                clearTimeout(timer);
                resolve(m[1].replace(/\/$/, ""));
            }
        });
        exited.then(({ code, signal }) => {
            clearTimeout(timer);
            reject(new Error(`${muse_bin} ${argv.join(" ")} exited (code ${code}, signal ${signal}) before listening\n` +
                             `stdout: ${stdout}\nstderr: ${stderr}`));
        });
    });
    proc.stdout.resume();  // keep draining so the child never blocks on a full pipe

    return {
        url,                   // http://127.0.0.1:PORT — the Anthropic SDK's baseURL
        v1: `${url}/v1`,       // the OpenAI SDK's baseURL
        data_dir,
        proc,
        exited,
        stderr: () => stderr,
        // SIGTERM, then SIGKILL when it has not exited within 10 s.
        async stop() {
            if (proc.exitCode !== null || proc.signalCode !== null) return exited;
            proc.kill("SIGTERM");
            const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
            const result = await exited;
            clearTimeout(timer);
            return result;
        },
        async kill9() {
            proc.kill("SIGKILL");
            return exited;
        },
    };
}

// --- clients ---------------------------------------------------------------------------------

export async function openai_client(server, key) {
    const { default: OpenAI } = await package_load("openai");
    return new OpenAI({ baseURL: server.v1, apiKey: key, maxRetries: 0, timeout: 120_000 });
}

export async function anthropic_client(server, key) {
    const { default: Anthropic } = await package_load("@anthropic-ai/sdk");
    return new Anthropic({ baseURL: server.url, apiKey: key, maxRetries: 0, timeout: 120_000 });
}

// Raw HTTP for the wire itself: { status, headers, text, json } (json undefined when not JSON).
export async function http(server, method, route, { key, body, headers = {}, raw } = {}) {
    const h = { ...headers };
    if (key) h.authorization = `Bearer ${key}`;
    let payload;
    if (raw !== undefined) {
        payload = raw;
    } else if (body !== undefined) {
        payload = JSON.stringify(body);
        h["content-type"] ??= "application/json";
    }
    const res = await fetch(server.url + route, { method, headers: h, body: payload });
    const text = await res.text();
    let json;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: res.status, headers: res.headers, text, json };
}

// Polls GET /health until `predicate(health)` holds; returns the elapsed ms, or throws.
export async function health_wait(server, predicate, timeout_ms) {
    const start = Date.now();
    let last;
    for (;;) {
        last = (await http(server, "GET", "/health")).json;
        if (last && predicate(last)) return Date.now() - start;
        if (Date.now() - start > timeout_ms) {
            throw new Error(`/health did not reach the expected state within ${timeout_ms} ms: ${JSON.stringify(last)}`);
        }
        await new Promise((r) => setTimeout(r, 50));
    }
}

// --- error shapes (docs/api.md, "Errors") ----------------------------------------------------

export function assert_openai_error(res, status, type, what = "") {
    const where = `${what} -> ${res.status} ${res.text.slice(0, 400)}`;
    assert.equal(res.status, status, where);
    assert.ok(res.json && typeof res.json.error === "object", `no {"error": {...}} body: ${where}`);
    const e = res.json.error;
    assert.equal(e.type, type, where);
    assert.equal(typeof e.message, "string", where);
    assert.ok(e.message.length > 0, where);
    assert.ok("param" in e && (e.param === null || typeof e.param === "string"), `error.param missing: ${where}`);
    assert.ok("code" in e && (e.code === null || typeof e.code === "string"), `error.code missing: ${where}`);
    return e;
}

export function assert_anthropic_error(res, status, type, what = "") {
    const where = `${what} -> ${res.status} ${res.text.slice(0, 400)}`;
    assert.equal(res.status, status, where);
    assert.ok(res.json, `not JSON: ${where}`);
    assert.equal(res.json.type, "error", where);
    assert.equal(res.json.error?.type, type, where);
    assert.equal(typeof res.json.error.message, "string", where);
    assert.ok(res.json.error.message.length > 0, where);
    return res.json.error;
}

// --- media -----------------------------------------------------------------------------------

const crc_table = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
});
function crc32(bytes) {
    let c = 0xffffffff;
    for (const x of bytes) c = crc_table[(c ^ x) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
}
function png_chunk(type, data) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
}

// A valid W x H PNG: 8-bit RGB with a pattern (the same pixels as tests/cli/make-png.js), or
// with `bilevel` 1-bit greyscale zeros — 64 megapixels in ~10 KB, for the pixel limit.
export function png_make(w, h, { bilevel = false } = {}) {
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(w, 0);
    ihdr.writeUInt32BE(h, 4);
    ihdr.set(bilevel ? [1, 0, 0, 0, 0] : [8, 2, 0, 0, 0], 8);
    const row = bilevel ? 1 + Math.ceil(w / 8) : 1 + w * 3;
    const raw = Buffer.alloc(h * row);
    if (!bilevel) {
        for (let i = 0; i < raw.length; i++) raw[i] = (i * 13) & 0xff;
        for (let y = 0; y < h; y++) raw[y * row] = 0;
    }
    return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), png_chunk("IHDR", ihdr),
                          png_chunk("IDAT", zlib.deflateSync(raw)), png_chunk("IEND", Buffer.alloc(0))]);
}

export function data_url(png) {
    return `data:image/png;base64,${png.toString("base64")}`;
}
