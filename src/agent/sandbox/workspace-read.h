#pragma once
// Reading a file a sandbox wrote, from the host: every component of the path is opened
// relative to its parent with O_NOFOLLOW, so a link the sandbox planted (/mnt/data/x ->
// /etc/shadow, a directory swapped for a link mid-read) never makes the host read its own
// files for the sandbox's user. Only regular files, up to a size.
#include <filesystem>
#include <optional>
#include <string>

namespace muse::agent {

struct workspace_read_result {
    std::optional<std::string> bytes;  // nullopt: not readable (why says so)
    std::string                why;    // "no such file", "not a regular file", "over N bytes", "not a relative path"
};

// `relative`: '/'-separated, no empty, "." or ".." parts, not absolute.
workspace_read_result workspace_read(const std::filesystem::path & root, const std::string & relative, size_t max_bytes);

}  // namespace muse::agent
