#include "cli/agent-tools.h"

#include "agent/mcp/hub.h"
#include "agent/tool-names.h"
#include "agent/tools/python.h"
#include "agent/tools/web.h"
#include "engine/error.h"

#include <sodium.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>

namespace muse::cli {

void agent_options_add(CLI::App & app, agent_options & o, bool local) {
    if (local) {
        app.add_option("--tool-choice", o.tool_choice,
                       "with --tools: auto | required | none | a tool's name — whether (and which) tool the first step "
                       "of a turn must call");
        app.add_option("--workdir", o.workdir,
                       "with --tools python/artifacts: the folder of the files (/mnt/data) and artifacts, kept across "
                       "turns (default: a new one under the data dir's workspaces/cli/)");
    }
    if (local) {
        app.add_option("--files", o.files, "with --tools file_search: files (text, Markdown, PDF, images) it searches; "
                                           "indexed for this run (repeatable)")
            ->check(CLI::ExistingFile)
            ->expected(1)
            ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    }
    app.add_flag("--web", o.web, "turn on the web tools (open_url, find_in_page, web_search): the same as --tools web");
    app.add_option("--web-allow", o.web_allow,
                   "with web: a host (HOST or HOST:PORT) the web tools may reach though it is on a loopback or private "
                   "address (repeatable); such addresses are refused otherwise")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    app.add_option("--search-url", o.search_url,
                   "with web: a SearXNG instance (its base URL, e.g. http://127.0.0.1:8888) web_search asks; "
                   "no web_search without it");
    app.add_option("--mcp", o.mcp_file, "MCP servers whose tools the model may call (with --tools mcp): a JSON file in "
                                        "Claude Desktop's {\"mcpServers\": {...}} format");
    app.add_option("--max-steps", o.max_steps, "with server-side tools: most generations in one turn")
        ->check(CLI::Range(1, 64))->capture_default_str();
    app.add_option("--max-argument-chars", o.max_argument_chars,
                   "with server-side tools: the longest string argument one call may carry (0: no bound)")
        ->check(CLI::Range(0, 1 << 26))->capture_default_str();
    app.add_option("--tool-timeout", o.tool_timeout, "with server-side tools: seconds one call may take")
        ->check(CLI::Range(1.0, 3600.0))->capture_default_str();
    app.add_option("--subagent-max-tokens", o.subagent_max_tokens, "spawn_agent: most tokens each sub-agent generates")
        ->check(CLI::Range(1, 1 << 20))->capture_default_str();
    app.add_option("--python-timeout", o.python_secs, "python: seconds one run may take")
        ->check(CLI::Range(1.0, 3600.0))->capture_default_str();
    app.add_option("--python-memory", o.python_memory_mb, "python: MiB of memory one run may use")
        ->check(CLI::Range((int64_t) 64, (int64_t) 1 << 20))->capture_default_str();
}

namespace {

class artifact_dir final : public agent::artifact_store {
  public:
    explicit artifact_dir(std::filesystem::path dir) : dir_(std::move(dir)) {}

    std::optional<agent::artifact> put(const agent::tool_context &, const std::string & id, const std::string & title,
                                       agent::artifact_type type, const std::string & content) override {
        std::lock_guard<std::mutex> lk(mu_);
        agent::artifact a{ id, 1, title, type, content };
        if (id.empty()) {
            unsigned char b[12];
            randombytes_buf(b, sizeof b);
            char hex[25];
            sodium_bin2hex(hex, sizeof hex, b, sizeof b);
            a.id = std::string("art_") + hex;
        } else {
            auto it = latest_.find(id);
            if (it == latest_.end()) return std::nullopt;
            a.version = it->second.version + 1;
        }
        static const std::map<agent::artifact_type, const char *> ext = {
            { agent::ARTIFACT_TYPE_HTML, "html" }, { agent::ARTIFACT_TYPE_SVG, "svg" }, { agent::ARTIFACT_TYPE_MARKDOWN, "md" } };
        std::filesystem::create_directories(dir_);
        const auto path = dir_ / (a.id + "-v" + std::to_string(a.version) + "." + ext.at(type));
        std::ofstream(path, std::ios::binary) << content;
        printf("\n[artifact] \"%s\" version %d: %s\n", title.c_str(), a.version, path.c_str());
        fflush(stdout);
        latest_[a.id] = a;
        return a;
    }
    std::optional<agent::artifact> latest(const agent::tool_context &, const std::string & id) override {
        std::lock_guard<std::mutex> lk(mu_);
        auto it = latest_.find(id);
        if (it == latest_.end()) return std::nullopt;
        return it->second;
    }

