// The web app's server side (docs/api.md, "The web app and browser sessions"): its files from
// --web-dir and embedded in the binary (gzip, ETag and 304, the single-page-app fallback, the
// CSP, no way out of the directory), browser sessions (the cookie's flags, CSRF, Origin,
// sign-out, expiry, a revoked key), the caller's own keys, and what /v1/models says about the
// model. ctest says what the build embedded: MUSE_WEB_DIST (the directory) and
// MUSE_WEB_EMBEDDED (its file count; 0: nothing, GET / must say how to build it).
import assert from "node:assert/strict";
import fs from "node:fs";
import nodehttp from "node:http";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import zlib from "node:zlib";
import { data_dir_make, key_create, key_id, key_revoke, models, server_start } from "./harness.mjs";

const T = { timeout: 180_000 };
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
            "font-src 'self' data:; connect-src 'self'; frame-src 'self'; media-src 'self' blob: data:; object-src 'none'; " +
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const embedded_count = Number(process.env.MUSE_WEB_EMBEDDED ?? "0");
const embedded_dir   = process.env.MUSE_WEB_DIST ?? "";

// One request exactly as given (the path is not normalized, nothing is decompressed):
// { status, headers, body (Buffer), text, json }.
function request(server, method, route, { headers = {}, body } = {}) {
    const url = new URL(server.url);
    return new Promise((resolve, reject) => {
        const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
        const h = { ...headers };
        if (payload !== undefined) {
            h["content-type"] ??= "application/json";
            h["content-length"] = Buffer.byteLength(payload);
        }
        const req = nodehttp.request({ host: url.hostname, port: url.port, method, path: route, headers: h, agent: false }, (res) => {
            const chunks = [];
            res.on("data", (c) => chunks.push(c));
            res.on("end", () => {
                const buf = Buffer.concat(chunks);
                const text = buf.toString("utf8");
                let json;
                try { json = JSON.parse(text); } catch { json = undefined; }
                resolve({ status: res.statusCode, headers: res.headers, body: buf, text, json });
            });
        });
        req.on("error", reject);
        if (payload !== undefined) req.write(payload);
        req.end();
    });
}

function assert_error(res, status, code) {
    assert.equal(res.status, status, res.text);
    assert.ok(res.json?.error, `not a JSON error: ${res.text}`);
    assert.equal(typeof res.json.error.message, "string");
    assert.equal(typeof res.json.error.type, "string");
    if (code !== undefined) assert.equal(res.json.error.code, code, res.text);
    return res.json.error;
}

function assert_page_headers(res, { html, immutable }) {
    assert.equal(res.headers["x-content-type-options"], "nosniff");
    assert.equal(res.headers["referrer-policy"], "no-referrer");
    if (html) assert.equal(res.headers["content-security-policy"], CSP);
    else assert.equal(res.headers["content-security-policy"], undefined);
    assert.equal(res.headers["cache-control"], immutable ? "public, max-age=31536000, immutable" : "no-cache");
    assert.match(res.headers.etag, /^"[0-9a-f]{32}"$/);
}

// A small built app in a temporary directory, a secret beside it, and links out of it.
function dist_make() {
    const top = data_dir_make();
    const dist = path.join(top, "dist");
    fs.mkdirSync(path.join(dist, "assets"), { recursive: true });
    const files = {
        "index.html": "<!doctype html><html><head><script type=\"module\" src=\"/assets/app-1a2b3c4d.js\"></script></head><body>app</body></html>\n",
        "assets/app-1a2b3c4d.js": "export const answer = 42;\n".repeat(50),
        "assets/app-1a2b3c4d.css": "body { color: #222; }\n",
        "favicon.svg": "<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n",
    };
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dist, name), text);
    fs.writeFileSync(path.join(top, "secret.txt"), "TOP SECRET outside the dist\n");
    fs.symlinkSync(path.join(top, "secret.txt"), path.join(dist, "link.txt"));
    fs.symlinkSync(top, path.join(dist, "assets", "up"));
    return { dist, files };
}

function cookie_of(res) {
    const set = res.headers["set-cookie"];
    assert.ok(set && set.length === 1, `one Set-Cookie expected: ${JSON.stringify(set)}`);
    return set[0];
}

