// The web tools (src/agent/web, src/agent/tools/web) against real HTTP servers on 127.0.0.1:
// pages, text, PDF and SearXNG JSON come out right; the SSRF guard refuses inside addresses in
// every spelling and on every redirect hop; limits on time, size, type and redirects hold.
#include "agent/tools/web.h"

#include <gtest/gtest.h>

#include <chrono>

#include "agent/web-fixtures.h"
#include "agent/web/url-guard.h"

using namespace muse::agent;
using muse::test::web_server;
using json = nlohmann::json;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

struct web_kit {
    std::vector<tool_ptr> tools;
    tool_ptr              open, find, search;

    explicit web_kit(const web_options & o) : tools(web_tools(o)) {
        for (auto & t : tools) {
            const std::string n = t->definition().name;
            if (n == "open_url")
                open = t;
            if (n == "find_in_page")
                find = t;
            if (n == "web_search")
                search = t;
        }
    }
};

tool_context conversation(const std::string & id) {
    tool_context c;
    c.conversation_id = id;
    return c;
}

web_kit kit_for(web_server & s, fetch_limits limits = {}) {
    web_options o;
    o.allow_hosts = { s.host_port() };
    o.limits      = limits;
    return web_kit(o);
}

const char PAGE[] = R"H(<html><head><title>Fixture Page</title><script>var hidden = 1;</script></head><body>
<h1>Welcome</h1><p>Some <b>intro</b> text about otters.</p>
<p>Read <a href="/plain">the plain file</a> or <a href="https://example.org/far">a far page</a>.</p>
<ul><li>Otters eat fish</li><li>Otters hold hands</li></ul></body></html>)H";

void fixture_routes(web_server & s) {
    auto & h = s.http();
    h.Get("/page", [&s](const httplib::Request &, httplib::Response & res) {
        s.hits++;
        res.set_content(PAGE, "text/html; charset=utf-8");
    });
    h.Get("/plain", [](const httplib::Request &, httplib::Response & res) {
        std::string body;
        for (int i = 1; i <= 450; i++)
            body += "plain line " + std::to_string(i) + (i == 321 ? " NEEDLE here" : "") + "\n";
        res.set_content(body, "text/plain");
    });
    h.Get("/doc.pdf", [](const httplib::Request &, httplib::Response & res) {
        res.set_content(muse::test::pdf_make({ "Hello PDF world", "The second page" }, "Fixture PDF"),
                        "application/pdf");
    });
    h.Get("/image",
          [](const httplib::Request &, httplib::Response & res) { res.set_content("\x89PNG....", "image/png"); });
    h.Get("/empty-image", [](const httplib::Request &, httplib::Response & res) { res.set_content("", "image/png"); });
    h.Get("/zip", [](const httplib::Request &, httplib::Response & res) {
        res.set_content(std::string("PK\x03\x04\0\0", 6), "application/octet-stream");
    });
    h.Get("/missing", [](const httplib::Request &, httplib::Response & res) {
        res.status = 404;
        res.set_content("nope", "text/plain");
    });
    h.Get("/broken", [](const httplib::Request &, httplib::Response & res) {
        res.status = 500;
        res.set_content("boom", "text/html");
    });
    h.Get("/bad.pdf", [](const httplib::Request &, httplib::Response & res) {
        res.set_content("%PDF-1.4 this is not really a pdf", "application/pdf");
    });
    h.Get("/latin1", [](const httplib::Request &, httplib::Response & res) {
        res.set_content("caf\xE9 cr\xE8me", "text/plain; charset=ISO-8859-1");
    });
    h.Get(R"(/hop/(\d+))", [&s](const httplib::Request & req, httplib::Response & res) {
        const int n = std::stoi(req.matches[1]);
        if (n == 0) {
            res.set_content("<title>Chain end</title><p>arrived</p>", "text/html");
            return;
        }
        res.set_redirect(s.base() + "/hop/" + std::to_string(n - 1));
    });
    h.Get("/relative-redirect", [](const httplib::Request &, httplib::Response & res) {
        res.status = 302;
        res.set_header("Location", "/page");
    });
}

}  // namespace

