#include "agent/tools/web.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <set>

#include "agent/text-cap.h"
#include "agent/web/web-page.h"
#include "extract/pdf-text.h"

namespace muse::agent {

namespace {

using json = nlohmann::json;

tool_result error_result(const std::string & text, json detail = json::object()) {
    tool_result r;
    r.text     = text;
    r.is_error = true;
    r.detail   = std::move(detail);
    return r;
}

tool_result web_error_result(const char * tool, const web_error & e) {
    return error_result(std::string(tool) + " failed for " + e.url() + ": " + e.reason(),
                        { { "error", web_error_kind_name(e.kind()) }, { "url", e.url() } });
}

// An integer argument; models also send numbers as strings ("20") or floats (20.0).
std::optional<int64_t> int_arg(const json & args, const char * key) {
    auto it = args.find(key);
    if (it == args.end() || it->is_null())
        return std::nullopt;
    if (it->is_number_integer())
        return it->get<int64_t>();
    if (it->is_number_float())
        return (int64_t)it->get<double>();
    if (it->is_string()) {
        const std::string s = it->get<std::string>();
        if (!s.empty() && s.size() < 12 && std::all_of(s.begin(), s.end(), ::isdigit))
            return std::stoll(s);
    }
    return std::nullopt;
}

fetch_control control_of(const tool_context & ctx) {
    fetch_control c;
    c.deadline = ctx.deadline;
    c.cancel   = ctx.cancel;
    return c;
}

std::string lower(std::string s) {
    for (auto & c : s)
        c = (char)std::tolower((unsigned char)c);
    return s;
}

// The link numbers whose 【n† markers appear in `line`.
void markers_find(const std::string & line, std::set<int32_t> & out) {
    static const std::string open = "\xE3\x80\x90";
    for (size_t at = line.find(open); at != std::string::npos; at = line.find(open, at + 3)) {
        size_t  i = at + 3;
        int64_t n = 0;
        while (i < line.size() && std::isdigit((unsigned char)line[i]) && n < 1000000)
            n = n * 10 + (line[i++] - '0');
        if (i > at + 3 && line.compare(i, 3, "\xE2\x80\xA0") == 0)
            out.insert((int32_t)n);
    }
}

class web_state {
  public:
    explicit web_state(const web_options & o) :
        options(o), fetcher(url_guard(o.allow_hosts), o.limits), pages(o.max_conversations) {}

    web_options    options;
    web_fetcher    fetcher;
    web_page_store pages;
};

class open_url_tool final : public tool {
  public:
    explicit open_url_tool(std::shared_ptr<web_state> s) : s_(std::move(s)) {}

    chat_tool definition() const override {
        return {
            "open_url",
            "Open a web page (HTML, plain text, JSON or PDF) and read it as numbered lines (\"L12: ...\"). "
            "Links show in the text as 【n†text】 and are listed with their URLs; pass a link's number as "
            "url to open it. Long pages come in windows: call again with start_line for the next lines. "
            "Only public addresses can be opened.",
            R"J({"type":"object","properties":{)J"
            R"J("url":{"type":"string","description":"An http(s) URL, or the number of a link on the last page opened"},)J"
            R"J("start_line":{"type":"integer","minimum":1,"description":"The first line to show (default 1)"}},)J"
            R"J("required":["url"]})J"
        };
    }

    tool_result call(const json & args, const tool_context & ctx) override {
        auto url = tool_arg_string(args, "url");
        if (!url || url->empty())
            return error_result("open_url needs a string 'url' (https://...)");
        std::string target = *url;
        const auto  start  = int_arg(args, "start_line").value_or(1);
        if (start < 1)
            return error_result("open_url: start_line must be 1 or more");

        auto last = s_->pages.get(ctx.conversation_id);
        // A bare number is a link of the last page ("open link 3").
        if (target.size() <= 6 && std::all_of(target.begin(), target.end(), ::isdigit)) {
            const int64_t n = std::stoll(target);
            if (!last)
                return error_result("open_url: '" + target + "' is a link number, but no page is open yet; give a URL");
            if (n < 1 || n > (int64_t)last->links.size()) {
                return error_result("open_url: the last page (" + last->url + ") has no link " + target + "; it has " +
                                    std::to_string(last->links.size()) + " links");
            }
            target = last->links[(size_t)n - 1].href;
        }

        // Paging through the page already open: no second fetch.
        std::shared_ptr<const web_page> page;
        if (last && start > 1 && (last->requested == target || last->url == target)) {
            page = last;
        } else {
            try {
                fetch_response r = s_->fetcher.get(target, control_of(ctx));
                page             = std::make_shared<web_page>(web_page_make(r, target));
            } catch (const web_error & e) {
                return web_error_result("open_url", e);
            }
            s_->pages.put(ctx.conversation_id, page);
        }
        return window(*page, (size_t)start);
    }

