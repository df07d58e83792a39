// muse's MCP client against real servers from npm (server-everything over stdio and Streamable
// HTTP, server-filesystem) and a fixture server that misbehaves on purpose. The servers run with
// node from the repo root's node_modules; nothing here reaches the network.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "agent/mcp/base64.h"
#include "agent/mcp/child-process.h"
#include "agent/mcp/client.h"
#include "agent/mcp/config.h"
#include "agent/mcp/error.h"
#include "agent/mcp/hub.h"
#include "agent/mcp/json-rpc.h"
#include "agent/mcp/sse-parser.h"
#include "agent/mcp/tool-result.h"
#include "agent/mcp/tools.h"
#include "engine/error.h"

using namespace muse::agent;
using json       = nlohmann::json;
using clock_type = std::chrono::steady_clock;
namespace fs     = std::filesystem;

namespace {

const std::string source_dir = MUSE_SOURCE_DIR;

std::string everything_js() {
    return source_dir + "/node_modules/@modelcontextprotocol/server-everything/dist/index.js";
}

mcp_server_config node_config(const std::string & name, std::vector<std::string> args) {
    mcp_server_config c;
    c.name    = name;
    c.type    = MCP_TRANSPORT_TYPE_STDIO;
    c.command = "node";
    c.args    = std::move(args);
    return c;
}

mcp_server_config everything_config() {
    return node_config("everything", { everything_js(), "stdio" });
}

mcp_server_config fixture_config(const std::string & mode) {
    return node_config("fixture", { source_dir + "/tests/agent/mcp-fixtures/misbehaving-server.mjs", mode });
}

int free_port() {
    int         fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr {};
    addr.sin_family      = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &len);
    close(fd);
    return ntohs(addr.sin_port);
}

bool port_listening(int port, std::chrono::milliseconds wait) {
    auto until = clock_type::now() + wait;
    while (clock_type::now() < until) {
        int         fd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr {};
        addr.sin_family      = AF_INET;
        addr.sin_port        = htons(uint16_t(port));
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bool ok              = connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) == 0;
        close(fd);
        if (ok) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

// A node server on a free port for the test's lifetime (mcp_child_process ends it).
struct http_server {
    int                                port = free_port();
    std::unique_ptr<mcp_child_process> process;

    http_server(const std::vector<std::string> & args, std::map<std::string, std::string> env = {}) {
        env["PORT"] = std::to_string(port);
        process     = std::make_unique<mcp_child_process>("node", args, mcp_child_environment(env), "");
        if (!port_listening(port, std::chrono::seconds(20))) {
            ADD_FAILURE() << "the server did not listen on port " << port;
        }
    }

    std::string url() const { return "http://127.0.0.1:" + std::to_string(port) + "/mcp"; }
};

tool_ptr find_tool(const std::vector<tool_ptr> & tools, const std::string & name) {
    for (const auto & t : tools) {
        if (t->definition().name == name) {
            return t;
        }
    }
    ADD_FAILURE() << "no tool " << name;
    return nullptr;
}

tool_context context_within(std::chrono::milliseconds limit) {
    tool_context ctx;
    ctx.deadline = clock_type::now() + limit;
    return ctx;
}

double seconds_since(clock_type::time_point start) {
    return std::chrono::duration<double>(clock_type::now() - start).count();
}

// The long-running tool with a short deadline: an error result well before the operation ends.
void expect_timeout_quickly(const tool_ptr & slow) {
    auto        start = clock_type::now();
    tool_result out =
        slow->call({ { "duration", 10 }, { "steps", 2 } }, context_within(std::chrono::milliseconds(500)));
    EXPECT_LT(seconds_since(start), 2.0);
    EXPECT_TRUE(out.is_error);
    EXPECT_EQ(out.detail["error"], "timeout");
    EXPECT_NE(out.text.find("no answer to tools/call within"), std::string::npos) << out.text;
}

// The long-running tool cancelled after 300 ms: it stops waiting at once.
void expect_cancel_promptly(const tool_ptr & slow) {
    std::atomic<bool> cancel { false };
    tool_context      ctx = context_within(std::chrono::seconds(30));
    ctx.cancel            = &cancel;
    std::thread canceller([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        cancel = true;
    });
    auto        start = clock_type::now();
    tool_result out   = slow->call({ { "duration", 10 }, { "steps", 2 } }, ctx);
    double      took  = seconds_since(start);
    canceller.join();
    EXPECT_TRUE(out.is_error);
    EXPECT_EQ(out.detail["error"], "cancelled");
    EXPECT_GT(took, 0.25);
    EXPECT_LT(took, 1.5);
}

// Echo from `n` threads at once: every call gets its own answer back.
void expect_concurrent_echoes(const tool_ptr & echo, size_t n) {
    std::vector<std::string> answers(n);
    std::vector<std::thread> threads;
    for (size_t i = 0; i < n; i++) {
        threads.emplace_back([&, i] {
            answers[i] =
                echo->call({ { "message", "m" + std::to_string(i) } }, context_within(std::chrono::seconds(20))).text;
        });
    }
    for (auto & t : threads) {
        t.join();
    }
    for (size_t i = 0; i < n; i++) {
        EXPECT_EQ(answers[i], "Echo: m" + std::to_string(i));
    }
}

std::string config_error(const std::string & text) {
    try {
        mcp_config_parse(text, "/etc/muse/mcp.json");
    } catch (const muse::input_error & e) {
        return e.what();
    }
    ADD_FAILURE() << "no error for " << text;
    return "";
}

// The everything server over stdio, started once for the tests that only call it.
class McpEverything : public ::testing::Test {
  protected:
    static void SetUpTestSuite() { hub_ = new mcp_hub(std::vector<mcp_server_config> { everything_config() }); }

    static void TearDownTestSuite() {
        delete hub_;
        hub_ = nullptr;
    }

    static mcp_hub * hub_;
};

mcp_hub * McpEverything::hub_ = nullptr;

}  // namespace

