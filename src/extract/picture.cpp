#include "extract/picture.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <fstream>
#include <iterator>

#include "engine/error.h"

// stb as static functions in this file only: llama.cpp's mtmd links its own stb_image, and two
// external copies of stbi_* would be one symbol chosen at random by the linker.
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_NO_STDIO
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STBI_ONLY_GIF
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#define STB_IMAGE_RESIZE_STATIC
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#define STBTT_STATIC
#define STB_TRUETYPE_IMPLEMENTATION
// stb_image's stbi__getn copies a zero-length chunk with memcpy(NULL, src, 0) when a PNG's first
// IDAT chunk is empty (nothing is allocated yet): no byte moves, but a null argument to memcpy is
// undefined behaviour, and UBSan stops there (the fuzz target media_sniff found it; the same
// function in llama.cpp's vendored copy is scripts/llama-cpp-patches/0005). Debian's header is
// not ours to patch, so its copies go through a memcpy that skips an empty one.
#include <cstring>
static inline void * stb_memcpy_nonempty(void * dst, const void * src, size_t n) {
    return n == 0 ? dst : std::memcpy(dst, src, n);
}
#define memcpy(dst, src, n) stb_memcpy_nonempty((dst), (src), (n))
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include <stb/stb_image.h>
#include <stb/stb_image_resize.h>
#include <stb/stb_image_write.h>
#include <stb/stb_truetype.h>
#pragma GCC diagnostic pop
#undef memcpy

