#pragma once

// Tolerant accessors for forge payloads, shared by the GitHub and GitLab parsers: a missing
// key, a null or a value of the wrong type reads as absent, never as an error. Forges add,
// drop and null fields between versions; the parsers decide what is required.

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace linkpilot::ingress::json_access {

const boost::json::object* get_object(const boost::json::object* o, std::string_view key);
const boost::json::array* get_array(const boost::json::object* o, std::string_view key);
std::optional<std::string> find_string(const boost::json::object* o, std::string_view key);
std::string get_string(const boost::json::object* o, std::string_view key);  // "" if absent
std::optional<bool> find_bool(const boost::json::object* o, std::string_view key);
bool get_bool(const boost::json::object* o, std::string_view key);  // false if absent
// An integer that fits int64 (JSON numbers parsed as int64 or uint64); doubles are absent.
std::optional<std::int64_t> as_int(const boost::json::value* v);
std::optional<std::int64_t> get_int(const boost::json::object* o, std::string_view key);
std::string first_non_empty(std::initializer_list<std::string> candidates);

}  // namespace linkpilot::ingress::json_access