// ---- pieces ----------------------------------------------------------------------------------

TEST(McpPieces, Base64) {
    EXPECT_EQ(mcp_base64_decode("aGVsbG8="), "hello");
    EXPECT_EQ(mcp_base64_decode("aGVsbG8"), "hello");
    EXPECT_EQ(mcp_base64_decode("aGVs\nbG8h"), "hello!");
    EXPECT_EQ(mcp_base64_decode(""), "");
    EXPECT_FALSE(mcp_base64_decode("!!!"));
    EXPECT_FALSE(mcp_base64_decode("aGVsbG8=x"));
    EXPECT_FALSE(mcp_base64_decode("a"));
    EXPECT_FALSE(mcp_base64_decode("aGVsbG8==="));
}

TEST(McpPieces, SseParserAcrossPieces) {
    mcp_sse_parser             parser(1 << 20);
    std::vector<mcp_sse_event> events;
    auto                       take = [&](const mcp_sse_event & e) { events.push_back(e); };
    std::string                stream =
        ": keep-alive\r\nevent: message\r\nid: 7\r\ndata: {\"a\":\r\ndata: 1}\r\n\r\ndata: two\n\nretry: 5\n\n";
    for (char c : stream) {  // one byte at a time: events must not depend on how TCP cut them
        ASSERT_TRUE(parser.feed(std::string_view(&c, 1), take));
    }
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].data, "{\"a\":\n1}");
    EXPECT_EQ(events[0].id, "7");
    EXPECT_EQ(events[0].type, "message");
    EXPECT_EQ(events[1].data, "two");

    mcp_sse_parser small(16);
    EXPECT_FALSE(small.feed("data: " + std::string(64, 'x'), take));
}

TEST(McpPieces, JsonRpcClassify) {
    EXPECT_EQ(jsonrpc_classify(json::parse(R"({"jsonrpc":"2.0","id":1,"result":{}})")), JSONRPC_KIND_RESPONSE);
    EXPECT_EQ(jsonrpc_classify(json::parse(R"({"id":"a","method":"ping"})")), JSONRPC_KIND_REQUEST);
    EXPECT_EQ(jsonrpc_classify(json::parse(R"({"method":"notifications/x"})")), JSONRPC_KIND_NOTIFICATION);
    EXPECT_EQ(jsonrpc_classify(json::parse(R"({"method":5})")), JSONRPC_KIND_INVALID);
    EXPECT_EQ(jsonrpc_classify(json::parse(R"({"id":{},"result":1})")), JSONRPC_KIND_INVALID);
    EXPECT_EQ(jsonrpc_classify(json::parse(R"({"id":1})")), JSONRPC_KIND_INVALID);
    EXPECT_EQ(jsonrpc_classify(json::parse("[1]")), JSONRPC_KIND_INVALID);
    EXPECT_EQ(jsonrpc_response_id(json::parse(R"({"id":"1","result":1})")), std::nullopt);
    EXPECT_EQ(jsonrpc_response_id(json::parse(R"({"id":41,"error":{}})")), 41);
    EXPECT_EQ(jsonrpc_error_text(json::parse(R"({"code":-32602,"message":"bad"})")), "-32602: bad");
    EXPECT_EQ(jsonrpc_error_text(json("just text")), "\"just text\"");
    EXPECT_FALSE(jsonrpc_parse(std::string(JSONRPC_MAX_DEPTH + 1, '[') + std::string(JSONRPC_MAX_DEPTH + 1, ']')));
    EXPECT_TRUE(jsonrpc_parse(std::string(JSONRPC_MAX_DEPTH, '[') + std::string(JSONRPC_MAX_DEPTH, ']')));
    EXPECT_TRUE(jsonrpc_parse("{\"a\": \"" + std::string(500, '[') + "\\\"\"}"));  // brackets in a string
    EXPECT_FALSE(jsonrpc_parse("not json"));
}