  private:
    std::filesystem::path                  dir_;
    std::mutex                             mu_;
    std::map<std::string, agent::artifact> latest_;
};

}  // namespace

std::shared_ptr<agent::artifact_store> artifact_files(const std::filesystem::path & dir) {
    return std::make_shared<artifact_dir>(dir);
}

}  // namespace muse::cli

namespace muse::cli {

namespace {

agent::tool_ptr python_tool_start(const agent_options & o) {
    std::string why;
    if (!agent::sandbox_available(&why)) {
        throw input_error("--tools python needs bubblewrap able to make namespaces here: " + why +
                          " (apt-get install bubblewrap; in a container, allow user namespaces)");
    }
    agent::python_tool_options po;
    po.limits.wall_secs    = o.python_secs;
    po.limits.cpu_secs     = (int) std::max(1.0, o.python_secs);
    po.limits.memory_bytes = (uint64_t) o.python_memory_mb << 20;
    return std::make_shared<agent::python_tool>(po);
}

}  // namespace

void agent_options_resolve(agent_options & o) {
    auto has = [&o](const char * name) { return std::find(o.tools.begin(), o.tools.end(), name) != o.tools.end(); };
    if (o.web && !has("web")) o.tools.push_back("web");
    if (!has("web") && (!o.web_allow.empty() || !o.search_url.empty())) {
        throw input_error(std::string(o.search_url.empty() ? "--web-allow" : "--search-url") +
                          " needs the web tools: add --web (or web in --tools)");
    }
    if (!o.files.empty() && !has("file_search")) throw input_error("--files needs --tools file_search");
}

agent_tools agent_tools_start(const agent_options & o) {
    agent_tools out;
    const bool want_web = std::find(o.tools.begin(), o.tools.end(), "web") != o.tools.end();
    if (want_web) {
        agent::web_options wo;
        wo.allow_hosts = o.web_allow;
        wo.search_url  = o.search_url;
        try {
            out.web = agent::web_tools(wo);
        } catch (const std::invalid_argument & e) {
            throw input_error(std::string("--web-allow/--search-url: ") + e.what());
        }
    }
    const bool want_mcp = std::find(o.tools.begin(), o.tools.end(), "mcp") != o.tools.end();
    for (const auto & name : o.tools) {
        if (!agent::tool_set_list(name)) {
            throw input_error("--tools: unknown tool '" + name + "'; the server-side tools are " + agent::tool_set_names_text());
        }
    }
    if (want_mcp && o.mcp_file.empty()) {
        throw input_error("--tools mcp needs --mcp FILE: the MCP servers to start, as {\"mcpServers\": {\"NAME\": "
                          "{\"command\": ..., \"args\": [...]}}}");
    }
    if (!want_mcp && !o.mcp_file.empty()) throw input_error("--mcp " + o.mcp_file + " needs mcp in --tools (e.g. --tools mcp)");
    if (std::find(o.tools.begin(), o.tools.end(), "python") != o.tools.end()) out.python = python_tool_start(o);
    if (want_mcp) {
        auto hub = std::make_shared<agent::mcp_hub>(std::filesystem::path(o.mcp_file));
        for (const auto & f : hub->failures()) fprintf(stderr, "warning: %s\n", agent::mcp_server_failure_text(f).c_str());
        out.mcp = hub->tools();
        fprintf(stderr, "mcp: %zu tools from %s\n", out.mcp.size(), o.mcp_file.c_str());
        out.keep = hub;
    }
    return out;
}

}  // namespace muse::cli
