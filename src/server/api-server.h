#pragma once
// The HTTP server: routes for both wire formats and the user's data, bearer/x-api-key
// authentication, body limits, and one error boundary per route that answers in the route's
// wire format. Blocks in listen() until stop().
#include "server/server-state.h"

#include <memory>

namespace muse::server {

class api_server {
  public:
    // `embed`: the embedding model POST /v1/embeddings runs on; nullptr: that route says there is none.
    // `safety`: the policy requests meet (not owned); nullptr: none.
    api_server(model & mdl, session & s, store::database & db, const server_config & cfg, embedder * embed = nullptr,
               const safety::checker * safety = nullptr);
    ~api_server();
    api_server(const api_server &)             = delete;
    api_server & operator=(const api_server &) = delete;

    int  bind();    // binds host:port (port 0: a free one); returns the port; throws on failure
    void listen();  // serves until stop()
    void stop();
    // Where the web app's files come from ("embedded (N files)", "from DIR"); "" when there
    // are none or --no-web turned the app off.
    std::string web_source() const;

  private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace muse::server