TEST(McpPieces, ToolNameAndTextCap) {
    EXPECT_EQ(mcp_tool_name("everything", "get-sum"), "everything.get-sum");
    EXPECT_EQ(mcp_tool_name("my server", "a.b/c"), "my_server.a_b_c");
    std::string text = std::string(10, 'a') + "\xC3\xA9" + std::string(10, 'b');  // é at bytes 10..11
    std::string cut  = mcp_text_capped(text, 11);
    EXPECT_EQ(cut.substr(0, 10), std::string(10, 'a'));
    EXPECT_EQ(cut[10], '\n');  // the é was not split
    EXPECT_NE(cut.find("truncated"), std::string::npos);
    EXPECT_EQ(mcp_text_capped("short", 11), "short");
}

TEST(McpPieces, ResultMapping) {
    json        result = json::parse(R"({
        "content": [
            {"type": "text", "text": "one"},
            {"type": "image", "data": "iVBORw0KGgo=", "mimeType": "image/png"},
            {"type": "resource", "resource": {"uri": "file:///a.txt", "text": "inside"}},
            {"type": "resource", "resource": {"uri": "file:///b.bin", "mimeType": "application/zip", "blob": "AAAA"}},
            {"type": "resource_link", "uri": "file:///c", "name": "c", "description": "a link"}
        ],
        "isError": true
    })");
    tool_result out    = mcp_tool_result_from(result, "s.t");
    EXPECT_TRUE(out.is_error);
    ASSERT_EQ(out.images.size(), 1u);
    EXPECT_EQ(out.images[0].bytes, std::string("\x89PNG\r\n\x1a\n", 8));
    EXPECT_EQ(out.images[0].name, "s.t-1.png");
    EXPECT_NE(out.text.find("one"), std::string::npos);
    EXPECT_NE(out.text.find("[resource file:///a.txt]\ninside"), std::string::npos);
    EXPECT_NE(out.text.find("file:///b.bin (application/zip)"), std::string::npos);
    EXPECT_NE(out.text.find("[resource link: c file:///c: a link]"), std::string::npos);

    tool_result structured = mcp_tool_result_from(json::parse(R"({"structuredContent": {"x": 1}})"), "s.t");
    EXPECT_EQ(structured.text, R"({"x":1})");
    EXPECT_FALSE(structured.is_error);
    EXPECT_EQ(mcp_tool_result_from(json("not an object"), "s.t").text, "");
}

// ---- config ----------------------------------------------------------------------------------

TEST(McpConfig, ParsesBothTransports) {
    auto servers = mcp_config_parse(R"({"mcpServers": {
        "files": {"command": "node", "args": ["a.js", "--x"], "env": {"K": "V"}, "cwd": "/tmp"},
        "remote": {"url": "http://127.0.0.1:3001/mcp", "headers": {"Authorization": "Bearer x"}},
        "typed": {"type": "streamable-http", "url": "https://example.com/mcp"},
        "local": {"type": "stdio", "command": "srv", "unknownKey": true}
    }})",
                                    "mcp.json");
    ASSERT_EQ(servers.size(), 4u);
    EXPECT_EQ(servers[0].name, "files");
    EXPECT_EQ(servers[0].type, MCP_TRANSPORT_TYPE_STDIO);
    EXPECT_EQ(servers[0].args, (std::vector<std::string> { "a.js", "--x" }));
    EXPECT_EQ(servers[0].env.at("K"), "V");
    EXPECT_EQ(servers[0].cwd, "/tmp");
    EXPECT_EQ(mcp_server_target(servers[0]), "node a.js --x");
    EXPECT_EQ(servers[1].name, "local");
    EXPECT_EQ(servers[1].command, "srv");
    EXPECT_EQ(servers[2].type, MCP_TRANSPORT_TYPE_HTTP);
    EXPECT_EQ(servers[2].headers.at("Authorization"), "Bearer x");
    EXPECT_EQ(servers[3].type, MCP_TRANSPORT_TYPE_HTTP);
    EXPECT_EQ(servers[3].url, "https://example.com/mcp");
    EXPECT_TRUE(mcp_config_parse(R"({"mcpServers": {}})", "x").empty());
}

