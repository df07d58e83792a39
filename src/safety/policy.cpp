#include "safety/policy.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace muse::safety {

using nlohmann::json;

const char * policy_action_name(policy_action a) {
    switch (a) {
        case POLICY_ACTION_ALLOW:
            return "allow";
        case POLICY_ACTION_WARN:
            return "warn";
        case POLICY_ACTION_BLOCK:
            return "block";
    }
    return "?";
}

const policy_category * policy::category_find(const std::string & id) const {
    for (const auto & c : categories) {
        if (c.id == id)
            return &c;
    }
    return nullptr;
}

bool category_id_valid(const std::string & id) {
    if (id.size() < 2 || id.size() > 4 || id[0] != 'S' || id[1] == '0')
        return false;
    for (size_t i = 1; i < id.size(); ++i) {
        if (id[i] < '0' || id[i] > '9')
            return false;
    }
    return true;
}

policy policy_default() {
    policy p;
    p.refusal =
        "I can't help with that. If you think this was a mistake, rephrase the request or ask the "
        "operator of this assistant to review its safety policy.";
    p.health.note =
        "Note: I'm not a clinician and this is not medical advice. For a diagnosis, a dose or a "
        "treatment, ask a doctor or a pharmacist; in an emergency, call your local emergency number.";
    p.health.crisis_text =
        "It sounds like you are going through something really painful, and you don't have to face it alone. "
        "If you might act on thoughts of ending your life, or are in danger now, call your local emergency "
        "number. You can talk to someone right now, for free and in confidence: in the US call or text 988 "
        "(Suicide & Crisis Lifeline); in the UK and Ireland call Samaritans on 116 123; in Canada call or text "
        "988; in Australia call Lifeline on 13 11 14; elsewhere, https://findahelpline.com lists the lines in "
        "your country. If you can, tell someone you trust how you feel.";
    const auto add = [&](const char * id, const char * name, policy_action a, const char * refusal = "") {
        p.categories.push_back({ id, name, a, refusal });
    };
    add("S1", "Violent Crimes", POLICY_ACTION_BLOCK);
    add("S2", "Non-Violent Crimes", POLICY_ACTION_BLOCK);
    add("S3", "Sex-Related Crimes", POLICY_ACTION_BLOCK);
    add("S4", "Child Sexual Exploitation", POLICY_ACTION_BLOCK,
        "I can't help with that: sexual content involving minors is never allowed. If a child is in danger, "
        "contact your local police; to report abuse material online, use the NCMEC CyberTipline "
        "(report.cybertip.org) or the IWF (report.iwf.org.uk).");
    add("S5", "Defamation", POLICY_ACTION_WARN);
    add("S6", "Specialized Advice", POLICY_ACTION_WARN);
    add("S7", "Privacy", POLICY_ACTION_WARN);
    add("S8", "Intellectual Property", POLICY_ACTION_WARN);
    add("S9", "Indiscriminate Weapons", POLICY_ACTION_BLOCK,
        "I can't help with that: it could contribute to weapons capable of mass casualties (chemical, "
        "biological, radiological, nuclear or explosive). I'm glad to talk about the history, the science "
        "at textbook level, or policy and safety instead.");
    add("S10", "Hate", POLICY_ACTION_WARN);
    add("S11", "Suicide & Self-Harm", POLICY_ACTION_BLOCK);
    add("S12", "Sexual Content", POLICY_ACTION_WARN);
    add("S13", "Elections", POLICY_ACTION_WARN);
    add("S14", "Code Interpreter Abuse", POLICY_ACTION_BLOCK,
        "I stopped here: the content or the tool call tried to override my instructions or to read "
        "secrets (credentials, keys, the environment, the database), which this assistant does not do.");
    return p;
}

namespace {

[[noreturn]] void fail(const std::string & origin, const std::string & field, const std::string & problem,
                       const std::string & fix) {
    throw policy_error(origin + ": " + (field.empty() ? "" : field + ": ") + problem + "; " + fix);
}

std::string type_of(const json & j) {
    return j.type_name();
}

void fields_known(const json & obj, const std::string & origin, const std::string & where,
                  std::initializer_list<const char *> known) {
    for (auto it = obj.begin(); it != obj.end(); ++it) {
        bool        ok = false;
        std::string names;
        for (const char * k : known) {
            ok = ok || it.key() == k;
            names += (names.empty() ? "" : ", ") + std::string(k);
        }
        if (!ok) {
            fail(origin, where + it.key(), "unknown field",
                 "the fields here are " + names + " (see docs/safety-policy.md)");
        }
    }
}

std::string string_field(const json & obj, const char * key, const std::string & origin, const std::string & where,
                         const std::string & fallback) {
    if (!obj.contains(key))
        return fallback;
    const json & v = obj[key];
    if (!v.is_string())
        fail(origin, where + key, "is " + type_of(v) + ", not a string", "write it as a JSON string");
    return v.get<std::string>();
}

bool bool_field(const json & obj, const char * key, const std::string & origin, const std::string & where,
                bool fallback) {
    if (!obj.contains(key))
        return fallback;
    const json & v = obj[key];
    if (!v.is_boolean())
        fail(origin, where + key, "is " + type_of(v) + ", not true or false", "write true or false");
    return v.get<bool>();
}

policy_action action_parse(const json & v, const std::string & origin, const std::string & field) {
    if (v.is_string()) {
        const std::string s = v.get<std::string>();
        if (s == "allow")
            return POLICY_ACTION_ALLOW;
        if (s == "warn")
            return POLICY_ACTION_WARN;
        if (s == "block")
            return POLICY_ACTION_BLOCK;
        fail(origin, field, "unknown action \"" + s + "\"", "use \"block\", \"warn\" or \"allow\"");
    }
    fail(origin, field, "is " + type_of(v) + ", not an action", "use \"block\", \"warn\" or \"allow\"");
}

}  // namespace

