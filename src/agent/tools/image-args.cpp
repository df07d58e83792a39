#include "agent/tools/image-args.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"

namespace muse::agent {

using json = nlohmann::json;

int32_t norm_edge_to_px(double n, int32_t size) {
    const double c = std::clamp(n, 0.0, (double)norm_full);
    return std::clamp((int32_t)std::lround(c * size / norm_full), 0, size);
}

int32_t norm_point_to_px(double n, int32_t size) {
    return std::clamp(norm_edge_to_px(n, size), 0, std::max(size - 1, 0));
}

extract::pixel_box norm_box_to_px(const std::array<double, 4> & b, int32_t width, int32_t height) {
    auto edges = [](double a, double c, int32_t size) {
        int32_t lo = norm_edge_to_px(std::min(a, c), size), hi = norm_edge_to_px(std::max(a, c), size);
        if (hi <= lo) {  // a line or a dot: the pixel it falls on
            lo = std::min(lo, size - 1);
            hi = lo + 1;
        }
        return std::pair<int32_t, int32_t>(lo, hi);
    };
    const auto [x1, x2] = edges(b[0], b[2], width);
    const auto [y1, y2] = edges(b[1], b[3], height);
    return { x1, y1, x2, y2 };
}

std::array<int32_t, 4> px_box_to_norm(const extract::pixel_box & b, int32_t width, int32_t height) {
    auto n = [](int32_t v, int32_t size) { return (int32_t)std::lround((double)v * norm_full / std::max(size, 1)); };
    return { n(b.x1, width), n(b.y1, height), n(b.x2, width), n(b.y2, height) };
}

nlohmann::json image_number_schema(const image_count_fn & count) {
    nlohmann::json s = { { "type", "integer" }, { "minimum", 1 }, { "description", "The image's number (1 is the first)" } };
    const int32_t n = count ? count() : 0;
    if (n > 0) {
        s["maximum"]     = n;
        s["description"] = n == 1 ? "The image's number: 1 (the only one)" : "The image's number, 1 to " + std::to_string(n);
    }
    return s;
}

tool_result image_tool_error(std::string text) { return tool_error_result(std::move(text)); }

image_arg_load load_image_arg(const json & args, const tool_context & ctx, const std::string & tool_name,
                              const std::string & example, uint64_t max_pixels, const char * key) {
    image_arg_load out;
    if (!args.is_object()) {
        out.error = tool_name + " needs an object of arguments: " + example;
        return out;
    }
    const auto     it = args.find(key);
    // 2.0 is 2 (a model may write it so); 2.5 is no image's number.
    const bool whole =
        it != args.end() && (it->is_number_integer() || (it->is_number_float() && std::abs(it->get<double>()) < 1e9 &&
                                                         it->get<double>() == std::floor(it->get<double>())));
    if (!whole) {
        out.error = tool_name + " needs '" + key + "': the image's number (1 is the first image of the conversation)";
        return out;
    }
    const int32_t              count  = ctx.images ? ctx.images->size() : 0;
    const int64_t              number = it->is_number_integer() ? it->get<int64_t>() : (int64_t)it->get<double>();
    std::optional<image_entry> entry;
    if (number >= 1 && number <= count)
        entry = ctx.images->get((int32_t)number);
    if (!entry) {
        out.error = count == 0 ? tool_name + ": this conversation has no images"
                               : tool_name + ": there is no image " + std::to_string(number) +
                                     "; the images are 1 to " + std::to_string(count);
        return out;
    }
    try {
        extract::picture p = extract::picture_decode(entry->bytes ? *entry->bytes : std::string(), max_pixels);
        out.image          = image_arg { std::move(*entry), std::move(p) };
    } catch (const input_error & e) {
        out.error =
            tool_name + ": image " + std::to_string(number) + " (" + entry->name + ") cannot be read: " + e.what();
    }
    return out;
}

std::optional<std::array<double, 4>> norm_box_arg(const json & args, const char * key, std::string & error) {
    error.clear();
    const auto it = args.find(key);
    if (it == args.end() || it->is_null())
        return std::nullopt;
    const std::string how = std::string("'") + key +
                            "' must be [x1, y1, x2, y2]: four integers 0-1000 relative to the "
                            "image's width and height, x1 < x2 and y1 < y2";
    if (!it->is_array() || it->size() != 4) {
        error = how;
        return std::nullopt;
    }
    std::array<double, 4> b {};
    for (size_t i = 0; i < 4; ++i) {
        const auto & v = (*it)[i];
        if (!v.is_number() || v.get<double>() < 0 || v.get<double>() > norm_full) {
            error = how + " (got " + it->dump() + ")";
            return std::nullopt;
        }
        b[i] = v.get<double>();
    }
    if (b[0] >= b[2] || b[1] >= b[3]) {
        error = how + " (got " + it->dump() + ")";
        return std::nullopt;
    }
    return b;
}

json norm_box_schema(const std::string & description) {
    return { { "type", "array" },
             { "description", description },
             { "items", { { "type", "integer" }, { "minimum", 0 }, { "maximum", norm_full } } },
             { "minItems", 4 },
             { "maxItems", 4 } };
}

}  // namespace muse::agent
