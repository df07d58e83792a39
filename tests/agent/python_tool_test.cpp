// The python tool on the real bwrap and /usr/bin/python3: what the model gets back (text,
// images, files, errors) and what stays contained.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "agent/tools/python.h"

using namespace muse;
using namespace muse::agent;
using json = nlohmann::json;

namespace {

struct work_dirs {
    std::filesystem::path root;
    work_dirs() {
        std::string t = (std::filesystem::temp_directory_path() / "muse-python-test-XXXXXX").string();
        EXPECT_NE(::mkdtemp(t.data()), nullptr);
        root = t;
    }
    ~work_dirs() { std::filesystem::remove_all(root); }
    tool_context ctx(const std::string & name) const {
        tool_context c;
        c.conversation_id = name;
        c.work_dir        = root / name;  // not there yet: the tool makes it
        return c;
    }
};

tool_result run(python_tool & tool, const std::string & code, const tool_context & ctx) {
    return tool.call(json { { "code", code } }, ctx);
}

bool is_png(const std::string & bytes) {
    return bytes.size() > 8 && bytes.compare(0, 8, "\x89PNG\r\n\x1a\n", 8) == 0;
}

}  // namespace

TEST(python_tool, definition_tells_the_model_what_it_can_do) {
    python_tool     tool;
    const chat_tool d = tool.definition();
    EXPECT_EQ(d.name, "python");
    for (const char * word :
         { "/mnt/data", "numpy", "pandas", "matplotlib", "scikit-learn", "OpenCV", "network", "plt.show()", "fresh" }) {
        EXPECT_NE(d.description.find(word), std::string::npos) << word;
    }
    const json p = json::parse(d.parameters);
    EXPECT_EQ(p["type"], "object");
    EXPECT_EQ(p["properties"]["code"]["type"], "string");
    EXPECT_EQ(p["required"], json::array({ "code" }));
}

TEST(python_tool, bad_arguments_are_errors_not_exceptions) {
    python_tool  tool;
    work_dirs    dirs;
    tool_context ctx = dirs.ctx("bad");
    for (const json & args : { json::array({ 1 }), json("print(1)"), json::object(), json { { "code", 42 } },
                               json { { "source", "print(1)" } } }) {
        tool_result r;
        ASSERT_NO_THROW(r = tool.call(args, ctx)) << args.dump();
        EXPECT_TRUE(r.is_error) << args.dump();
        EXPECT_NE(r.text.find("code"), std::string::npos) << r.text;
    }
}

TEST(python_tool, runs_numpy_and_pandas) {
    python_tool       tool;
    work_dirs         dirs;
    const tool_result r = run(tool,
                              "import numpy as np, pandas as pd, scipy, sklearn, PIL, cv2\n"
                              "df = pd.DataFrame({'a': np.arange(5)})\nprint('sum', int(df['a'].sum()))\n",
                              dirs.ctx("np"));
    EXPECT_FALSE(r.is_error) << r.text;
    EXPECT_NE(r.text.find("sum 10"), std::string::npos) << r.text;
    EXPECT_EQ(r.detail["exit_code"], 0);
    EXPECT_EQ(r.detail["timed_out"], false);
    EXPECT_EQ(r.detail["truncated"], false);
    EXPECT_TRUE(r.detail.contains("duration_ms"));
    EXPECT_TRUE(r.detail.contains("output_bytes"));
}

TEST(python_tool, files_persist_in_their_work_dir_only) {
    python_tool tool;
    work_dirs   dirs;
    tool_result w = run(tool, "open('notes.txt', 'w').write('kept between calls')\n", dirs.ctx("one"));
    ASSERT_FALSE(w.is_error) << w.text;
    tool_result r = run(tool, "print(open('/mnt/data/notes.txt').read())\n", dirs.ctx("one"));
    EXPECT_FALSE(r.is_error) << r.text;
    EXPECT_NE(r.text.find("kept between calls"), std::string::npos) << r.text;
    tool_result other = run(tool, "print(open('/mnt/data/notes.txt').read())\n", dirs.ctx("two"));
    EXPECT_TRUE(other.is_error);
    EXPECT_NE(other.text.find("FileNotFoundError"), std::string::npos) << other.text;
    EXPECT_TRUE(std::filesystem::exists(dirs.root / "one" / "notes.txt"));
    EXPECT_FALSE(std::filesystem::exists(dirs.root / "two" / "notes.txt"));
}

