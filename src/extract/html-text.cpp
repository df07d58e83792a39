#include "extract/html-text.h"

#include <gumbo.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>
#include <string_view>
#include <unordered_map>

namespace muse::extract {

namespace {

bool ascii_ws(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

bool ieq_prefix(std::string_view s, size_t at, std::string_view word) {
    if (s.size() - at < word.size())
        return false;
    for (size_t i = 0; i < word.size(); i++) {
        if (std::tolower((unsigned char)s[at + i]) != word[i])
            return false;
    }
    return true;
}

// ---- the nesting bound -----------------------------------------------------------------------
// Gumbo looks through the stack of open elements for each start tag of many kinds (a <div> asks
// "is a <p> open?"), so 100k nested <div>s take about a minute and a 5 MiB page of them hours.
// A light tokenizer keeps its own stack, roughly as the tree builder would, and drops start
// tags past max_depth before gumbo sees them. Elements whose end tag is optional (p, li, td)
// or that have none (br, img) are not counted: the tree builder closes those itself.

const char * const VOID_OR_OPTIONAL[] = { "area",   "base",     "br",      "col",   "embed",  "hr",       "img",
                                          "input",  "link",     "meta",    "param", "source", "track",    "wbr",
                                          "p",      "li",       "dt",      "dd",    "option", "optgroup", "tr",
                                          "td",     "th",       "thead",   "tbody", "tfoot",  "colgroup", "rb",
                                          "rt",     "rtc",      "rp",      "html",  "head",   "body",     "frame",
                                          "keygen", "basefont", "bgsound", "image", "isindex" };
const char * const RAW_TEXT[] = { "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes" };

bool in_list(const std::string & name, const char * const * list, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (name == list[i])
            return true;
    }
    return false;
}

// Where the tag that starts at `lt` ('<') ends: one past its '>', quotes respected; npos when unterminated.
size_t tag_end(std::string_view s, size_t lt, bool & self_closing) {
    char quote = 0;
    for (size_t i = lt + 1; i < s.size(); i++) {
        const char c = s[i];
        if (quote) {
            if (c == quote)
                quote = 0;
        } else if (c == '"' || c == '\'') {
            // a quote opens only an attribute value (after '='), as the tokenizer reads it
            size_t j = i;
            while (j > lt && ascii_ws(s[j - 1]))
                j--;
            if (s[j - 1] == '=')
                quote = c;
        } else if (c == '>') {
            self_closing = s[i - 1] == '/';
            return i + 1;
        }
    }
    return std::string_view::npos;
}

std::string tag_name(std::string_view s, size_t at) {
    std::string name;
    while (at < s.size() && name.size() < 32 && (std::isalnum((unsigned char)s[at]) || s[at] == '-')) {
        name += (char)std::tolower((unsigned char)s[at]);
        at++;
    }
    return name;
}

// `html` with start tags past `max_depth` removed; `html` itself when none were.
std::string depth_bound(const std::string & html, int32_t max_depth, bool & changed) {
    std::string_view         s(html);
    std::string              out;
    std::vector<std::string> open;
    int32_t                  foreign = 0;  // open <svg>/<math>: "/>" closes there
    size_t                   copied  = 0;  // s[copied, i) is yet to go to `out`
    size_t                   i       = 0;
    changed                          = false;
    while (i < s.size()) {
        const size_t lt = s.find('<', i);
        if (lt == std::string_view::npos || lt + 1 >= s.size())
            break;
        if (s.compare(lt, 4, "<!--") == 0) {
            const size_t end = s.find("-->", lt + 4);
            i                = end == std::string_view::npos ? s.size() : end + 3;
            continue;
        }
        const bool   closing = s[lt + 1] == '/';
        const size_t name_at = lt + (closing ? 2 : 1);
        if (name_at >= s.size() || !std::isalpha((unsigned char)s[name_at])) {
            i = lt + 1;
            continue;
        }
        const std::string name         = tag_name(s, name_at);
        bool              self_closing = false;
        const size_t      end          = tag_end(s, lt, self_closing);
        if (end == std::string_view::npos)
            break;
        i = end;
        if (closing) {
            auto it = std::find(open.rbegin(), open.rend(), name);
            if (it != open.rend()) {
                const size_t keep = (size_t)(open.rend() - it) - 1;
                for (size_t k = keep; k < open.size(); k++)
                    foreign -= open[k] == "svg" || open[k] == "math";
                open.resize(keep);
            }
            continue;
        }
        if (in_list(name, RAW_TEXT, std::size(RAW_TEXT))) {
            // its text is not markup: skip to the matching end tag
            size_t close = end;
            while ((close = s.find("</", close)) != std::string_view::npos && !ieq_prefix(s, close + 2, name))
                close += 2;
            i = close == std::string_view::npos ? s.size() : close;
            continue;
        }
        if (in_list(name, VOID_OR_OPTIONAL, std::size(VOID_OR_OPTIONAL)) || (self_closing && foreign > 0))
            continue;
        if ((int32_t)open.size() >= max_depth) {
            out.append(s.substr(copied, lt - copied));
            copied  = end;
            changed = true;
            continue;
        }
        open.push_back(name);
        foreign += name == "svg" || name == "math";
    }
    if (!changed)
        return html;
    out.append(s.substr(copied));
    return out;
}

// ---- URLs ------------------------------------------------------------------------------------

struct url_split {
    std::string scheme, authority, path, query;
    bool        has_authority = false, has_query = false;
};

url_split url_split_make(std::string_view u) {
    url_split    r;
    const size_t hash = u.find('#');
    if (hash != std::string_view::npos)
        u = u.substr(0, hash);
    size_t i = 0;
    while (i < u.size() && (std::isalnum((unsigned char)u[i]) || u[i] == '+' || u[i] == '-' || u[i] == '.'))
        i++;
    if (i > 0 && i < u.size() && u[i] == ':' && std::isalpha((unsigned char)u[0])) {
        r.scheme.assign(u.substr(0, i));
        for (auto & c : r.scheme)
            c = (char)std::tolower((unsigned char)c);
        u = u.substr(i + 1);
    }
    if (u.substr(0, 2) == "//") {
        const size_t end = u.find_first_of("/?", 2);
        r.has_authority  = true;
        r.authority.assign(u.substr(2, end == std::string_view::npos ? std::string_view::npos : end - 2));
        u = end == std::string_view::npos ? std::string_view() : u.substr(end);
    }
    const size_t q = u.find('?');
    if (q != std::string_view::npos) {
        r.has_query = true;
        r.query.assign(u.substr(q + 1));
        u = u.substr(0, q);
    }
    r.path.assign(u);
    return r;
}

// RFC 3986 5.2.4.
std::string dot_segments_remove(const std::string & path) {
    std::vector<std::string> out;
    size_t                   i        = 0;
    const bool               absolute = !path.empty() && path[0] == '/';
    bool                     trailing = false;
    while (i <= path.size()) {
        const size_t slash = path.find('/', i);
        const size_t end   = slash == std::string::npos ? path.size() : slash;
        std::string  seg   = path.substr(i, end - i);
        trailing           = false;
        if (seg == "..") {
            if (!out.empty())
                out.pop_back();
            trailing = true;
        } else if (seg == ".") {
            trailing = true;
        } else if (!(seg.empty() && i == 0 && absolute)) {
            out.push_back(seg);
        }
        if (slash == std::string::npos)
            break;
        i = slash + 1;
    }
    std::string r = absolute ? "/" : "";
    for (size_t k = 0; k < out.size(); k++) {
        if (k > 0)
            r += '/';
        r += out[k];
    }
    if (trailing && (r.empty() || r.back() != '/'))
        r += '/';
    return r;
}

std::string url_join(const url_split & u) {
    std::string r = u.scheme + ":";
    if (u.has_authority)
        r += "//" + u.authority;
    r += u.path;
    if (u.has_query)
        r += "?" + u.query;
    return r;
}

}  // namespace

std::string url_resolve(const std::string & base_text, const std::string & ref_text) {
    // HTML strips spaces around an href and drops tabs and newlines inside it.
    std::string ref;
    for (char c : ref_text) {
        if (c != '\t' && c != '\n' && c != '\r')
            ref += c;
    }
    const size_t b = ref.find_first_not_of(" \f");
    const size_t e = ref.find_last_not_of(" \f");
    ref            = b == std::string::npos ? "" : ref.substr(b, e - b + 1);

    url_split r = url_split_make(ref);
    if (!r.scheme.empty()) {
        r.path = dot_segments_remove(r.path);
        return url_join(r);
    }
    const url_split base = url_split_make(base_text);
    if (base.scheme.empty())
        return ref;
    url_split t;
    t.scheme = base.scheme;
    if (r.has_authority) {
        t.has_authority = true;
        t.authority     = r.authority;
        t.path          = dot_segments_remove(r.path);
        t.has_query     = r.has_query;
        t.query         = r.query;
        return url_join(t);
    }
    t.has_authority = base.has_authority;
    t.authority     = base.authority;
    if (r.path.empty()) {
        t.path      = base.path;
        t.has_query = r.has_query || base.has_query;
        t.query     = r.has_query ? r.query : base.query;
    } else {
        if (r.path[0] == '/') {
            t.path = dot_segments_remove(r.path);
        } else if (base.has_authority && base.path.empty()) {
            t.path = dot_segments_remove("/" + r.path);
        } else {
            const size_t slash = base.path.rfind('/');
            t.path = dot_segments_remove((slash == std::string::npos ? "" : base.path.substr(0, slash + 1)) + r.path);
        }
        t.has_query = r.has_query;
        t.query     = r.query;
    }
    return url_join(t);
}

namespace {

// ---- the text ----------------------------------------------------------------------------

struct gumbo_output_deleter {
    void operator()(GumboOutput * o) const { gumbo_destroy_output(&kGumboDefaultOptions, o); }
};

// Text with whitespace collapsed the way a browser shows it: runs of spaces become one, block
// boundaries become line ends, nothing at the start of a line.
class text_out {
  public:
    explicit text_out(size_t max) : max_(max) {}

