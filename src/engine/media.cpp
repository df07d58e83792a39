#include "engine/media.h"

#include "engine/audio-frames.h"
#include "engine/error.h"
#include "mtmd-helper.h"
#include "mtmd.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>

namespace muse {

static bool starts_with(const uint8_t * d, size_t n, const char * magic, size_t at = 0) {
    const size_t m = strlen(magic);
    return n >= at + m && memcmp(d + at, magic, m) == 0;
}

media_kind media_kind_sniff(const uint8_t * d, size_t n, std::string * detected) {
    static const uint8_t png[8] = { 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A };
    if (n >= 8 && memcmp(d, png, 8) == 0) return MEDIA_KIND_PNG;
    if (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) return MEDIA_KIND_JPEG;
    if (starts_with(d, n, "GIF87a") || starts_with(d, n, "GIF89a")) return MEDIA_KIND_GIF;
    if (starts_with(d, n, "BM") && n >= 26) return MEDIA_KIND_BMP;
    if (starts_with(d, n, "RIFF") && starts_with(d, n, "WAVE", 8)) return MEDIA_KIND_WAV;
    if (starts_with(d, n, "fLaC")) return MEDIA_KIND_FLAC;
    if (starts_with(d, n, "ID3")) return MEDIA_KIND_MP3;
    // An MPEG audio frame: 11 sync bits, layer != reserved, bitrate index != 15.
    if (n >= 4 && d[0] == 0xFF && (d[1] & 0xE0) == 0xE0 && (d[1] & 0x06) != 0 && (d[2] & 0xF0) != 0xF0) {
        return MEDIA_KIND_MP3;
    }
    if (detected) {
        if (starts_with(d, n, "RIFF") && starts_with(d, n, "WEBP", 8)) *detected = "WebP";
        else if (starts_with(d, n, "II*") || starts_with(d, n, "MM")) *detected = "TIFF";
        else if (starts_with(d, n, "ftyp", 4)) *detected = "HEIC/AVIF/MP4";
        else if (starts_with(d, n, "OggS")) *detected = "Ogg";
        else if (starts_with(d, n, "%PDF")) *detected = "PDF";
        else if (starts_with(d, n, "<svg") || starts_with(d, n, "<?xml")) *detected = "SVG/XML";
        else if (n == 0) *detected = "an empty file";
        else *detected = "an unknown format";
    }
    return MEDIA_KIND_UNKNOWN;
}

const char * media_kind_name(media_kind kind) {
    switch (kind) {
        case MEDIA_KIND_PNG:  return "PNG";
        case MEDIA_KIND_JPEG: return "JPEG";
        case MEDIA_KIND_BMP:  return "BMP";
        case MEDIA_KIND_GIF:  return "GIF";
        case MEDIA_KIND_WAV:  return "WAV";
        case MEDIA_KIND_MP3:  return "MP3";
        case MEDIA_KIND_FLAC: return "FLAC";
        default:              return "unknown";
    }
}

bool media_kind_is_audio(media_kind kind) {
    return kind == MEDIA_KIND_WAV || kind == MEDIA_KIND_MP3 || kind == MEDIA_KIND_FLAC;
}

void media::bitmap_deleter::operator()(mtmd_bitmap * b) const { mtmd_bitmap_free(b); }

media::media(media &&) noexcept             = default;
media & media::operator=(media &&) noexcept = default;
media::~media()                             = default;

uint32_t media::width() const { return is_audio() ? 0 : mtmd_bitmap_get_nx(bitmap_.get()); }
uint32_t media::height() const { return is_audio() ? 0 : mtmd_bitmap_get_ny(bitmap_.get()); }

// PNG/JPEG/BMP/GIF headers carry the size: check pixels before decoding, so a 100k x 100k
// image is refused without allocating 40 GB.
static bool image_size_peek(media_kind kind, const std::vector<uint8_t> & b, uint64_t & w, uint64_t & h) {
    const auto be32 = [&](size_t i) { return (uint64_t) b[i] << 24 | (uint64_t) b[i + 1] << 16 | (uint64_t) b[i + 2] << 8 | b[i + 3]; };
    const auto le32 = [&](size_t i) { return (uint64_t) b[i] | (uint64_t) b[i + 1] << 8 | (uint64_t) b[i + 2] << 16 | (uint64_t) b[i + 3] << 24; };
    const auto le16 = [&](size_t i) { return (uint64_t) b[i] | (uint64_t) b[i + 1] << 8; };
    if (kind == MEDIA_KIND_PNG && b.size() >= 24) { w = be32(16); h = be32(20); return true; }
    if (kind == MEDIA_KIND_GIF && b.size() >= 10) { w = le16(6); h = le16(8); return true; }
    if (kind == MEDIA_KIND_BMP && b.size() >= 26) {
        w = le32(18);
        h = le32(22);
        h = h > 0x7fffffffu ? (1ull << 32) - h : h;  // top-down BMPs store -height (two's complement)
        return true;
    }
    if (kind == MEDIA_KIND_JPEG) {
        // As stb does, bytes that are no marker are passed over to the next 0xFF.
        for (size_t i = 2; i + 9 < b.size();) {
            if (b[i] != 0xFF || b[i + 1] == 0xFF) { ++i; continue; }
            const uint8_t marker = b[i + 1];
            if (marker == 0x00 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) { i += 2; continue; }  // no length
            if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
                h = (uint64_t) b[i + 5] << 8 | b[i + 6];
                w = (uint64_t) b[i + 7] << 8 | b[i + 8];
                return true;
            }
            i += 2 + ((size_t) b[i + 2] << 8 | b[i + 3]);
        }
    }
    return false;
}

