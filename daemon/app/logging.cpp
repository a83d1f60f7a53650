#include "daemon/app/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/sha256.hpp"

namespace linkpilot::app {

namespace {

// %* : "<N>", the line's syslog priority.
class PriorityFlag final : public spdlog::custom_flag_formatter {
  public:
    void format(const spdlog::details::log_msg& msg, const std::tm& /*tm*/,
                spdlog::memory_buf_t& dest) override {
        const auto text = fmt::format("<{}>", syslog_priority(msg.level));
        dest.append(text.data(), text.data() + text.size());
    }
    [[nodiscard]] std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<PriorityFlag>();
    }
};

// %J : the message as a quoted, escaped JSON string.
class JsonMessageFlag final : public spdlog::custom_flag_formatter {
  public:
    void format(const spdlog::details::log_msg& msg, const std::tm& /*tm*/,
                spdlog::memory_buf_t& dest) override {
        const auto text = boost::json::serialize(
            boost::json::string(boost::json::string_view(msg.payload.data(), msg.payload.size())));
        dest.append(text.data(), text.data() + text.size());
    }
    [[nodiscard]] std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<JsonMessageFlag>();
    }
};

}  // namespace

int syslog_priority(spdlog::level::level_enum level) {
    switch (level) {
        case spdlog::level::critical:
            return 2;  // LOG_CRIT
        case spdlog::level::err:
            return 3;  // LOG_ERR
        case spdlog::level::warn:
            return 4;  // LOG_WARNING
        case spdlog::level::info:
            return 6;  // LOG_INFO
        default:
            return 7;  // LOG_DEBUG
    }
}

bool is_journal_stream(const char* journal_stream, int fd) {
    if (journal_stream == nullptr) {
        return false;
    }
    unsigned long long dev = 0;
    unsigned long long ino = 0;
    // NOLINTNEXTLINE(cert-err34-c): a malformed value simply does not match
    if (std::sscanf(journal_stream, "%llu:%llu", &dev, &ino) != 2) {
        return false;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        return false;
    }
    return static_cast<unsigned long long>(st.st_dev) == dev &&
           static_cast<unsigned long long>(st.st_ino) == ino;
}

std::shared_ptr<spdlog::logger> make_logger(const std::string& name, config::LogFormat format,
                                            LogTarget target) {
    auto log = std::make_shared<spdlog::logger>(name, std::move(target.sink));
    const std::string priority = target.journald ? "%*" : "";
    std::string pattern;
    auto time = spdlog::pattern_time_type::utc;
    if (format == config::LogFormat::json) {
        // Shippers read the time from the line, journald or not.
        pattern =
            priority + R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","logger":"%n","msg":%J})";
    } else if (target.journald) {
        pattern = priority + "%l %v";
    } else {
        pattern = "%Y-%m-%dT%H:%M:%S.%eZ %l %v";
    }
    auto formatter =
        std::make_unique<spdlog::pattern_formatter>(time, spdlog::details::os::default_eol);
    formatter->add_flag<PriorityFlag>('*').add_flag<JsonMessageFlag>('J').set_pattern(pattern);
    log->set_formatter(std::move(formatter));
    log->flush_on(spdlog::level::info);
    return log;
}

std::shared_ptr<spdlog::logger> make_logger(const std::string& name, config::LogFormat format) {
    return make_logger(name, format,
                       LogTarget{std::make_shared<spdlog::sinks::stderr_sink_mt>(),
                                 // NOLINTNEXTLINE(concurrency-mt-unsafe): read once at start
                                 is_journal_stream(std::getenv("JOURNAL_STREAM"), STDERR_FILENO)});
}

std::string fingerprint_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    // The first 12 hex digits: enough to tell config versions apart in a log line.
    return sha256_hex(ss.str()).value_or(std::string()).substr(0, 12);
}

}  // namespace linkpilot::app
