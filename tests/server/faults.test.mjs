// Faults under writes: kill -9 while many conversations stream (several rounds, a random
// moment each) and a full disk (the data dir on a 2 MiB tmpfs). Each leaves a store that
// opens and passes PRAGMA integrity_check, losing at most the messages in flight; a full
// disk answers writes with a JSON error naming the disk and keeps serving reads.
// durability.test.mjs covers one conversation's kill -9 message by message.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, describe, test } from "node:test";
import { data_dir_make, http, key_create, models, muse_bin, server_start } from "./harness.mjs";

const T = { timeout: 300_000 };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function integrity(db) {
    return execFileSync("sqlite3", [db, "PRAGMA integrity_check;"], { encoding: "utf8" }).trim();
}

// The completed turns appear in the stored messages in order; returns how many others there are.
function turns_check(msgs, turns, what) {
    let at = 0;
    for (const [u, a] of turns) {
        while (at < msgs.length && !(msgs[at].role === "user" && msgs[at].content === u)) at++;
        assert.ok(at < msgs.length, `${what}: the completed turn "${u}" was lost`);
        assert.equal(msgs[at + 1]?.role, "assistant", `${what}: the reply to "${u}" was lost`);
        assert.equal(msgs[at + 1].content, a, what);
        at += 2;
    }
    return msgs.length - 2 * turns.length;
}