TEST(python_tool, lists_the_files_a_call_created_or_changed) {
    python_tool  tool;
    work_dirs    dirs;
    tool_context ctx = dirs.ctx("files");
    tool_result  a =
        run(tool,
            "import os\nos.makedirs('out', exist_ok=True)\nopen('out/data.csv', 'w').write('a,b\\n1,2\\n')\n"
            "open('same.txt', 'w').write('x')\n",
            ctx);
    ASSERT_FALSE(a.is_error) << a.text;
    ASSERT_EQ(a.files.size(), 2u);
    EXPECT_EQ(a.files[0].path, "out/data.csv");
    EXPECT_EQ(a.files[0].bytes, 8u);
    EXPECT_EQ(a.files[1].path, "same.txt");
    EXPECT_NE(a.text.find("out/data.csv"), std::string::npos) << a.text;
    tool_result b = run(tool, "print(open('same.txt').read())\n", ctx);
    EXPECT_TRUE(b.files.empty());
    tool_result c = run(tool, "open('out/data.csv', 'a').write('3,4\\n')\n", ctx);
    ASSERT_EQ(c.files.size(), 1u);
    EXPECT_EQ(c.files[0].path, "out/data.csv");
    EXPECT_EQ(c.files[0].bytes, 12u);
}

TEST(python_tool, figures_come_back_as_png) {
    python_tool       tool;
    work_dirs         dirs;
    const tool_result r = run(tool,
                              "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.title('shown')\nplt.show()\n"
                              "plt.figure()\nplt.bar([1, 2], [3, 4])\n",  // left open: saved at the end
                              dirs.ctx("fig"));
    EXPECT_FALSE(r.is_error) << r.text;
    ASSERT_EQ(r.images.size(), 2u) << r.text;
    for (const auto & im : r.images) {
        EXPECT_EQ(im.mime, "image/png");
        EXPECT_TRUE(is_png(im.bytes)) << im.name;
        EXPECT_GT(im.bytes.size(), 1000u);
    }
    EXPECT_EQ(r.images[0].name, "figure-1.png");
    EXPECT_EQ(r.images[1].name, "figure-2.png");
    EXPECT_TRUE(r.files.empty());  // figures are not written into /mnt/data
}

TEST(python_tool, figure_dir_links_and_fifos_do_not_reach_the_host) {
    python_tool       tool;
    work_dirs         dirs;
    const std::string secret_path = (dirs.root / "secret.png").string();
    std::ofstream(secret_path) << "\x89PNG\r\n\x1a\nHOST SECRET";
    const tool_result r = run(tool,
                              "import os\nos.symlink('" + secret_path +
                                  "', '/run/muse-out/figure-1.png')\nos.mkfifo('/run/muse-out/figure-2.png')\n"
                                  "os.symlink('/etc/passwd', '/run/muse-out/figure-3.png')\n",
                              dirs.ctx("links"));
    EXPECT_FALSE(r.is_error) << r.text;
    EXPECT_TRUE(r.images.empty());
    EXPECT_EQ(r.text.find("HOST SECRET"), std::string::npos);
}

TEST(python_tool, tracebacks_and_exit_codes_are_errors) {
    python_tool tool;
    work_dirs   dirs;
    tool_result r = run(tool, "x = 1\nprint('before')\nx / 0\n", dirs.ctx("tb"));
    EXPECT_TRUE(r.is_error);
    EXPECT_NE(r.text.find("before"), std::string::npos) << r.text;
    EXPECT_NE(r.text.find("ZeroDivisionError"), std::string::npos) << r.text;
    EXPECT_NE(r.text.find("\"<code>\", line 3"), std::string::npos) << r.text;
    EXPECT_NE(r.text.find("[exit code 1]"), std::string::npos) << r.text;
    EXPECT_EQ(r.text.find("muse_run"), std::string::npos) << r.text;  // the runner's frame is hidden
    tool_result e = run(tool, "import sys\nsys.exit(3)\n", dirs.ctx("tb"));
    EXPECT_TRUE(e.is_error);
    EXPECT_EQ(e.detail["exit_code"], 3);
    tool_result s = run(tool, "def f(:\n", dirs.ctx("tb"));
    EXPECT_TRUE(s.is_error);
    EXPECT_NE(s.text.find("SyntaxError"), std::string::npos) << s.text;
}

TEST(python_tool, infinite_loop_times_out) {
    python_tool_options o;
    o.limits.wall_secs = 1;
    python_tool       tool(o);
    work_dirs         dirs;
    const tool_result r = run(tool, "while True:\n    pass\n", dirs.ctx("loop"));
    EXPECT_TRUE(r.is_error);
    EXPECT_NE(r.text.find("[timed out after 1 s: the sandbox was killed]"), std::string::npos) << r.text;
    EXPECT_EQ(r.detail["timed_out"], true);
    EXPECT_LT(r.detail["duration_ms"].get<int64_t>(), 2500);
}

TEST(python_tool, the_steps_deadline_bounds_the_call) {
    python_tool  tool;  // 30 s of its own
    work_dirs    dirs;
    tool_context ctx     = dirs.ctx("deadline");
    ctx.deadline         = std::chrono::steady_clock::now() + std::chrono::milliseconds(1000);
    const auto        t0 = std::chrono::steady_clock::now();
    const tool_result r  = run(tool, "import time\ntime.sleep(60)\n", ctx);
    EXPECT_TRUE(r.is_error);
    EXPECT_EQ(r.detail["timed_out"], true);
    EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 2.5);
}

