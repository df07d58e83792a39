#pragma once
// A decoded picture (8-bit RGB) and the few things the seeing tools do to one: decode the
// formats a user or a tool hands us (PNG, JPEG, BMP, GIF's first frame), encode PNG, crop,
// resize, and draw boxes, points and small labelled badges on it. Built on stb; a bad or
// oversized image is an input_error / limit_error naming what is wrong, never a crash.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace muse::extract {

struct rgb8 {
    uint8_t r                              = 0;
    uint8_t g                              = 0;
    uint8_t b                              = 0;
    bool    operator==(const rgb8 &) const = default;
};

// Pixel boxes are half-open, [x1, x2) x [y1, y2): x2 - x1 is the width, as in tesseract's
// word boxes and in a crop's size.
struct pixel_box {
    int32_t x1 = 0;
    int32_t y1 = 0;
    int32_t x2 = 0;
    int32_t y2 = 0;
    int32_t width() const { return x2 - x1; }
    int32_t height() const { return y2 - y1; }
    bool    operator==(const pixel_box &) const = default;
};

struct picture {
    int32_t              width  = 0;
    int32_t              height = 0;
    std::vector<uint8_t> rgb;  // width * height * 3 bytes, rows top to bottom

    rgb8 pixel(int32_t x, int32_t y) const;
    void set_pixel(int32_t x, int32_t y, rgb8 c);  // outside the picture: nothing
};

// A solid picture (tests, canvases).
picture picture_make(int32_t width, int32_t height, rgb8 fill);

// "png", "jpeg", "bmp", "gif" from the first bytes, or "" when none of them.
std::string picture_sniff(const std::string & bytes);

// Decodes PNG/JPEG/BMP/GIF bytes. Throws input_error for unknown or corrupt bytes and
// limit_error when width * height exceeds max_pixels (checked from the header, before decoding).
picture picture_decode(const std::string & bytes, uint64_t max_pixels = 40'000'000);

std::string picture_encode_png(const picture & p);

// The box clipped to the picture; throws input_error when nothing of it is inside.
pixel_box picture_clip(const picture & p, pixel_box box);
picture   picture_crop(const picture & p, pixel_box box);  // box clipped first
// Throws limit_error for a zero or over-limit size.
picture picture_resize(const picture & p, int32_t width, int32_t height, uint64_t max_pixels = 40'000'000);

// Outline of `box`, drawn inside it: the outer ring of pixels is exactly the box's edge.
void picture_draw_rect(picture & p, pixel_box box, rgb8 color, int32_t thickness);
// A filled disc with a white ring, so it shows on dark and light pictures.
void picture_draw_point(picture & p, int32_t x, int32_t y, rgb8 color, int32_t radius);
void picture_fill_rect(picture & p, pixel_box box, rgb8 color);

// A TrueType font for badge text (stb_truetype). Loaded once by whoever draws many badges.
class picture_font {
  public:
    // nullptr when the file is missing or not a font: badges are drawn without text then.
    static std::shared_ptr<const picture_font> load(const std::filesystem::path & path);
    ~picture_font();
    picture_font(const picture_font &)             = delete;
    picture_font & operator=(const picture_font &) = delete;

    int32_t text_width(const std::string & utf8, int32_t px_height) const;
    // Blends `utf8` with its top-left at (x, y), clipped to the picture.
    void draw_text(picture & p, int32_t x, int32_t y, const std::string & utf8, int32_t px_height, rgb8 color) const;

  private:
    picture_font() = default;
    struct impl;
    std::unique_ptr<impl> impl_;
};

// The Debian font fonts-dejavu-core installs.
inline constexpr const char * picture_default_font_path = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

// The size picture_draw_badge gives a badge: width, height.
std::pair<int32_t, int32_t> picture_badge_size(const std::string & text, const picture_font * font,
                                               int32_t px_height = 16);

// A filled badge with `text` in white (or a plain square of px_height when font is null),
// top-left at (x, y), moved inside the picture when it would stick out. Returns where it went.
pixel_box picture_draw_badge(picture & p, int32_t x, int32_t y, const std::string & text, rgb8 color,
                             const picture_font * font, int32_t px_height = 16);

}  // namespace muse::extract