    void words(std::string_view t) {
        for (size_t i = 0; i < t.size() && !full(); i++) {
            const char c    = t[i];
            const bool nbsp = (unsigned char)c == 0xC2 && i + 1 < t.size() && (unsigned char)t[i + 1] == 0xA0;
            if (ascii_ws(c) || nbsp) {
                space_ = true;
                i += nbsp;
                continue;
            }
            space_flush();
            s_ += c;
        }
    }

    void raw(std::string_view t) {  // <pre>: as written
        space_flush();
        s_.append(t.substr(0, max_ > s_.size() ? max_ - s_.size() : 0));
    }

    void space_flush() {
        if (space_ && !s_.empty() && s_.back() != '\n' && s_.back() != ' ')
            s_ += ' ';
        space_ = false;
    }

    void line_end() {
        while (!s_.empty() && s_.back() == ' ')
            s_.pop_back();
        if (!s_.empty() && s_.back() != '\n')
            s_ += '\n';
        space_ = false;
    }

    void line_start(const std::string & prefix) {
        line_end();
        s_ += prefix;
    }

    bool          full() const { return s_.size() >= max_; }
    std::string & str() { return s_; }

  private:
    std::string s_;
    size_t      max_;
    bool        space_ = false;
};

bool skipped_tag(GumboTag t) {
    switch (t) {
        case GUMBO_TAG_SCRIPT:
        case GUMBO_TAG_STYLE:
        case GUMBO_TAG_NOSCRIPT:
        case GUMBO_TAG_TEMPLATE:
        case GUMBO_TAG_SVG:
        case GUMBO_TAG_HEAD:
        case GUMBO_TAG_TITLE:
        case GUMBO_TAG_IFRAME:
        case GUMBO_TAG_OBJECT:
        case GUMBO_TAG_EMBED:
        case GUMBO_TAG_CANVAS:
        case GUMBO_TAG_SELECT:
        case GUMBO_TAG_DATALIST:
        case GUMBO_TAG_AUDIO:
        case GUMBO_TAG_VIDEO:
        case GUMBO_TAG_MAP:
        case GUMBO_TAG_INPUT:
        case GUMBO_TAG_TEXTAREA:
            return true;
        default:
            return false;
    }
}

bool block_tag(GumboTag t) {
    switch (t) {
        case GUMBO_TAG_P:
        case GUMBO_TAG_DIV:
        case GUMBO_TAG_SECTION:
        case GUMBO_TAG_ARTICLE:
        case GUMBO_TAG_HEADER:
        case GUMBO_TAG_FOOTER:
        case GUMBO_TAG_NAV:
        case GUMBO_TAG_ASIDE:
        case GUMBO_TAG_MAIN:
        case GUMBO_TAG_UL:
        case GUMBO_TAG_OL:
        case GUMBO_TAG_DL:
        case GUMBO_TAG_DT:
        case GUMBO_TAG_DD:
        case GUMBO_TAG_TABLE:
        case GUMBO_TAG_TR:
        case GUMBO_TAG_CAPTION:
        case GUMBO_TAG_BLOCKQUOTE:
        case GUMBO_TAG_PRE:
        case GUMBO_TAG_FIGURE:
        case GUMBO_TAG_FIGCAPTION:
        case GUMBO_TAG_FORM:
        case GUMBO_TAG_FIELDSET:
        case GUMBO_TAG_ADDRESS:
        case GUMBO_TAG_HR:
        case GUMBO_TAG_DETAILS:
        case GUMBO_TAG_SUMMARY:
        case GUMBO_TAG_CENTER:
        case GUMBO_TAG_BODY:
        case GUMBO_TAG_LI:
            return true;
        default:
            return false;
    }
}

int heading_level(GumboTag t) {
    switch (t) {
        case GUMBO_TAG_H1:
            return 1;
        case GUMBO_TAG_H2:
            return 2;
        case GUMBO_TAG_H3:
            return 3;
        case GUMBO_TAG_H4:
            return 4;
        case GUMBO_TAG_H5:
            return 5;
        case GUMBO_TAG_H6:
            return 6;
        default:
            return 0;
    }
}

const char * attr(const GumboElement & e, const char * name) {
    const GumboAttribute * a = gumbo_get_attribute(&e.attributes, name);
    return a ? a->value : nullptr;
}

bool hidden(const GumboElement & e) {
    if (attr(e, "hidden"))
        return true;
    const char * aria = attr(e, "aria-hidden");
    if (aria && std::strcmp(aria, "true") == 0)
        return true;
    const char * style = attr(e, "style");
    if (!style)
        return false;
    std::string st;
    for (const char * p = style; *p && st.size() < 4096; p++) {
        if (!ascii_ws(*p))
            st += (char)std::tolower((unsigned char)*p);
    }
    return st.find("display:none") != std::string::npos || st.find("visibility:hidden") != std::string::npos;
}

std::string collapsed(std::string_view t) {
    text_out o(SIZE_MAX);
    o.words(t);
    o.line_end();
    std::string s = std::move(o.str());
    for (auto & c : s) {
        if (c == '\n')
            c = ' ';
    }
    while (!s.empty() && s.back() == ' ')
        s.pop_back();
    return s;
}

std::string node_text(const GumboNode * n) {  // the text inside, depth-first, without recursion
    std::string                    out;
    std::vector<const GumboNode *> todo { n };
    while (!todo.empty() && out.size() < 4096) {
        const GumboNode * cur = todo.back();
        todo.pop_back();
        if (cur->type == GUMBO_NODE_TEXT || cur->type == GUMBO_NODE_WHITESPACE || cur->type == GUMBO_NODE_CDATA) {
            out += cur->v.text.text;
        } else if (cur->type == GUMBO_NODE_ELEMENT) {
            const GumboVector & ch = cur->v.element.children;
            for (unsigned i = ch.length; i-- > 0;)
                todo.push_back((const GumboNode *)ch.data[i]);
        }
    }
    return collapsed(out);
}

class html_walker {
  public:
    html_walker(html_document & doc, std::string base, const html_limits & lim) :
        doc_(doc), base_(std::move(base)), lim_(lim), out_(lim.max_text_bytes) {}

