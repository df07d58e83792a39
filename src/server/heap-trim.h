#pragma once
// Gives the heap's free pages back to the system while `muse serve` runs. glibc keeps what a
// burst freed in each handler thread's arena (the server has one thread per open connection,
// up to --max-connections), so RSS rose with every new peak of load and stayed there; a
// malloc_trim once a period returns the free pages of every arena. Its own thread, stopped and
// joined when the object goes.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

namespace muse::server {

class heap_trim {
  public:
    explicit heap_trim(std::chrono::milliseconds period = std::chrono::seconds(10));
    ~heap_trim();
    heap_trim(const heap_trim &)             = delete;
    heap_trim & operator=(const heap_trim &) = delete;

    int64_t passes() const;

  private:
    void run();

    const std::chrono::milliseconds period_;
    mutable std::mutex              mutex_;
    std::condition_variable         wake_;
    bool                            stopping_ = false;
    int64_t                         passes_   = 0;
    std::thread                     thread_;  // last: it starts once the members above exist
};

}  // namespace muse::server
