#include "engine/grammar-bounds.h"

#include "engine/text-trim.h"
#include "json.h"

#include <algorithm>
#include <regex>

namespace muse {

std::string grammar_numbers_bounded(const std::string & grammar) {
    std::string g = grammar;
    // number ::= ("-"? integral-part) ("." decimal-part)? ([eE] [-+]? integral-part)?
    g = std::regex_replace(g, std::regex(R"(\(\[eE\] \[-\+\]\? integral-part\)\?)"), "([eE] [-+]? [0-9]{1,2})?");
    // json-number ::= "-"? ("0" | [1-9] [0-9]*) ("." [0-9]+)? (("e" | "E") [+-]? [0-9]+)?
    g = std::regex_replace(g, std::regex(R"(\("0" \| \[1-9\] \[0-9\]\*\))"), "(\"0\" | [1-9] [0-9]{0,14})");
    // integral-part ::= [0] | [1-9] [0-9]{0,15}   (llama-common's bound: 16 digits)
    g = std::regex_replace(g, std::regex(R"(integral-part ::= \[0\] \| \[1-9\] \[0-9\]\{0,15\})"), "integral-part ::= [0] | [1-9] [0-9]{0,14}");
    g = std::regex_replace(g, std::regex(R"(\("\." \[0-9\]\+\)\?)"), "(\".\" [0-9]{1,16})?");
    g = std::regex_replace(g, std::regex(R"(\(\("e" \| "E"\) \[\+-\]\? \[0-9\]\+\)\?)"), "((\"e\" | \"E\") [+-]? [0-9]{1,2})?");
    return g;
}

// The line of rule `name` (from its start to its newline), or npos.
static size_t rule_line(const std::string & g, const std::string & name, size_t & end) {
    const std::string head = name + " ::= ";
    size_t            at   = g.rfind("\n" + head) != std::string::npos ? g.rfind("\n" + head) + 1 : std::string::npos;
    if (at == std::string::npos && g.compare(0, head.size(), head) == 0) at = 0;
    if (at == std::string::npos) return at;
    end = std::min(g.find('\n', at), g.size());
    return at;
}

std::string grammar_calls_only(const std::string & grammar, bool keep_reasoning) {
    size_t       end   = 0;
    const size_t start = rule_line(grammar, "root", end);
    if (start == std::string::npos) return grammar;
    std::string root = grammar.substr(start, end - start);
    root = std::regex_replace(root, std::regex(R"( until-[0-9]+\?)"), "");
    root = std::regex_replace(root, std::regex(R"(\(start analysis\)\* )"), keep_reasoning ? "(start analysis)? " : "");
    return grammar.substr(0, start) + root + grammar.substr(end);
}

// The top-level alternatives of the group that opens at `open` (a '('), and the position of
// its closing ')'. Quoted literals and character classes are skipped whole.
static std::vector<std::string> group_alternatives(const std::string & line, size_t open, size_t & close) {
    std::vector<std::string> alts;
    int    depth = 0;
    size_t from  = open + 1;
    for (size_t i = open; i < line.size(); ++i) {
        const char c = line[i];
        if (c == '"' || c == '[') {
            const char end = c == '"' ? '"' : ']';
            for (++i; i < line.size() && line[i] != end; ++i) {
                if (line[i] == '\\') ++i;
            }
            continue;
        }
        if (c == '(') depth++;
        if (c == ')' && --depth == 0) {
            alts.push_back(line.substr(from, i - from));
            close = i;
            return alts;
        }
        if (c == '|' && depth == 1) {
            alts.push_back(line.substr(from, i - from));
            from = i + 1;
        }
    }
    close = std::string::npos;
    return {};
}

// ((P1 | P2 | ...) space)*  ->  (P1 space) ((P2 space))? ...  for required P1
static std::string atem_params_in_order(const std::string & line, const std::vector<std::string> & required) {
    const std::string first = "((\"<atem:parameter name=\\\"\" ";
    const size_t      group = line.find(first);  // the alternatives' group; the repetition's opens before it
    if (group == std::string::npos || group == 0 || line[group - 1] != '(') return line;
    const size_t outer     = group - 1;
    size_t       alt_close = 0;
    const auto   alts      = group_alternatives(line, group, alt_close);
    const std::string tail = " space)*";
    if (alts.empty() || alt_close == std::string::npos || line.compare(alt_close + 1, tail.size(), tail) != 0) return line;
    std::string seq;
    for (const auto & alt : alts) {
        const std::string a = trim(alt, " ");
        // ("<atem:parameter name=\"" "NAME" "\">") ...
        const size_t q1 = a.find("\" \"");
        const size_t q2 = q1 == std::string::npos ? q1 : a.find('"', q1 + 3);
        const std::string name = q2 == std::string::npos ? std::string() : a.substr(q1 + 3, q2 - q1 - 3);
        const bool must = std::find(required.begin(), required.end(), name) != required.end();
        seq += (seq.empty() ? "" : " ") + (must ? "(" + a + ") space" : "((" + a + ") space)?");
    }
    return line.substr(0, outer) + seq + line.substr(alt_close + 1 + tail.size());
}

// A GBNF string literal of `text`.
static std::string gbnf_literal(const std::string & text) {
    std::string out = "\"";
    for (char c : text) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default: out += c;
        }
    }
    return out + "\"";
}

