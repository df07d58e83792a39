#include "server/audit-retention.h"

#include <cstdio>
#include <exception>

namespace muse::server {

audit_retention::audit_retention(store::database & db, std::chrono::milliseconds period,
                                 std::function<void(const std::string &)> log) :
    db_(db),
    period_(period),
    log_(log ? std::move(log) : [](const std::string & line) { fprintf(stderr, "%s\n", line.c_str()); }),
    thread_([this] { run(); }) {}

audit_retention::~audit_retention() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

int64_t audit_retention::passes() const {
    std::lock_guard lock(mutex_);
    return passes_;
}

int64_t audit_retention::rows_deleted() const {
    std::lock_guard lock(mutex_);
    return deleted_;
}

void audit_retention::run() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        lock.unlock();  // a prune holds the store, not this object: the destructor never waits on it
        int64_t     deleted = 0;
        std::string line;
        try {
            deleted = db_.audit_prune_by_retention();
            if (deleted > 0) {
                const int days = db_.audit_settings_get().retention_days;
                line           = "muse serve: audit retention: deleted " + std::to_string(deleted) + " audit row" +
                       (deleted == 1 ? "" : "s") + " older than " + std::to_string(days) + " days";
            }
        } catch (const std::exception & e) {
            line =
                std::string("muse serve: audit retention: pruning failed: ") + e.what() + "; the next pass tries again";
        }
        if (!line.empty())
            log_(line);
        lock.lock();
        passes_++;
        deleted_ += deleted;
        wake_.wait_for(lock, period_, [this] { return stopping_; });
    }
}

}  // namespace muse::server