// WAV and FLAC headers carry the clip's length, an MP3 frame its bitrate: the decoder sizes its
// buffer from them, so a 30-byte FLAC claiming 36 billion samples asked for 72 GB. Returns the
// seconds the header claims (an MP3's estimated from its first frame's bitrate and the bytes),
// -1 when it says nothing usable, or throws input_error for a header that cannot be right.
static double audio_secs_peek(media_kind kind, const std::vector<uint8_t> & b, const std::string & origin) {
    const auto le16 = [&](size_t i) { return (uint64_t) b[i] | (uint64_t) b[i + 1] << 8; };
    const auto le32 = [&](size_t i) { return le16(i) | le16(i + 2) << 16; };
    const auto corrupt = [&](const std::string & why) {
        return input_error(origin + ": the " + std::string(media_kind_name(kind)) + " header " + why +
                           " (corrupt or not a real recording); re-export the file");
    };
    // An ID3v2 tag (its size is syncsafe) may stand in front of any of them: the decoder looks
    // past it for the stream, so the peek does too.
    size_t o = 0;
    if (b.size() >= 10 && memcmp(b.data(), "ID3", 3) == 0) {
        o = 10 + ((size_t) (b[6] & 0x7F) << 21 | (size_t) (b[7] & 0x7F) << 14 | (size_t) (b[8] & 0x7F) << 7 | (b[9] & 0x7F));
    }
    const auto at = [&](const char * magic) { return o + 4 <= b.size() && memcmp(&b[o], magic, 4) == 0; };
    if (at("fLaC")) {
        // "fLaC", then the STREAMINFO block (its 4-byte header, then 34 bytes): sample rate
        // (20 bits), channels - 1 (3), bits per sample - 1 (5), total samples (36; 0: unknown).
        if (b.size() < o + 26 || (b[o + 4] & 0x7F) != 0) return -1;
        const uint64_t rate     = (uint64_t) b[o + 18] << 12 | (uint64_t) b[o + 19] << 4 | b[o + 20] >> 4;
        const uint64_t channels = ((b[o + 20] >> 1) & 0x07) + 1;
        const uint64_t samples  = (uint64_t) (b[o + 21] & 0x0F) << 32 | (uint64_t) b[o + 22] << 24 | (uint64_t) b[o + 23] << 16 |
                                 (uint64_t) b[o + 24] << 8 | b[o + 25];
        if (rate == 0 || rate > 655350) throw corrupt("gives a sample rate of " + std::to_string(rate) + " Hz");
        // What the decoder allocates: 4-byte samples per channel; 2 GiB holds ~40 min of 48 kHz stereo.
        if (samples * channels * 4 > (2ull << 30)) {
            throw limit_error(origin + ": the FLAC header claims " + std::to_string(samples) + " samples on " + std::to_string(channels) +
                              " channels, over 2 GiB decoded; cut the clip");
        }
        return samples == 0 ? -1 : (double) samples / (double) rate;
    }
    if (at("RIFF")) {
        // RIFF chunks after "RIFF" size "WAVE": 'fmt ' (channels, rate, bytes per second), 'data'.
        uint64_t byte_rate = 0;
        for (size_t i = o + 12; i + 8 <= b.size();) {
            const uint64_t size = le32(i + 4);
            if (memcmp(&b[i], "fmt ", 4) == 0 && i + 8 + 16 <= b.size()) {
                byte_rate = le32(i + 8 + 8);
                if (le32(i + 8 + 4) == 0 || le16(i + 8 + 2) == 0) throw corrupt("gives a sample rate or channel count of 0");
            } else if (memcmp(&b[i], "data", 4) == 0) {
                if (byte_rate == 0) return -1;
                // A streaming WAV writes 0xFFFFFFFF here: the bytes that are there are what plays.
                const uint64_t there = b.size() - (i + 8);
                return (double) std::min(size, there) / (double) byte_rate;
            }
            if (size > b.size()) break;
            i += 8 + size + (size & 1);
        }
        return -1;
    }
    if (kind == MEDIA_KIND_MP3) {
        for (size_t i = o; i + 4 <= b.size(); ++i) {
            if (b[i] != 0xFF || (b[i + 1] & 0xE0) != 0xE0) continue;
            const int version = (b[i + 1] >> 3) & 3;  // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
            const int layer   = (b[i + 1] >> 1) & 3;  // 1: layer III
            const int index   = b[i + 2] >> 4;
            if (version == 1 || layer != 1 || index == 0 || index == 15) return -1;
            static const int kbps_v1[15] = { 0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320 };
            static const int kbps_v2[15] = { 0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160 };
            const int kbps = version == 3 ? kbps_v1[index] : kbps_v2[index];
            return (double) (b.size() - i) * 8.0 / (kbps * 1000.0);
        }
    }
    return -1;
}