TEST(McpConfig, BadConfigsSayWhatAndHow) {
    struct bad_case {
        std::string text;
        std::string server;   // named in the message ("" for file-level problems)
        std::string problem;  // a piece of the message
    };
    const std::vector<bad_case> cases = {
        { "{\"mcpServers\": {", "", "not valid JSON" },
        { "[]", "", "not an object" },
        { "{\"servers\": {}}", "", "no \"mcpServers\"" },
        { "{\"mcpServers\": []}", "", "\"mcpServers\" is array" },
        { "{\"mcpServers\": {\"a\": 5}}", "a", "not an object" },
        { "{\"mcpServers\": {\"a\": {}}}", "a", "no \"command\"" },
        { "{\"mcpServers\": {\"a\": {\"command\": 5}}}", "a", "\"command\" is number" },
        { "{\"mcpServers\": {\"a\": {\"command\": \"x\", \"args\": \"-v\"}}}", "a", "\"args\" is string" },
        { "{\"mcpServers\": {\"a\": {\"command\": \"x\", \"args\": [1]}}}", "a", "element of \"args\"" },
        { "{\"mcpServers\": {\"a\": {\"command\": \"x\", \"env\": {\"K\": 1}}}}", "a", "\"env\".\"K\" is number" },
        { "{\"mcpServers\": {\"a\": {\"command\": \"x\", \"env\": []}}}", "a", "\"env\" is array" },
        { "{\"mcpServers\": {\"a\": {\"type\": \"grpc\", \"command\": \"x\"}}}", "a", "unknown \"type\"" },
        { "{\"mcpServers\": {\"a\": {\"type\": \"sse\", \"url\": \"http://h/sse\"}}}", "a", "legacy \"sse\"" },
        { "{\"mcpServers\": {\"a\": {\"type\": \"http\"}}}", "a", "no \"url\"" },
        { "{\"mcpServers\": {\"a\": {\"url\": \"ftp://h/mcp\"}}}", "a", "not an http:// or https:// URL" },
        { "{\"mcpServers\": {\"a\": {\"url\": \"http://h/mcp\", \"headers\": [\"x\"]}}}", "a", "\"headers\" is array" },
        { "{\"mcpServers\": {\"a\": {\"url\": \"http://h/mcp\", \"command\": \"x\"}}}", "a", "both" },
    };
    for (const auto & c : cases) {
        std::string message = config_error(c.text);
        EXPECT_NE(message.find("/etc/muse/mcp.json"), std::string::npos) << message;
        EXPECT_NE(message.find(c.problem), std::string::npos) << c.text << " -> " << message;
        if (!c.server.empty()) {
            EXPECT_NE(message.find("MCP server '" + c.server + "'"), std::string::npos) << message;
        }
        EXPECT_NE(message.find("; "), std::string::npos) << "no fix in: " << message;
    }
    EXPECT_THROW(mcp_config_load("/nonexistent/muse-mcp.json"), muse::input_error);
    EXPECT_THROW(mcp_hub(fs::path("/nonexistent/muse-mcp.json")), muse::input_error);
}

// ---- server-everything over stdio ------------------------------------------------------------

TEST_F(McpEverything, InitializeAndListTools) {
    ASSERT_TRUE(hub_->failures().empty()) << mcp_server_failure_text(hub_->failures()[0]);
    auto client = hub_->client("everything");
    ASSERT_TRUE(client);
    EXPECT_EQ(client->protocol_version(), "2025-06-18");
    EXPECT_EQ(client->server_info().value("name", ""), "mcp-servers/everything");
    auto tools = hub_->tools();
    EXPECT_GE(tools.size(), 8u);
    auto echo = find_tool(tools, "everything.echo");
    ASSERT_TRUE(echo);
    muse::chat_tool def = echo->definition();
    EXPECT_EQ(def.description, "Echoes back the input string");
    json schema = json::parse(def.parameters);
    EXPECT_EQ(schema["properties"]["message"]["type"], "string");
    EXPECT_TRUE(find_tool(tools, "everything.get-sum"));
    EXPECT_TRUE(find_tool(tools, "everything.get-tiny-image"));
    EXPECT_TRUE(find_tool(tools, "everything.trigger-long-running-operation"));
}