policy policy_parse(const std::string & json_text, const std::string & origin) {
    json root;
    try {
        root = json::parse(json_text);
    } catch (const json::parse_error & e) {
        fail(origin, "", std::string("not valid JSON (") + e.what() + ")",
             "fix the syntax, or start from the output of `muse policy show`");
    }
    if (!root.is_object()) {
        fail(origin, "", "the policy is " + type_of(root) + ", not a JSON object",
             "write an object such as {\"categories\": [{\"id\": \"S9\", \"action\": \"block\"}]}");
    }
    fields_known(
        root, origin, "",
        { "refusal", "health", "check_input", "check_output", "stream_check_chars", "guard_grammar", "categories" });

    policy p  = policy_default();
    p.refusal = string_field(root, "refusal", origin, "", p.refusal);
    if (p.refusal.empty())
        fail(origin, "refusal", "is empty", "write the text sent instead of a blocked answer");
    p.check_input   = bool_field(root, "check_input", origin, "", p.check_input);
    p.check_output  = bool_field(root, "check_output", origin, "", p.check_output);
    p.guard_grammar = string_field(root, "guard_grammar", origin, "", p.guard_grammar);
    if (root.contains("stream_check_chars")) {
        const json & v = root["stream_check_chars"];
        if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > (1 << 20)) {
            fail(origin, "stream_check_chars", "is " + v.dump() + ", not a whole number from 0 to 1048576",
                 "write how many new characters of a streamed answer trigger a check (256 is the default; 0 checks "
                 "only at the end)");
        }
        p.stream_check_chars = (size_t)v.get<int64_t>();
    }
    if (root.contains("health")) {
        const json & h = root["health"];
        if (!h.is_object())
            fail(origin, "health", "is " + type_of(h) + ", not an object",
                 "write {\"enabled\": true, \"note\": \"...\", \"crisis_text\": \"...\"}");
        fields_known(h, origin, "health.", { "enabled", "note", "crisis_text" });
        p.health.enabled     = bool_field(h, "enabled", origin, "health.", p.health.enabled);
        p.health.note        = string_field(h, "note", origin, "health.", p.health.note);
        p.health.crisis_text = string_field(h, "crisis_text", origin, "health.", p.health.crisis_text);
        if (p.health.enabled && p.health.crisis_text.empty()) {
            fail(origin, "health.crisis_text", "is empty while health is enabled",
                 "write the resources a person in crisis gets (helplines), or set health.enabled to false");
        }
    }
    if (root.contains("categories")) {
        const json & cats = root["categories"];
        if (!cats.is_array())
            fail(origin, "categories", "is " + type_of(cats) + ", not an array",
                 "write a list of {\"id\": \"S1\", \"action\": \"block\"} objects");
        std::set<std::string> seen;
        for (size_t i = 0; i < cats.size(); ++i) {
            const json &      c     = cats[i];
            const std::string where = "categories[" + std::to_string(i) + "].";
            if (!c.is_object())
                fail(origin, "categories[" + std::to_string(i) + "]", "is " + type_of(c) + ", not an object",
                     "write {\"id\": \"S1\", \"action\": \"block\"}");
            fields_known(c, origin, where, { "id", "name", "action", "refusal" });
            if (!c.contains("id"))
                fail(origin, where + "id", "is missing", "name the category, e.g. \"S9\"");
            const std::string id = string_field(c, "id", origin, where, "");
            if (!category_id_valid(id)) {
                fail(origin, where + "id", "\"" + id + "\" is not a category id",
                     "write S and a number from 1 to 999, e.g. \"S9\" (S1-S14 are Llama Guard 3's; add S15 and up)");
            }
            if (!seen.insert(id).second) {
                fail(origin, where + "id", "\"" + id + "\" is listed twice", "keep one entry per category id");
            }
            policy_category * cat = nullptr;
            for (auto & d : p.categories) {
                if (d.id == id)
                    cat = &d;
            }
            if (!cat) {
                if (!c.contains("name"))
                    fail(origin, where + "name", "is missing for the new category " + id,
                         "give it a name, e.g. \"Financial Advice\"");
                p.categories.push_back({ id, "", POLICY_ACTION_BLOCK, "" });
                cat = &p.categories.back();
            }
            cat->name = string_field(c, "name", origin, where, cat->name);
            if (cat->name.empty())
                fail(origin, where + "name", "is empty", "give the category a name");
            if (c.contains("action"))
                cat->action = action_parse(c["action"], origin, where + "action");
            cat->refusal = string_field(c, "refusal", origin, where, cat->refusal);
        }
    }
    return p;
}

policy policy_load(const std::string & path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw policy_error(path + ": cannot read the policy file; check the path (`muse policy show > " + path +
                           "` writes the default to start from)");
    }
    std::stringstream ss;
    ss << in.rdbuf();
    return policy_parse(ss.str(), path);
}

std::string policy_json(const policy & p) {
    using ojson = nlohmann::ordered_json;
    ojson cats  = ojson::array();
    for (const auto & c : p.categories) {
        cats.push_back({ { "id", c.id },
                         { "name", c.name },
                         { "action", policy_action_name(c.action) },
                         { "refusal", c.refusal } });
    }
    ojson root = {
        { "refusal", p.refusal },
        { "check_input", p.check_input },
        { "check_output", p.check_output },
        { "stream_check_chars", p.stream_check_chars },
        { "guard_grammar", p.guard_grammar },
        { "health",
          { { "enabled", p.health.enabled }, { "note", p.health.note }, { "crisis_text", p.health.crisis_text } } },
        { "categories", cats },
    };
    return root.dump(2) + "\n";
}

}  // namespace muse::safety
