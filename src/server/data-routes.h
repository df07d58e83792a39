#pragma once
// Route plumbing shared by api-server.cpp and the resource routes: a user's files,
// conversations, memory, and the privacy routes (export, delete everything).
#include "server/server-state.h"

#include <httplib.h>

#include <functional>
#include <string>

namespace muse::server {

enum wire_format {
    WIRE_FORMAT_OPENAI,
    WIRE_FORMAT_ANTHROPIC,
};

enum route_access {
    ROUTE_ACCESS_PUBLIC,
    ROUTE_ACCESS_USER,
    ROUTE_ACCESS_ADMIN,
};

using route_fn    = std::function<void(const httplib::Request &, httplib::Response &, const caller &)>;
using route_adder = std::function<void(const char * method, const std::string & pattern, const std::string & name,
                                       route_access access, route_fn fn)>;

// GET /v1/workspaces/{id}/files[/{path}] (workspace-routes.cpp).
void workspace_routes_add(server_state & st, const route_adder & add);

std::string error_body(const http_error & e, wire_format wire);
void        error_write(httplib::Response & res, const http_error & e, wire_format wire);
// After a stream's headers went out: the error as the wire format's own event (Anthropic's
// `event: error`), then the end of the stream.
void        stream_error_end(httplib::DataSink & sink, const http_error & e, wire_format wire);
// An unexpected failure inside a stream: logged, then said in it as a 500 (stream_error_end).
void        stream_failure_end(httplib::DataSink & sink, const std::exception & e, wire_format wire);

void data_routes_add(server_state & st, const route_adder & add);
// /v1/conversations and its branches, updates, search and export (conversation-routes.cpp).
void conversation_routes_add(server_state & st, const route_adder & add);

}  // namespace muse::server
