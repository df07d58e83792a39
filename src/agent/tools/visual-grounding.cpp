#include "agent/tools/visual-grounding.h"

#include <algorithm>
#include <cmath>

#include "agent/text-cap.h"
#include "engine/error.h"

namespace muse::agent {

using json = nlohmann::json;

const char * grounding_mode_name(grounding_mode m) {
    switch (m) {
        case GROUNDING_MODE_BOXES:
            return "boxes";
        case GROUNDING_MODE_POINTS:
            return "points";
        case GROUNDING_MODE_COUNT:
            return "count";
    }
    return "boxes";
}

std::optional<grounding_mode> grounding_mode_parse(const std::string & name) {
    if (name == "boxes")
        return GROUNDING_MODE_BOXES;
    if (name == "points")
        return GROUNDING_MODE_POINTS;
    if (name == "count")
        return GROUNDING_MODE_COUNT;
    return std::nullopt;
}

namespace {

bool wants_boxes(grounding_mode m) {
    return m == GROUNDING_MODE_BOXES;
}
const char * coords_key(grounding_mode m) {
    return wants_boxes(m) ? "bbox_2d" : "point_2d";
}

constexpr size_t max_label_bytes = 80;

}  // namespace

json grounding_schema(grounding_mode mode, int32_t max_items) {
    const size_t n     = wants_boxes(mode) ? 4 : 2;
    const json   coord = { { "type", "integer" }, { "minimum", 0 }, { "maximum", norm_full } };
    const json   item  = {
           { "type", "object" },
           { "properties",
             { { coords_key(mode), { { "type", "array" }, { "items", coord }, { "minItems", n }, { "maxItems", n } } },
               { "label", { { "type", "string" }, { "maxLength", 60 } } } } },
           // Only the coordinates are required: nlohmann::json sorts keys ("label" < "point_2d") and
           // llama.cpp's grammar writes required properties in that order, optional ones after; this
           // way the grammar asks for {"point_2d": ..., "label": ...}, the order Qwen2.5-VL writes.
           { "required", json::array({ coords_key(mode) }) },
           { "additionalProperties", false }
    };
    return { { "type", "array" }, { "items", item }, { "maxItems", std::max(max_items, 1) } };
}

std::string grounding_prompt(const std::string & family, grounding_mode mode, const std::string & query,
                             int32_t max_items) {
    const std::string q = "\"" + query + "\"";
    const std::string coord =
        "Coordinates are integers from 0 to 1000 relative to the image's width and height: "
        "(0, 0) is the top-left corner and (1000, 1000) the bottom-right corner.";
    const std::string limit = " List at most " + std::to_string(max_items) + "; answer [] if there is none.";
    if (family == "qwen") {
        // Qwen2.5-VL's grounding requests, as its cookbooks word them.
        switch (mode) {
            case GROUNDING_MODE_BOXES:
                return "Locate every " + q +
                       " in the image, output bbox coordinates in JSON format: "
                       "[{\"bbox_2d\": [x1, y1, x2, y2], \"label\": \"...\"}]. " +
                       coord + limit;
            case GROUNDING_MODE_POINTS:
                return "Locate every " + q +
                       " in the image, report the point coordinates in JSON format: "
                       "[{\"point_2d\": [x, y], \"label\": \"...\"}]. " +
                       coord + limit;
            case GROUNDING_MODE_COUNT:
                return "Count every " + q +
                       " in the image: point to each one once, report the point coordinates in "
                       "JSON format: [{\"point_2d\": [x, y], \"label\": \"...\"}]. " +
                       coord + limit;
        }
    }
    switch (mode) {
        case GROUNDING_MODE_BOXES:
            return "Find every object in the image that matches " + q +
                   ". Answer with only a JSON list with one "
                   "entry per object: {\"bbox_2d\": [x1, y1, x2, y2], \"label\": \"a short name\"}, where (x1, y1) is "
                   "the top-left and (x2, y2) the bottom-right corner of a tight box around the object. " +
                   coord + limit;
        case GROUNDING_MODE_POINTS:
            return "Find every object in the image that matches " + q +
                   ". Answer with only a JSON list with one "
                   "entry per object: {\"point_2d\": [x, y], \"label\": \"a short name\"}, the point at the object's "
                   "centre. " +
                   coord + limit;
        case GROUNDING_MODE_COUNT:
            return "Count the objects in the image that match " + q +
                   ". Answer with only a JSON list with exactly "
                   "one entry per object, none counted twice: {\"point_2d\": [x, y], \"label\": \"a short name\"}, the "
                   "point at the object's centre. " +
                   coord + limit;
    }
    return "";
}

namespace {

// The JSON inside a ```json fence, when the model wrote one (without a grammar they do).
std::string strip_fence(const std::string & s) {
    const size_t open = s.find("```");
    if (open == std::string::npos)
        return s;
    const size_t body = s.find('\n', open);
    if (body == std::string::npos)
        return s;
    const size_t close = s.find("```", body);
    return s.substr(body + 1, close == std::string::npos ? std::string::npos : close - body - 1);
}

int32_t norm_coord(const json & v) {
    return (int32_t)std::clamp<double>(std::round(v.get<double>()), 0.0, (double)norm_full);
}

}  // namespace

std::vector<grounding_item> grounding_parse(const std::string & model_output, grounding_mode mode, int32_t width,
                                            int32_t height, const std::string & default_label, int32_t max_items) {
    const json answer = json::parse(strip_fence(model_output), nullptr, false);
    if (answer.is_discarded()) {
        throw input_error("the vision model's answer is not JSON: " + text_cap(model_output, 200) +
                          "; it must be a JSON list of {\"" + coords_key(mode) + "\": [...], \"label\": \"...\"}");
    }
    json list = answer;
    if (answer.is_object())
        list = json::array({ answer });
    if (!list.is_array()) {
        throw input_error("the vision model's answer is JSON but not a list: " + text_cap(answer.dump(), 200));
    }
    const char *                key = coords_key(mode);
    const size_t                n   = wants_boxes(mode) ? 4 : 2;
    std::vector<grounding_item> items;
    for (size_t i = 0; i < list.size() && items.size() < (size_t)std::max(max_items, 0); ++i) {
        const json & e    = list[i];
        const auto   what = "item " + std::to_string(i + 1) + " of the vision model's answer";
        if (!e.is_object())
            throw input_error(what + " is not an object: " + text_cap(e.dump(), 120));
        const auto c = e.find(key);
        if (c == e.end())
            throw input_error(what + " has no \"" + key + "\": " + text_cap(e.dump(), 120));
        if (!c->is_array() || c->size() != n ||
            !std::all_of(c->begin(), c->end(), [](const json & v) { return v.is_number(); })) {
            throw input_error(what + ": \"" + key + "\" must be " + std::to_string(n) + " numbers 0-1000, got " +
                              text_cap(c->dump(), 120));
        }
        grounding_item it;
        const auto     l = e.find("label");
        it.label =
            l != e.end() && l->is_string() && !l->get<std::string>().empty() ? l->get<std::string>() : default_label;
        it.label.resize(utf8_cut(it.label, max_label_bytes));
        if (wants_boxes(mode)) {
            const int32_t x1 = norm_coord((*c)[0]), y1 = norm_coord((*c)[1]);
            const int32_t x2 = norm_coord((*c)[2]), y2 = norm_coord((*c)[3]);
            it.box_norm = { std::min(x1, x2), std::min(y1, y2), std::max(x1, x2), std::max(y1, y2) };
            it.box_px   = norm_box_to_px(
                  { (double)it.box_norm[0], (double)it.box_norm[1], (double)it.box_norm[2], (double)it.box_norm[3] },
                  width, height);
        } else {
            it.is_point   = true;
            it.point_norm = { norm_coord((*c)[0]), norm_coord((*c)[1]) };
            it.point_px   = { norm_point_to_px(it.point_norm[0], width), norm_point_to_px(it.point_norm[1], height) };
        }
        items.push_back(std::move(it));
    }
    return items;
}

extract::rgb8 grounding_colour(size_t i) {
    // Saturated colours that stay apart from each other and from most photos' greys.
    static constexpr extract::rgb8 palette[] = {
        { 230, 25, 75 },  { 60, 180, 75 },  { 0, 130, 200 },  { 245, 130, 48 },
        { 145, 30, 180 }, { 70, 240, 240 }, { 240, 50, 230 }, { 210, 245, 60 }
    };
    return palette[i % (sizeof(palette) / sizeof(palette[0]))];
}

int32_t grounding_thickness(int32_t width, int32_t height) {
    return std::max(2, std::min(width, height) / 250);
}

void grounding_draw(extract::picture & p, const std::vector<grounding_item> & items, grounding_mode mode,
                    const extract::picture_font * font, int32_t thickness) {
    const int32_t text_px = std::clamp(std::min(p.width, p.height) / 40, 12, 32);
    for (size_t i = 0; i < items.size(); ++i) {
        const auto &      it     = items[i];
        const auto        colour = grounding_colour(i);
        const std::string badge  = std::to_string(i + 1) + (mode == GROUNDING_MODE_COUNT ? "" : " " + it.label);
        const auto [bw, bh]      = extract::picture_badge_size(badge, font, text_px);
        if (!it.is_point) {
            extract::picture_draw_rect(p, it.box_px, colour, thickness);
            // Above the box, or inside its top-left corner when there is no room above.
            const int32_t y = it.box_px.y1 >= bh ? it.box_px.y1 - bh : it.box_px.y1 + thickness;
            extract::picture_draw_badge(p, it.box_px.x1 + (y > it.box_px.y1 ? thickness : 0), y, badge, colour, font,
                                        text_px);
        } else {
            const int32_t r = std::max(3, thickness * 2);
            extract::picture_draw_point(p, it.point_px[0], it.point_px[1], colour, r);
            extract::picture_draw_badge(p, it.point_px[0] + r + 3, it.point_px[1] - bh / 2, badge, colour, font,
                                        text_px);
        }
    }
    if (mode == GROUNDING_MODE_COUNT) {
        extract::picture_draw_badge(p, 0, 0, "count: " + std::to_string(items.size()), { 20, 20, 20 }, font, text_px);
    }
}

namespace {

std::string box_text(const extract::pixel_box & b) {
    return "[" + std::to_string(b.x1) + "," + std::to_string(b.y1) + "," + std::to_string(b.x2) + "," +
           std::to_string(b.y2) + "]";
}

template <size_t N>
std::string list_text(const std::array<int32_t, N> & a) {
    std::string s = "[";
    for (size_t i = 0; i < N; ++i)
        s += (i ? "," : "") + std::to_string(a[i]);
    return s + "]";
}

// A query goes into the prompt inside quotes, on one line.
std::string clean_query(const std::string & q, size_t max_bytes) {
    std::string out;
    for (char c : q)
        out += (unsigned char)c < 0x20 || c == '"' ? ' ' : c;
    const size_t a = out.find_first_not_of(' ');
    if (a == std::string::npos)
        return "";
    out = out.substr(a, out.find_last_not_of(' ') - a + 1);
    out.resize(utf8_cut(out, max_bytes));
    return out;
}

class visual_grounding final : public tool {
  public:
    visual_grounding(vision_fn vision, visual_grounding_options opt) :
        vision_(std::move(vision)), opt_(std::move(opt)), font_(extract::picture_font::load(opt_.font_path)) {}

