#pragma once
// What the seeing tools (read_text, crop_zoom, visual_grounding) share: the image argument (a
// number in the run's image_set) and the box convention the model uses everywhere — integers
// 0..1000 relative to the image's width and height, [x1, y1, x2, y2], (0,0) top-left. Pixel
// boxes are half-open: x2, y2 are one past the last pixel.
#include <array>
#include <functional>
#include <optional>
#include <string>

#include "agent/image-set.h"
#include "agent/tool.h"
#include "extract/picture.h"

namespace muse::agent {

inline constexpr int32_t norm_full = 1000;

inline constexpr const char * norm_convention =
    "box_norm: integers 0-1000 relative to the image's width and height, [x1,y1,x2,y2], (0,0) top-left; "
    "box_px: pixels of the image, [x1,y1,x2,y2] with x2,y2 one past the last pixel";

// A normalized edge coordinate (0..1000, clamped) as a pixel edge in 0..size.
int32_t norm_edge_to_px(double n, int32_t size);
// A normalized point coordinate as a pixel in 0..size-1.
int32_t norm_point_to_px(double n, int32_t size);
// A normalized box, clamped to 0..1000 and ordered, as pixels: at least one pixel each way.
extract::pixel_box norm_box_to_px(const std::array<double, 4> & box, int32_t width, int32_t height);
// The other way (for boxes tools report back), rounded.
std::array<int32_t, 4> px_box_to_norm(const extract::pixel_box & box, int32_t width, int32_t height);

struct image_arg {
    image_entry      entry;
    extract::picture picture;
};

struct image_arg_load {
    std::optional<image_arg> image;
    std::string              error;  // set when image is not: a text for the model
};

// args[key] as an image number of ctx.images, decoded. Arguments that are not an object are
// an error showing `example` (e.g. {"image": 1}).
image_arg_load load_image_arg(const nlohmann::json & args, const tool_context & ctx, const std::string & tool_name,
                              const std::string & example, uint64_t max_pixels = 40'000'000, const char * key = "image");

// args[key] as [x1,y1,x2,y2], four numbers in 0..1000 with x1<x2, y1<y2. nullopt when missing
// (error empty) or wrong (error says how).
std::optional<std::array<double, 4>> norm_box_arg(const nlohmann::json & args, const char * key, std::string & error);

// How many images the run has when the tools are shown to the model (null: unknown).
using image_count_fn = std::function<int32_t()>;

// The JSON schema of the image-number argument: an integer 1..count when the count is known
// and not 0, so that constrained decoding can only name an image that is there. (A tool's
// definition is fixed for a loop, so images tools return during it are seen by the model
// directly and named by number from the next turn on.)
nlohmann::json image_number_schema(const image_count_fn & count);

// The JSON schema of a 0..1000 box argument, for tool definitions.
nlohmann::json norm_box_schema(const std::string & description);

tool_result image_tool_error(std::string text);

}  // namespace muse::agent
