#pragma once
// A fresh private directory (mkdtemp, mode 0700), removed with everything in it when it goes.
// Removal never follows links, so whatever a sandbox left in it stays harmless to the host.
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace muse::agent {

class temp_dir {
  public:
    temp_dir(const std::filesystem::path & parent, const std::string & prefix) {
        std::string tmpl = (parent / (prefix + "XXXXXX")).string();
        if (!::mkdtemp(tmpl.data()))
            throw std::system_error(errno, std::generic_category(), "mkdtemp " + tmpl);
        path_ = tmpl;
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    temp_dir(const temp_dir &)             = delete;
    temp_dir & operator=(const temp_dir &) = delete;

    const std::filesystem::path & path() const { return path_; }

  private:
    std::filesystem::path path_;
};

}  // namespace muse::agent
