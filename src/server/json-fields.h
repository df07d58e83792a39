#pragma once
// Typed reads of request fields: a missing required field or a wrong type is a 400 that
// names the field.
#include "server/http-error.h"

#include <nlohmann/json.hpp>

#include <string>

namespace muse::server {

inline std::string str_field(const nlohmann::json & obj, const char * key, const std::string & where, bool required) {
    const std::string param = where.empty() ? std::string(key) : where + "." + key;
    if (!obj.is_object() || !obj.contains(key) || obj[key].is_null()) {
        if (required) throw http_error(400, param + " is required", param, "missing_field");
        return "";
    }
    if (!obj[key].is_string()) throw http_error(400, param + " must be a string", param, "invalid_type");
    return obj[key].get<std::string>();
}

inline const nlohmann::json & obj_field(const nlohmann::json & obj, const char * key, const std::string & where,
                                        bool required) {
    static const nlohmann::json empty = nlohmann::json::object();
    const std::string param = where.empty() ? std::string(key) : where + "." + key;
    if (!obj.is_object() || !obj.contains(key) || obj[key].is_null()) {
        if (required) throw http_error(400, param + " is required", param, "missing_field");
        return empty;
    }
    if (!obj[key].is_object()) throw http_error(400, param + " must be an object", param, "invalid_type");
    return obj[key];
}

inline double num_field(const nlohmann::json & obj, const char * key, double fallback, double lo, double hi) {
    if (!obj.is_object() || !obj.contains(key) || obj[key].is_null()) return fallback;
    if (!obj[key].is_number()) throw http_error(400, std::string(key) + " must be a number", key, "invalid_type");
    const double v = obj[key].get<double>();
    if (v < lo || v > hi) {
        throw http_error(400, std::string(key) + " must be between " + nlohmann::json(lo).dump() + " and " +
                                  nlohmann::json(hi).dump(), key, "out_of_range");
    }
    return v;
}

inline bool bool_field(const nlohmann::json & obj, const char * key, bool fallback) {
    if (!obj.is_object() || !obj.contains(key) || obj[key].is_null()) return fallback;
    if (!obj[key].is_boolean()) throw http_error(400, std::string(key) + " must be true or false", key, "invalid_type");
    return obj[key].get<bool>();
}

}  // namespace muse::server
