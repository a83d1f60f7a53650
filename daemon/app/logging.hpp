#pragma once

#include <spdlog/common.h>
#include <spdlog/logger.h>

#include <memory>
#include <string>

#include "config/config.hpp"

namespace linkpilot::app {

// Where the log lines go and how they are framed.
struct LogTarget {
    spdlog::sink_ptr sink;
    // stderr is a journald stream: no timestamp (journald stamps lines itself) and a `<N>`
    // syslog priority prefix on every line, which journald turns into the entry's PRIORITY=.
    bool journald = false;
};

// The daemon's logger: readable text on a terminal, one JSON object per line with
// `log.format: json` (the message JSON-escaped, so quotes from payloads or reasons cannot break
// a line), both with syslog priorities under journald.
std::shared_ptr<spdlog::logger> make_logger(const std::string& name, config::LogFormat format,
                                            LogTarget target);
// The same on stderr, journald detected from $JOURNAL_STREAM.
std::shared_ptr<spdlog::logger> make_logger(const std::string& name, config::LogFormat format);

// Whether `fd` is the stream $JOURNAL_STREAM (`DEVICE:INODE`, systemd.exec(5)) names. A process
// that inherited the variable but logs elsewhere (a shell started from a service, a pipe) does
// not match, and keeps timestamps.
bool is_journal_stream(const char* journal_stream, int fd);

// The syslog priority journald reads from a `<N>` prefix (sd-daemon(3)).
int syslog_priority(spdlog::level::level_enum level);

// Short SHA-256 of the config file's bytes: which config produced a delivery's verdicts.
std::string fingerprint_file(const std::string& path);

}  // namespace linkpilot::app