    void head_read(const GumboNode * root) {
        std::vector<const GumboNode *> todo { root };
        bool                           got_title = false, got_base = false;
        while (!todo.empty() && !(got_title && got_base)) {
            const GumboNode * n = todo.back();
            todo.pop_back();
            if (n->type != GUMBO_NODE_ELEMENT)
                continue;
            const GumboElement & e = n->v.element;
            if (e.tag == GUMBO_TAG_TITLE && !got_title) {
                doc_.title = node_text(n).substr(0, 1000);
                got_title  = true;
            } else if (e.tag == GUMBO_TAG_BASE && !got_base && attr(e, "href")) {
                if (!base_.empty())
                    base_ = url_resolve(base_, attr(e, "href"));
                got_base = true;
            } else if (e.tag == GUMBO_TAG_HTML || e.tag == GUMBO_TAG_HEAD) {
                for (unsigned i = e.children.length; i-- > 0;)
                    todo.push_back((const GumboNode *)e.children.data[i]);
            }
        }
    }

    void walk(const GumboNode * root) {
        stack_.push_back({ root });
        while (!stack_.empty()) {
            if (out_.full()) {
                doc_.truncated = true;
                break;
            }
            frame & f = stack_.back();
            if (f.node->type != GUMBO_NODE_ELEMENT || f.next >= f.node->v.element.children.length) {
                element_close(f);
                stack_.pop_back();
                continue;
            }
            const GumboNode * child = (const GumboNode *)f.node->v.element.children.data[f.next++];
            node_open(child);
        }
        out_.line_end();
        doc_.text = std::move(out_.str());
        while (!doc_.text.empty() && doc_.text.back() == '\n')
            doc_.text.pop_back();
    }

