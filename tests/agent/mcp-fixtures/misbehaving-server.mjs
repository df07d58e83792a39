// An MCP server that misbehaves on purpose, for muse's MCP client tests (tests/agent/mcp_test.cpp).
// Plain node (no SDK) so that it can send exactly the wrong thing. The first argument picks it:
//   garbage   non-JSON lines, wrong types and hostile tool results; pings the client
//   hang      tools/call "hang" never answers; "status" tells the cancellations it got
//   silent    never answers initialize
//   exit      writes to stderr and exits 3 at once
//   big       "big" answers a 17 MiB line; "long-text" 100 KiB of text
//   version   answers initialize with a protocol version nobody speaks; `version=X` with X
//   paged     tools/list in three pages
//   env       "env" answers the names and values of its environment
//   http-json Streamable HTTP with JSON bodies on $PORT; logs each request's method and MCP
//             headers to $MUSE_MCP_LOG
import http from "node:http";
import fs from "node:fs";
import readline from "node:readline";

const mode = process.argv[2] || "garbage";
const cancelled = [];
let pingAnswered = false;

function send(message) {
    process.stdout.write(JSON.stringify(message) + "\n");
}

function result(id, value) {
    return { jsonrpc: "2.0", id, result: value };
}

function text(t) {
    return { content: [{ type: "text", text: t }] };
}

function initializeResult(version) {
    return { protocolVersion: version, capabilities: { tools: {} }, serverInfo: { name: "misbehaving", version: "0" } };
}

const tools = [
    { name: "ok", description: "Answers hostile content", inputSchema: { type: "object" } },
    { name: "wrong-result", description: "Answers an array as the result", inputSchema: { type: "object" } },
    { name: "wrong-error", description: "Answers an error that is a string", inputSchema: { type: "object" } },
    { name: "ping-seen", description: "Whether the client answered our ping", inputSchema: { type: "object" } },
    { name: "hang", description: "Never answers", inputSchema: { type: "object" } },
    { name: "status", description: "The cancellations seen", inputSchema: { type: "object" } },
    { name: "big", description: "A 17 MiB answer", inputSchema: { type: "object" } },
    { name: "long-text", description: "100 KiB of text", inputSchema: { type: "object" } },
    { name: "env", description: "The environment", inputSchema: { type: "object" } },
];

// The answer to one request, or undefined for none.
function answer(message) {
    const { id, method, params } = message;
    if (method === "initialize") {
        if (mode === "silent") return undefined;
        if (mode.startsWith("version")) {
            const v = mode.includes("=") ? mode.split("=")[1] : "1999-01-01";
            return result(id, initializeResult(v));
        }
        return result(id, initializeResult("2025-06-18"));
    }
    if (method === "tools/list") {
        if (mode === "paged") {
            const page = params && params.cursor ? Number(params.cursor) : 0;
            const names = [["p0a", "p0b"], ["p1a"], ["p2a", "p2b"]][page];
            const out = { tools: names.map((name) => ({ name, inputSchema: { type: "object" } })) };
            if (page < 2) out.nextCursor = String(page + 1);
            return result(id, out);
        }
        if (mode === "garbage") {
            const hostile = [
                { name: 7, inputSchema: {} },
                { description: "no name" },
                "a string",
                { name: "bad-schema", description: 5, inputSchema: "not an object" },
                { name: "ok", description: "a duplicate" },
            ];
            return result(id, { tools: [...tools, ...hostile], nextCursor: 12 });
        }
        return result(id, { tools });
    }
    if (method === "tools/call") {
        const name = params && params.name;
        if (name === "ok") {
            return result(id, {
                content: [
                    { type: "text", text: 5 },
                    { type: "image", data: "!!!not base64!!!", mimeType: 7 },
                    42,
                    null,
                    { type: "resource", resource: "x" },
                    { type: 9 },
                    { type: "text", text: "fine" },
                ],
                isError: "yes",
            });
        }
        if (name === "wrong-result") return result(id, [1, 2]);
        if (name === "wrong-error") return { jsonrpc: "2.0", id, error: "a string, not an object" };
        if (name === "ping-seen") return result(id, text(pingAnswered ? "ping-answered" : "no-ping-answer"));
        if (name === "hang") return undefined;
        if (name === "status") return result(id, text(JSON.stringify({ cancelled })));
        if (name === "big") return result(id, text("x".repeat(17 * 1024 * 1024)));
        if (name === "long-text") return result(id, text("y".repeat(100 * 1024)));
        if (name === "env") return result(id, text(JSON.stringify(process.env)));
        return { jsonrpc: "2.0", id, error: { code: -32602, message: `unknown tool ${name}` } };
    }
    if (method === "ping") return result(id, {});
    return { jsonrpc: "2.0", id, error: { code: -32601, message: `no method ${method}` } };
}

