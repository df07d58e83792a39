#include "agent/mcp/config.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/error.h"

namespace muse::agent {

namespace {

using json = nlohmann::json;

[[noreturn]] void config_fail(const std::string & source, const std::string & server, const std::string & problem,
                              const std::string & fix) {
    std::string where = source;
    if (!server.empty()) {
        where += ": MCP server '" + server + "'";
    }
    throw input_error(where + ": " + problem + "; " + fix);
}

std::map<std::string, std::string> config_string_map(const json & value, const std::string & key,
                                                     const std::string & source, const std::string & server) {
    std::map<std::string, std::string> out;
    if (value.is_null()) {
        return out;
    }
    if (!value.is_object()) {
        config_fail(source, server, "\"" + key + "\" is " + std::string(value.type_name()) + ", not an object",
                    "write it as {\"NAME\": \"value\", ...}");
    }
    for (const auto & [k, v] : value.items()) {
        if (!v.is_string()) {
            config_fail(source, server,
                        "\"" + key + "\".\"" + k + "\" is " + std::string(v.type_name()) + ", not a string",
                        "quote the value");
        }
        out[k] = v.get<std::string>();
    }
    return out;
}

std::string config_string(const json & server_json, const std::string & key, const std::string & source,
                          const std::string & server) {
    auto it = server_json.find(key);
    if (it == server_json.end() || it->is_null()) {
        return "";
    }
    if (!it->is_string()) {
        config_fail(source, server, "\"" + key + "\" is " + std::string(it->type_name()) + ", not a string",
                    "write it as a quoted string");
    }
    return it->get<std::string>();
}

mcp_server_config config_server(const std::string & name, const json & value, const std::string & source) {
    if (name.empty()) {
        config_fail(source, "", "a server in \"mcpServers\" has an empty name", "give every server a name");
    }
    if (!value.is_object()) {
        config_fail(source, name, "its entry is " + std::string(value.type_name()) + ", not an object",
                    "write {\"command\": \"...\", \"args\": [...]} or {\"url\": \"http://...\"}");
    }
    mcp_server_config config;
    config.name = name;

    const std::string type = config_string(value, "type", source, name);
    config.command         = config_string(value, "command", source, name);
    config.url             = config_string(value, "url", source, name);
    config.cwd             = config_string(value, "cwd", source, name);

    if (type == "sse") {
        config_fail(
            source, name, "the legacy \"sse\" transport is not supported",
            "use the server's Streamable HTTP endpoint with \"type\": \"http\" (often the same host, path /mcp)");
    }
    if (type.empty()) {
        if (!config.command.empty() && !config.url.empty()) {
            config_fail(source, name, "it has both \"command\" and \"url\"",
                        "keep \"command\" for a local program or \"url\" for a remote server");
        }
        config.type = config.url.empty() ? MCP_TRANSPORT_TYPE_STDIO : MCP_TRANSPORT_TYPE_HTTP;
    } else if (type == "stdio") {
        config.type = MCP_TRANSPORT_TYPE_STDIO;
    } else if (type == "http" || type == "streamable-http" || type == "streamableHttp") {
        config.type = MCP_TRANSPORT_TYPE_HTTP;
    } else {
        config_fail(source, name, "unknown \"type\": \"" + type + "\"", "use \"stdio\" or \"http\"");
    }

    if (config.type == MCP_TRANSPORT_TYPE_STDIO) {
        if (config.command.empty()) {
            config_fail(source, name, "it has no \"command\"",
                        "add \"command\": \"program\" (and \"args\": [...]), or \"url\" for a remote server");
        }
        auto args = value.find("args");
        if (args != value.end() && !args->is_null()) {
            if (!args->is_array()) {
                config_fail(source, name, "\"args\" is " + std::string(args->type_name()) + ", not an array",
                            "write \"args\": [\"--flag\", \"value\"]");
            }
            for (const auto & arg : *args) {
                if (!arg.is_string()) {
                    config_fail(source, name, "an element of \"args\" is " + std::string(arg.type_name()),
                                "quote every argument");
                }
                config.args.push_back(arg.get<std::string>());
            }
        }
        config.env = config_string_map(value.contains("env") ? value["env"] : json(), "env", source, name);
    } else {
        if (config.url.empty()) {
            config_fail(source, name, "it has no \"url\"", "add \"url\": \"http://host:port/mcp\"");
        }
        if (config.url.rfind("http://", 0) != 0 && config.url.rfind("https://", 0) != 0) {
            config_fail(source, name, "\"url\" \"" + config.url + "\" is not an http:// or https:// URL",
                        "write the full URL, e.g. http://127.0.0.1:3001/mcp");
        }
        config.headers =
            config_string_map(value.contains("headers") ? value["headers"] : json(), "headers", source, name);
    }
    return config;
}

}  // namespace

std::vector<mcp_server_config> mcp_config_parse(const std::string & text, const std::string & source) {
    json root = json::parse(text, nullptr, false);
    if (root.is_discarded()) {
        config_fail(source, "", "not valid JSON", "check it with a JSON linter (a trailing comma or a missing quote?)");
    }
    if (!root.is_object()) {
        config_fail(source, "", "the top level is " + std::string(root.type_name()) + ", not an object",
                    "write {\"mcpServers\": {\"name\": {...}}}");
    }
    auto servers = root.find("mcpServers");
    if (servers == root.end()) {
        config_fail(source, "", "no \"mcpServers\" key", "write {\"mcpServers\": {\"name\": {\"command\": \"...\"}}}");
    }
    if (!servers->is_object()) {
        config_fail(source, "", "\"mcpServers\" is " + std::string(servers->type_name()) + ", not an object",
                    "map each server's name to its settings: {\"name\": {\"command\": \"...\"}}");
    }
    std::vector<mcp_server_config> out;
    for (const auto & [name, value] : servers->items()) {
        out.push_back(config_server(name, value, source));
    }
    return out;
}

std::vector<mcp_server_config> mcp_config_load(const std::filesystem::path & path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        config_fail(path.string(), "", "cannot open the file", "check the path of the MCP config file");
    }
    std::ostringstream text;
    text << in.rdbuf();
    return mcp_config_parse(text.str(), path.string());
}

std::string mcp_server_target(const mcp_server_config & config) {
    if (config.type == MCP_TRANSPORT_TYPE_HTTP) {
        return config.url;
    }
    std::string out = config.command;
    for (const auto & arg : config.args) {
        out += " " + arg;
    }
    return out;
}

}  // namespace muse::agent