TEST_F(McpEverything, EchoAddAndImage) {
    auto        tools = hub_->tools();
    tool_result echo  = find_tool(tools, "everything.echo")
                           ->call({ { "message", "hello, muse" } }, context_within(std::chrono::seconds(10)));
    EXPECT_FALSE(echo.is_error) << echo.text;
    EXPECT_EQ(echo.text, "Echo: hello, muse");
    EXPECT_EQ(echo.detail["server"], "everything");

    tool_result sum = find_tool(tools, "everything.get-sum")
                          ->call({ { "a", 2 }, { "b", 3.5 } }, context_within(std::chrono::seconds(10)));
    EXPECT_FALSE(sum.is_error) << sum.text;
    EXPECT_NE(sum.text.find("5.5"), std::string::npos) << sum.text;

    tool_result image =
        find_tool(tools, "everything.get-tiny-image")->call(json::object(), context_within(std::chrono::seconds(10)));
    EXPECT_FALSE(image.is_error) << image.text;
    ASSERT_EQ(image.images.size(), 1u);
    EXPECT_EQ(image.images[0].mime, "image/png");
    EXPECT_EQ(image.images[0].bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
    EXPECT_GT(image.images[0].bytes.size(), 1000u);
    EXPECT_NE(image.text.find("Here's the image you requested"), std::string::npos) << image.text;

    // The server's own argument check comes back as an error result, not a failure of ours.
    tool_result bad =
        find_tool(tools, "everything.get-sum")->call({ { "a", "two" } }, context_within(std::chrono::seconds(10)));
    EXPECT_TRUE(bad.is_error);
    tool_result not_object =
        find_tool(tools, "everything.echo")->call(json::array(), context_within(std::chrono::seconds(10)));
    EXPECT_TRUE(not_object.is_error);
    EXPECT_NE(not_object.text.find("JSON object"), std::string::npos);
}

TEST_F(McpEverything, TimeoutIsAnErrorResultAndTheServerGoesOn) {
    auto tools = hub_->tools();
    expect_timeout_quickly(find_tool(tools, "everything.trigger-long-running-operation"));

    tool_result echo =
        find_tool(tools, "everything.echo")->call({ { "message", "after" } }, context_within(std::chrono::seconds(10)));
    EXPECT_EQ(echo.text, "Echo: after");
}

TEST_F(McpEverything, CancelStopsWaitingPromptly) {
    expect_cancel_promptly(find_tool(hub_->tools(), "everything.trigger-long-running-operation"));
}

TEST_F(McpEverything, ConcurrentCallsGetTheirOwnAnswers) {
    expect_concurrent_echoes(find_tool(hub_->tools(), "everything.echo"), 12);
}

// ---- crashes and restarts --------------------------------------------------------------------

TEST(McpStdio, ServerKilledMidCallThenRestarted) {
    mcp_hub hub(std::vector<mcp_server_config> { everything_config() });
    ASSERT_TRUE(hub.failures().empty());
    auto  client = hub.client("everything");
    pid_t first  = client->server_pid();
    ASSERT_GT(first, 0);

    std::thread killer([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(400));
        kill(first, SIGKILL);
    });
    auto        start = clock_type::now();
    tool_result out   = find_tool(hub.tools(), "everything.trigger-long-running-operation")
                          ->call({ { "duration", 10 }, { "steps", 2 } }, context_within(std::chrono::seconds(20)));
    killer.join();
    EXPECT_LT(seconds_since(start), 3.0);
    EXPECT_TRUE(out.is_error);
    EXPECT_EQ(out.detail["error"], "transport");
    EXPECT_NE(out.text.find("killed by signal 9"), std::string::npos) << out.text;

    tool_result echo = find_tool(hub.tools(), "everything.echo")
                           ->call({ { "message", "again" } }, context_within(std::chrono::seconds(20)));
    EXPECT_FALSE(echo.is_error) << echo.text;
    EXPECT_EQ(echo.text, "Echo: again");
    EXPECT_EQ(client->restarts(), 1);
    EXPECT_NE(client->server_pid(), first);
    EXPECT_GT(client->server_pid(), 0);
    EXPECT_NE(kill(first, 0), 0);  // reaped, not a zombie of ours
}

TEST(McpStdio, DestructionEndsTheProcess) {
    pid_t pid = -1;
    {
        mcp_client client(everything_config());
        client.start();
        pid = client.server_pid();
        ASSERT_GT(pid, 0);
        EXPECT_EQ(kill(pid, 0), 0);
    }
    EXPECT_NE(kill(pid, 0), 0);
}

