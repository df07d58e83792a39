#pragma once
// The images of one agent run, numbered from 1 in the order they appear: the user's images
// first, then each image a tool returns (a crop, an annotated copy, a plot). The model refers
// to them by these numbers ("image 3"), so a number never changes once given.
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace muse::agent {

struct image_entry {
    int32_t                            number = 0;  // 1-based
    std::string                        name;        // e.g. "photo.jpg", "crop-2.png"
    std::string                        mime;        // "image/png"
    std::shared_ptr<const std::string> bytes;       // the encoded image, shared: entries are copied out
};

// Tools of one step call it from several threads at once.
class image_set {
  public:
    // The new image's number.
    int32_t                    add(std::string name, std::string mime, std::string bytes);
    std::optional<image_entry> get(int32_t number) const;  // nullopt when out of range
    int32_t                    size() const;

  private:
    mutable std::mutex       mutex_;
    std::vector<image_entry> entries_;
};

}  // namespace muse::agent
