#pragma once
// The audit's retention while `muse serve` runs: the rows older than the store's
// audit_retention_days are deleted at start and then once a period (an hour), on a thread of
// its own that the object stops and joins when it goes. The setting is read on every pass, so
// `muse audit settings --retention-days N` takes effect without a restart.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "store/database.h"

namespace muse::server {

class audit_retention {
  public:
    // `log` gets a line for a pass that deleted rows or failed (default: stderr). A failed pass
    // (the store busy or damaged) is reported and tried again a period later.
    explicit audit_retention(store::database & db, std::chrono::milliseconds period = std::chrono::hours(1),
                             std::function<void(const std::string &)> log = {});
    ~audit_retention();
    audit_retention(const audit_retention &)             = delete;
    audit_retention & operator=(const audit_retention &) = delete;

    // Passes finished so far (pruned or failed), and the rows they deleted.
    int64_t passes() const;
    int64_t rows_deleted() const;

  private:
    void run();

    store::database &                        db_;
    const std::chrono::milliseconds          period_;
    std::function<void(const std::string &)> log_;
    mutable std::mutex                       mutex_;
    std::condition_variable                  wake_;
    bool                                     stopping_ = false;
    int64_t                                  passes_   = 0;
    int64_t                                  deleted_  = 0;
    std::thread                              thread_;  // last: it starts once the members above exist
};

}  // namespace muse::server