TEST(url_guard, inside_addresses_are_named) {
    const char * blocked[] = { "127.0.0.1",
                               "127.8.9.10",
                               "10.1.2.3",
                               "172.16.0.1",
                               "172.31.255.255",
                               "192.168.1.1",
                               "100.64.0.1",
                               "169.254.169.254",
                               "0.0.0.0",
                               "0.1.2.3",
                               "224.0.0.1",
                               "239.1.1.1",
                               "255.255.255.255",
                               "240.0.0.1",
                               "198.18.0.1",
                               "::1",
                               "::",
                               "fe80::1",
                               "fc00::1",
                               "fd12:3456::1",
                               "ff02::1",
                               "::ffff:127.0.0.1",
                               "::ffff:10.0.0.1",
                               "::ffff:169.254.169.254",
                               "::127.0.0.1",
                               "64:ff9b::a00:1",
                               "2002:7f00:1::",
                               "2001:db8::1",
                               "fec0::1" };
    for (const char * a : blocked)
        EXPECT_TRUE(ip_blocked_why(a).has_value()) << a;
    const char * open[] = { "8.8.8.8",        "93.184.216.34",  "172.32.0.1",       "100.128.0.1", "2606:4700::1111",
                            "::ffff:8.8.8.8", "2002:808:808::", "64:ff9b::808:808", "1.1.1.1" };
    for (const char * a : open)
        EXPECT_FALSE(ip_blocked_why(a).has_value()) << a << ": " << *ip_blocked_why(a);
    EXPECT_NE(ip_blocked_why("169.254.169.254")->find("link-local"), std::string::npos);
    EXPECT_NE(ip_blocked_why("::ffff:10.0.0.1")->find("IPv4-mapped"), std::string::npos);
}

TEST(url_guard, loopback_in_every_spelling_is_refused) {
    web_server        s;
    const url_guard   guard;  // nothing allowed
    const std::string p       = std::to_string(s.port());
    const std::string forms[] = { "http://127.0.0.1:" + p + "/",
                                  "http://localhost:" + p + "/",
                                  "http://LOCALHOST./",
                                  "http://[::1]:" + p + "/",
                                  "http://2130706433/",
                                  "http://0x7f.1/",
                                  "http://0177.0.0.1/",
                                  "http://127.1/",
                                  "http://[::ffff:127.0.0.1]/",
                                  "http://[::ffff:7f00:1]/",
                                  "https://169.254.169.254/latest/meta-data/",
                                  "http://10.0.0.1/",
                                  "http://0.0.0.0:" + p + "/",
                                  "http://[fe80::1]/",
                                  "http://[fd00::1]/",
                                  "http://224.0.0.1/",
                                  "http://255.255.255.255/" };
    for (const auto & u : forms) {
        try {
            (void)guard.check(u);
            ADD_FAILURE() << u << " was let through";
        } catch (const web_error & e) {
            EXPECT_EQ(e.kind(), WEB_ERROR_REFUSED) << u << ": " << e.what();
            EXPECT_NE(std::string(e.what()).find("refused"), std::string::npos) << e.what();
        }
    }
    // The fetch refuses before connecting: the server never sees a request.
    fixture_routes(s);
    web_fetcher f(guard);
    EXPECT_THROW(f.get(s.base() + "/page"), web_error);
    EXPECT_EQ(s.hits.load(), 0);
}

TEST(url_guard, other_forms_are_bad_urls) {
    const url_guard guard;
    const char *    forms[] = { "file:///etc/passwd",
                                "gopher://127.0.0.1:70/_x",
                                "ftp://example.com/f",
                                "http://user:pw@8.8.8.8/",
                                "http://user@8.8.8.8/",
                                "example.com/page",
                                "http://",
                                "http://8.8.8.8:0/",
                                "http://8.8.8.8:99999/",
                                "",
                                "http://exa mple.com/",
                                "dict://8.8.8.8:11211/",
                                "javascript:alert(1)",
                                "http://[fe80::1%25eth0]/" };
    for (const char * u : forms) {
        try {
            (void)guard.check(u);
            ADD_FAILURE() << u << " was let through";
        } catch (const web_error & e) {
            EXPECT_EQ(e.kind(), WEB_ERROR_BAD_URL) << u << ": " << e.what();
        }
    }
    // Public literals pass without DNS and come back as the address to pin.
    EXPECT_EQ(guard.check("http://8.8.8.8/x#frag").address, "8.8.8.8");
    EXPECT_EQ(guard.check("http://8.8.8.8/x#frag").parts.url, "http://8.8.8.8/x");
    EXPECT_EQ(guard.check("https://[2606:4700::1111]/").address, "2606:4700::1111");
    EXPECT_EQ(guard.check("https://[2606:4700::1111]/").parts.port, 443);
    try {
        (void)guard.check("http://no-such-host.invalid/");
        ADD_FAILURE() << "a name that does not resolve was let through";
    } catch (const web_error & e) {
        EXPECT_EQ(e.kind(), WEB_ERROR_DNS) << e.what();
    }
}