    chat_tool definition() const override {
        const json params = {
            { "type", "object" },
            { "properties",
              { { "image",
                  image_number_schema(opt_.image_count) },
                { "query",
                  { { "type", "string" },
                    { "description", "What to find, e.g. \"red cars\", \"the login button\"" } } },
                { "mode",
                  { { "type", "string" },
                    { "enum", { "boxes", "points", "count" } },
                    { "description",
                      "boxes (default): a box per object; points: a point per object; count: how many" } } } } },
            { "required", json::array({ "image", "query" }) }
        };
        return { "visual_grounding",
                 "Find the objects a query names in an image: their boxes or points (coordinates 0-1000 of the image's "
                 "width and height, and in pixels) or their count. Returns the list and a copy of the image with them "
                 "drawn, as a new image.",
                 params.dump() };
    }

    tool_result call(const json & args, const tool_context & ctx) override {
        auto loaded = load_image_arg(args, ctx, "visual_grounding", "{\"image\": 1, \"query\": \"...\"}", opt_.max_pixels);
        if (!loaded.image)
            return image_tool_error(loaded.error);
        auto & img = *loaded.image;

        const auto        q = args.find("query");
        const std::string query =
            q != args.end() && q->is_string() ? clean_query(q->get<std::string>(), opt_.max_query_bytes) : "";
        if (query.empty())
            return image_tool_error("visual_grounding needs 'query': what to find, e.g. \"red cars\"");
        grounding_mode mode = GROUNDING_MODE_BOXES;
        if (auto m = args.find("mode"); m != args.end() && !m->is_null()) {
            auto parsed = m->is_string() ? grounding_mode_parse(m->get<std::string>()) : std::nullopt;
            if (!parsed)
                return image_tool_error("visual_grounding: 'mode' must be boxes, points or count (got " + m->dump() +
                                        ")");
            mode = *parsed;
        }

        const int32_t               w = img.picture.width, h = img.picture.height;
        std::vector<grounding_item> items;
        try {
            const std::string answer = vision_(img.entry, grounding_prompt(opt_.family, mode, query, opt_.max_items),
                                               grounding_schema(mode, opt_.max_items), ctx);
            items                    = grounding_parse(answer, mode, w, h, query, opt_.max_items);
        } catch (const input_error & e) {
            return image_tool_error(std::string("visual_grounding: ") + e.what());
        }

        extract::picture annotated = img.picture;
        grounding_draw(annotated, items, mode, font_.get(), grounding_thickness(w, h));

        json        list = json::array();
        std::string text;
        for (size_t i = 0; i < items.size(); ++i) {
            const auto & it = items[i];
            text += "\n" + std::to_string(i + 1) + ". " + it.label + ": ";
            if (it.is_point) {
                list.push_back({ { "label", it.label }, { "point_norm", it.point_norm }, { "point_px", it.point_px } });
                text += "point " + list_text(it.point_px) + " px (norm " + list_text(it.point_norm) + ")";
            } else {
                list.push_back({ { "label", it.label },
                                 { "box_norm", it.box_norm },
                                 { "box_px", { it.box_px.x1, it.box_px.y1, it.box_px.x2, it.box_px.y2 } } });
                text += "box " + box_text(it.box_px) + " px (norm " + list_text(it.box_norm) + ")";
            }
        }
        const std::string in =
            " in image " + std::to_string(img.entry.number) + " (" + std::to_string(w) + "x" + std::to_string(h) + ")";
        tool_result r;
        if (mode == GROUNDING_MODE_COUNT) {
            r.text = "count of \"" + query + "\"" + in + ": " + std::to_string(items.size()) + text;
        } else if (items.empty()) {
            r.text = "no \"" + query + "\" found" + in;
        } else {
            r.text = std::to_string(items.size()) + " \"" + query + "\" found" + in + ":" + text;
        }
        r.text += "\nthe image below is image " + std::to_string(img.entry.number) + " with them drawn on it";
        r.images.push_back(
            { "grounding-of-" + std::to_string(img.entry.number) + ".png", "image/png", extract::picture_encode_png(annotated) });
        r.detail = { { "coordinates", norm_convention },
                     { "image", img.entry.number },
                     { "mode", grounding_mode_name(mode) },
                     { "query", query },
                     { "width", w },
                     { "height", h },
                     { "items", std::move(list) },
                     { "count", items.size() } };
        return r;
    }

  private:
    vision_fn                                    vision_;
    visual_grounding_options                     opt_;
    std::shared_ptr<const extract::picture_font> font_;
};

}  // namespace

chat_request grounding_request(const std::string & prompt, const nlohmann::json & json_schema) {
    chat_request r;
    chat_message m;
    m.role  = "user";
    m.parts = { { CHAT_PART_TYPE_MEDIA, "", 0 }, { CHAT_PART_TYPE_TEXT, prompt, 0 } };
    r.messages.push_back(std::move(m));
    r.json_schema     = json_schema.dump();
    r.enable_thinking = false;
    return r;
}

tool_ptr visual_grounding_tool(vision_fn vision, visual_grounding_options options) {
    if (!vision)
        throw std::invalid_argument("visual_grounding_tool needs a vision_fn that runs the vision model");
    return std::make_shared<visual_grounding>(std::move(vision), std::move(options));
}

}  // namespace muse::agent