TEST(McpStdio, MissingCommandsAreReportedAndDoNotStopOthers) {
    mcp_server_config absent     = node_config("absent", {});
    absent.command               = "muse-no-such-mcp-server";
    mcp_server_config wrong_path = node_config("wrong-path", {});
    wrong_path.command           = "/nonexistent/bin/mcp-server";
    mcp_server_config exits      = fixture_config("exit");
    exits.name                   = "exits";
    mcp_hub hub(std::vector<mcp_server_config> { absent, wrong_path, exits, everything_config() });

    ASSERT_EQ(hub.failures().size(), 3u);
    EXPECT_EQ(hub.failures()[0].server, "absent");
    EXPECT_EQ(hub.failures()[0].target, "muse-no-such-mcp-server");
    EXPECT_NE(hub.failures()[0].reason.find("not found on PATH"), std::string::npos) << hub.failures()[0].reason;
    std::string text = mcp_server_failure_text(hub.failures()[1]);
    EXPECT_NE(text.find("MCP server 'wrong-path' (/nonexistent/bin/mcp-server) did not start"), std::string::npos)
        << text;
    EXPECT_NE(text.find("No such file"), std::string::npos) << text;
    EXPECT_EQ(hub.failures()[2].server, "exits");
    EXPECT_NE(hub.failures()[2].reason.find("exit code 3"), std::string::npos) << hub.failures()[2].reason;
    EXPECT_NE(hub.failures()[2].reason.find("fatal: the fixture was told to exit"), std::string::npos)
        << hub.failures()[2].reason;
    EXPECT_TRUE(hub.client("everything"));
    EXPECT_FALSE(hub.client("absent"));
    EXPECT_TRUE(find_tool(hub.tools(), "everything.echo"));
}

TEST(McpStdio, EnvironmentIsMinimal) {
    setenv("MUSE_TEST_SECRET_TOKEN", "do-not-leak", 1);
    mcp_server_config config = fixture_config("hang");
    config.env["MUSE_GIVEN"] = "given";
    mcp_hub hub(std::vector<mcp_server_config> { config });
    ASSERT_TRUE(hub.failures().empty());
    tool_result out =
        find_tool(hub.tools(), "fixture.env")->call(json::object(), context_within(std::chrono::seconds(10)));
    json env = json::parse(out.text);
    EXPECT_FALSE(env.contains("MUSE_TEST_SECRET_TOKEN"));
    EXPECT_EQ(env.value("MUSE_GIVEN", ""), "given");
    EXPECT_TRUE(env.contains("PATH"));
    unsetenv("MUSE_TEST_SECRET_TOKEN");
}

// ---- a misbehaving server --------------------------------------------------------------------

TEST(McpFixture, GarbageNeverCrashes) {
    mcp_hub hub(std::vector<mcp_server_config> { fixture_config("garbage") });
    ASSERT_TRUE(hub.failures().empty()) << mcp_server_failure_text(hub.failures()[0]);
    auto tools = hub.tools();
    // Nameless and duplicate tools are skipped; a bad schema becomes an empty object schema.
    EXPECT_EQ(tools.size(), 10u);
    json schema = json::parse(find_tool(tools, "fixture.bad-schema")->definition().parameters);
    EXPECT_EQ(schema["type"], "object");

    tool_result ok = find_tool(tools, "fixture.ok")->call(json::object(), context_within(std::chrono::seconds(10)));
    EXPECT_FALSE(ok.is_error);  // "isError": "yes" is not a boolean
    EXPECT_NE(ok.text.find("fine"), std::string::npos) << ok.text;
    EXPECT_NE(ok.text.find("not valid base64"), std::string::npos) << ok.text;
    EXPECT_TRUE(ok.images.empty());

    tool_result wrong =
        find_tool(tools, "fixture.wrong-result")->call(json::object(), context_within(std::chrono::seconds(10)));
    EXPECT_TRUE(wrong.is_error);
    EXPECT_EQ(wrong.detail["error"], "protocol");
    tool_result wrong_error =
        find_tool(tools, "fixture.wrong-error")->call(json::object(), context_within(std::chrono::seconds(10)));
    EXPECT_TRUE(wrong_error.is_error);
    EXPECT_NE(wrong_error.text.find("a string, not an object"), std::string::npos) << wrong_error.text;
    // The server pinged us on every request; we answered with an empty result.
    tool_result ping =
        find_tool(tools, "fixture.ping-seen")->call(json::object(), context_within(std::chrono::seconds(10)));
    EXPECT_EQ(ping.text, "ping-answered");
}

TEST(McpFixture, HangingCallIsCancelledOnTheServer) {
    mcp_hub hub(std::vector<mcp_server_config> { fixture_config("hang") });
    ASSERT_TRUE(hub.failures().empty());
    auto        start = clock_type::now();
    tool_result out =
        find_tool(hub.tools(), "fixture.hang")->call(json::object(), context_within(std::chrono::milliseconds(300)));
    EXPECT_LT(seconds_since(start), 1.5);
    EXPECT_TRUE(out.is_error);
    tool_result status =
        find_tool(hub.tools(), "fixture.status")->call(json::object(), context_within(std::chrono::seconds(10)));
    json seen = json::parse(status.text);
    ASSERT_EQ(seen["cancelled"].size(), 1u);
    EXPECT_TRUE(seen["cancelled"][0].is_number_integer());
}

