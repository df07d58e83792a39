// HTML and PDF to text (src/extract/html-text, pdf-text): what a reader sees comes out, and
// hostile bytes (random, deeply nested, huge attributes, invalid UTF-8, broken PDFs) give
// text or a clear error quickly, never a crash.
#include <gtest/gtest.h>

#include <chrono>
#include <random>

#include "agent/web-fixtures.h"
#include "agent/web/web-page.h"
#include "extract/html-text.h"
#include "extract/pdf-text.h"

using namespace muse::extract;
using muse::agent::utf8_repair;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string random_bytes(size_t n, uint32_t seed, const std::string & alphabet = "") {
    std::mt19937 rng(seed);
    std::string  s(n, '\0');
    for (auto & c : s)
        c = alphabet.empty() ? (char)(rng() & 0xFF) : alphabet[rng() % alphabet.size()];
    return s;
}

}  // namespace

TEST(html_text, reader_view) {
    const std::string   html = R"H(<!doctype html><html><head><title>  The   Test Page </title>
        <style>body { color: red }</style><script>var secret = "script text";</script></head>
        <body><h1>Main  heading</h1><p>First   paragraph
        with <b>bold</b> words.</p><noscript>no script text</noscript><template><p>template text</p></template>
        <svg><text>svg text</text></svg><div hidden>hidden text</div><div style="display: none">styled away</div>
        <h2>Lists</h2><ul><li>apple</li><li>pear<ul><li>inner</li></ul></li></ul><ol><li>one</li><li>two</li></ol>
        <table><tr><th>name</th><th>qty</th></tr><tr><td>nuts</td><td>3</td></tr></table>
        <pre>a  b
  c</pre><p>line<br>break &amp; entity&nbsp;here</p></body></html>)H";
    const html_document d    = html_to_text(html, "http://example.com/dir/page.html");
    EXPECT_EQ(d.title, "The Test Page");
    EXPECT_NE(d.text.find("# Main heading\n"), std::string::npos) << d.text;
    EXPECT_NE(d.text.find("\nFirst paragraph with bold words.\n"), std::string::npos) << d.text;
    EXPECT_NE(d.text.find("## Lists\n- apple\n- pear\n  - inner\n1. one\n2. two\n"), std::string::npos) << d.text;
    EXPECT_NE(d.text.find("name | qty\nnuts | 3\n"), std::string::npos) << d.text;
    EXPECT_NE(d.text.find("a  b\n  c"), std::string::npos) << d.text;
    EXPECT_NE(d.text.find("line\nbreak & entity here"), std::string::npos) << d.text;
    for (const char * gone : { "script text", "color: red", "no script text", "template text", "svg text",
                               "hidden text", "styled away", "The Test Page" }) {
        EXPECT_EQ(d.text.find(gone), std::string::npos) << gone << " in:\n" << d.text;
    }
    EXPECT_FALSE(d.truncated);
}

TEST(html_text, links_numbered_and_resolved) {
    const std::string   html = R"H(<p>See <a href="/about">the about page</a>, <a href="../up.html?x=1#frag">up</a>,
        <a href="sub/b.html">sub</a>, <a href="https://other.org/x">other</a>, <a href="/about">about again</a>,
        <a href="#top">top</a>, <a href="javascript:alert(1)">js</a>, <a href="mailto:a@b.c">mail</a>,
        <a href="//cdn.example.net/lib">cdn</a> and <a href=" /spaced ">spaced</a>.</p>)H";
    const html_document d    = html_to_text(html, "http://example.com/dir/page.html");
    ASSERT_EQ(d.links.size(), 6u) << d.text;
    EXPECT_EQ(d.links[0].href, "http://example.com/about");
    EXPECT_EQ(d.links[0].text, "the about page");
    EXPECT_EQ(d.links[0].n, 1);
    EXPECT_EQ(d.links[1].href, "http://example.com/up.html?x=1");
    EXPECT_EQ(d.links[2].href, "http://example.com/dir/sub/b.html");
    EXPECT_EQ(d.links[3].href, "https://other.org/x");
    EXPECT_EQ(d.links[4].href, "http://cdn.example.net/lib");
    EXPECT_EQ(d.links[5].href, "http://example.com/spaced");
    EXPECT_NE(
        d.text.find("See 【1†the about page】, 【2†up】, 【3†sub】, 【4†other】, 【1†about again】, top, js, mail, "
                    "【5†cdn】 and 【6†spaced】."),
        std::string::npos)
        << d.text;
}