describe("the web app's files from --web-dir", () => {
    let server, dist;
    before(async () => {
        dist = dist_make();
        server = await server_start({ model: models.qwen, args: ["--no-auth", "--web-dir", dist.dist] });
    });
    after(() => server?.stop());

    test("GET / and /index.html answer index.html with the CSP, no-cache and an ETag; 304 on If-None-Match", T, async () => {
        for (const route of ["/", "/index.html"]) {
            const res = await request(server, "GET", route);
            assert.equal(res.status, 200, res.text);
            assert.equal(res.text, dist.files["index.html"]);
            assert.match(res.headers["content-type"], /^text\/html/);
            assert_page_headers(res, { html: true, immutable: false });
            const again = await request(server, "GET", route, { headers: { "if-none-match": res.headers.etag } });
            assert.equal(again.status, 304);
            assert.equal(again.body.length, 0);
            assert.equal(again.headers.etag, res.headers.etag);
            const other = await request(server, "GET", route, { headers: { "if-none-match": "\"0123\"" } });
            assert.equal(other.status, 200);
        }
    });

    test("assets are immutable with their MIME types; HEAD answers the headers only", T, async () => {
        const js = await request(server, "GET", "/assets/app-1a2b3c4d.js");
        assert.equal(js.status, 200);
        assert.equal(js.text, dist.files["assets/app-1a2b3c4d.js"]);
        assert.match(js.headers["content-type"], /^text\/javascript/);
        assert_page_headers(js, { html: false, immutable: true });
        const css = await request(server, "GET", "/assets/app-1a2b3c4d.css");
        assert.match(css.headers["content-type"], /^text\/css/);
        const svg = await request(server, "GET", "/favicon.svg");
        assert.equal(svg.status, 200);
        assert.equal(svg.headers["content-type"], "image/svg+xml");
        assert_page_headers(svg, { html: false, immutable: false });
        const head = await request(server, "HEAD", "/assets/app-1a2b3c4d.js");
        assert.equal(head.status, 200);
        assert.equal(head.body.length, 0);
        assert.equal(head.headers.etag, js.headers.etag);
    });

    test("paths without an extension get index.html (the app routes itself); unknown files get 404", T, async () => {
        for (const route of ["/chat", "/chat/conv_0123", "/me/keys"]) {
            const res = await request(server, "GET", route);
            assert.equal(res.status, 200, route);
            assert.equal(res.text, dist.files["index.html"]);
            assert_page_headers(res, { html: true, immutable: false });
        }
        assert_error(await request(server, "GET", "/assets/missing-00000000.js"), 404);
        assert_error(await request(server, "GET", "/assets/chunk"), 404);
        assert_error(await request(server, "GET", "/missing.png"), 404);
        // The API's unknown paths stay the API's 404.
        const api = assert_error(await request(server, "GET", "/v1/no-such-route"), 404);
        assert.match(api.message, /no route GET \/v1\/no-such-route/);
        assert.equal((await request(server, "GET", "/health")).json.status, "ok");
    });

    test("nothing outside the directory is served: .., encoded .., symlinks out", T, async () => {
        for (const route of ["/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt", "/assets/%2e%2e/%2e%2e/secret.txt",
                             "/link.txt", "/assets/up/secret.txt", "/..%2fsecret.txt", "/%00index.html"]) {
            const res = await request(server, "GET", route);
            assert.notEqual(res.status, 200, `${route} was served: ${res.text}`);
            assert.ok(res.status === 404 || res.status === 400, `${route}: ${res.status}`);
            assert.doesNotMatch(res.text, /TOP SECRET/, route);
        }
    });
});