  private:
    std::shared_ptr<web_state> s_;

    tool_result window(const web_page & p, size_t start) const {
        const size_t total = p.lines.size();
        std::string  head  = "Title: " + (p.title.empty() ? std::string("(none)") : p.title) + "\nURL: " + p.url;
        if (p.requested != p.url)
            head += " (redirected from " + p.requested + ")";
        head += "\nType: " + p.content_type + ", " + std::to_string(p.bytes) + " bytes, " + std::to_string(total) +
                " lines";
        if (p.truncated)
            head += " (cut by a size limit)";
        head += "\n";
        tool_result r;
        r.detail = { { "url", p.url },     { "requested", p.requested },
                     { "title", p.title }, { "content_type", p.content_type },
                     { "bytes", p.bytes }, { "total_lines", total } };
        if (start > total) {
            r.text = head + "\nThe page has " + std::to_string(total) + " lines; start_line " + std::to_string(start) +
                     " is past the end.";
            r.is_error = true;
            return r;
        }
        std::string       body;
        std::set<int32_t> seen;
        size_t            end       = start - 1;  // lines [start-1, end) are shown
        const size_t      max_lines = (size_t)std::max<int32_t>(1, s_->options.window_lines);
        while (end < total && end - (start - 1) < max_lines) {
            std::string line = "L" + std::to_string(end + 1) + ": " + p.lines[end] + "\n";
            if (!body.empty() && body.size() + line.size() > s_->options.window_chars)
                break;
            markers_find(p.lines[end], seen);
            body += line;
            end++;
        }
        std::string tail;
        if (end < total) {
            tail = "\n[lines " + std::to_string(start) + "-" + std::to_string(end) + " of " + std::to_string(total) +
                   "; call open_url with start_line " + std::to_string(end + 1) + " for more]\n";
        }
        std::string links;
        size_t      shown = 0;
        for (int32_t n : seen) {
            if (n < 1 || (size_t)n > p.links.size())
                continue;
            if (++shown > 100) {
                links += "... and " + std::to_string(seen.size() - 100) + " more\n";
                break;
            }
            const auto & l = p.links[(size_t)n - 1];
            links += "[" + std::to_string(n) + "] " + l.text + " -> " + l.href + "\n";
        }
        r.text                 = head + "\n" + body + tail + (links.empty() ? "" : "\nLinks:\n" + links);
        r.text                 = text_cap(r.text, s_->options.window_chars + 16384);
        r.detail["start_line"] = start;
        r.detail["end_line"]   = end;
        return r;
    }
};

class find_in_page_tool final : public tool {
  public:
    explicit find_in_page_tool(std::shared_ptr<web_state> s) : s_(std::move(s)) {}

    chat_tool definition() const override {
        return { "find_in_page",
                 "Find text (case-insensitive) in the page last opened with open_url; returns the matching lines "
                 "with their numbers, to open_url there with start_line.",
                 R"J({"type":"object","properties":{)J"
                 R"J("pattern":{"type":"string","description":"The text to look for","maxLength":200}},)J"
                 R"J("required":["pattern"]})J" };
    }

    tool_result call(const json & args, const tool_context & ctx) override {
        auto pattern = tool_arg_string(args, "pattern");
        if (!pattern || pattern->empty())
            return error_result("find_in_page needs a non-empty string 'pattern'");
        if (pattern->size() > 200)
            return error_result("find_in_page: the pattern is longer than 200 bytes");
        auto page = s_->pages.get(ctx.conversation_id);
        if (!page)
            return error_result("find_in_page: no page is open in this conversation; call open_url first");
        const std::string needle = lower(*pattern);
        const size_t      max    = (size_t)std::max<int32_t>(1, s_->options.max_matches);
        std::string       lines;
        size_t            found = 0;
        json              refs  = json::array();
        for (size_t i = 0; i < page->lines.size(); i++) {
            const std::string hay = lower(page->lines[i]);
            const size_t      at  = hay.find(needle);
            if (at == std::string::npos)
                continue;
            if (++found > max)
                continue;
            refs.push_back(i + 1);
            lines += "L" + std::to_string(i + 1) + ": " + excerpt(page->lines[i], at, needle.size()) + "\n";
        }
        tool_result r;
        r.detail = { { "url", page->url }, { "pattern", *pattern }, { "matches", found }, { "lines", refs } };
        const std::string quoted = "\"" + *pattern + "\"";
        if (found == 0) {
            r.text = "No line of " + page->url + " contains " + quoted + ".";
            return r;
        }
        r.text = std::to_string(found) + (found == 1 ? " line" : " lines") + " of " + page->url + " contain" +
                 (found == 1 ? "s " : " ") + quoted +
                 (found > max ? " (first " + std::to_string(max) + " shown)" : "") + ":\n" + lines;
        return r;
    }

