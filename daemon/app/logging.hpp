#pragma once

#include <spdlog/logger.h>

#include <memory>
#include <string>

#include "config/config.hpp"

namespace linkpilot::app {

// The daemon's logger on stderr: readable text on a terminal, no timestamp under journald
// (it adds its own), one JSON object per line with `log.format: json`.
std::shared_ptr<spdlog::logger> make_logger(const std::string& name, config::LogFormat format);

// Short SHA-256 of the config file's bytes: which config produced a delivery's verdicts.
std::string fingerprint_file(const std::string& path);

}  // namespace linkpilot::app
