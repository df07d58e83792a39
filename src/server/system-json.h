#pragma once
// The system report (engine/system-info.h) as JSON: the body of `muse info --system --json`
// and the "system" object of GET /health for admins (docs/api.md). Here, not in the engine,
// because the engine keeps nlohmann-json out (it sees llama.cpp's vendored copy).
#include <nlohmann/json.hpp>

#include "engine/system-info.h"

namespace muse::server {

inline nlohmann::json system_info_json(const system_info & s) {
    nlohmann::json patches = nlohmann::json::array();
    for (const auto & p : s.llama_cpp_patches) {
        patches.push_back({ { "name", p.name },
                            { "applied", p.applied < 0 ? nlohmann::json(nullptr) : nlohmann::json(p.applied == 1) } });
    }
    return {
        { "version", s.version },
        { "commit", s.commit.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.commit) },
        { "llama_cpp", { { "commit", s.llama_cpp_commit }, { "patches", patches } } },
        { "cpu",
          { { "model", s.cpu_model },
            { "features", s.cpu_features },
            { "lacks", s.cpu_lacks },
            { "logical_cores", s.logical_cores } } },
        { "threads_default", s.threads_default },
        { "kernels", { { "built", s.kernels_built }, { "in_use", s.kernels_in_use } } },
        { "summary", system_info_summary(s) },
    };
}

}  // namespace muse::server