TEST(url_guard, allow_list_opens_one_host_and_port) {
    url_guard g({ "127.0.0.1:8080", "localhost", "[::1]:9000" });
    EXPECT_TRUE(g.allows("127.0.0.1", 8080));
    EXPECT_FALSE(g.allows("127.0.0.1", 8081));
    EXPECT_TRUE(g.allows("LocalHost", 1234));
    EXPECT_TRUE(g.allows("::1", 9000));
    EXPECT_FALSE(g.allows("::1", 9001));
    EXPECT_EQ(g.check("http://127.0.0.1:8080/").address, "127.0.0.1");
    EXPECT_TRUE(g.check("http://127.0.0.1:8080/").allowed);
    EXPECT_THROW(g.check("http://127.0.0.1:8081/"), web_error);
    EXPECT_THROW(g.check("http://127.0.0.2:8080/"), web_error);  // the host as written, not what it resolves to
    for (const char * bad : { "", "host:", "host:0", "host:70000", "[::1", "[::1]x", ":80" }) {
        EXPECT_THROW(url_guard({ bad }), std::invalid_argument) << bad;
    }
}

TEST(web_tools, search_only_with_a_provider) {
    EXPECT_EQ(web_tools(web_options {}).size(), 2u);
    web_options o;
    o.search_url = "http://127.0.0.1:1/";
    EXPECT_EQ(web_tools(o).size(), 3u);
    o.search_url = "ftp://x/";
    EXPECT_THROW(web_tools(o), std::invalid_argument);
    for (const auto & t : web_tools(o = web_options {}))
        EXPECT_TRUE(json::accept(t->definition().parameters));
}

TEST(web_tools, open_url_reads_an_html_page) {
    web_server s;
    fixture_routes(s);
    web_kit     k = kit_for(s);
    tool_result r = k.open->call({ { "url", s.base() + "/page" } }, conversation("c1"));
    ASSERT_FALSE(r.is_error) << r.text;
    EXPECT_NE(r.text.find("Title: Fixture Page"), std::string::npos) << r.text;
    EXPECT_NE(r.text.find("URL: " + s.base() + "/page"), std::string::npos) << r.text;
    EXPECT_NE(r.text.find("L1: # Welcome\n"), std::string::npos) << r.text;
    EXPECT_NE(r.text.find("L2: Some intro text about otters.\n"), std::string::npos) << r.text;
    EXPECT_NE(r.text.find("L3: Read 【1†the plain file】 or 【2†a far page】.\n"), std::string::npos) << r.text;
    EXPECT_NE(r.text.find("L4: - Otters eat fish\n"), std::string::npos) << r.text;
    EXPECT_NE(r.text.find("[1] the plain file -> " + s.base() + "/plain\n"), std::string::npos) << r.text;
    EXPECT_NE(r.text.find("[2] a far page -> https://example.org/far\n"), std::string::npos) << r.text;
    EXPECT_EQ(r.text.find("hidden = 1"), std::string::npos);
    EXPECT_EQ(r.detail["title"], "Fixture Page");
    EXPECT_EQ(r.detail["content_type"], "text/html");
    EXPECT_EQ(r.detail["total_lines"], 5);
    EXPECT_EQ(r.detail["bytes"], std::string(PAGE).size());

    // A link number opens that link of the last page.
    tool_result l = k.open->call({ { "url", "1" } }, conversation("c1"));
    ASSERT_FALSE(l.is_error) << l.text;
    EXPECT_EQ(l.detail["url"], s.base() + "/plain");
    EXPECT_TRUE(k.open->call({ { "url", "9" } }, conversation("c1")).is_error);
    EXPECT_TRUE(k.open->call({ { "url", "1" } }, conversation("fresh")).is_error);
}

