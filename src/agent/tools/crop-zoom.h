#pragma once
// crop_zoom: cut a box out of one of the run's images and enlarge it, so a vision model can
// look closer (small print, a distant sign). The crop comes back as a new image: the loop adds
// it to the run's images, where it is the next number.
#include "agent/tool.h"
#include "agent/tools/image-args.h"

namespace muse::agent {

struct crop_zoom_options {
    image_count_fn image_count;  // bounds the image argument (image-args.h); null: unbounded
    int32_t  min_crop_px       = 8;  // each side of the source region; smaller is an error
    double   max_scale         = 4;  // asked-for scales are 1..max_scale
    double   default_scale     = 2;
    uint64_t max_output_pixels = 2'000'000;   // the scale is lowered to fit
    uint64_t max_pixels        = 40'000'000;  // of a source image
};

tool_ptr crop_zoom_tool(crop_zoom_options options = {});

}  // namespace muse::agent