  private:
    struct frame {
        const GumboNode * node;
        unsigned          next       = 0;
        size_t            link_start = std::string::npos;  // where an <a>'s text began in the output
        std::string       href;
        int32_t           counter = 0;  // <ol> items, <tr> cells
    };

    html_document &                          doc_;
    std::string                              base_;
    const html_limits &                      lim_;
    text_out                                 out_;
    std::vector<frame>                       stack_;
    int32_t                                  pre_     = 0;  // open <pre>s
    bool                                     in_link_ = false;
    std::unordered_map<std::string, int32_t> link_numbers_;

    void node_open(const GumboNode * n) {
        if (n->type == GUMBO_NODE_TEXT || n->type == GUMBO_NODE_WHITESPACE || n->type == GUMBO_NODE_CDATA) {
            if (pre_ > 0) {
                out_.raw(n->v.text.text);
            } else {
                out_.words(n->v.text.text);
            }
            return;
        }
        if (n->type != GUMBO_NODE_ELEMENT)
            return;  // comments, documents, templates
        const GumboElement & e = n->v.element;
        if (skipped_tag(e.tag) || hidden(e))
            return;
        frame f { n };
        if (const int level = heading_level(e.tag)) {
            out_.line_start(std::string(level, '#') + " ");
        } else if (e.tag == GUMBO_TAG_LI) {
            item_open();
        } else if (e.tag == GUMBO_TAG_BR) {
            out_.line_end();
            return;
        } else if (e.tag == GUMBO_TAG_IMG) {
            const char * alt = attr(e, "alt");
            if (alt && *alt) {
                out_.space_flush();
                out_.words(" [image: " + collapsed(alt).substr(0, 200) + "] ");
            }
            return;
        } else if (e.tag == GUMBO_TAG_TD || e.tag == GUMBO_TAG_TH) {
            frame * row = stack_.empty() ? nullptr : &stack_.back();
            if (row && row->node->type == GUMBO_NODE_ELEMENT && row->node->v.element.tag == GUMBO_TAG_TR &&
                row->counter++ > 0) {
                out_.words(" | ");
            }
        } else if (block_tag(e.tag)) {
            out_.line_end();
        }
        if (e.tag == GUMBO_TAG_PRE)
            pre_++;
        if (e.tag == GUMBO_TAG_A && !in_link_) {
            const char * href = attr(e, "href");
            if (href && *href) {
                f.href = base_.empty() ? std::string(href) : url_resolve(base_, href);
                if (link_wanted(href, f.href)) {
                    out_.space_flush();
                    f.link_start = out_.str().size();
                    in_link_     = true;
                }
            }
        }
        stack_.push_back(std::move(f));
    }