TEST(McpFixture, SilentServerTimesOutAtStart) {
    mcp_client_options options;
    options.start_timeout = std::chrono::milliseconds(1500);
    auto    start         = clock_type::now();
    mcp_hub hub(std::vector<mcp_server_config> { fixture_config("silent") }, options);
    EXPECT_LT(seconds_since(start), 4.0);
    ASSERT_EQ(hub.failures().size(), 1u);
    EXPECT_NE(hub.failures()[0].reason.find("no answer to initialize"), std::string::npos) << hub.failures()[0].reason;
    EXPECT_TRUE(hub.tools().empty());
}

TEST(McpFixture, ProtocolVersions) {
    mcp_hub unknown(std::vector<mcp_server_config> { fixture_config("version") });
    ASSERT_EQ(unknown.failures().size(), 1u);
    EXPECT_NE(unknown.failures()[0].reason.find("1999-01-01"), std::string::npos) << unknown.failures()[0].reason;

    mcp_client older(fixture_config("version=2025-03-26"));
    older.start();
    EXPECT_EQ(older.protocol_version(), "2025-03-26");
}

TEST(McpFixture, ToolsListPages) {
    mcp_client client(fixture_config("paged"));
    client.start();
    auto                     tools = client.tools_list();
    std::vector<std::string> names;
    for (const auto & t : tools) {
        names.push_back(t.name);
    }
    EXPECT_EQ(names, (std::vector<std::string> { "p0a", "p0b", "p1a", "p2a", "p2b" }));
}

TEST(McpFixture, OversizedMessageRefusedLongTextCapped) {
    mcp_hub hub(std::vector<mcp_server_config> { fixture_config("big") });
    ASSERT_TRUE(hub.failures().empty());
    tool_result big =
        find_tool(hub.tools(), "fixture.big")->call(json::object(), context_within(std::chrono::seconds(20)));
    EXPECT_TRUE(big.is_error);
    EXPECT_NE(big.text.find("over 16 MiB"), std::string::npos) << big.text.substr(0, 300);
    EXPECT_LT(big.text.size(), 1000u);

    tool_result text =
        find_tool(hub.tools(), "fixture.long-text")->call(json::object(), context_within(std::chrono::seconds(20)));
    EXPECT_FALSE(text.is_error) << text.text.substr(0, 300);
    EXPECT_LT(text.text.size(), MCP_TOOL_TEXT_CAP + 200);
    EXPECT_GE(text.text.size(), MCP_TOOL_TEXT_CAP);
    EXPECT_NE(text.text.find("[output truncated: the first 65536 of 102400 bytes are shown]"), std::string::npos);
}

// ---- Streamable HTTP -------------------------------------------------------------------------

TEST(McpHttp, EverythingOverStreamableHttp) {
    http_server       server({ everything_js(), "streamableHttp" });
    mcp_server_config config;
    config.name = "remote";
    config.type = MCP_TRANSPORT_TYPE_HTTP;
    config.url  = server.url();
    mcp_hub hub(std::vector<mcp_server_config> { config });
    ASSERT_TRUE(hub.failures().empty()) << mcp_server_failure_text(hub.failures()[0]);
    EXPECT_EQ(hub.client("remote")->protocol_version(), "2025-06-18");
    auto tools = hub.tools();

    tool_result echo =
        find_tool(tools, "remote.echo")->call({ { "message", "over http" } }, context_within(std::chrono::seconds(10)));
    EXPECT_FALSE(echo.is_error) << echo.text;
    EXPECT_EQ(echo.text, "Echo: over http");
    tool_result image =
        find_tool(tools, "remote.get-tiny-image")->call(json::object(), context_within(std::chrono::seconds(10)));
    ASSERT_EQ(image.images.size(), 1u);
    EXPECT_EQ(image.images[0].bytes.substr(0, 4), "\x89PNG");

    expect_timeout_quickly(find_tool(tools, "remote.trigger-long-running-operation"));
    expect_cancel_promptly(find_tool(tools, "remote.trigger-long-running-operation"));
    expect_concurrent_echoes(find_tool(tools, "remote.echo"), 6);
}

