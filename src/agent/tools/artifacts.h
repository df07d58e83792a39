#pragma once
// create_artifact / update_artifact: the model writes a document the user opens beside the
// chat — HTML+JS (a mini-game, a dashboard), SVG (a chart, a health display) or Markdown —
// with a title. Each conversation's artifacts are versioned: an update is a new version.
// Where they are kept is the caller's (the server's store, the CLI's files).
#include "agent/tool.h"

#include <optional>

namespace muse::agent {

enum artifact_type {
    ARTIFACT_TYPE_HTML,
    ARTIFACT_TYPE_SVG,
    ARTIFACT_TYPE_MARKDOWN,
};
const char * artifact_type_name(artifact_type t);       // "html", "svg", "markdown"
const char * artifact_type_mime(artifact_type t);       // "text/html", "image/svg+xml", "text/markdown"
std::optional<artifact_type> artifact_type_parse(const std::string & name);

struct artifact {
    std::string   id;  // "art_" + 24 hex
    int           version = 1;
    std::string   title;
    artifact_type type = ARTIFACT_TYPE_HTML;
    std::string   content;
};

// Where artifacts live. put() stores a new artifact (id empty: a fresh id, version 1) or a new
// version of the conversation's artifact `id` (nullopt when it has none with that id).
class artifact_store {
  public:
    virtual ~artifact_store() = default;
    virtual std::optional<artifact> put(const tool_context & ctx, const std::string & id, const std::string & title,
                                        artifact_type type, const std::string & content) = 0;
    virtual std::optional<artifact> latest(const tool_context & ctx, const std::string & id) = 0;
};

struct artifact_limits {
    size_t max_bytes = 1u << 20;  // one document
};

// A title as the tools keep it: its first k_artifact_title_max characters (the tools' schema
// says maxLength 120; a cut never falls inside a character).
inline constexpr size_t k_artifact_title_max = 120;
std::string artifact_title(const std::string & title);

// The two tools over one store.
tool_ptr create_artifact_tool(std::shared_ptr<artifact_store> store, artifact_limits limits = {});
tool_ptr update_artifact_tool(std::shared_ptr<artifact_store> store, artifact_limits limits = {});

}  // namespace muse::agent
