#pragma once

// Internal to the config library: one reader per top-level section of the file, each in its
// own config/load_*.cpp, called by the driver in config/load.cpp with the section's node.

#include <yaml-cpp/yaml.h>

#include <optional>
#include <vector>

#include "config/config.hpp"
#include "config/detail/yaml_reader.hpp"

namespace linkpilot::config::detail {

// load_service.cpp: the daemon's own settings.
void read_server(Reader& r, const Entry& e, Server& out);
void read_state(Reader& r, const Entry& e, State& out);
void read_jobs(Reader& r, const Entry& e, Jobs& out);
void read_log(Reader& r, const Entry& e, Log& out);

// load_scalingo.cpp
void read_scalingo(Reader& r, const Entry& e, Scalingo& out);

// load_providers.cpp
void read_providers(Reader& r, const Entry& e, Providers& out);
// Fail closed (SPEC 3): a rule no configured provider can deliver to is an error, at the rule
// (`rule_marks`, one per rule) or, when no provider is configured at all, at `rules_mark`.
void check_deliverable(Reader& r, const Config& cfg, const YAML::Mark& rules_mark,
                       const std::vector<YAML::Mark>& rule_marks);

// load_freeze.cpp
void read_freeze(Reader& r, const Entry& e, std::vector<FreezeWindow>& out);

// load_rules.cpp: `rules`, with the mark of each rule kept in `marks` for later checks.
void read_rules(Reader& r, const Entry& e, std::vector<rules::Rule>& out,
                std::vector<YAML::Mark>& marks);

// load_prune.cpp
std::optional<Prune> read_prune(Reader& r, const Entry& e);

}  // namespace linkpilot::config::detail
