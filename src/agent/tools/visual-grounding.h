#pragma once
// visual_grounding: where in an image are the things a query names — boxes, points, or a count.
// The vision model answers under a JSON-schema grammar (vision_fn runs it); this tool builds the
// prompt and the schema, checks and maps the answer to pixels, and draws it on a copy of the
// image that comes back as a new image. The pure parts are free functions, tested alone.
#include <array>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "agent/image-set.h"
#include "agent/tool.h"
#include "agent/tools/image-args.h"
#include "extract/picture.h"

namespace muse::agent {

enum grounding_mode {
    GROUNDING_MODE_BOXES,
    GROUNDING_MODE_POINTS,
    GROUNDING_MODE_COUNT,  // points, one per instance; the answer is how many
};
const char *                  grounding_mode_name(grounding_mode m);  // "boxes", "points", "count"
std::optional<grounding_mode> grounding_mode_parse(const std::string & name);

// Runs the vision model on `img` with `prompt`, its output constrained to `json_schema`, and
// returns the output text. Implemented over the engine elsewhere; throws input_error when the
// model cannot see this image.
using vision_fn = std::function<std::string(const image_entry & img, const std::string & prompt,
                                            const nlohmann::json & json_schema, const tool_context & ctx)>;

// The schema of the model's answer: a list of at most max_items objects, {"bbox_2d": [x1,y1,x2,y2],
// "label": "..."} for boxes and {"point_2d": [x,y], "label": "..."} for points and count, each
// coordinate an integer 0..1000; the label may be left out (it is the query then).
nlohmann::json grounding_schema(grounding_mode mode, int32_t max_items = 50);

// The prompt for a model family: "qwen" asks in Qwen2.5-VL's own grounding words (it was
// trained on bbox_2d / point_2d JSON); any other family gets a generic, fuller instruction.
std::string grounding_prompt(const std::string & family, grounding_mode mode, const std::string & query,
                             int32_t max_items = 50);

struct grounding_item {
    std::string            label;
    bool                   is_point = false;
    std::array<int32_t, 4> box_norm {};  // boxes: clamped to 0..1000, x1<=x2, y1<=y2
    extract::pixel_box     box_px;
    std::array<int32_t, 2> point_norm {};  // points
    std::array<int32_t, 2> point_px {};
};

// The model's answer checked and mapped onto a width x height image. Accepts a list of items or
// a single item, inside ```json fences or not. Numbers are rounded and clamped to 0..1000,
// boxes ordered; items past max_items are dropped. Throws input_error naming what is wrong:
// not JSON, not a list of objects, a missing or malformed bbox_2d/point_2d.
std::vector<grounding_item> grounding_parse(const std::string & model_output, grounding_mode mode, int32_t width,
                                            int32_t height, const std::string & default_label, int32_t max_items = 50);

// Draws the items on `p`: box outlines (thickness px, their outer edge exactly on box_px) or
// point markers, each with a numbered badge; in count mode also a "count: N" badge top-left.
void grounding_draw(extract::picture & p, const std::vector<grounding_item> & items, grounding_mode mode,
                    const extract::picture_font * font, int32_t thickness);
// The outline thickness for a picture of this size (2 px on small pictures, more on large).
int32_t grounding_thickness(int32_t width, int32_t height);
// The colour item i is drawn in.
extract::rgb8 grounding_colour(size_t i);

// The request a vision_fn runs: one user message with the image (media index 0) and the
// prompt, the answer held to `json_schema`, no reasoning.
chat_request grounding_request(const std::string & prompt, const nlohmann::json & json_schema);

struct visual_grounding_options {
    image_count_fn image_count;  // bounds the image argument (image-args.h); null: unbounded
    std::string family          = "generic";  // "qwen" for Qwen2.5-VL and its kin
    int32_t     max_items       = 50;
    std::string font_path       = extract::picture_default_font_path;  // missing: badges without text
    uint64_t    max_pixels      = 40'000'000;
    size_t      max_query_bytes = 300;
};

tool_ptr visual_grounding_tool(vision_fn vision, visual_grounding_options options = {});

}  // namespace muse::agent