TEST(web_tools, open_url_windows_plain_text_and_find_in_page_refers_to_lines) {
    web_server s;
    fixture_routes(s);
    web_kit k = kit_for(s);
    EXPECT_TRUE(k.find->call({ { "pattern", "x" } }, conversation("c2")).is_error);  // nothing open yet

    tool_result r = k.open->call({ { "url", s.base() + "/plain" } }, conversation("c2"));
    ASSERT_FALSE(r.is_error) << r.text;
    EXPECT_NE(r.text.find("L1: plain line 1\n"), std::string::npos);
    EXPECT_NE(r.text.find("L200: plain line 200\n"), std::string::npos);
    EXPECT_EQ(r.text.find("L201:"), std::string::npos);
    EXPECT_NE(r.text.find("start_line 201"), std::string::npos) << r.text;
    EXPECT_EQ(r.detail["total_lines"], 450);

    tool_result f = k.find->call({ { "pattern", "needle" } }, conversation("c2"));
    ASSERT_FALSE(f.is_error) << f.text;
    EXPECT_NE(f.text.find("L321: plain line 321 NEEDLE here"), std::string::npos) << f.text;
    EXPECT_EQ(f.detail["lines"], json::array({ 321 }));

    tool_result more = k.open->call({ { "url", s.base() + "/plain" }, { "start_line", 321 } }, conversation("c2"));
    ASSERT_FALSE(more.is_error) << more.text;
    EXPECT_NE(more.text.find("L321: plain line 321 NEEDLE here\n"), std::string::npos);
    EXPECT_NE(more.text.find("L450: plain line 450\n"), std::string::npos);
    EXPECT_TRUE(k.open->call({ { "url", s.base() + "/plain" }, { "start_line", 999 } }, conversation("c2")).is_error);

    tool_result many = k.find->call({ { "pattern", "LINE 1" } }, conversation("c2"));
    EXPECT_EQ(many.detail["matches"], 1 + 10 + 100);  // lines 1, 10-19 and 100-199
    EXPECT_NE(many.text.find("first 30 shown"), std::string::npos) << many.text;
    EXPECT_FALSE(k.find->call({ { "pattern", "zebra" } }, conversation("c2")).is_error);
    // Another conversation has its own last page.
    EXPECT_TRUE(k.find->call({ { "pattern", "needle" } }, conversation("c3")).is_error);

    tool_result latin = k.open->call({ { "url", s.base() + "/latin1" } }, conversation("c4"));
    EXPECT_NE(latin.text.find("L1: caf\xC3\xA9 cr\xC3\xA8me"), std::string::npos) << latin.text;
}

TEST(web_tools, open_url_reads_a_pdf) {
    web_server s;
    fixture_routes(s);
    web_kit     k = kit_for(s);
    tool_result r = k.open->call({ { "url", s.base() + "/doc.pdf" } }, conversation("p"));
    ASSERT_FALSE(r.is_error) << r.text;
    EXPECT_NE(r.text.find("Title: Fixture PDF"), std::string::npos) << r.text;
    EXPECT_NE(r.text.find("L1: --- page 1 of 2 ---"), std::string::npos) << r.text;
    EXPECT_NE(r.text.find("Hello PDF world"), std::string::npos) << r.text;
    EXPECT_NE(r.text.find("--- page 2 of 2 ---"), std::string::npos) << r.text;
    EXPECT_EQ(r.detail["content_type"], "application/pdf");
    tool_result f = k.find->call({ { "pattern", "second PAGE" } }, conversation("p"));
    EXPECT_EQ(f.detail["matches"], 1) << f.text;

    tool_result bad = k.open->call({ { "url", s.base() + "/bad.pdf" } }, conversation("p"));
    EXPECT_TRUE(bad.is_error);
    EXPECT_NE(bad.text.find("not a readable PDF"), std::string::npos) << bad.text;
    EXPECT_EQ(bad.detail["error"], "bad_response");
}

