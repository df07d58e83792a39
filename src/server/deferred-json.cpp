#include "server/deferred-json.h"

#include <cstdio>

namespace muse::server {

void deferred_json_send(httplib::Response & res, std::shared_ptr<chat_run> run, body_fn body, error_fn error) {
    res.set_chunked_content_provider(
        "application/json",
        [run, body, error](size_t, httplib::DataSink & sink) {
            auto last = clock_type::now();
            while (chat_run_pump(*run, {}, std::chrono::milliseconds(50))) {
                if (clock_type::now() - last >= std::chrono::milliseconds(250)) {
                    if (!sink.write(" ", 1)) {
                        run->j->cancel();
                        return false;
                    }
                    last = clock_type::now();
                }
            }
            std::string out;
            try {
                out = body();
            } catch (const http_error & e) {
                out = error(e);
            } catch (const std::exception & e) {
                fprintf(stderr, "muse serve: an answer failed: %s\n", e.what());
                out = error(http_error(500, std::string("the answer failed: ") + e.what()));
            }
            const bool ok = sink.write(out.data(), out.size());
            sink.done();
            return ok;
        },
        [run](bool success) {
            if (!success) run->j->cancel();
        });
}

}  // namespace muse::server
