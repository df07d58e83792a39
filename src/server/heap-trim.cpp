#include "server/heap-trim.h"

#include <malloc.h>

namespace muse::server {

heap_trim::heap_trim(std::chrono::milliseconds period) : period_(period), thread_([this] { run(); }) {}

heap_trim::~heap_trim() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

int64_t heap_trim::passes() const {
    std::lock_guard lock(mutex_);
    return passes_;
}

void heap_trim::run() {
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, period_, [this] { return stopping_; })) {
        lock.unlock();
        malloc_trim(0);
        lock.lock();
        ++passes_;
    }
}

}  // namespace muse::server
