#pragma once

// The simulator's world: apps, integration links, review apps, pull requests and
// deployments, kept as objects in Scalingo's own JSON shapes so that what is stored is what
// is served. Persisted to --state FILE (atomic temp + rename) and seeded from --seed FILE
// (format in simulators/scalingo/README.md).

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include "common/expected.hpp"

namespace linkpilot::simulator {

// Scalingo's encoding of a date that was never set.
inline constexpr const char* kZeroDate = "0001-01-01T00:00:00Z";

struct State {
    boost::json::object apps;         // name -> app
    boost::json::object links;        // app name -> scm_repo_link
    boost::json::object review_apps;  // review app name -> review_app record
    boost::json::object pulls;        // app name -> [pull request]
    boost::json::object deployments;  // app name -> [deployment], oldest first
    std::uint64_t next_id = 1;
};

// RFC 3339 UTC with milliseconds: "2026-01-02T03:04:05.678Z".
std::string format_time(std::chrono::system_clock::time_point t);

// A 24-hex-digit id in the style of Scalingo's ids, unique within the state.
std::string new_id(State& s);

boost::json::object make_app(State& s, const std::string& name, const std::string& now,
                             const std::string& parent = {});

// Link fields from a create/update body ({"source", "branch", ...}); `source` is a repo URL.
// Returns the field that failed validation with its message.
struct FieldError {
    std::string field;
    std::string message;
};
Expected<boost::json::object, FieldError> make_link(State& s, const boost::json::object& app,
                                                    const boost::json::object& params,
                                                    const std::string& now);
Expected<void, FieldError> update_link(boost::json::object& link, const boost::json::object& params,
                                       const std::string& now);

boost::json::object make_deployment(State& s, const boost::json::object& app,
                                    const std::string& git_ref, const std::string& now);

// Pull request `number` of the repo linked to `app`: the seeded one when present, else one
// synthesised from the link.
boost::json::object find_or_make_pull(const State& s, const std::string& app,
                                      const boost::json::object& link, std::int64_t number,
                                      const std::string& now);

// Creates (or redeploys) `{parent}-pr{N}` and returns its review_app record.
boost::json::object deploy_review_app(State& s, const std::string& parent, std::int64_t number,
                                      const std::string& now);

// Deletes an app with its link, deployments and review-app record.
void delete_app(State& s, const std::string& name);

boost::json::value to_json(const State& s);
Expected<State, std::string> state_from_json(const boost::json::value& v);

Expected<State, std::string> load_state_file(const std::filesystem::path& path);
// Writes `path.tmp`, fsyncs it and renames it over `path`.
Expected<void, std::string> save_state_file(const State& s, const std::filesystem::path& path);

// Applies a seed document; the error names the entry at fault.
Expected<void, std::string> apply_seed(State& s, const boost::json::value& seed,
                                       const std::string& now);

}  // namespace linkpilot::simulator
