#include "daemon/app/logging.hpp"

#include <openssl/evp.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace linkpilot::app {

std::shared_ptr<spdlog::logger> make_logger(const std::string& name, config::LogFormat format) {
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    auto log = std::make_shared<spdlog::logger>(name, sink);
    if (format == config::LogFormat::json) {
        // Messages are built by us and never hold quotes from payloads unescaped... except
        // reasons; spdlog has no JSON escaping, so messages keep to printable text.
        log->set_pattern(
            R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","logger":"%n","msg":"%v"})",
            spdlog::pattern_time_type::utc);
    } else if (std::getenv("JOURNAL_STREAM") != nullptr) {  // NOLINT(concurrency-mt-unsafe)
        log->set_pattern("%l %v");                          // journald stamps lines itself
    } else {
        log->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
    }
    log->flush_on(spdlog::level::info);
    return log;
}

std::string fingerprint_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    const std::string bytes = ss.str();
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int len = 0;
    EVP_Digest(bytes.data(), bytes.size(), md.data(), &len, EVP_sha256(), nullptr);
    static constexpr std::string_view kHex = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < 6 && i < len; ++i) {
        out += kHex[md[i] >> 4];
        out += kHex[md[i] & 0xF];
    }
    return out;
}

}  // namespace linkpilot::app