describe("the embedded web app", () => {
    let server;
    before(async () => { server = await server_start({ model: models.qwen, args: ["--no-auth"] }); });
    after(() => server?.stop());

    if (embedded_count > 0) {
        const read = (name) => fs.readFileSync(path.join(embedded_dir, name));
        const asset = fs.readdirSync(path.join(embedded_dir, "assets")).find((f) => f.endsWith(".js"));

        test("gzip when accepted (the bytes the dist holds once inflated), identity otherwise", T, async () => {
            for (const [route, file] of [["/", "index.html"], ["/index.html", "index.html"], [`/assets/${asset}`, `assets/${asset}`]]) {
                const gz = await request(server, "GET", route, { headers: { "accept-encoding": "gzip, deflate, br" } });
                assert.equal(gz.status, 200, route);
                assert.equal(gz.headers["content-encoding"], "gzip", route);
                assert.equal(Number(gz.headers["content-length"]), gz.body.length);
                assert.deepEqual(zlib.gunzipSync(gz.body), read(file), route);
                assert.equal(gz.headers.vary, "Accept-Encoding");
                assert_page_headers(gz, { html: file.endsWith(".html"), immutable: file.startsWith("assets/") });

                const plain = await request(server, "GET", route, { headers: { "accept-encoding": "gzip;q=0, identity" } });
                assert.equal(plain.status, 200);
                assert.equal(plain.headers["content-encoding"], undefined);
                assert.deepEqual(plain.body, read(file));
                assert.equal(plain.headers.etag, gz.headers.etag);
                const none = await request(server, "GET", route);
                assert.deepEqual(none.body, read(file));
            }
        });

        test("ETag and 304, HEAD, the app's routes, unknown files 404", T, async () => {
            const first = await request(server, "GET", "/", { headers: { "accept-encoding": "gzip" } });
            const again = await request(server, "GET", "/", { headers: { "if-none-match": `"x", ${first.headers.etag}` } });
            assert.equal(again.status, 304);
            assert.equal(again.body.length, 0);
            const head = await request(server, "HEAD", `/assets/${asset}`, { headers: { "accept-encoding": "gzip" } });
            assert.equal(head.status, 200);
            assert.equal(head.body.length, 0);
            const spa = await request(server, "GET", "/settings/profile");
            assert.equal(spa.status, 200);
            assert.deepEqual(spa.body, read("index.html"));
            assert_error(await request(server, "GET", "/assets/none-00000000.js"), 404);
            assert_error(await request(server, "GET", "/assets/../../../etc/passwd"), 404);
        });
    } else {
        test("nothing embedded: GET / answers 503 saying how to build the app (HTML, or JSON when asked)", T, async () => {
            const page = await request(server, "GET", "/");
            assert.equal(page.status, 503);
            assert.match(page.headers["content-type"], /^text\/html/);
            assert.match(page.text, /scripts\/setup\.sh/);
            assert.equal(page.headers["content-security-policy"], CSP);
            const json = assert_error(await request(server, "GET", "/chat", { headers: { accept: "application/json" } }), 503,
                                      "web_app_not_built");
            assert.match(json.message, /npm ci && npm run build/);
            assert_error(await request(server, "GET", "/assets/app-00000000.js"), 404);
        });
    }

    test("--no-web: GET / is the API's 404", T, async () => {
        const off = await server_start({ model: models.qwen, args: ["--no-auth", "--no-web"] });
        try {
            const res = assert_error(await request(off, "GET", "/"), 404);
            assert.match(res.message, /no route GET \//);
        } finally {
            await off.stop();
        }
    });
});

describe("browser sessions", () => {
    let server, dir, alice, bob, port;
    before(async () => {
        dir = data_dir_make();
        alice = key_create(dir, "alice");
        bob = key_create(dir, "bob");
        server = await server_start({ model: models.qwen, data_dir: dir });
        port = new URL(server.url).port;
    });
    after(() => server?.stop());

    const sign_in = async (key) => {
        const res = await request(server, "POST", "/v1/session", { body: { api_key: key } });
        assert.equal(res.status, 200, res.text);
        const set = cookie_of(res);
        const token = /^muse_session=([A-Za-z0-9_-]{43});/.exec(set)?.[1];
        assert.ok(token, set);
        return { res, set, cookie: `muse_session=${token}`, csrf: res.json.csrf_token };
    };

    test("bad sign-ins: a malformed body 400, a wrong key 401 invalid_api_key", T, async () => {
        assert_error(await request(server, "POST", "/v1/session", { body: "{not json" }), 400);
        assert_error(await request(server, "POST", "/v1/session", { body: [1] }), 400);
        assert_error(await request(server, "POST", "/v1/session", { body: {} }), 400, "missing_field");
        assert_error(await request(server, "POST", "/v1/session", { body: { api_key: 7 } }), 400);
        assert_error(await request(server, "POST", "/v1/session", { body: { api_key: "muse_k_00000000_" + "0".repeat(64) } }), 401,
                     "invalid_api_key");
        assert_error(await request(server, "GET", "/v1/session"), 401);
        assert_error(await request(server, "GET", "/v1/models", { headers: { cookie: "muse_session=forged" } }), 401, "invalid_session");
    });

    test("sign in: the session object and an HttpOnly SameSite=Strict cookie; the cookie alone authenticates", T, async () => {
        const s = await sign_in(alice);
        assert.equal(s.res.json.object, "session");
        assert.equal(s.res.json.user, "alice");
        assert.equal(typeof s.res.json.expires_at, "number");
        assert.match(s.csrf, /^[A-Za-z0-9_-]{43}$/);
        assert.match(s.set, /; HttpOnly/);
        assert.match(s.set, /; SameSite=Strict/);
        assert.match(s.set, /; Path=\//);
        assert.match(s.set, /; Max-Age=604800/);
        assert.doesNotMatch(s.set, /Secure/);

        const models_res = await request(server, "GET", "/v1/models", { headers: { cookie: s.cookie } });
        assert.equal(models_res.status, 200, models_res.text);
        const who = await request(server, "GET", "/v1/session", { headers: { cookie: `other=1; ${s.cookie}` } });
        assert.equal(who.status, 200, who.text);
        assert.equal(who.json.user, "alice");
        assert.equal(who.json.csrf_token, s.csrf);
    });

    test("state-changing requests by cookie need X-Muse-CSRF and this server's Origin; key headers do not", T, async () => {
        const s = await sign_in(alice);
        const body = { text: "alice signed in by cookie" };
        assert_error(await request(server, "POST", "/v1/memory", { headers: { cookie: s.cookie }, body }), 403, "csrf_failed");
        assert_error(await request(server, "POST", "/v1/memory", { headers: { cookie: s.cookie, "x-muse-csrf": s.csrf + "x" }, body }),
                     403, "csrf_failed");
        const other = await sign_in(alice);  // another session's token is not this one's
        assert_error(await request(server, "POST", "/v1/memory", { headers: { cookie: s.cookie, "x-muse-csrf": other.csrf }, body }),
                     403, "csrf_failed");
        const ok = await request(server, "POST", "/v1/memory", { headers: { cookie: s.cookie, "x-muse-csrf": s.csrf }, body });
        assert.equal(ok.status, 200, ok.text);
        const same = await request(server, "POST", "/v1/memory",
                                   { headers: { cookie: s.cookie, "x-muse-csrf": s.csrf, origin: `http://127.0.0.1:${port}` }, body });
        assert.equal(same.status, 200, same.text);
        for (const origin of ["http://evil.example", `http://127.0.0.1:${Number(port) + 1}`, "null"]) {
            assert_error(await request(server, "POST", "/v1/memory", { headers: { cookie: s.cookie, "x-muse-csrf": s.csrf, origin }, body }),
                         403, "cross_origin");
        }
        // A GET needs neither.
        const list = await request(server, "GET", "/v1/memory", { headers: { cookie: s.cookie, origin: "http://evil.example" } });
        assert.equal(list.status, 200);
        assert.ok(list.json.data.some((m) => m.text === body.text));
        // API clients: a key header, no CSRF, any Origin.
        const api = await request(server, "POST", "/v1/memory",
                                  { headers: { authorization: `Bearer ${alice}`, origin: "http://evil.example" }, body });
        assert.equal(api.status, 200, api.text);
    });

    test("own keys: list, create (shown once, named), revoke; another user's key is 404", T, async () => {
        const s = await sign_in(alice);
        const h = { cookie: s.cookie, "x-muse-csrf": s.csrf };
        const list = await request(server, "GET", "/v1/me/keys", { headers: { cookie: s.cookie } });
        assert.equal(list.status, 200, list.text);
        assert.deepEqual(list.json.data.map((k) => k.id), [key_id(alice)]);
        assert.equal(list.json.data[0].object, "api_key");
        assert.equal(typeof list.json.data[0].created_at, "number");
        assert.equal(list.json.data[0].revoked, false);
        assert.ok(!("key" in list.json.data[0]));

        assert_error(await request(server, "POST", "/v1/me/keys", { headers: { cookie: s.cookie }, body: {} }), 403, "csrf_failed");
        assert_error(await request(server, "POST", "/v1/me/keys", { headers: h, body: { name: 5 } }), 400);
        assert_error(await request(server, "POST", "/v1/me/keys", { headers: h, body: { name: "x".repeat(65) } }), 400);
        const made = await request(server, "POST", "/v1/me/keys", { headers: h, body: { name: "laptop" } });
        assert.equal(made.status, 200, made.text);
        assert.match(made.json.key, /^muse_k_[0-9a-f]{8}_[0-9a-f]{64}$/);
        assert.equal(made.json.name, "laptop");
        assert.equal(key_id(made.json.key), made.json.id);
        const use = await request(server, "GET", "/v1/models", { headers: { authorization: `Bearer ${made.json.key}` } });
        assert.equal(use.status, 200);
        const listed = await request(server, "GET", "/v1/me/keys", { headers: { cookie: s.cookie } });
        assert.deepEqual(listed.json.data.map((k) => k.id), [key_id(alice), made.json.id]);
        assert.ok(!listed.text.includes(made.json.key.split("_").pop()), "the secret is shown once only");

        assert_error(await request(server, "DELETE", `/v1/me/keys/${key_id(bob)}`, { headers: h }), 404, "key_not_found");
        const bobs = await request(server, "GET", "/v1/models", { headers: { authorization: `Bearer ${bob}` } });
        assert.equal(bobs.status, 200, "bob's key still works");
        const gone = await request(server, "DELETE", `/v1/me/keys/${made.json.id}`, { headers: h });
        assert.equal(gone.status, 200, gone.text);
        assert.equal(gone.json.deleted, true);
        assert_error(await request(server, "GET", "/v1/models", { headers: { authorization: `Bearer ${made.json.key}` } }), 401);
    });

    test("the export lists sessions (no tokens); sign-out ends the cookie", T, async () => {
        const s = await sign_in(alice);
        const exp = await request(server, "GET", "/v1/me/export", { headers: { cookie: s.cookie } });
        assert.equal(exp.status, 200);
        assert.ok(exp.json.sessions.length >= 1);
        assert.ok(exp.json.sessions.every((x) => typeof x.created_at === "number" && typeof x.expires_at === "number"));
        assert.ok(!exp.text.includes(s.cookie.split("=")[1]), "no token in the export");
        assert.ok(!exp.text.includes(s.csrf), "no CSRF token in the export");

        assert_error(await request(server, "DELETE", "/v1/session", { headers: { cookie: s.cookie } }), 403, "csrf_failed");
        const out = await request(server, "DELETE", "/v1/session", { headers: { cookie: s.cookie, "x-muse-csrf": s.csrf } });
        assert.equal(out.status, 200, out.text);
        assert.deepEqual(out.json, { object: "session.deleted", deleted: true });
        assert.match(cookie_of(out), /^muse_session=; HttpOnly; SameSite=Strict; Path=\/; Max-Age=0/);
        assert_error(await request(server, "GET", "/v1/models", { headers: { cookie: s.cookie } }), 401, "invalid_session");
        assert_error(await request(server, "GET", "/v1/session", { headers: { cookie: s.cookie } }), 401);
    });

    test("a revoked key's sessions end; DELETE /v1/me ends the user's sessions", T, async () => {
        const b = await sign_in(bob);
        const bob2 = key_create(dir, "bob");
        const b2 = await sign_in(bob2);
        key_revoke(dir, bob);  // `muse keys revoke` on the running server's store
        assert_error(await request(server, "GET", "/v1/models", { headers: { cookie: b.cookie } }), 401, "invalid_session");
        const still = await request(server, "GET", "/v1/models", { headers: { cookie: b2.cookie } });
        assert.equal(still.status, 200, "the other key's session lives");
        const del = await request(server, "DELETE", "/v1/me", { headers: { cookie: b2.cookie, "x-muse-csrf": b2.csrf } });
        assert.equal(del.status, 200, del.text);
        assert_error(await request(server, "GET", "/v1/session", { headers: { cookie: b2.cookie } }), 401);
    });

    test("what /v1/models says about the model: qwen3-tiny sees nothing, no tools", T, async () => {
        const res = await request(server, "GET", "/v1/models", { headers: { authorization: `Bearer ${alice}` } });
        const m = res.json.data[0].muse;
        assert.equal(m.vision, false);
        assert.equal(m.audio, false);
        assert.equal(typeof m.reasoning, "boolean");
        assert.equal(m.max_pixels, 16_777_216);
        assert.equal(m.max_agents, 16);
        assert.deepEqual(m.tools, []);
        assert.ok(Number.isInteger(m.context) && m.context > 0, JSON.stringify(m));
        const one = await request(server, "GET", `/v1/models/${res.json.data[0].id}`, { headers: { authorization: `Bearer ${alice}` } });
        assert.deepEqual(one.json.muse, m);
    });
});

describe("sessions: expiry, --cookie-secure, --no-auth", () => {
    test("a session past --session-days is refused; --cookie-secure marks the cookie Secure", T, async () => {
        const dir = data_dir_make();
        const key = key_create(dir, "carol");
        const server = await server_start({ model: models.qwen, data_dir: dir, args: ["--session-days", "0.00003", "--cookie-secure"] });
        try {
            const res = await request(server, "POST", "/v1/session", { body: { api_key: key } });
            assert.equal(res.status, 200, res.text);
            const set = cookie_of(res);
            assert.match(set, /; Max-Age=2; Secure$/);
            const cookie = set.split(";")[0];
            assert.equal((await request(server, "GET", "/v1/models", { headers: { cookie } })).status, 200);
            await new Promise((r) => setTimeout(r, 3100));
            assert_error(await request(server, "GET", "/v1/models", { headers: { cookie } }), 401, "invalid_session");
            assert_error(await request(server, "GET", "/v1/session", { headers: { cookie } }), 401);
        } finally {
            await server.stop();
        }
    });

    test("--session-days out of range is refused before the model loads", T, async () => {
        await assert.rejects(server_start({ model: models.qwen, args: ["--session-days", "0"] }), /--session-days/);
        await assert.rejects(server_start({ model: models.qwen, args: ["--web-dir", "/nonexistent-dir"] }), /--web-dir/);
    });

    test("--no-auth: the session says auth none; other sites' pages cannot change data", T, async () => {
        const server = await server_start({ model: models.qwen, args: ["--no-auth"] });
        try {
            const port = new URL(server.url).port;
            const s = await request(server, "GET", "/v1/session");
            assert.equal(s.status, 200, s.text);
            assert.equal(s.json.user, "local");
            assert.equal(s.json.auth, "none");
            assert.equal(typeof s.json.csrf_token, "string");
            assert.equal((await request(server, "GET", "/v1/session")).json.csrf_token, s.json.csrf_token);
            const body = { text: "local note" };
            assert_error(await request(server, "POST", "/v1/memory", { headers: { origin: "http://evil.example" }, body }), 403, "cross_origin");
            assert.equal((await request(server, "POST", "/v1/memory", { body })).status, 200);
            assert.equal((await request(server, "POST", "/v1/memory", { headers: { origin: `http://127.0.0.1:${port}` }, body })).status, 200);
            const get = await request(server, "GET", "/v1/memory", { headers: { origin: "http://evil.example" } });
            assert.equal(get.status, 200);
        } finally {
            await server.stop();
        }
    });
});

describe("what /v1/models says about a model that sees", () => {
    test("muse-glimmer-tiny with its projector: vision true; the --tools enabled are listed", T, async () => {
        const server = await server_start({ model: models.glimmer, mmproj: models.glimmer_mmproj,
                                            args: ["--no-auth", "--tools", "artifacts", "--max-image-pixels", "1000000"] });
        try {
            const res = await request(server, "GET", "/v1/models");
            assert.equal(res.status, 200, res.text);
            const m = res.json.data[0].muse;
            assert.equal(m.vision, true, JSON.stringify(m));
            assert.deepEqual(m.tools, ["artifacts"]);
            assert.equal(m.max_pixels, 1_000_000);
        } finally {
            await server.stop();
        }
    });
});
