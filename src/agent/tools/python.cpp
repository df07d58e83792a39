#include "agent/tools/python.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <system_error>

#include "agent/sandbox/dir-walk.h"
#include "agent/sandbox/temp-dir.h"
#include "agent/sandbox/unique-fd.h"
#include "agent/tools/python-prelude.h"

namespace muse::agent {

namespace {

constexpr size_t MAX_SNAPSHOT_ENTRIES = 20000;
constexpr size_t MAX_FILES_NAMED      = 20;  // in the text; tool_result::files has up to max_files

const char PNG_SIGNATURE[] = "\x89PNG\r\n\x1a\n";


void file_write(const std::filesystem::path & path, const std::string & text) {
    std::ofstream f(path, std::ios::binary);
    f << text;
    if (!f.flush())
        throw std::runtime_error("python tool: cannot write " + path.string());
    std::filesystem::permissions(path, std::filesystem::perms(0644));
}

struct file_stamp {
    uint64_t bytes;
    int64_t  mtime_ns;
    bool     operator==(const file_stamp &) const = default;
};

using snapshot = std::map<std::string, file_stamp>;

snapshot snapshot_take(const std::filesystem::path & dir) {
    snapshot s;
    dir_walk(dir, MAX_SNAPSHOT_ENTRIES, 32, [&](const dir_walk_entry & e) {
        if (!S_ISREG(e.st.st_mode))
            return;
        s[e.path] = { (uint64_t)e.st.st_size, (int64_t)e.st.st_mtim.tv_sec * 1000000000 + e.st.st_mtim.tv_nsec };
    });
    return s;
}

// The figures the prelude saved, in the order shown; read without following links and only
// from regular files (the sandbox can write the directory: a link to a host file, a FIFO).
std::vector<tool_image> figures_collect(const std::filesystem::path & dir, int max_images, uint64_t max_bytes,
                                        std::string & note) {
    std::vector<std::pair<long, std::string>> names;
    dir_walk(dir, 1000, 1, [&](const dir_walk_entry & e) {
        long         n    = 0;
        const char * name = e.name;
        if (std::sscanf(name, "figure-%ld.png", &n) == 1 && S_ISREG(e.st.st_mode) &&
            std::string(name) == "figure-" + std::to_string(n) + ".png") {
            names.emplace_back(n, name);
        }
    });
    std::sort(names.begin(), names.end());
    std::vector<tool_image> images;
    for (const auto & [n, name] : names) {
        if ((int)images.size() >= max_images) {
            note +=
                "[more figures than the " + std::to_string(max_images) + " a call returns: the rest were dropped]\n";
            break;
        }
        unique_fd   fd(::open((dir / name).c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
        struct stat st;
        if (!fd.valid() || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if ((uint64_t)st.st_size > max_bytes) {
            note += "[" + name + " is larger than " + std::to_string(max_bytes >> 20) + " MiB: not returned]\n";
            continue;
        }
        std::string bytes((size_t)st.st_size, '\0');
        size_t      got = 0;
        while (got < bytes.size()) {
            const ssize_t k = ::read(fd.get(), bytes.data() + got, bytes.size() - got);
            if (k <= 0)
                break;
            got += (size_t)k;
        }
        bytes.resize(got);
        if (bytes.compare(0, 8, PNG_SIGNATURE, 8) != 0)
            continue;
        images.push_back({ name, "image/png", std::move(bytes) });
    }
    return images;
}

// Invalid UTF-8 (binary output, a cut character) becomes U+FFFD: the text goes into JSON.
std::string utf8_clean(const std::string & s) {
    std::string out;
    out.reserve(s.size());
    size_t i = 0;
    while (i < s.size()) {
        const unsigned char c   = (unsigned char)s[i];
        size_t              len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        bool                ok  = len > 0 && i + len <= s.size();
        for (size_t k = 1; ok && k < len; ++k)
            ok = ((unsigned char)s[i + k] & 0xC0) == 0x80;
        if (ok && len > 1) {
            uint32_t cp = c & (0x7F >> len);
            for (size_t k = 1; k < len; ++k)
                cp = (cp << 6) | ((unsigned char)s[i + k] & 0x3F);
            const uint32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
            ok                 = cp >= min && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
        }
        if (ok) {
            out.append(s, i, len);
            i += len;
        } else {
            out += "\xEF\xBF\xBD";
            ++i;
        }
    }
    return out;
}

// stdout then stderr within `max` bytes: the start of stdout and the end of stderr (where a
// traceback's last lines are) when both do not fit.
std::string output_compose(const std::string & out, const std::string & err, size_t max, bool & cut) {
    std::string sep = (!out.empty() && !err.empty() && out.back() != '\n') ? "\n" : "";
    if (out.size() + err.size() <= max)
        return out + sep + err;
    cut                   = true;
    size_t       err_keep = std::min(err.size(), max / 2);
    const size_t out_keep = std::min(out.size(), max - err_keep);
    err_keep              = std::min(err.size(), max - out_keep);
    std::string text      = out.substr(0, out_keep);
    if (out_keep < out.size())
        text += "\n[...]";
    if (err_keep > 0) {
        if (!text.empty() && text.back() != '\n')
            text += "\n";
        if (err_keep < err.size())
            text += "[...]\n";
        text += err.substr(err.size() - err_keep);
    }
    return text;
}

std::string seconds_text(double s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", std::round(s * 10) / 10);
    return buf;
}

std::string bytes_text(uint64_t b) {
    if (b >= (1ull << 30) && b % (1ull << 30) == 0)
        return std::to_string(b >> 30) + " GiB";
    return std::to_string(b >> 20) + " MiB";
}

}  // namespace

python_tool::python_tool(python_tool_options options) : options_(std::move(options)) {}

chat_tool python_tool::definition() const {
    chat_tool t;
    t.name = "python";
    t.description =
        "Runs Python 3 code in a sandbox and returns what it prints. Each call starts a fresh python3 process: "
        "variables and imports do not carry over, but files in /mnt/data (the working directory) persist for the "
        "whole conversation, so save results there to use them in a later call. The user's uploaded files are in "
        "/mnt/data. Available packages: numpy, pandas, matplotlib, scipy, scikit-learn, Pillow, OpenCV (cv2) and "
        "the standard library; nothing can be installed and there is no network. print() output (stdout, then "
        "stderr with any traceback) is returned, capped at " +
        std::to_string(options_.max_text_bytes >> 10) +
        " KiB. Figures shown with plt.show() (and figures still open at the end) come back as images. Limits: " +
        seconds_text(options_.limits.wall_secs) + " s per call, " + bytes_text(options_.limits.memory_bytes) +
        " of memory.";
    t.parameters =
        nlohmann::json {
            { "type", "object" },
            { "properties",
              { { "code",
                  { { "type", "string" },
                    { "description",
                      "The complete Python program to run; print() what you want to see. Working directory: "
                      "/mnt/data." } } } } },
            { "required", { "code" } },
        }
            .dump();
    return t;
}

tool_result python_tool::call(const nlohmann::json & arguments, const tool_context & ctx) {
    if (!arguments.is_object()) {
        return tool_error_result("python: the arguments must be a JSON object such as {\"code\": \"print(1 + 1)\"}");
    }
    const auto it = arguments.find("code");
    if (it == arguments.end())
        return tool_error_result("python: missing \"code\": the Python source to run");
    if (!it->is_string())
        return tool_error_result("python: \"code\" must be a string holding the Python source");
    const std::string code = it->get<std::string>();

    double wall = options_.limits.wall_secs;
    if (ctx.deadline != std::chrono::steady_clock::time_point::max()) {
        wall = std::min(wall, std::chrono::duration<double>(ctx.deadline - std::chrono::steady_clock::now()).count());
    }
    if (wall <= 0)
        return tool_error_result("python: the step's time ran out before the code could run");

    const std::filesystem::path scratch =
        options_.scratch_dir.empty() ? std::filesystem::temp_directory_path() : options_.scratch_dir;
    temp_dir                call_dir(scratch, "muse-python-");
    std::optional<temp_dir> one_off;  // no conversation: a work dir for this call only
    std::filesystem::path   work = ctx.work_dir;
    if (work.empty()) {
        one_off.emplace(scratch, "muse-python-work-");
        work = one_off->path();
    }
    std::filesystem::create_directories(work);

    const std::filesystem::path run = call_dir.path() / "run", out = call_dir.path() / "out";
    std::filesystem::create_directory(run);
    std::filesystem::create_directory(out);
    // Read-only for the sandbox, which runs as another uid when the host is root.
    std::filesystem::permissions(run, std::filesystem::perms(0755));
    file_write(run / "muse_run.py", PYTHON_RUNNER);
    file_write(run / "muse_capture.py", PYTHON_FIGURE_CAPTURE);
    file_write(run / "muse_backend.py", PYTHON_BACKEND);
    file_write(run / "code.py", code);

    const snapshot before = snapshot_take(work);

    sandbox_spec spec;
    spec.argv   = { options_.python, "-B", "/run/muse/muse_run.py" };
    spec.mounts = { { work, "/mnt/data", true }, { run, "/run/muse", false }, { out, "/run/muse-out", true } };
    spec.cwd    = "/mnt/data";
    spec.env    = {
           { "PATH", "/usr/local/bin:/usr/bin:/bin" },
           { "HOME", "/tmp" },
           { "TMPDIR", "/tmp" },
           { "USER", "sandbox" },
           { "LOGNAME", "sandbox" },
           { "LANG", "C.UTF-8" },
           { "PYTHONIOENCODING", "utf-8" },
           { "PYTHONDONTWRITEBYTECODE", "1" },
           { "MPLBACKEND", "module://muse_backend" },
           { "MPLCONFIGDIR", "/tmp" },
           { "MUSE_MAX_FIGURES", std::to_string(options_.max_images) },
           // One thread each: the process limit counts threads, and the host's cores are shared.
           { "OPENBLAS_NUM_THREADS", "1" },
           { "OMP_NUM_THREADS", "1" },
           { "MKL_NUM_THREADS", "1" },
           { "NUMEXPR_NUM_THREADS", "1" },
    };
    spec.limits           = options_.limits;
    spec.limits.wall_secs = wall;

    const sandbox_outcome r = sandbox_run(spec, ctx.cancel);

    tool_result    result;
    const snapshot after = snapshot_take(work);
    for (const auto & [path, stamp] : after) {
        auto was = before.find(path);
        if (was != before.end() && was->second == stamp)
            continue;
        if (result.files.size() >= options_.max_files)
            break;
        result.files.push_back({ path, stamp.bytes });
    }
    std::string notes;
    result.images = figures_collect(out, options_.max_images, options_.max_image_bytes, notes);

    bool        cut  = false;
    std::string text = output_compose(r.out, r.err, options_.max_text_bytes, cut);
    if (!text.empty() && text.back() != '\n')
        text += "\n";
    if (cut || r.truncated)
        text += "[output truncated: " + std::to_string(r.output_bytes) + " bytes in all]\n";
    text += notes;
    if (r.timed_out) {
        text += "[timed out after " + seconds_text(wall) + " s: the sandbox was killed]\n";
    } else if (r.cancelled) {
        text += "[cancelled: the sandbox was killed]\n";
    } else if (r.signal == SIGXCPU) {
        text += "[killed: the CPU time limit of " + std::to_string(options_.limits.cpu_secs) + " s was reached]\n";
    } else if (r.signal == SIGXFSZ) {
        text += "[killed: a file grew past the limit of " + bytes_text(options_.limits.max_file_bytes) + "]\n";
    } else if (r.signal != 0) {
        text += "[killed by signal " + std::to_string(r.signal) + "]\n";
    } else if (r.exit_code != 0) {
        text += "[exit code " + std::to_string(r.exit_code) + "]\n";
    }
    if (r.err.find("MemoryError") != std::string::npos) {
        text += "[the memory limit of " + bytes_text(options_.limits.memory_bytes) + " was reached]\n";
    }
    if (r.err.find("[Errno 27] File too large") != std::string::npos) {
        text += "[a file reached the size limit of " + bytes_text(options_.limits.max_file_bytes) + "]\n";
    }
    if (!result.images.empty()) {
        text += "[" + std::to_string(result.images.size()) + " figure(s) shown to the user:";
        for (const auto & im : result.images)
            text += " " + im.name;
        text += "]\n";
    }
    if (!result.files.empty()) {
        text += "[files created or changed in /mnt/data:";
        for (size_t i = 0; i < result.files.size() && i < MAX_FILES_NAMED; ++i)
            text += " " + result.files[i].path;
        if (result.files.size() > MAX_FILES_NAMED)
            text += " ...";
        text += "]\n";
    }
    if (text.empty())
        text = "[no output]\n";
    result.text     = utf8_clean(text);
    result.is_error = r.timed_out || r.cancelled || r.signal != 0 || r.exit_code != 0;
    result.detail   = {
          { "exit_code", r.exit_code },       { "timed_out", r.timed_out },
          { "cancelled", r.cancelled },       { "duration_ms", (int64_t)std::llround(r.wall_secs * 1000) },
          { "output_bytes", r.output_bytes }, { "truncated", cut || r.truncated },
    };
    return result;
}

}  // namespace muse::agent
