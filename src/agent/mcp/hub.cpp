#include "agent/mcp/hub.h"

#include <thread>

#include "agent/mcp/error.h"
#include "agent/mcp/tools.h"

namespace muse::agent {

std::string mcp_server_failure_text(const mcp_server_failure & failure) {
    return "MCP server '" + failure.server + "' (" + failure.target + ") did not start: " + failure.reason;
}

mcp_hub::mcp_hub(std::vector<mcp_server_config> servers, mcp_client_options options) {
    struct server_start {
        std::shared_ptr<mcp_client> client;
        std::vector<mcp_tool_info>  tools;
        std::string                 failure;
    };
    std::vector<server_start> starts(servers.size());
    std::vector<std::thread>  threads;
    for (size_t i = 0; i < servers.size(); i++) {
        starts[i].client = std::make_shared<mcp_client>(servers[i], options);
        threads.emplace_back([&start = starts[i]] {
            try {
                start.client->start();
                start.tools = start.client->tools_list();
            } catch (const mcp_error & e) {
                start.failure = e.what();
            } catch (const std::exception & e) {
                start.failure = std::string("unexpected: ") + e.what();
            }
        });
    }
    for (auto & t : threads) {
        t.join();
    }
    for (size_t i = 0; i < servers.size(); i++) {
        server_start & start = starts[i];
        if (!start.failure.empty()) {
            failures_.push_back({ servers[i].name, mcp_server_target(servers[i]), start.failure });
            continue;  // its client goes now, and with it the process
        }
        for (auto & info : start.tools) {
            tools_.push_back(std::make_shared<mcp_tool>(start.client, std::move(info)));
        }
        clients_.push_back(std::move(start.client));
    }
}

mcp_hub::mcp_hub(const std::filesystem::path & config_file, mcp_client_options options) :
    mcp_hub(mcp_config_load(config_file), options) {}

std::shared_ptr<mcp_client> mcp_hub::client(const std::string & server) const {
    for (const auto & c : clients_) {
        if (c->config().name == server) {
            return c;
        }
    }
    return nullptr;
}

}  // namespace muse::agent
