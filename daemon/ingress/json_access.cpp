#include "daemon/ingress/json_access.hpp"

#include <limits>

namespace linkpilot::ingress::json_access {

namespace json = boost::json;

const json::object* get_object(const json::object* o, std::string_view key) {
    if (o == nullptr) {
        return nullptr;
    }
    const json::value* v = o->if_contains(key);
    return v != nullptr ? v->if_object() : nullptr;
}

const json::array* get_array(const json::object* o, std::string_view key) {
    if (o == nullptr) {
        return nullptr;
    }
    const json::value* v = o->if_contains(key);
    return v != nullptr ? v->if_array() : nullptr;
}

std::optional<std::string> find_string(const json::object* o, std::string_view key) {
    if (o == nullptr) {
        return std::nullopt;
    }
    const json::value* v = o->if_contains(key);
    if (v == nullptr || !v->is_string()) {
        return std::nullopt;
    }
    return std::string(v->get_string());
}

std::string get_string(const json::object* o, std::string_view key) {
    return find_string(o, key).value_or("");
}

std::optional<bool> find_bool(const json::object* o, std::string_view key) {
    if (o == nullptr) {
        return std::nullopt;
    }
    const json::value* v = o->if_contains(key);
    if (v == nullptr || !v->is_bool()) {
        return std::nullopt;
    }
    return v->get_bool();
}

bool get_bool(const json::object* o, std::string_view key) {
    return find_bool(o, key).value_or(false);
}

std::optional<std::int64_t> as_int(const json::value* v) {
    if (v == nullptr) {
        return std::nullopt;
    }
    if (v->is_int64()) {
        return v->get_int64();
    }
    if (v->is_uint64() &&
        v->get_uint64() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return static_cast<std::int64_t>(v->get_uint64());
    }
    return std::nullopt;
}

std::optional<std::int64_t> get_int(const json::object* o, std::string_view key) {
    return o == nullptr ? std::nullopt : as_int(o->if_contains(key));
}

std::string first_non_empty(std::initializer_list<std::string> candidates) {
    for (const auto& c : candidates) {
        if (!c.empty()) {
            return c;
        }
    }
    return "";
}

}  // namespace linkpilot::ingress::json_access