    static bool link_wanted(const char * raw, const std::string & href) {
        if (raw[0] == '#')
            return false;  // a place on this page
        return href.rfind("http://", 0) == 0 || href.rfind("https://", 0) == 0 || href.find(':') == std::string::npos;
    }

    void item_open() {
        int32_t depth = 0;
        frame * list  = nullptr;
        for (auto it = stack_.rbegin(); it != stack_.rend(); ++it) {
            if (it->node->type != GUMBO_NODE_ELEMENT)
                continue;
            const GumboTag t = it->node->v.element.tag;
            if (t == GUMBO_TAG_UL || t == GUMBO_TAG_OL || t == GUMBO_TAG_MENU) {
                if (!list)
                    list = &*it;
                depth++;
            }
        }
        std::string prefix((size_t)std::max(0, std::min(depth, 8) - 1) * 2, ' ');
        if (list && list->node->v.element.tag == GUMBO_TAG_OL) {
            prefix += std::to_string(++list->counter) + ". ";
        } else {
            prefix += "- ";
        }
        out_.line_start(prefix);
    }

    void element_close(frame & f) {
        if (f.node->type != GUMBO_NODE_ELEMENT)
            return;
        const GumboTag t = f.node->v.element.tag;
        if (t == GUMBO_TAG_PRE)
            pre_--;
        if (f.link_start != std::string::npos)
            link_close(f);
        if (heading_level(t) || block_tag(t))
            out_.line_end();
    }