std::string grammar_atem_bounded(const std::string & grammar, const std::vector<chat_tool> & tools) {
    if (grammar.find("<atem:invoke") == std::string::npos) return grammar;
    std::string g = grammar;
    // (" to=" until-N "<|message|><atem:function_calls>" space "<atem:invoke name=\"" "NAME" ...
    g = std::regex_replace(
        g, std::regex(R"(\(" to=" until-[0-9]+ ("<\|message\|><atem:function_calls>" space "<atem:invoke name=\\"" ("[^"]*")))"),
        "(\" to=\" $2 $1");
    for (const auto & tool : tools) {
        const auto schema = common_json::parse_no_throw(tool.parameters.empty() ? "{}" : tool.parameters);
        if (!schema.is_object() || !schema.contains("properties") || !schema["properties"].is_object()) continue;
        const auto & props = schema["properties"];
        // This tool's rule line: tool-NAME ::= ... "<atem:invoke name=\"" "NAME" ...
        const std::string marker = "\"<atem:invoke name=\\\"\" \"" + tool.name + "\"";
        size_t            at     = g.find(marker);
        if (at == std::string::npos) continue;
        const size_t line_start = g.rfind('\n', at) == std::string::npos ? 0 : g.rfind('\n', at) + 1;
        const size_t line_end   = std::min(g.find('\n', at), g.size());
        std::string  line       = g.substr(line_start, line_end - line_start);
        for (auto it = props.begin(); it != props.end(); ++it) {
            const auto & p = it.value();
            if (!p.is_object()) continue;
            // ATEM writes a string parameter as raw text up to "</atem:parameter>": its enum
            // values are the only texts it may be, its maxLength bounds it.
            std::string value_rule;
            if (p.contains("enum") && p["enum"].is_array() && !p["enum"].empty()) {
                for (const auto & v : p["enum"]) {
                    if (!v.is_string()) {
                        value_rule.clear();
                        break;
                    }
                    value_rule += (value_rule.empty() ? "(" : " | ") + gbnf_literal(v.get<std::string>());
                }
                if (!value_rule.empty()) value_rule += ")";
            }
            if (value_rule.empty() && p.contains("maxLength") && p["maxLength"].is_number_integer() && p["maxLength"].get<int64_t>() >= 0) {
                value_rule = "[^<]{0," + std::to_string(p["maxLength"].get<int64_t>()) + "}";
            }
            if (value_rule.empty()) continue;
            // ("<atem:parameter name=\"" "PROP" "\">") ac-N  ->  ... VALUE "</atem:parameter>"
            const std::string open = "(\"<atem:parameter name=\\\"\" \"" + it.key() + "\" \"\\\">\") ";
            const size_t      pos  = line.find(open);
            if (pos == std::string::npos) continue;
            const size_t rule_at = pos + open.size();
            const size_t rule_end = line.find_first_of(" )", rule_at);
            if (line.compare(rule_at, 3, "ac-") != 0 || rule_end == std::string::npos) continue;
            line.replace(rule_at, rule_end - rule_at, value_rule + " \"</atem:parameter>\"");
        }
        // ((param | param) space)* space ("</atem:invoke>"  ->  each parameter once, in the
        // schema's order, the required ones always (the template writes them in that order)
        std::vector<std::string> required;
        if (schema.contains("required") && schema["required"].is_array()) {
            for (const auto & r : schema["required"]) {
                if (r.is_string()) required.push_back(r.get<std::string>());
            }
        }
        line = atem_params_in_order(line, required);
        g.replace(line_start, line_end - line_start, line);
    }
    return g;
}

std::string grammar_calls_bounded(const std::string & grammar, int max_calls) {
    std::string g = grammar;
    size_t      end = 0;
    const std::string more = std::to_string(max_calls - 1);
    // tool-calls ::= (tool-call space)+   (Qwen3: one call per block)
    const size_t blocks = rule_line(g, "tool-calls", end);
    if (blocks != std::string::npos) {
        std::string line = g.substr(blocks, end - blocks);
        if (line.size() > 2 && line.compare(line.size() - 2, 2, ")+") == 0) {
            line.replace(line.size() - 1, 1, max_calls > 1 ? "{1," + std::to_string(max_calls) + "}" : "");
            g.replace(blocks, end - blocks, line);
        }
    }
    // tool-call ::= ... (X) (SEP (X))* ...   (the calls after the first)
    const size_t calls = rule_line(g, "tool-call", end);
    if (calls == std::string::npos) return g;
    std::string line = g.substr(calls, end - calls);
    static const std::regex rest(R"re(\(((?:space "," space|"<\|eom\|>" start) \([^()]*\))\)\*)re");
    line = std::regex_replace(line, rest, blocks != std::string::npos || max_calls <= 1 ? std::string() : "($1){0," + more + "}");
    g.replace(calls, end - calls, line);
    return g;
}

std::string grammar_tags_as_tokens(const std::string & grammar, const std::vector<grammar_tag> & tags) {
    std::string g = grammar;
    for (const auto & tag : tags) {
        if (tag.text.empty() || tag.tokens.empty()) continue;
        const std::string literal = gbnf_literal(tag.text);
        std::string       refs;
        for (int32_t id : tag.tokens) refs += (refs.empty() ? "" : " ") + std::string("<[") + std::to_string(id) + "]>";
        if (tag.tokens.size() > 1) refs = "(" + refs + ")";
        for (size_t at = g.find(literal); at != std::string::npos; at = g.find(literal, at + refs.size())) {
            // A literal starts after a space, '(' or '|'; not inside another literal (after a
            // backslash) or a character class.
            if (at > 0 && g[at - 1] != ' ' && g[at - 1] != '(' && g[at - 1] != '|') continue;
            g.replace(at, literal.size(), refs);
        }
    }
    return g;
}

}  // namespace muse
