#include "agent/tools/crop-zoom.h"

#include <cmath>
#include <cstdio>

#include "agent/tools/image-args.h"
#include "engine/error.h"

namespace muse::agent {

using json = nlohmann::json;

namespace {

std::string format_scale(double s) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.2f", s);
    std::string t = buf;
    while (t.back() == '0')
        t.pop_back();
    if (t.back() == '.')
        t.pop_back();
    return t;
}

class crop_zoom final : public tool {
  public:
    explicit crop_zoom(crop_zoom_options opt) : opt_(opt) {}

    chat_tool definition() const override {
        const json params = {
            { "type", "object" },
            { "properties",
              { { "image",
                  image_number_schema(opt_.image_count) },
                { "box", norm_box_schema("The region [x1, y1, x2, y2], integers 0-1000 relative to the image's width "
                                         "and height") },
                { "scale",
                  { { "type", "number" },
                    { "minimum", 1 },
                    { "maximum", opt_.max_scale },
                    { "description", "Enlargement, default " + format_scale(opt_.default_scale) } } } } },
            { "required", json::array({ "image", "box" }) }
        };
        return { "crop_zoom",
                 "Crop a region of an image and enlarge it to look closer at small details. The crop becomes a new "
                 "image (its number is in the result) that you can see and pass to other image tools.",
                 params.dump() };
    }

    tool_result call(const json & args, const tool_context & ctx) override {
        auto loaded = load_image_arg(args, ctx, "crop_zoom", "{\"image\": 1, \"box\": [...]}", opt_.max_pixels);
        if (!loaded.image)
            return image_tool_error(loaded.error);
        const auto & img = *loaded.image;
        std::string  box_error;
        const auto   box_norm = norm_box_arg(args, "box", box_error);
        if (!box_error.empty())
            return image_tool_error("crop_zoom: " + box_error);
        if (!box_norm)
            return image_tool_error("crop_zoom needs 'box': [x1, y1, x2, y2], integers 0-1000");

        double scale = opt_.default_scale;
        if (auto it = args.find("scale"); it != args.end() && !it->is_null()) {
            if (!it->is_number() || it->get<double>() < 1 || it->get<double>() > opt_.max_scale) {
                return image_tool_error("crop_zoom: 'scale' must be a number from 1 to " +
                                        format_scale(opt_.max_scale) + " (got " + it->dump() + ")");
            }
            scale = it->get<double>();
        }

        const int32_t            w = img.picture.width, h = img.picture.height;
        const extract::pixel_box box = norm_box_to_px(*box_norm, w, h);
        if (box.width() < opt_.min_crop_px || box.height() < opt_.min_crop_px) {
            return image_tool_error("crop_zoom: the box is " + std::to_string(box.width()) + "x" +
                                    std::to_string(box.height()) + " pixels of the " + std::to_string(w) + "x" +
                                    std::to_string(h) + " image; a crop needs at least " +
                                    std::to_string(opt_.min_crop_px) + " pixels each way: give a larger box");
        }
        const double asked = scale;
        const double area  = (double)box.width() * (double)box.height();
        if (area * scale * scale > (double)opt_.max_output_pixels)
            scale = std::sqrt((double)opt_.max_output_pixels / area);
        const int32_t ow = std::max(1, (int32_t)std::floor(box.width() * scale + 1e-9));
        const int32_t oh = std::max(1, (int32_t)std::floor(box.height() * scale + 1e-9));

        std::string png;
        try {
            png = extract::picture_encode_png(
                extract::picture_resize(extract::picture_crop(img.picture, box), ow, oh, opt_.max_output_pixels));
        } catch (const input_error & e) {
            return image_tool_error(std::string("crop_zoom: ") + e.what());
        }

        const auto    norm = px_box_to_norm(box, w, h);
        tool_result   r;
        r.text = "crop of image " + std::to_string(img.entry.number) + " box [" +
                 std::to_string(norm[0]) + "," + std::to_string(norm[1]) + "," + std::to_string(norm[2]) + "," +
                 std::to_string(norm[3]) + "] (pixels " + std::to_string(box.x1) + "," + std::to_string(box.y1) +
                 " to " + std::to_string(box.x2) + "," + std::to_string(box.y2) + " of " + std::to_string(w) + "x" +
                 std::to_string(h) + "), enlarged x" + format_scale(scale) + " to " + std::to_string(ow) + "x" +
                 std::to_string(oh) + " pixels";
        if (scale < asked)
            r.text += " (scale lowered from " + format_scale(asked) + " to stay within the output limit)";
        // The loop numbers it among the run's images and says the number after this text.
        r.images.push_back({ "crop-of-" + std::to_string(img.entry.number) + ".png", "image/png", std::move(png) });
        r.detail = { { "coordinates", norm_convention },
                     { "image", img.entry.number },
                     { "box_norm", norm },
                     { "box_px", { box.x1, box.y1, box.x2, box.y2 } },
                     { "width", ow },
                     { "height", oh },
                     { "scale", scale } };
        return r;
    }

  private:
    crop_zoom_options opt_;
};

}  // namespace

tool_ptr crop_zoom_tool(crop_zoom_options options) {
    return std::make_shared<crop_zoom>(options);
}

}  // namespace muse::agent