TEST(McpHttp, JsonBodiesSessionHeadersAndDelete) {
    fs::path log = fs::temp_directory_path() / ("muse-mcp-http-" + std::to_string(getpid()) + ".log");
    fs::remove(log);
    {
        http_server       server({ source_dir + "/tests/agent/mcp-fixtures/misbehaving-server.mjs", "http-json" },
                                 { { "MUSE_MCP_LOG", log.string() } });
        mcp_server_config config;
        config.name                     = "json";
        config.type                     = MCP_TRANSPORT_TYPE_HTTP;
        config.url                      = server.url();
        config.headers["Authorization"] = "Bearer secret-x";
        {
            mcp_hub hub(std::vector<mcp_server_config> { config });
            ASSERT_TRUE(hub.failures().empty()) << mcp_server_failure_text(hub.failures()[0]);
            tool_result long_text = find_tool(hub.tools(), "json.long-text")
                                        ->call(json::object(), context_within(std::chrono::seconds(10)));
            EXPECT_FALSE(long_text.is_error) << long_text.text.substr(0, 200);
            EXPECT_NE(long_text.text.find("output truncated"), std::string::npos);
            tool_result wrong = find_tool(hub.tools(), "json.wrong-result")
                                    ->call(json::object(), context_within(std::chrono::seconds(10)));
            EXPECT_TRUE(wrong.is_error);
        }  // the hub ends: the session is DELETEd
    }
    std::ifstream     in(log);
    std::vector<json> entries;
    std::string       line;
    while (std::getline(in, line)) {
        entries.push_back(json::parse(line));
    }
    fs::remove(log);
    ASSERT_GE(entries.size(), 5u);
    EXPECT_EQ(entries[0]["method"], "initialize");
    EXPECT_TRUE(entries[0]["session"].is_null());
    EXPECT_EQ(entries[0]["accept"], "application/json, text/event-stream");
    EXPECT_EQ(entries[0]["authorization"], "Bearer secret-x");
    EXPECT_EQ(entries[1]["method"], "notifications/initialized");
    for (size_t i = 1; i < entries.size(); i++) {
        EXPECT_EQ(entries[i]["session"], "fixture-session-1") << entries[i].dump();
        EXPECT_EQ(entries[i]["version"], "2025-06-18") << entries[i].dump();
    }
    EXPECT_EQ(entries.back()["http"], "DELETE");
}

TEST(McpHttp, NothingListeningIsAClearFailure) {
    mcp_server_config config;
    config.name = "gone";
    config.type = MCP_TRANSPORT_TYPE_HTTP;
    config.url  = "http://127.0.0.1:" + std::to_string(free_port()) + "/mcp";
    mcp_hub hub(std::vector<mcp_server_config> { config });
    ASSERT_EQ(hub.failures().size(), 1u);
    EXPECT_NE(hub.failures()[0].reason.find("cannot reach http://127.0.0.1:"), std::string::npos)
        << hub.failures()[0].reason;
}

// ---- server-filesystem -----------------------------------------------------------------------

TEST(McpFilesystem, ReadWriteListInsideAndRefuseOutside) {
    fs::path dir = fs::temp_directory_path() / ("muse-mcp-fs-" + std::to_string(getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::ofstream(dir / "hello.txt") << "hello from muse\n";
    fs::path root = fs::canonical(dir);

    mcp_hub hub(std::vector<mcp_server_config> { node_config(
        "files",
        { source_dir + "/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js", root.string() }) });
    ASSERT_TRUE(hub.failures().empty()) << mcp_server_failure_text(hub.failures()[0]);
    auto tools = hub.tools();
    auto ctx   = context_within(std::chrono::seconds(15));

    tool_result list = find_tool(tools, "files.list_directory")->call({ { "path", root.string() } }, ctx);
    EXPECT_FALSE(list.is_error) << list.text;
    EXPECT_NE(list.text.find("hello.txt"), std::string::npos) << list.text;

    tool_result read =
        find_tool(tools, "files.read_text_file")->call({ { "path", (root / "hello.txt").string() } }, ctx);
    EXPECT_FALSE(read.is_error) << read.text;
    EXPECT_NE(read.text.find("hello from muse"), std::string::npos) << read.text;

    tool_result write = find_tool(tools, "files.write_file")
                            ->call({ { "path", (root / "new.txt").string() }, { "content", "written" } }, ctx);
    EXPECT_FALSE(write.is_error) << write.text;
    std::ifstream     in(root / "new.txt");
    std::stringstream written;
    written << in.rdbuf();
    EXPECT_EQ(written.str(), "written");

    tool_result outside = find_tool(tools, "files.read_text_file")->call({ { "path", "/etc/hostname" } }, ctx);
    EXPECT_TRUE(outside.is_error);
    EXPECT_NE(outside.text.find("Access denied"), std::string::npos) << outside.text;
    fs::remove_all(dir);
}
