#pragma once
// Images and audio for multimodal prompts: the bytes are sniffed (never trusted by file name),
// checked against what the projector accepts, and decoded through mtmd.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct mtmd_bitmap;
struct mtmd_context;

namespace muse {

enum media_kind {
    MEDIA_KIND_UNKNOWN,
    MEDIA_KIND_PNG,
    MEDIA_KIND_JPEG,
    MEDIA_KIND_BMP,
    MEDIA_KIND_GIF,
    MEDIA_KIND_WAV,
    MEDIA_KIND_MP3,
    MEDIA_KIND_FLAC,
};

// The kind of the bytes by their magic numbers. Formats outside the list are UNKNOWN,
// and `detected` names them when they are a known-but-unsupported format (WebP, TIFF, ...).
media_kind  media_kind_sniff(const uint8_t * data, size_t size, std::string * detected = nullptr);
const char * media_kind_name(media_kind kind);
bool        media_kind_is_audio(media_kind kind);

struct media_limits {
    uint64_t max_bytes       = 64ull << 20;  // 64 MiB
    uint64_t max_pixels      = 50'000'000;   // 50 megapixels
    double   max_audio_secs  = 600.0;        // 10 minutes
};

// A decoded image or audio clip, ready for mtmd_tokenize.
class media {
  public:
    // `origin` names the input in errors (a path, "image_url #2", ...).
    static media from_bytes(const mtmd_context * projector, std::vector<uint8_t> bytes, const std::string & origin,
                            const media_limits & limits = {});
    static media from_file(const mtmd_context * projector, const std::string & path, const media_limits & limits = {});

    media(media &&) noexcept;
    media & operator=(media &&) noexcept;
    ~media();

    media_kind    kind() const { return kind_; }
    bool          is_audio() const { return media_kind_is_audio(kind_); }
    mtmd_bitmap * bitmap() const { return bitmap_.get(); }
    uint32_t      width() const;   // pixels (0 for audio)
    uint32_t      height() const;
    const std::string & origin() const { return origin_; }

  private:
    struct bitmap_deleter {
        void operator()(mtmd_bitmap * b) const;
    };
    media() = default;
    media_kind                                  kind_ = MEDIA_KIND_UNKNOWN;
    std::unique_ptr<mtmd_bitmap, bitmap_deleter> bitmap_;
    std::string                                 origin_;
};

}  // namespace muse
