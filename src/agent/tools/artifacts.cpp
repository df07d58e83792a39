#include "agent/tools/artifacts.h"

#include "agent/text-cap.h"

namespace muse::agent {

using json = nlohmann::json;

const char * artifact_type_name(artifact_type t) {
    switch (t) {
        case ARTIFACT_TYPE_HTML:     return "html";
        case ARTIFACT_TYPE_SVG:      return "svg";
        case ARTIFACT_TYPE_MARKDOWN: return "markdown";
    }
    return "html";
}

const char * artifact_type_mime(artifact_type t) {
    switch (t) {
        case ARTIFACT_TYPE_HTML:     return "text/html";
        case ARTIFACT_TYPE_SVG:      return "image/svg+xml";
        case ARTIFACT_TYPE_MARKDOWN: return "text/markdown";
    }
    return "text/html";
}

std::optional<artifact_type> artifact_type_parse(const std::string & name) {
    if (name == "html") return ARTIFACT_TYPE_HTML;
    if (name == "svg") return ARTIFACT_TYPE_SVG;
    if (name == "markdown") return ARTIFACT_TYPE_MARKDOWN;
    return std::nullopt;
}

std::string artifact_title(const std::string & title) {
    return utf8_first_chars(title, k_artifact_title_max);
}

namespace {

// What the model gave is the document it meant: an SVG must hold an <svg element, HTML some
// markup; a document over the limit is refused whole (never stored cut).
std::optional<std::string> content_problem(artifact_type type, const std::string & content, const artifact_limits & lim) {
    if (content.empty()) return "content is empty";
    if (content.size() > lim.max_bytes) {
        return "content is " + std::to_string(content.size()) + " bytes; an artifact holds at most " +
               std::to_string(lim.max_bytes);
    }
    if (type == ARTIFACT_TYPE_SVG && content.find("<svg") == std::string::npos) return "an svg artifact must contain an <svg> element";
    return std::nullopt;
}

tool_result stored_result(const artifact & a, bool created) {
    tool_result r;
    r.text = std::string(created ? "created" : "updated") + " artifact " + a.id + " version " + std::to_string(a.version) +
             " (" + artifact_type_name(a.type) + ", \"" + a.title + "\", " + std::to_string(a.content.size()) +
             " bytes); the user sees it rendered beside the chat";
    r.detail = { { "artifact", { { "id", a.id }, { "version", a.version }, { "title", a.title },
                                 { "type", artifact_type_name(a.type) }, { "bytes", a.content.size() } } } };
    return r;
}

class create_artifact final : public tool {
  public:
    create_artifact(std::shared_ptr<artifact_store> store, artifact_limits lim) : store_(std::move(store)), lim_(lim) {}

    chat_tool definition() const override {
        return { "create_artifact",
                 "Create a document the user sees rendered beside the chat: an interactive HTML page with inline "
                 "JavaScript and CSS (mini-games, dashboards, calculators), an SVG image (charts, diagrams, health "
                 "displays) or Markdown. It runs in a sandboxed frame without network access: inline everything. "
                 "Returns the artifact's id for update_artifact.",
                 R"({"type":"object","properties":{)"
                 R"("title":{"type":"string","description":"A short title","maxLength":120},)"
                 R"("type":{"type":"string","enum":["html","svg","markdown"]},)"
                 R"("content":{"type":"string","description":"The whole document"}},)"
                 R"("required":["title","type","content"]})" };
    }

    tool_result call(const json & args, const tool_context & ctx) override {
        auto title   = tool_arg_string(args, "title");
        auto type_s  = tool_arg_string(args, "type");
        auto content = tool_arg_string(args, "content");
        if (!title || title->empty()) return tool_error_result("create_artifact needs a non-empty string 'title'");
        if (!type_s) return tool_error_result("create_artifact needs 'type': one of html, svg, markdown");
        auto type = artifact_type_parse(*type_s);
        if (!type) return tool_error_result("unknown artifact type '" + *type_s + "': use html, svg or markdown");
        if (!content) return tool_error_result("create_artifact needs the document as a string 'content'");
        if (auto p = content_problem(*type, *content, lim_)) return tool_error_result("create_artifact: " + *p);
        auto a = store_->put(ctx, "", artifact_title(*title), *type, *content);
        if (!a) return tool_error_result("create_artifact: the artifact could not be stored");
        return stored_result(*a, true);
    }

  private:
    std::shared_ptr<artifact_store> store_;
    artifact_limits                 lim_;
};

class update_artifact final : public tool {
  public:
    update_artifact(std::shared_ptr<artifact_store> store, artifact_limits lim) : store_(std::move(store)), lim_(lim) {}

    chat_tool definition() const override {
        return { "update_artifact",
                 "Replace the content (and optionally the title) of an artifact made in this conversation; the "
                 "user sees the new version, earlier versions are kept.",
                 R"({"type":"object","properties":{)"
                 R"("id":{"type":"string","description":"The artifact's id, from create_artifact"},)"
                 R"("content":{"type":"string","description":"The whole new document"},)"
                 R"("title":{"type":"string","maxLength":120}},)"
                 R"("required":["id","content"]})" };
    }

    tool_result call(const json & args, const tool_context & ctx) override {
        auto id      = tool_arg_string(args, "id");
        auto content = tool_arg_string(args, "content");
        auto title   = tool_arg_string(args, "title");
        if (!id || id->empty()) return tool_error_result("update_artifact needs the artifact's 'id'");
        if (!content) return tool_error_result("update_artifact needs the new document as a string 'content'");
        auto prev = store_->latest(ctx, *id);
        if (!prev) return tool_error_result("this conversation has no artifact '" + *id + "'");
        if (auto p = content_problem(prev->type, *content, lim_)) return tool_error_result("update_artifact: " + *p);
        auto a = store_->put(ctx, *id, title && !title->empty() ? artifact_title(*title) : prev->title, prev->type, *content);
        if (!a) return tool_error_result("this conversation has no artifact '" + *id + "'");
        return stored_result(*a, false);
    }

  private:
    std::shared_ptr<artifact_store> store_;
    artifact_limits                 lim_;
};

}  // namespace

tool_ptr create_artifact_tool(std::shared_ptr<artifact_store> store, artifact_limits limits) {
    return std::make_shared<create_artifact>(std::move(store), limits);
}

tool_ptr update_artifact_tool(std::shared_ptr<artifact_store> store, artifact_limits limits) {
    return std::make_shared<update_artifact>(std::move(store), limits);
}

}  // namespace muse::agent