TEST(python_tool, memory_hog_is_stopped) {
    python_tool       tool;
    work_dirs         dirs;
    const tool_result r =
        run(tool, "import numpy as np\nx = np.ones((8 << 30) // 8)\nprint('ALLOCATED')\n", dirs.ctx("mem"));
    EXPECT_TRUE(r.is_error);
    EXPECT_EQ(r.text.find("ALLOCATED"), std::string::npos) << r.text;
    EXPECT_NE(r.text.find("memory limit of 2 GiB"), std::string::npos) << r.text;
}

TEST(python_tool, huge_output_is_capped_for_the_model) {
    python_tool       tool;
    work_dirs         dirs;
    const tool_result r = run(tool,
                              "import sys\nline = 'y' * 1023 + '\\n'\nfor i in range(100 * 1024):\n"
                              "    sys.stdout.write(line)\nraise RuntimeError('the end')\n",
                              dirs.ctx("out"));
    EXPECT_TRUE(r.is_error);
    EXPECT_LT(r.text.size(), (16u << 10) + 1024);
    EXPECT_NE(r.text.find("[output truncated: "), std::string::npos) << r.text.substr(r.text.size() - 500);
    EXPECT_NE(r.text.find("RuntimeError: the end"), std::string::npos);  // the traceback survives the cut
    EXPECT_EQ(r.detail["truncated"], true);
    EXPECT_GT(r.detail["output_bytes"].get<uint64_t>(), 100u << 20);
}

TEST(python_tool, binary_output_becomes_valid_utf8) {
    python_tool       tool;
    work_dirs         dirs;
    const tool_result r = run(tool, "import sys\nsys.stdout.buffer.write(b'ok \\xff\\xfe \\xc3')\n", dirs.ctx("bin"));
    EXPECT_FALSE(r.is_error) << r.text;
    EXPECT_NO_THROW((void)json(r.text).dump());
    EXPECT_NE(r.text.find("ok "), std::string::npos);
}

TEST(python_tool, cancel_stops_a_long_call) {
    python_tool       tool;
    work_dirs         dirs;
    std::atomic<bool> cancel = false;
    tool_context      ctx    = dirs.ctx("cancel");
    ctx.cancel               = &cancel;
    std::thread       setter([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        cancel = true;
    });
    const auto        t0 = std::chrono::steady_clock::now();
    const tool_result r  = run(tool, "while True:\n    pass\n", ctx);
    const double      s  = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    setter.join();
    EXPECT_TRUE(r.is_error);
    EXPECT_NE(r.text.find("cancelled"), std::string::npos) << r.text;
    EXPECT_LT(s, 0.3 + 0.4);
}

TEST(python_tool, concurrent_calls_all_succeed) {
    python_tool              tool;
    work_dirs                dirs;
    std::vector<tool_result> results(4);
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
        threads.emplace_back([&, i] {
            results[i] = run(tool,
                             "import numpy as np\nopen('mine.txt', 'w').write('" + std::to_string(i) +
                                 "')\nprint('result', int(np.arange(" + std::to_string(i + 2) + ").sum()))\n",
                             dirs.ctx("c" + std::to_string(i)));
        });
    }
    for (auto & t : threads)
        t.join();
    for (int i = 0; i < 4; ++i) {
        EXPECT_FALSE(results[i].is_error) << results[i].text;
        EXPECT_NE(results[i].text.find("result " + std::to_string((i + 2) * (i + 1) / 2)), std::string::npos)
            << results[i].text;
        ASSERT_EQ(results[i].files.size(), 1u);
        EXPECT_EQ(results[i].files[0].path, "mine.txt");
    }
}

TEST(python_tool, works_without_a_conversation_work_dir) {
    python_tool       tool;
    const tool_result r =
        tool.call(json { { "code", "open('a.txt', 'w').write('x')\nprint('one-off')\n" } }, tool_context {});
    EXPECT_FALSE(r.is_error) << r.text;
    EXPECT_NE(r.text.find("one-off"), std::string::npos);
}

TEST(python_tool, host_files_the_conversation_put_there_are_usable) {
    // An upload the host wrote (as root, 0644) must be readable and replaceable by the sandbox.
    python_tool  tool;
    work_dirs    dirs;
    tool_context ctx = dirs.ctx("upload");
    std::filesystem::create_directories(ctx.work_dir);
    std::ofstream(ctx.work_dir / "upload.csv") << "a,b\n1,2\n";
    const tool_result r = run(tool,
                              "import pandas as pd\ndf = pd.read_csv('upload.csv')\nprint('rows', len(df))\n"
                              "df.to_csv('upload.csv', index=False)\n",
                              ctx);
    EXPECT_FALSE(r.is_error) << r.text;
    EXPECT_NE(r.text.find("rows 1"), std::string::npos) << r.text;
}