  private:
    std::shared_ptr<web_state> s_;

    // Up to ~300 bytes of the line around the match, cut between UTF-8 characters.
    static std::string excerpt(const std::string & line, size_t at, size_t len) {
        if (line.size() <= 300)
            return line;
        size_t from = at > 120 ? at - 120 : 0;
        while (from > 0 && ((unsigned char)line[from] & 0xC0) == 0x80)
            from--;
        size_t to = std::min(line.size(), at + len + 180);
        while (to < line.size() && ((unsigned char)line[to] & 0xC0) == 0x80)
            to++;
        return (from > 0 ? "..." : "") + line.substr(from, to - from) + (to < line.size() ? "..." : "");
    }
};

class web_search_tool final : public tool {
  public:
    web_search_tool(std::shared_ptr<web_state> s, std::shared_ptr<search_provider> p) :
        s_(std::move(s)), provider_(std::move(p)) {}

    chat_tool definition() const override {
        return { "web_search",
                 "Search the web; returns numbered results with title, URL and a snippet. Open one with open_url "
                 "to read it.",
                 R"J({"type":"object","properties":{)J"
                 R"J("query":{"type":"string","description":"What to search for","maxLength":400},)J"
                 R"J("count":{"type":"integer","minimum":1,"maximum":)J" +
                     std::to_string(s_->options.max_results) +
                     R"J(,"description":"How many results (default 5)"}},)J"
                     R"J("required":["query"]})J" };
    }

    tool_result call(const json & args, const tool_context & ctx) override {
        auto query = tool_arg_string(args, "query");
        if (!query || query->find_first_not_of(" \t\r\n") == std::string::npos) {
            return error_result("web_search needs a non-empty string 'query'");
        }
        if (query->size() > 400)
            return error_result("web_search: the query is longer than 400 bytes");
        const int64_t count = std::clamp<int64_t>(int_arg(args, "count").value_or(5), 1, s_->options.max_results);
        std::vector<search_result> results;
        try {
            results = provider_->search(*query, (int32_t)count, control_of(ctx));
        } catch (const web_error & e) {
            return web_error_result("web_search", e);
        }
        tool_result r;
        json        list = json::array();
        if (results.empty()) {
            r.text = "No results for \"" + *query + "\".";
        } else {
            r.text = "Results for \"" + *query + "\":\n";
        }
        for (size_t i = 0; i < results.size(); i++) {
            const auto & s       = results[i];
            std::string  snippet = s.snippet;
            if (snippet.size() > 400)
                snippet = snippet.substr(0, utf8_cut(snippet, 400)) + "...";
            r.text +=
                "\n" + std::to_string(i + 1) + ". " + (s.title.empty() ? s.url : s.title) + "\n   " + s.url + "\n";
            if (!snippet.empty())
                r.text += "   " + snippet + "\n";
            list.push_back({ { "title", s.title }, { "url", s.url }, { "snippet", snippet } });
        }
        r.detail = { { "query", *query }, { "provider", provider_->name() }, { "results", list } };
        return r;
    }

  private:
    std::shared_ptr<web_state>       s_;
    std::shared_ptr<search_provider> provider_;
};

}  // namespace

std::vector<tool_ptr> web_tools(const web_options & options, std::shared_ptr<search_provider> provider) {
    auto                  state = std::make_shared<web_state>(options);
    std::vector<tool_ptr> tools = { std::make_shared<open_url_tool>(state),
                                    std::make_shared<find_in_page_tool>(state) };
    if (provider)
        tools.push_back(std::make_shared<web_search_tool>(state, std::move(provider)));
    return tools;
}

std::vector<tool_ptr> web_tools(const web_options & options) {
    std::shared_ptr<search_provider> provider;
    if (!options.search_url.empty()) {
        provider = searxng_provider_make(options.search_url, url_guard(options.allow_hosts), options.limits);
    }
    return web_tools(options, std::move(provider));
}

}  // namespace muse::agent