TEST(web_tools, failures_are_results_naming_url_and_reason) {
    web_server s;
    fixture_routes(s);
    web_kit k = kit_for(s);
    struct want {
        std::string path, kind, says;
    };
    for (const want & w :
         { want { "/image", "content_type", "image/png" }, want { "/empty-image", "content_type", "image/png" },
           want { "/zip", "content_type", "application/octet-stream" }, want { "/missing", "http", "HTTP 404" },
           want { "/broken", "http", "HTTP 500" } }) {
        tool_result r = k.open->call({ { "url", s.base() + w.path } }, conversation("e"));
        EXPECT_TRUE(r.is_error) << w.path;
        EXPECT_EQ(r.detail["error"], w.kind) << r.text;
        EXPECT_NE(r.text.find(s.base() + w.path), std::string::npos) << r.text;
        EXPECT_NE(r.text.find(w.says), std::string::npos) << r.text;
    }
    for (const char * u : { "file:///etc/passwd", "http://user:pw@example.com/", "http://127.0.0.1:1/" }) {
        tool_result r = k.open->call({ { "url", u } }, conversation("e"));
        EXPECT_TRUE(r.is_error) << u;
        EXPECT_NE(r.text.find(u == std::string("http://127.0.0.1:1/") ? "refused" : "not allowed"), std::string::npos)
            << r.text;
    }
    EXPECT_TRUE(k.open->call(json::object(), conversation("e")).is_error);
    EXPECT_TRUE(k.open->call({ { "url", 5 } }, conversation("e")).is_error);
    EXPECT_TRUE(k.find->call({ { "pattern", "" } }, conversation("e")).is_error);
}

TEST(web_fetch, redirects_are_checked_hop_by_hop) {
    web_server s, inside;
    fixture_routes(s);
    inside.http().Get("/secret", [&inside](const httplib::Request &, httplib::Response & res) {
        inside.hits++;
        res.set_content("secret", "text/plain");
    });
    s.http().Get("/to-inside", [&inside](const httplib::Request &, httplib::Response & res) {
        res.set_redirect(inside.base() + "/secret");
    });
    s.http().Get("/to-metadata", [](const httplib::Request &, httplib::Response & res) {
        res.set_redirect("http://169.254.169.254/latest/meta-data/");
    });
    s.http().Get("/to-file",
                 [](const httplib::Request &, httplib::Response & res) { res.set_redirect("file:///etc/passwd"); });
    web_fetcher f(url_guard({ s.host_port() }));

    for (const char * path : { "/to-inside", "/to-metadata" }) {
        try {
            (void)f.get(s.base() + path);
            ADD_FAILURE() << path << " was followed";
        } catch (const web_error & e) {
            EXPECT_EQ(e.kind(), WEB_ERROR_REFUSED) << e.what();
        }
    }
    EXPECT_EQ(inside.hits.load(), 0);
    try {
        (void)f.get(s.base() + "/to-file");
        ADD_FAILURE();
    } catch (const web_error & e) {
        EXPECT_EQ(e.kind(), WEB_ERROR_BAD_URL) << e.what();
    }

    fetch_response five = f.get(s.base() + "/hop/5");  // 5 redirects: allowed
    EXPECT_EQ(five.url, s.base() + "/hop/0");
    EXPECT_EQ(five.chain.size(), 6u);
    try {
        (void)f.get(s.base() + "/hop/6");
        ADD_FAILURE() << "6 redirects were followed";
    } catch (const web_error & e) {
        EXPECT_EQ(e.kind(), WEB_ERROR_REDIRECTS) << e.what();
        EXPECT_NE(std::string(e.what()).find("more than 5 redirects"), std::string::npos) << e.what();
    }
    EXPECT_EQ(f.get(s.base() + "/relative-redirect").url, s.base() + "/page");

    std::atomic<bool> cancel { true };
    fetch_control     ctl;
    ctl.cancel = &cancel;
    try {
        (void)f.get(s.base() + "/page", ctl);
        ADD_FAILURE() << "a cancelled fetch ran";
    } catch (const web_error & e) {
        EXPECT_EQ(e.kind(), WEB_ERROR_CANCELLED) << e.what();
    }

    web_kit     k = kit_for(s);
    tool_result r = k.open->call({ { "url", s.base() + "/hop/2" } }, conversation("r"));
    ASSERT_FALSE(r.is_error) << r.text;
    EXPECT_NE(r.text.find("URL: " + s.base() + "/hop/0 (redirected from " + s.base() + "/hop/2)"), std::string::npos)
        << r.text;
}

