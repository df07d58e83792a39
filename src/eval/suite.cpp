#include "eval/suite.h"

#include "engine/error.h"
#include "engine/text-trim.h"
#include "reason/answer.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace muse::eval {

namespace {

checker_kind checker_parse(const std::string & name, const std::string & where) {
    for (checker_kind k : { CHECKER_KIND_EXACT, CHECKER_KIND_NUMERIC, CHECKER_KIND_REGEX, CHECKER_KIND_JSON }) {
        if (name == checker_kind_name(k)) return k;
    }
    throw input_error(where + ": unknown checker \"" + name + "\"; use exact, numeric, regex or json");
}

std::string string_field(const nlohmann::json & j, const char * key, const std::string & where, bool required) {
    if (!j.contains(key)) {
        if (required) throw input_error(where + ": missing \"" + key + "\"");
        return "";
    }
    const auto & v = j[key];
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number()) return v.dump();
    throw input_error(where + ": \"" + key + "\" must be a string");
}

}  // namespace

const char * checker_kind_name(checker_kind k) {
    switch (k) {
        case CHECKER_KIND_EXACT: return "exact";
        case CHECKER_KIND_NUMERIC: return "numeric";
        case CHECKER_KIND_REGEX: return "regex";
        case CHECKER_KIND_JSON: return "json";
    }
    return "?";
}

std::vector<eval_item> suite_parse(const std::string & text, const std::string & origin) {
    std::vector<eval_item> items;
    std::set<std::string>  ids;
    std::istringstream     in(text);
    std::string            line;
    for (int n = 1; std::getline(in, line); n++) {
        if (trim(line).empty()) continue;
        const std::string where = origin + ":" + std::to_string(n);
        const auto        j     = nlohmann::json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.is_object()) {
            throw input_error(where + ": not a JSON object; each line is one item such as "
                                      "{\"question\": \"What is 2 + 2?\", \"answer\": \"4\"}");
        }
        eval_item it;
        it.id       = string_field(j, "id", where, false);
        if (it.id.empty()) it.id = std::to_string(n);
        it.question = string_field(j, "question", where, true);
        it.answer   = string_field(j, "answer", where, true);
        if (trim(it.question).empty()) throw input_error(where + ": the question is empty");
        const std::string checker = string_field(j, "checker", where, false);
        it.checker = checker.empty() ? (reason::number_normalize(it.answer).empty() ? CHECKER_KIND_EXACT : CHECKER_KIND_NUMERIC)
                                     : checker_parse(checker, where);
        it.field = string_field(j, "field", where, false);
        if (it.checker == CHECKER_KIND_NUMERIC && reason::number_normalize(it.answer).empty()) {
            throw input_error(where + ": checker numeric, but the answer \"" + it.answer + "\" is not a number");
        }
        if (it.checker == CHECKER_KIND_REGEX) {
            try {
                std::regex re(it.answer);
            } catch (const std::regex_error & e) {
                throw input_error(where + ": the answer is not a valid regex (" + e.what() + ")");
            }
        }
        if (it.checker == CHECKER_KIND_JSON && it.field.empty()) {
            throw input_error(where + ": checker json needs \"field\", the key whose value is compared");
        }
        if (j.contains("tags")) {
            if (!j["tags"].is_object()) throw input_error(where + ": \"tags\" must be an object");
            it.tags = j["tags"].dump();
        }
        if (!ids.insert(it.id).second) throw input_error(where + ": the id \"" + it.id + "\" is used twice");
        items.push_back(std::move(it));
    }
    if (items.empty()) throw input_error(origin + ": the suite has no items");
    return items;
}

std::vector<eval_item> suite_load(const std::string & path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw input_error(path + ": cannot read the suite; check the path");
    std::ostringstream s;
    s << in.rdbuf();
    return suite_parse(s.str(), path);
}

bool answer_check(const eval_item & item, const std::string & content, std::string * got) {
    std::string read;
    bool        ok = false;
    switch (item.checker) {
        case CHECKER_KIND_EXACT:
            read = trim(content);
            ok   = read == trim(item.answer);
            break;
        case CHECKER_KIND_NUMERIC: {
            const auto a = reason::answer_extract(content);
            read         = a.kind == reason::ANSWER_KIND_NUMBER ? a.value : "";
            ok           = !read.empty() && read == reason::number_normalize(item.answer);
            break;
        }
        case CHECKER_KIND_REGEX:
            read = trim(content);
            ok   = std::regex_search(content, std::regex(item.answer));
            break;
        case CHECKER_KIND_JSON: {
            const auto j = nlohmann::json::parse(trim(content), nullptr, false);
            if (j.is_object() && j.contains(item.field)) {
                const auto & v = j[item.field];
                read           = v.is_string() ? v.get<std::string>() : v.dump();
                ok             = read == item.answer;
            }
            break;
        }
    }
    if (got) *got = read;
    return ok;
}

}  // namespace muse::eval