    void link_close(frame & f) {
        in_link_        = false;
        std::string & s = out_.str();
        if (f.link_start > s.size())
            return;
        std::string text = collapsed(std::string_view(s).substr(f.link_start));
        s.resize(f.link_start);
        // the marker's own brackets inside a link's text would end it early for a reader
        for (const char * mark : { "\xE3\x80\x90", "\xE3\x80\x91" }) {
            for (size_t at; (at = text.find(mark)) != std::string::npos;)
                text.replace(at, 3, " ");
        }
        if (text.size() > 300)
            text = text.substr(0, 300) + "...";
        int32_t n  = 0;
        auto    it = link_numbers_.find(f.href);
        if (it != link_numbers_.end()) {
            n = it->second;
        } else if (doc_.links.size() < lim_.max_links) {
            n = (int32_t)doc_.links.size() + 1;
            doc_.links.push_back({ n, text, f.href });
            link_numbers_.emplace(f.href, n);
        }
        if (n == 0) {
            out_.words(text);
            return;
        }
        out_.words("\xE3\x80\x90" + std::to_string(n) + "\xE2\x80\xA0");
        s += text;
        s += "\xE3\x80\x91";
    }
};

}  // namespace

html_document html_to_text(const std::string & html_in, const std::string & base_url, const html_limits & limits) {
    html_document       doc;
    std::string         cut;
    const std::string * html = &html_in;
    if (html_in.size() > limits.max_input_bytes) {
        cut           = html_in.substr(0, limits.max_input_bytes);
        html          = &cut;
        doc.truncated = true;
    }
    bool              dropped = false;
    const std::string bounded = depth_bound(*html, std::max<int32_t>(8, limits.max_depth), dropped);
    doc.truncated |= dropped;

    GumboOptions opts = kGumboDefaultOptions;
    opts.max_errors   = 64;  // gumbo keeps every parse error in memory; random bytes make millions
    std::unique_ptr<GumboOutput, gumbo_output_deleter> out(
        gumbo_parse_with_options(&opts, bounded.data(), bounded.size()));
    if (!out)
        return doc;
    html_walker w(doc, base_url, limits);
    w.head_read(out->root);
    w.walk(out->root);
    return doc;
}

}  // namespace muse::extract
