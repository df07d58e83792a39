// The system report on the wire (docs/api.md, "Health and metrics"): GET /health adds a
// "system" object only for an admin key, and answers everyone else (no key, a user's key, a
// bad or revoked key) as before; GET /metrics has the muse_build_info gauge.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { data_dir_make, http, key_create, key_revoke, models, muse_bin, server_start } from "./harness.mjs";

const T = { timeout: 180_000 };

// What `muse info --system --json` says of this machine: the server must say the same.
const expected = JSON.parse(execFileSync(muse_bin, ["info", "--system", "--json"], { encoding: "utf8" }));

function assert_plain_health(r, what) {
    assert.equal(r.status, 200, `${what}: ${r.text}`);
    assert.equal(r.json.status, "ok", what);
    assert.equal(typeof r.json.model, "string", what);
    assert.equal(typeof r.json.slots?.busy, "number", what);
    assert.equal(r.json.system, undefined, `${what}: /health shows the system only to admins`);
}

describe("system report, qwen3-tiny", () => {
    let server, user, admin, revoked;
    before(async () => {
        const dir = data_dir_make();
        user    = key_create(dir, "alice");
        admin   = key_create(dir, "ops", { admin: true });
        revoked = key_create(dir, "former-ops", { admin: true });
        key_revoke(dir, revoked);
        server = await server_start({ model: models.qwen, data_dir: dir, args: ["--ctx-size", "512", "--max-concurrency", "1"] });
    });
    after(() => server?.stop());

    test("/health without a key, with a user key, a bad key or a revoked admin key: no system, no error", T, async () => {
        assert_plain_health(await http(server, "GET", "/health"), "no key");
        assert_plain_health(await http(server, "GET", "/health", { key: user }), "user key");
        assert_plain_health(await http(server, "GET", "/health", { key: "muse_k_00000000_" + "0".repeat(64) }), "unknown key");
        assert_plain_health(await http(server, "GET", "/health", { key: "nope" }), "malformed key");
        assert_plain_health(await http(server, "GET", "/health", { key: revoked }), "revoked admin key");
        assert_plain_health(await http(server, "GET", "/health", { headers: { "x-api-key": user } }), "user x-api-key");
    });

    test("/health with the admin key: the system object, as `muse info --system --json` has it", T, async () => {
        for (const r of [await http(server, "GET", "/health", { key: admin }),
                         await http(server, "GET", "/health", { headers: { "x-api-key": admin } })]) {
            assert.equal(r.status, 200, r.text);
            assert.equal(r.json.status, "ok");
            const s = r.json.system;
            assert.ok(s && typeof s === "object", `no system object: ${r.text}`);
            assert.equal(typeof s.cpu?.model, "string");
            assert.equal(s.cpu.model, expected.cpu.model);
            assert.deepEqual(s.cpu.features, expected.cpu.features);
            assert.equal(s.version, expected.version);
            assert.equal(s.llama_cpp.commit, expected.llama_cpp.commit);
            assert.deepEqual(s.kernels, expected.kernels);
            assert.ok(Number.isInteger(s.cpu.logical_cores) && s.cpu.logical_cores >= 1);
        }
    });

    test("/metrics: muse_build_info with the version, llama.cpp, the CPU and the kernels", T, async () => {
        const r = await http(server, "GET", "/metrics", { key: admin });
        assert.equal(r.status, 200, r.text);
        assert.match(r.text, /^# TYPE muse_build_info gauge$/m);
        const line = /^muse_build_info\{(.*)\} 1$/m.exec(r.text);
        assert.ok(line, `no muse_build_info series:\n${r.text}`);
        // The label values, unescaped as the text format says (\\, \" and \n).
        const labels = {};
        for (const m of line[1].matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)) {
            labels[m[1]] = m[2].replace(/\\(.)/g, (_, c) => (c === "n" ? "\n" : c));
        }
        assert.equal(labels.version, expected.version);
        assert.equal(labels.llama_cpp, expected.llama_cpp.commit);
        assert.equal(labels.cpu, expected.cpu.model);
        assert.equal(labels.kernels, expected.kernels.built.join(" "));
        assert.equal(labels.buffers, expected.kernels.in_use.join(" "));
    });
});
