#pragma once
// A non-streaming answer that is sent when the job is done. While it waits, a space goes out
// every 250 ms (JSON allows leading whitespace): a client that went away fails that write and
// its job is cancelled, as with a stream. The status is 200 from the first space on; a failure
// after that is the body's error object.
#include "server/chat-run.h"

#include <httplib.h>

#include <functional>
#include <memory>
#include <string>

namespace muse::server {

using body_fn  = std::function<std::string()>;                   // the answer, once the job is done
using error_fn = std::function<std::string(const http_error &)>;  // the wire format's error body

void deferred_json_send(httplib::Response & res, std::shared_ptr<chat_run> run, body_fn body, error_fn error);

}  // namespace muse::server