function serveStdio() {
    const lines = readline.createInterface({ input: process.stdin });
    lines.on("line", (line) => {
        let message;
        try {
            message = JSON.parse(line);
        } catch {
            return;
        }
        if (message.method === "notifications/cancelled") {
            cancelled.push(message.params && message.params.requestId);
            return;
        }
        if (message.id === "fixture-ping") {
            pingAnswered = message.result !== undefined && JSON.stringify(message.result) === "{}";
            return;
        }
        if (message.id === undefined || message.method === undefined) return;
        if (mode === "garbage") {
            process.stdout.write("this is not JSON\n");
            process.stdout.write("{\"truncated\": \n");
            send(null);
            send([1, "two", { jsonrpc: "2.0", id: "not ours", result: 1 }]);
            send({ jsonrpc: "2.0", id: message.id });  // neither result nor error
            send({ jsonrpc: "2.0", id: { nested: true }, result: {} });
            send({ jsonrpc: "2.0", method: 42 });
            send({ jsonrpc: "2.0", method: "notifications/message", params: { level: "info", data: "hello" } });
            send({ jsonrpc: "2.0", id: "fixture-ping", method: "ping" });
            send({ jsonrpc: "2.0", id: "fixture-sample", method: "sampling/createMessage", params: {} });
            process.stdout.write("\r\n\n   \n");
            process.stdout.write("[".repeat(200000) + "]".repeat(200000) + "\n");  // deep enough to end a recursion
        }
        const reply = answer(message);
        if (reply !== undefined) send(reply);
    });
    lines.on("close", () => process.exit(0));
}

function serveHttpJson() {
    const log = process.env.MUSE_MCP_LOG;
    const sessionId = "fixture-session-1";
    const server = http.createServer((req, res) => {
        let body = "";
        req.on("data", (chunk) => (body += chunk));
        req.on("end", () => {
            let message = {};
            try {
                message = JSON.parse(body || "{}");
            } catch {}
            const entry = {
                http: req.method,
                method: message.method,
                session: req.headers["mcp-session-id"] || null,
                version: req.headers["mcp-protocol-version"] || null,
                accept: req.headers["accept"] || null,
                authorization: req.headers["authorization"] || null,
            };
            if (log) fs.appendFileSync(log, JSON.stringify(entry) + "\n");
            if (req.method === "DELETE") {
                res.writeHead(200).end();
                return;
            }
            if (message.method !== "initialize" && entry.session !== sessionId) {
                res.writeHead(400, { "Content-Type": "text/plain" }).end("missing session");
                return;
            }
            if (message.id === undefined) {
                res.writeHead(202).end();
                return;
            }
            const reply = answer(message);
            const headers = { "Content-Type": "application/json" };
            if (message.method === "initialize") headers["Mcp-Session-Id"] = sessionId;
            res.writeHead(200, headers).end(JSON.stringify(reply));
        });
    });
    server.listen(Number(process.env.PORT), "127.0.0.1");
}

if (mode === "exit") {
    process.stderr.write("fatal: the fixture was told to exit\n");
    process.exit(3);
} else if (mode === "http-json") {
    serveHttpJson();
} else {
    serveStdio();
}
