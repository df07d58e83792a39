#include "agent/image-set.h"

namespace muse::agent {

int32_t image_set::add(std::string name, std::string mime, std::string bytes) {
    auto                        shared = std::make_shared<const std::string>(std::move(bytes));
    std::lock_guard<std::mutex> lock(mutex_);
    const auto                  number = (int32_t)entries_.size() + 1;
    entries_.push_back({ number, std::move(name), std::move(mime), std::move(shared) });
    return number;
}

std::optional<image_entry> image_set::get(int32_t number) const {
    std::lock_guard<std::mutex> lock(mutex_);
    if (number < 1 || (size_t)number > entries_.size())
        return std::nullopt;
    return entries_[(size_t)number - 1];
}

int32_t image_set::size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return (int32_t)entries_.size();
}

}  // namespace muse::agent