media media::from_bytes(const mtmd_context * projector, std::vector<uint8_t> bytes, const std::string & origin,
                        const media_limits & limits) {
    std::string detected;
    const media_kind kind = media_kind_sniff(bytes.data(), bytes.size(), &detected);
    if (kind == MEDIA_KIND_UNKNOWN) {
        throw input_error(origin + ": unsupported media type (" + detected +
                          "); muse accepts PNG, JPEG, BMP and GIF images and WAV, MP3 and FLAC audio — convert it first");
    }
    if (bytes.size() > limits.max_bytes) {
        throw limit_error(origin + ": " + std::to_string(bytes.size()) + " bytes is over the media limit of " +
                          std::to_string(limits.max_bytes) + " bytes; send a smaller file");
    }
    const bool audio = media_kind_is_audio(kind);
    if (!projector) {
        throw input_error(origin + ": this is " + std::string(audio ? "audio" : "an image") +
                          " but no projector is loaded; start with --mmproj FILE for this model");
    }
    if (audio && !mtmd_support_audio(projector)) {
        throw input_error(origin + ": the loaded projector takes no audio; use a model with an audio projector");
    }
    if (!audio && !mtmd_support_vision(projector)) {
        throw input_error(origin + ": the loaded projector takes no images; use a model with a vision projector");
    }
    // Twice the limit for an MP3's estimate (a VBR file's first frame may not be typical); the
    // decoded length is checked exactly below.
    if (audio) {
        const double claimed = audio_secs_peek(kind, bytes, origin);
        const double bound   = kind == MEDIA_KIND_MP3 ? 2 * limits.max_audio_secs : limits.max_audio_secs;
        if (claimed > bound) {
            throw limit_error(origin + ": " + std::to_string((int64_t) claimed) + " s of audio (as its header says) is over the limit of " +
                              std::to_string((int) limits.max_audio_secs) + " s; cut the clip");
        }
    }
    if (audio) {
        // What mtmd's decoder will allocate, asked of the decoder itself (its header parsing may
        // find a stream where the peek above found none).
        const int rate = mtmd_get_audio_sample_rate(projector);
        const auto frames = rate > 0 ? audio_frames_claimed(bytes.data(), bytes.size(), rate) : std::nullopt;
        if (frames && (double) *frames / rate > limits.max_audio_secs) {
            throw limit_error(origin + ": " + std::to_string(*frames / (uint64_t) rate) + " s of audio (as the " +
                              media_kind_name(kind) + " stream's header says) is over the limit of " +
                              std::to_string((int) limits.max_audio_secs) + " s; cut the clip");
        }
    }
    uint64_t w = 0, h = 0;
    const bool sized = !audio && image_size_peek(kind, bytes, w, h);
    if (sized && (w == 0 || h == 0)) {
        throw input_error(origin + ": the " + std::string(media_kind_name(kind)) + " header gives a size of " + std::to_string(w) + "x" +
                          std::to_string(h) + " pixels (corrupt); re-export the image");
    }
    if (sized && w * h > limits.max_pixels) {
        throw limit_error(origin + ": " + std::to_string(w) + "x" + std::to_string(h) + " pixels is over the limit of " +
                          std::to_string(limits.max_pixels) + " pixels; downscale the image");
    }

    auto wrapped = mtmd_helper_bitmap_init_from_buf(projector, bytes.data(), bytes.size(), false,
                                                    mtmd_helper_init_opt_default());
    media out;
    out.kind_   = kind;
    out.origin_ = origin;
    out.bitmap_.reset(wrapped.bitmap);
    if (!out.bitmap_) {
        throw input_error(origin + ": the " + std::string(media_kind_name(kind)) +
                          " data could not be decoded (truncated or corrupt); re-export the file");
    }
    // What was decoded, whatever the header said (a header the peek could not read).
    if (!audio && (uint64_t) out.width() * out.height() > limits.max_pixels) {
        throw limit_error(origin + ": " + std::to_string(out.width()) + "x" + std::to_string(out.height()) + " pixels is over the limit of " +
                          std::to_string(limits.max_pixels) + " pixels; downscale the image");
    }
    if (audio) {
        const int    rate = mtmd_get_audio_sample_rate(projector);
        const double secs = rate > 0 ? (double) mtmd_bitmap_get_n_bytes(out.bitmap_.get()) / sizeof(float) / rate : 0.0;
        if (secs > limits.max_audio_secs) {
            throw limit_error(origin + ": " + std::to_string((int) secs) + " s of audio is over the limit of " +
                              std::to_string((int) limits.max_audio_secs) + " s; cut the clip");
        }
    }
    return out;
}

media media::from_file(const mtmd_context * projector, const std::string & path, const media_limits & limits) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw input_error(path + ": cannot open the media file (" + strerror(errno) + "); check the path");
    }
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return from_bytes(projector, std::move(bytes), path, limits);
}

}  // namespace muse