namespace muse::extract {

rgb8 picture::pixel(int32_t x, int32_t y) const {
    const size_t i = ((size_t)y * (size_t)width + (size_t)x) * 3;
    return { rgb[i], rgb[i + 1], rgb[i + 2] };
}

void picture::set_pixel(int32_t x, int32_t y, rgb8 c) {
    if (x < 0 || y < 0 || x >= width || y >= height)
        return;
    const size_t i = ((size_t)y * (size_t)width + (size_t)x) * 3;
    rgb[i]         = c.r;
    rgb[i + 1]     = c.g;
    rgb[i + 2]     = c.b;
}

picture picture_make(int32_t width, int32_t height, rgb8 fill) {
    if (width <= 0 || height <= 0) {
        throw input_error("picture_make: size " + std::to_string(width) + "x" + std::to_string(height) +
                          " is empty; give a width and height of at least 1");
    }
    picture p;
    p.width  = width;
    p.height = height;
    p.rgb.resize((size_t)width * (size_t)height * 3);
    for (size_t i = 0; i < p.rgb.size(); i += 3) {
        p.rgb[i]     = fill.r;
        p.rgb[i + 1] = fill.g;
        p.rgb[i + 2] = fill.b;
    }
    return p;
}

std::string picture_sniff(const std::string & b) {
    if (b.size() >= 8 && b.compare(0, 8, "\x89PNG\r\n\x1a\n", 8) == 0)
        return "png";
    if (b.size() >= 3 && (unsigned char)b[0] == 0xFF && (unsigned char)b[1] == 0xD8 && (unsigned char)b[2] == 0xFF) {
        return "jpeg";
    }
    if (b.size() >= 6 && (b.compare(0, 6, "GIF87a") == 0 || b.compare(0, 6, "GIF89a") == 0))
        return "gif";
    if (b.size() >= 2 && b[0] == 'B' && b[1] == 'M')
        return "bmp";
    return "";
}

namespace {

struct stbi_free_deleter {
    void operator()(unsigned char * p) const { stbi_image_free(p); }
};

std::string first_bytes_hex(const std::string & b) {
    static const char digits[] = "0123456789abcdef";
    std::string       out;
    for (size_t i = 0; i < b.size() && i < 8; ++i) {
        if (i)
            out += ' ';
        out += digits[(unsigned char)b[i] >> 4];
        out += digits[(unsigned char)b[i] & 15];
    }
    return out.empty() ? "nothing" : out;
}

// Debian's stb_image builds a JPEG Huffman table from its 16 code counts without checking that
// they add up to at most 256 symbols: a DHT segment whose counts sum past that writes beyond
// the table (stbi__build_huffman; the fuzz target media_sniff found it). Such a JPEG is not a
// valid one, so it is refused before stb reads it. stb looks for markers past bytes that are
// none, and progressive JPEGs have tables between scans; inside entropy-coded data a 0xFF is
// always followed by 0x00 or a restart marker, so every 0xFF 0xC4 in the file is a DHT.
bool jpeg_huffman_tables_valid(const std::string & b) {
    const auto at = [&](size_t i) { return (size_t) (unsigned char) b[i]; };
    for (size_t i = 2; i + 1 < b.size(); ++i) {
        if (at(i) != 0xFF || at(i + 1) != 0xC4) continue;
        if (i + 4 > b.size()) return false;
        const size_t end = i + 2 + (at(i + 2) << 8 | at(i + 3));
        if (end > b.size()) return false;
        for (size_t t = i + 4; t < end;) {
            if (t + 17 > end) return false;
            size_t symbols = 0;
            for (size_t k = 0; k < 16; ++k) symbols += at(t + 1 + k);
            if (symbols > 256 || t + 17 + symbols > end) return false;
            t += 17 + symbols;
        }
    }
    return true;
}

}  // namespace

picture picture_decode(const std::string & bytes, uint64_t max_pixels) {
    const std::string format = picture_sniff(bytes);
    if (format.empty()) {
        throw input_error("image bytes (" + std::to_string(bytes.size()) + " bytes, starting " +
                          first_bytes_hex(bytes) + ") are not PNG, JPEG, BMP or GIF; convert the image to PNG or JPEG");
    }
    if (format == "jpeg" && !jpeg_huffman_tables_valid(bytes)) {
        throw input_error("the JPEG image is corrupt (a Huffman table holds more than 256 codes); send the image "
                          "file again or re-save it");
    }
    if (bytes.size() > (size_t)INT_MAX) {
        throw limit_error("the " + format + " image is " + std::to_string(bytes.size()) +
                          " bytes, over the 2 GiB a decoder takes; send a smaller image");
    }
    const auto * data = reinterpret_cast<const stbi_uc *>(bytes.data());
    const int    len  = (int)bytes.size();
    int          w = 0, h = 0, comp = 0;
    if (!stbi_info_from_memory(data, len, &w, &h, &comp) || w <= 0 || h <= 0) {
        throw input_error("the " + format + " image is corrupt or truncated (" + stbi_failure_reason() +
                          "); send the image file again or re-save it");
    }
    if ((uint64_t)w * (uint64_t)h > max_pixels) {
        throw limit_error("the " + format + " image is " + std::to_string(w) + "x" + std::to_string(h) +
                          " pixels, over the " + std::to_string(max_pixels) + "-pixel limit; scale it down first");
    }
    std::unique_ptr<unsigned char, stbi_free_deleter> px(stbi_load_from_memory(data, len, &w, &h, &comp, 3));
    if (!px) {
        throw input_error("the " + format + " image is corrupt or truncated (" + stbi_failure_reason() +
                          "); send the image file again or re-save it");
    }
    picture p;
    p.width  = w;
    p.height = h;
    p.rgb.assign(px.get(), px.get() + (size_t)w * (size_t)h * 3);
    return p;
}

std::string picture_encode_png(const picture & p) {
    if (p.width <= 0 || p.height <= 0 || p.rgb.size() != (size_t)p.width * (size_t)p.height * 3) {
        throw input_error("picture_encode_png: the picture is empty or its pixels do not match its size");
    }
    std::string out;
    auto        sink = [](void * ctx, void * data, int size) {
        static_cast<std::string *>(ctx)->append(static_cast<const char *>(data), (size_t)size);
    };
    if (!stbi_write_png_to_func(sink, &out, p.width, p.height, 3, p.rgb.data(), p.width * 3)) {
        throw muse::runtime_error("PNG encoding of a " + std::to_string(p.width) + "x" + std::to_string(p.height) +
                                  " picture failed (out of memory?)");
    }
    return out;
}

pixel_box picture_clip(const picture & p, pixel_box b) {
    pixel_box c { std::max(b.x1, 0), std::max(b.y1, 0), std::min(b.x2, p.width), std::min(b.y2, p.height) };
    if (c.x1 >= c.x2 || c.y1 >= c.y2) {
        throw input_error("box [" + std::to_string(b.x1) + "," + std::to_string(b.y1) + "," + std::to_string(b.x2) +
                          "," + std::to_string(b.y2) + ") has no pixels inside the " + std::to_string(p.width) + "x" +
                          std::to_string(p.height) + " picture; give a box inside it");
    }
    return c;
}

picture picture_crop(const picture & p, pixel_box box) {
    const pixel_box c = picture_clip(p, box);
    picture         out;
    out.width  = c.width();
    out.height = c.height();
    out.rgb.resize((size_t)out.width * (size_t)out.height * 3);
    const size_t row = (size_t)out.width * 3;
    for (int32_t y = 0; y < out.height; ++y) {
        const size_t from = ((size_t)(c.y1 + y) * (size_t)p.width + (size_t)c.x1) * 3;
        std::copy_n(p.rgb.begin() + (ptrdiff_t)from, row, out.rgb.begin() + (ptrdiff_t)((size_t)y * row));
    }
    return out;
}

picture picture_resize(const picture & p, int32_t width, int32_t height, uint64_t max_pixels) {
    if (width <= 0 || height <= 0 || (uint64_t)width * (uint64_t)height > max_pixels) {
        throw limit_error("resize to " + std::to_string(width) + "x" + std::to_string(height) +
                          " is empty or over the " + std::to_string(max_pixels) + "-pixel limit; pick a smaller size");
    }
    if (width == p.width && height == p.height)
        return p;
    picture out;
    out.width  = width;
    out.height = height;
    out.rgb.resize((size_t)width * (size_t)height * 3);
    if (!stbir_resize_uint8(p.rgb.data(), p.width, p.height, 0, out.rgb.data(), width, height, 0, 3)) {
        throw muse::runtime_error("resizing a " + std::to_string(p.width) + "x" + std::to_string(p.height) +
                                  " picture to " + std::to_string(width) + "x" + std::to_string(height) +
                                  " failed (out of memory?)");
    }
    return out;
}

void picture_fill_rect(picture & p, pixel_box b, rgb8 color) {
    const int32_t x1 = std::max(b.x1, 0), y1 = std::max(b.y1, 0);
    const int32_t x2 = std::min(b.x2, p.width), y2 = std::min(b.y2, p.height);
    for (int32_t y = y1; y < y2; ++y) {
        for (int32_t x = x1; x < x2; ++x)
            p.set_pixel(x, y, color);
    }
}

void picture_draw_rect(picture & p, pixel_box b, rgb8 color, int32_t thickness) {
    if (b.x1 >= b.x2 || b.y1 >= b.y2)
        return;
    // A ring thicker than half the box is the whole box.
    const int32_t t = std::clamp(thickness, 1, std::max(1, std::min(b.width(), b.height()) / 2));
    picture_fill_rect(p, { b.x1, b.y1, b.x2, b.y1 + t }, color);
    picture_fill_rect(p, { b.x1, b.y2 - t, b.x2, b.y2 }, color);
    picture_fill_rect(p, { b.x1, b.y1, b.x1 + t, b.y2 }, color);
    picture_fill_rect(p, { b.x2 - t, b.y1, b.x2, b.y2 }, color);
}

void picture_draw_point(picture & p, int32_t x, int32_t y, rgb8 color, int32_t radius) {
    const int32_t r = std::max(radius, 1), outer = r + 2;
    for (int32_t dy = -outer; dy <= outer; ++dy) {
        for (int32_t dx = -outer; dx <= outer; ++dx) {
            const int32_t d2 = dx * dx + dy * dy;
            if (d2 <= r * r) {
                p.set_pixel(x + dx, y + dy, color);
            } else if (d2 <= outer * outer) {
                p.set_pixel(x + dx, y + dy, { 255, 255, 255 });
            }
        }
    }
}

struct picture_font::impl {
    std::vector<unsigned char> data;
    stbtt_fontinfo             info {};
};

picture_font::~picture_font() = default;

std::shared_ptr<const picture_font> picture_font::load(const std::filesystem::path & path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return nullptr;
    auto f   = std::shared_ptr<picture_font>(new picture_font());
    f->impl_ = std::make_unique<impl>();
    f->impl_->data.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    auto & d = f->impl_->data;
    // stb_truetype trusts its font; this guards against a path that is not one at all.
    if (d.size() < 12)
        return nullptr;
    const int offset = stbtt_GetFontOffsetForIndex(d.data(), 0);
    if (offset < 0 || !stbtt_InitFont(&f->impl_->info, d.data(), offset))
        return nullptr;
    return f;
}

namespace {

// Codepoints of a UTF-8 string; a malformed byte reads as '?'.
std::vector<int> utf8_codepoints(const std::string & s) {
    std::vector<int> out;
    for (size_t i = 0; i < s.size();) {
        const unsigned char c = s[i];
        int                 n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
        if (n < 0 || i + (size_t)n >= s.size()) {  // not a lead byte, or cut short
            out.push_back('?');
            ++i;
            continue;
        }
        int cp = n == 0 ? c : c & (0x3F >> n);
        for (int k = 1; k <= n; ++k) {
            const unsigned char cc = s[i + (size_t)k];
            if ((cc & 0xC0) != 0x80) {
                cp = -1;
                break;
            }
            cp = (cp << 6) | (cc & 0x3F);
        }
        out.push_back(cp < 0 ? '?' : cp);
        i += cp < 0 ? 1 : (size_t)n + 1;
    }
    return out;
}

}  // namespace

int32_t picture_font::text_width(const std::string & utf8, int32_t px_height) const {
    const float scale = stbtt_ScaleForPixelHeight(&impl_->info, (float)px_height);
    const auto  cps   = utf8_codepoints(utf8);
    float       pen   = 0;
    for (size_t i = 0; i < cps.size(); ++i) {
        int advance = 0, lsb = 0;
        stbtt_GetCodepointHMetrics(&impl_->info, cps[i], &advance, &lsb);
        pen += (float)advance * scale;
        if (i + 1 < cps.size())
            pen += (float)stbtt_GetCodepointKernAdvance(&impl_->info, cps[i], cps[i + 1]) * scale;
    }
    return (int32_t)std::ceil(pen);
}

void picture_font::draw_text(picture & p, int32_t x, int32_t y, const std::string & utf8, int32_t px_height,
                             rgb8 color) const {
    const float scale  = stbtt_ScaleForPixelHeight(&impl_->info, (float)px_height);
    int         ascent = 0, descent = 0, gap = 0;
    stbtt_GetFontVMetrics(&impl_->info, &ascent, &descent, &gap);
    const int32_t        baseline = y + (int32_t)std::lround((float)ascent * scale);
    const auto           cps      = utf8_codepoints(utf8);
    float                pen      = (float)x;
    std::vector<uint8_t> glyph;
    for (size_t i = 0; i < cps.size(); ++i) {
        int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
        stbtt_GetCodepointBitmapBox(&impl_->info, cps[i], scale, scale, &x0, &y0, &x1, &y1);
        const int gw = x1 - x0, gh = y1 - y0;
        if (gw > 0 && gh > 0) {
            glyph.assign((size_t)gw * (size_t)gh, 0);
            stbtt_MakeCodepointBitmap(&impl_->info, glyph.data(), gw, gh, gw, scale, scale, cps[i]);
            const int32_t ox = (int32_t)std::floor(pen) + x0, oy = baseline + y0;
            for (int gy = 0; gy < gh; ++gy) {
                for (int gx = 0; gx < gw; ++gx) {
                    const int32_t px = ox + gx, py = oy + gy;
                    const int     a = glyph[(size_t)gy * (size_t)gw + (size_t)gx];
                    if (a == 0 || px < 0 || py < 0 || px >= p.width || py >= p.height)
                        continue;
                    const rgb8 bg = p.pixel(px, py);
                    auto mix = [a](uint8_t f, uint8_t b) { return (uint8_t)((f * a + b * (255 - a) + 127) / 255); };
                    p.set_pixel(px, py, { mix(color.r, bg.r), mix(color.g, bg.g), mix(color.b, bg.b) });
                }
            }
        }
        int advance = 0, lsb = 0;
        stbtt_GetCodepointHMetrics(&impl_->info, cps[i], &advance, &lsb);
        pen += (float)advance * scale;
        if (i + 1 < cps.size())
            pen += (float)stbtt_GetCodepointKernAdvance(&impl_->info, cps[i], cps[i + 1]) * scale;
    }
}

std::pair<int32_t, int32_t> picture_badge_size(const std::string & text, const picture_font * font, int32_t px_height) {
    const int32_t h   = std::max(px_height, 4);
    const int32_t pad = std::max(h / 5, 1);
    const int32_t w   = font && !text.empty() ? font->text_width(text, h) : h;
    return { w + 2 * pad, h + 2 * pad };
}

pixel_box picture_draw_badge(picture & p, int32_t x, int32_t y, const std::string & text, rgb8 color,
                             const picture_font * font, int32_t px_height) {
    const int32_t h        = std::max(px_height, 4);
    const int32_t pad      = std::max(h / 5, 1);
    const bool    has_text = font && !text.empty();
    const auto [bw, bh]    = picture_badge_size(text, font, px_height);
    // Kept inside the picture, so a badge for an object at the edge is still seen whole.
    x = std::clamp(x, 0, std::max(0, p.width - bw));
    y = std::clamp(y, 0, std::max(0, p.height - bh));
    const pixel_box b { x, y, x + bw, y + bh };
    picture_fill_rect(p, b, color);
    if (has_text) {
        const int  luma = (299 * color.r + 587 * color.g + 114 * color.b) / 1000;
        const rgb8 ink  = luma > 150 ? rgb8 { 0, 0, 0 } : rgb8 { 255, 255, 255 };
        font->draw_text(p, x + pad, y + pad, text, h, ink);
    }
    return b;
}

}  // namespace muse::extract