TEST(web_fetch, slow_servers_meet_the_time_limit) {
    web_server s;
    s.http().Get("/slow-body", [&s](const httplib::Request &, httplib::Response & res) {
        res.set_chunked_content_provider("text/plain", [&s](size_t, httplib::DataSink & sink) {
            if (s.stopping)
                return false;
            sink.write("x\n", 2);
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            return true;
        });
    });
    s.http().Get("/slow-start", [&s](const httplib::Request &, httplib::Response & res) {
        for (int i = 0; i < 300 && !s.stopping; i++)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        res.set_content("late", "text/plain");
    });
    fetch_limits lim;
    lim.timeout_secs = 1;
    web_fetcher f(url_guard({ s.host_port() }), lim);
    for (const char * path : { "/slow-body", "/slow-start" }) {
        const auto t0 = std::chrono::steady_clock::now();
        try {
            (void)f.get(s.base() + path);
            ADD_FAILURE() << path << " finished";
        } catch (const web_error & e) {
            EXPECT_EQ(e.kind(), WEB_ERROR_TIMEOUT) << e.what();
            EXPECT_NE(std::string(e.what()).find("within 1 s"), std::string::npos) << e.what();
        }
        EXPECT_LT(seconds_since(t0), 3.0) << path;
    }
    // The tool call's own deadline counts too.
    web_fetcher   patient(url_guard({ s.host_port() }));
    fetch_control ctl;
    ctl.deadline  = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_THROW(patient.get(s.base() + "/slow-body", ctl), web_error);
    EXPECT_LT(seconds_since(t0), 2.0);
}

TEST(web_fetch, huge_bodies_stop_at_the_size_limit) {
    web_server          s;
    std::atomic<size_t> sent { 0 };
    s.http().Get("/endless", [&s, &sent](const httplib::Request &, httplib::Response & res) {
        res.set_chunked_content_provider("application/pdf", [&s, &sent](size_t, httplib::DataSink & sink) {
            if (s.stopping || sent > (256u << 20))
                return false;
            // a type httplib does not gzip (it compresses text when curl offers gzip): this times the
            // fetch, not the server's compressor
            static const std::string block = [] {
                std::string b(64 * 1024, '\0');
                for (size_t i = 0; i < b.size(); i++)
                    b[i] = (char)((i * 2654435761u) >> 13);
                return b;
            }();
            sink.write(block.data(), block.size());
            sent += block.size();
            return true;
        });
    });
    s.http().Get("/declared", [](const httplib::Request &, httplib::Response & res) {
        res.set_content_provider(100u << 20, "text/plain", [](size_t off, size_t len, httplib::DataSink & sink) {
            static const std::string block(64 * 1024, 'y');
            sink.write(block.data(), std::min(len, block.size()));
            (void)off;
            return true;
        });
    });
    fetch_limits lim;
    lim.max_bytes = 1u << 20;
    web_fetcher f(url_guard({ s.host_port() }), lim);
    for (const char * path : { "/endless", "/declared" }) {
        const auto t0 = std::chrono::steady_clock::now();
        try {
            (void)f.get(s.base() + path);
            ADD_FAILURE() << path;
        } catch (const web_error & e) {
            EXPECT_EQ(e.kind(), WEB_ERROR_TOO_LARGE) << e.what();
            EXPECT_NE(std::string(e.what()).find("1 MiB"), std::string::npos) << e.what();
        }
        EXPECT_LT(seconds_since(t0), 5.0);
    }
    EXPECT_LT(sent.load(), 64u << 20);  // the transfer stopped, not the whole stream read and dropped
}