describe("faults", () => {
    const servers = [];
    const pids = [];  // muse in the tmpfs namespace: not the harness's child
    after(() => {
        for (const pid of pids) try { process.kill(pid, "SIGKILL"); } catch { /* gone */ }
        return Promise.all(servers.map((s) => s.stop()));
    });

    test("kill -9 at a random moment while 12 conversations write, 3 rounds: integrity ok, only in-flight messages lost", T, async () => {
        const dir = data_dir_make();
        const key = key_create(dir, "alice");
        const convs = new Map();  // id -> completed turns
        let seed = 7;
        const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
        for (let round = 0; round < 3; round++) {
            const server = await server_start({ model: models.qwen, data_dir: dir, args: ["--max-concurrency", "8"] });
            if (round === 0) {
                for (let c = 0; c < 12; c++) {
                    convs.set((await http(server, "POST", "/v1/conversations", { key, body: { title: `k${c}` } })).json.id, []);
                }
            }
            let alive = true, round_done = 0;
            const writers = [...convs.keys()].map(async (conv, c) => {
                for (let n = 0; alive; n++) {
                    const text = `round ${round} conv ${c} turn ${n}`;
                    const stream = (c + n) % 2 === 0;
                    try {
                        const res = await fetch(`${server.v1}/chat/completions`, { method: "POST",
                            headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
                            body: JSON.stringify({ model: "m", max_tokens: stream ? 48 : 12, stream,
                                                   muse: { mode: "instant", conversation_id: conv },
                                                   messages: [{ role: "user", content: text }] }) });
                        const body = await res.text();
                        if (res.status !== 200) continue;
                        let reply = "";
                        if (stream) {
                            if (!body.includes("data: [DONE]")) continue;  // cut by the kill
                            for (const line of body.split("\n")) {
                                if (line.startsWith("data: {")) reply += JSON.parse(line.slice(6)).choices?.[0]?.delta?.content ?? "";
                            }
                        } else {
                            reply = JSON.parse(body).choices[0].message.content;
                        }
                        convs.get(conv).push([text, reply]);
                        round_done++;
                    } catch {
                        return;  // the server is gone
                    }
                }
            });
            // A random moment after this round has done some work: a fixed wait alone left a
            // slow machine with too few completed turns to check (CI: 22 in 3 rounds).
            while (round_done < 8) await sleep(50);
            await sleep(Math.floor(rand() * 2500));
            await server.kill9();
            alive = false;
            await Promise.all(writers);
            assert.equal(integrity(path.join(dir, "muse.db")), "ok", `round ${round}: integrity_check`);
        }
        const server = await server_start({ model: models.qwen, data_dir: dir });
        servers.push(server);
        let completed = 0, in_flight = 0;
        for (const [conv, turns] of convs) {
            const got = await http(server, "GET", `/v1/conversations/${conv}`, { key });
            assert.equal(got.status, 200, got.text);
            // Each kill cut at most one turn per conversation: its user message and a partial reply.
            const extra = turns_check(got.json.messages, turns, conv);
            assert.ok(extra <= 2 * 3, `${conv}: ${extra} messages beyond the completed turns after 3 kills`);
            completed += turns.length;
            in_flight += extra;
        }
        assert.ok(completed >= 24, `only ${completed} turns completed before the kills`);
        assert.equal(integrity(path.join(dir, "muse.db")), "ok");
        console.log(`3 kill -9 rounds: ${completed} completed turns all kept, ${in_flight} in-flight messages left, integrity ok`);
    });

    test("a full disk: writes get a JSON error naming the disk, reads keep working, the store passes integrity_check", T, async () => {
        const seed_dir = data_dir_make();
        const key = key_create(seed_dir, "alice");
        const mnt = data_dir_make();
        const out = data_dir_make();
        // A private mount namespace (unprivileged through a user namespace, or as root) holds a
        // 2 MiB tmpfs for the data dir; when muse exits the script copies the store out.
        const script = `set -e
mount -t tmpfs -o size=2m none "$MNT"
cp -a "$SEED/." "$MNT/"
"$MUSE" serve -m "$MODEL" --host 127.0.0.1 --port 0 --data-dir "$MNT" &
echo "muse-pid $!" >&2
wait $! || true
cp -a "$MNT/." "$OUT/"`;
        const proc = spawn("unshare", ["-rm", "sh", "-c", script], {
            stdio: ["ignore", "pipe", "pipe"],
            env: { ...process.env, OMP_WAIT_POLICY: "PASSIVE", MNT: mnt, SEED: seed_dir, OUT: out, MUSE: muse_bin, MODEL: models.qwen },
        });
        let stderr = "";
        proc.stderr.setEncoding("utf8");
        proc.stderr.on("data", (s) => { stderr += s; });
        const exited = new Promise((r) => proc.on("exit", (code) => r(code)));
        const url = await new Promise((resolve, reject) => {
            setTimeout(() => reject(new Error(`the tmpfs server did not listen within 120 s:\n${stderr}`)), 120_000).unref();
            let stdout = "";
            proc.stdout.setEncoding("utf8");
            proc.stdout.on("data", (s) => {
                stdout += s;
                const m = /listening on (http:\/\/\S+)/.exec(stdout);
                if (m) resolve(m[1]);
            });
            exited.then((code) => reject(new Error(`the tmpfs server exited (${code}) before listening:\n${stderr}`)));
        });
        const muse_pid = Number(/muse-pid (\d+)/.exec(stderr)[1]);
        pids.push(muse_pid);
        const server = { url, v1: `${url}/v1` };

        const conv = (await http(server, "POST", "/v1/conversations", { key, body: { title: "full" } })).json.id;
        const words = Array.from({ length: 40_000 }, (_, i) => `w${(i * 7919) % 100_003}`).join(" ");
        let full, stored = 0;
        for (let i = 0; i < 40 && !full; i++) {
            const form = new FormData();
            form.append("purpose", "user_data");
            form.append("file", new Blob([`file ${i}: ${words}`], { type: "text/plain" }), `f${i}.txt`);
            const r = await fetch(`${url}/v1/files`, { method: "POST", headers: { authorization: `Bearer ${key}` }, body: form });
            const text = await r.text();
            if (r.status === 200) { stored++; continue; }
            full = { status: r.status, text };
        }
        assert.ok(full, "40 uploads of 300 KB each fit a 2 MiB tmpfs");
        assert.equal(full.status, 507, full.text);
        const err = JSON.parse(full.text).error;
        assert.match(err.message, /disk/i, full.text);
        assert.equal(err.code, "disk_full");

        // A turn's few hundred bytes may still fit where a file did not; when they do not, the
        // answer is the same JSON error. Reads keep working.
        const chat = await http(server, "POST", "/v1/chat/completions", { key, body: {
            model: "m", max_tokens: 4, muse: { mode: "instant", conversation_id: conv }, messages: [{ role: "user", content: "hi" }] } });
        assert.ok(chat.status === 200 || (chat.status === 507 && /disk/.test(chat.json?.error?.message)),
                  `a chat turn on a full disk: ${chat.status} ${chat.text}`);
        assert.equal((await http(server, "GET", "/health")).status, 200);
        const files = await http(server, "GET", "/v1/files", { key });
        assert.equal(files.status, 200, files.text);
        assert.equal(files.json.data.length, stored);
        assert.equal((await http(server, "GET", `/v1/conversations/${conv}`, { key })).status, 200);
        const plain = await http(server, "POST", "/v1/chat/completions", { key, body: {
            model: "m", max_tokens: 4, muse: { mode: "instant" }, messages: [{ role: "user", content: "no store" }] } });
        assert.equal(plain.status, 200, `a turn that writes nothing still runs: ${plain.text}`);

        process.kill(muse_pid, "SIGTERM");
        assert.equal(await exited, 0, stderr);
        assert.equal(integrity(path.join(out, "muse.db")), "ok");
        const again = await server_start({ model: models.qwen, data_dir: out });
        servers.push(again);
        const listed = await http(again, "GET", "/v1/files", { key });
        assert.equal(listed.json.data.length, stored);
        console.log(`full disk after ${stored} uploads: ${full.status} ${err.message}; reads served; the copy passes integrity_check`);
    });
});