TEST(html_text, base_href_moves_relative_links) {
    const html_document d = html_to_text(
        R"H(<head><base href="https://mirror.org/docs/"></head><a href="guide.html">g</a>)H", "http://a.com/x");
    ASSERT_EQ(d.links.size(), 1u);
    EXPECT_EQ(d.links[0].href, "https://mirror.org/docs/guide.html");
}

TEST(html_text, url_resolve_rfc3986_examples) {
    const std::string                           base    = "http://a/b/c/d;p?q";
    const std::pair<const char *, const char *> cases[] = {
        { "g", "http://a/b/c/g" },     { "./g", "http://a/b/c/g" },    { "g/", "http://a/b/c/g/" },
        { "/g", "http://a/g" },        { "//g", "http://g" },          { "?y", "http://a/b/c/d;p?y" },
        { "g?y", "http://a/b/c/g?y" }, { "#s", "http://a/b/c/d;p?q" }, { "", "http://a/b/c/d;p?q" },
        { ".", "http://a/b/c/" },      { "..", "http://a/b/" },        { "../g", "http://a/b/g" },
        { "../..", "http://a/" },      { "../../../g", "http://a/g" }, { "/./g", "http://a/g" },
        { "g.", "http://a/b/c/g." },   { "g/../h", "http://a/b/c/h" }, { "HTTPS://B/x/../y", "https://B/y" },
    };
    for (const auto & [ref, want] : cases)
        EXPECT_EQ(url_resolve(base, ref), want) << ref;
    EXPECT_EQ(url_resolve("", "rel/x"), "rel/x");
    EXPECT_EQ(url_resolve("http://h", "x"), "http://h/x");
}

TEST(html_text, deep_nesting_is_quick) {
    // Gumbo alone takes about a minute on 100k nested <div>s (it scans the open elements per tag).
    for (const char * tag : { "div", "span", "b", "table", "a", "ul", "blockquote", "div/" }) {
        std::string html;
        for (int i = 0; i < 200000; i++)
            html += std::string("<") + tag + ">";
        html += "deep text";
        const auto          t0 = std::chrono::steady_clock::now();
        const html_document d  = html_to_text(html);
        EXPECT_LT(seconds_since(t0), 10.0) << tag;
        EXPECT_EQ(utf8_repair(d.text), d.text) << tag;
    }
    std::string mixed;
    for (int i = 0; i < 100000; i++)
        mixed += i % 3 ? "<div><section>" : "<p><object></div>";
    const auto t0 = std::chrono::steady_clock::now();
    (void)html_to_text(mixed);
    EXPECT_LT(seconds_since(t0), 10.0);
    // Within the bound nothing is dropped.
    std::string ok;
    for (int i = 0; i < 100; i++)
        ok += "<div>";
    const html_document d = html_to_text(ok + "inside");
    EXPECT_EQ(d.text, "inside");
    EXPECT_FALSE(d.truncated);
}

TEST(html_text, hostile_bytes_never_crash) {
    std::vector<std::string> inputs;
    for (uint32_t seed = 1; seed <= 20; seed++)
        inputs.push_back(random_bytes(64 * 1024, seed));
    for (uint32_t seed = 1; seed <= 20; seed++)
        inputs.push_back(random_bytes(64 * 1024, seed, "<>/=\"' abdivpa&#;x\n"));
    inputs.push_back("<a href=\"" + std::string(4u << 20, 'x') + "\">huge attribute</a>");
    inputs.push_back("<p title='" + std::string(1u << 20, '>') + "'>quoted</p>");
    inputs.push_back("<p>\xFF\xFE\xC0\x80 invalid \xED\xA0\x80 utf8 \xF4\x90\x80\x80</p>");
    inputs.push_back(std::string("<p>nul\0byte</p>", 15));
    inputs.push_back("<script>" + std::string(100000, '<') + "<div>");
    inputs.push_back("<!--" + std::string(100000, '-'));
    inputs.push_back("<a href=x>" + std::string(100000, '<') + "</a>");
    inputs.push_back("");
    for (const auto & in : inputs) {
        const auto          t0 = std::chrono::steady_clock::now();
        const html_document d  = html_to_text(in, "http://h/");
        EXPECT_LT(seconds_since(t0), 10.0);
        EXPECT_EQ(utf8_repair(d.title), d.title);
        for (const auto & l : d.links)
            EXPECT_EQ(utf8_repair(l.href), l.href);
    }
    html_limits small;
    small.max_text_bytes    = 1000;
    const html_document cut = html_to_text("<p>" + std::string(100000, 'w') + "</p>", "", small);
    EXPECT_TRUE(cut.truncated);
    EXPECT_LE(cut.text.size(), 1100u);
}

TEST(pdf_text, pages_and_title) {
    const pdf_document d = pdf_to_text(muse::test::pdf_make({ "Hello PDF world", "Second page here" }, "A Title"));
    EXPECT_EQ(d.page_count, 2);
    ASSERT_EQ(d.pages.size(), 2u);
    EXPECT_NE(d.pages[0].find("Hello PDF world"), std::string::npos) << d.pages[0];
    EXPECT_NE(d.pages[1].find("Second page here"), std::string::npos) << d.pages[1];
    EXPECT_EQ(d.title, "A Title");
    EXPECT_FALSE(d.truncated);

    pdf_limits one;
    one.max_pages        = 1;
    const pdf_document c = pdf_to_text(muse::test::pdf_make({ "a", "b", "c" }), one);
    EXPECT_EQ(c.page_count, 3);
    EXPECT_EQ(c.pages.size(), 1u);
    EXPECT_TRUE(c.truncated);
}

TEST(pdf_text, broken_pdfs_give_clear_errors) {
    auto message = [](const std::string & bytes) {
        try {
            (void)pdf_to_text(bytes);
        } catch (const pdf_error & e) {
            return std::string(e.what());
        }
        return std::string("(no error)");
    };
    EXPECT_NE(message("just some text").find("not a PDF"), std::string::npos);
    EXPECT_NE(message("").find("not a PDF"), std::string::npos);
    const std::string good = muse::test::pdf_make({ "text" });
    // A cut download, garbage after a header, a header alone: all refused or read, never a crash.
    for (size_t cut : { (size_t)9, (size_t)40, good.size() / 2 })
        (void)message(good.substr(0, cut));
    EXPECT_NE(message("%PDF-1.4\n" + random_bytes(4096, 7)), "(no error)");
    for (uint32_t seed = 1; seed <= 30; seed++) {
        std::string  mutated = good;
        std::mt19937 rng(seed);
        for (int k = 0; k < 20; k++)
            mutated[rng() % mutated.size()] = (char)(rng() & 0xFF);
        try {
            (void)pdf_to_text(mutated);
        } catch (const pdf_error &) {
        }
    }
}

TEST(pdf_text, encrypted_pdf_names_the_password) {
    try {
        (void)pdf_to_text(muse::test::pdf_make({ "secret" }, "", true));
        FAIL() << "an encrypted PDF was read";
    } catch (const pdf_error & e) {
        EXPECT_NE(std::string(e.what()).find("encrypted"), std::string::npos) << e.what();
    }
}