TEST(web_search, searxng_json_through_the_guard) {
    web_server  s;
    std::string seen_query, seen_format;
    s.http().Get("/search", [&](const httplib::Request & req, httplib::Response & res) {
        seen_query   = req.get_param_value("q");
        seen_format  = req.get_param_value("format");
        json results = json::array();
        for (int i = 1; i <= 8; i++) {
            results.push_back({ { "title", "Result " + std::to_string(i) },
                                { "url", "https://site" + std::to_string(i) + ".example/page" },
                                { "content", "Snippet number " + std::to_string(i) },
                                { "engine", "duckduckgo" } });
        }
        results.push_back({ { "title", "no url" } });
        res.set_content(json { { "query", seen_query }, { "results", results } }.dump(), "application/json");
    });
    web_options o;
    o.search_url = s.base();  // allowed implicitly for the search, not for open_url
    web_kit k(o);
    ASSERT_TRUE(k.search);
    tool_result r = k.search->call({ { "query", "otters & seals ü" }, { "count", 3 } }, conversation("s"));
    ASSERT_FALSE(r.is_error) << r.text;
    EXPECT_EQ(seen_query, "otters & seals ü");
    EXPECT_EQ(seen_format, "json");
    EXPECT_NE(r.text.find("1. Result 1\n   https://site1.example/page\n   Snippet number 1\n"), std::string::npos)
        << r.text;
    EXPECT_NE(r.text.find("3. Result 3"), std::string::npos);
    EXPECT_EQ(r.text.find("4. Result 4"), std::string::npos);
    EXPECT_EQ(r.detail["results"].size(), 3u);
    EXPECT_EQ(k.search->call({ { "query", "x" } }, conversation("s")).detail["results"].size(), 5u);
    EXPECT_TRUE(k.search->call({ { "query", " " } }, conversation("s")).is_error);

    tool_result o2 = k.open->call({ { "url", s.base() + "/search?q=x&format=json" } }, conversation("s"));
    EXPECT_TRUE(o2.is_error);
    EXPECT_EQ(o2.detail["error"], "refused") << o2.text;

    web_server off;  // an instance without the JSON format answers 403
    off.http().Get("/search", [](const httplib::Request &, httplib::Response & res) {
        res.status = 403;
        res.set_content("Forbidden", "text/html");
    });
    off.http().Get("/other/search", [](const httplib::Request &, httplib::Response & res) {
        res.set_content("{\"no\":1}", "application/json");
    });
    o.search_url          = off.base() + "/";
    tool_result forbidden = web_kit(o).search->call({ { "query", "x" } }, conversation("s"));
    EXPECT_TRUE(forbidden.is_error);
    EXPECT_NE(forbidden.text.find("settings.yml"), std::string::npos) << forbidden.text;
    o.search_url         = off.base() + "/other";
    tool_result nonsense = web_kit(o).search->call({ { "query", "x" } }, conversation("s"));
    EXPECT_TRUE(nonsense.is_error);
    EXPECT_EQ(nonsense.detail["error"], "bad_response") << nonsense.text;
}

TEST(web_tools, pages_per_conversation_are_bounded) {
    web_server s;
    fixture_routes(s);
    web_options o;
    o.allow_hosts       = { s.host_port() };
    o.max_conversations = 2;
    web_kit k(o);
    for (const char * c : { "a", "b", "c" })
        ASSERT_FALSE(k.open->call({ { "url", s.base() + "/page" } }, conversation(c)).is_error);
    EXPECT_TRUE(k.find->call({ { "pattern", "otters" } }, conversation("a")).is_error);  // the oldest went
    EXPECT_FALSE(k.find->call({ { "pattern", "otters" } }, conversation("b")).is_error);
    EXPECT_FALSE(k.find->call({ { "pattern", "otters" } }, conversation("c")).is_error);
}

TEST(web_tools, hostile_bodies_give_text_a_json_wire_accepts) {
    web_server  s;
    std::string noise(200000, '\0');
    for (size_t i = 0; i < noise.size(); i++)
        noise[i] = (char)((i * 2654435761u) >> 13);
    std::string deep;
    for (int i = 0; i < 300000; i++)
        deep += "<div>";
    s.http().Get("/noise.html",
                 [&](const httplib::Request &, httplib::Response & res) { res.set_content(noise, "text/html"); });
    s.http().Get("/noise.txt",
                 [&](const httplib::Request &, httplib::Response & res) { res.set_content(noise, "text/plain"); });
    s.http().Get("/noise.pdf", [&](const httplib::Request &, httplib::Response & res) {
        res.set_content("%PDF-1.7\n" + noise, "application/pdf");
    });
    s.http().Get("/deep", [&](const httplib::Request &, httplib::Response & res) {
        res.set_content(deep + "end", "text/html");
    });
    s.http().Get("/untyped", [&](const httplib::Request &, httplib::Response & res) { res.set_content(noise, ""); });
    web_kit k = kit_for(s);
    for (const char * path : { "/noise.html", "/noise.txt", "/noise.pdf", "/deep", "/untyped" }) {
        const auto  t0 = std::chrono::steady_clock::now();
        tool_result r  = k.open->call({ { "url", s.base() + path } }, conversation("h"));
        EXPECT_LT(seconds_since(t0), 10.0) << path;
        EXPECT_NO_THROW((void)json({ { "text", r.text }, { "detail", r.detail } }).dump()) << path;
        tool_result f = k.find->call({ { "pattern", "a" } }, conversation("h"));
        EXPECT_NO_THROW((void)json({ { "text", f.text } }).dump()) << path;
    }
}
