#include "daemon/ingress/refusal_log.hpp"

#include <fmt/format.h>

#include <iterator>

namespace linkpilot::ingress {

namespace {

constexpr std::size_t kMaxMethod = 20;

struct Kind {
    unsigned status;
    std::string_view reason;
};

Kind describe(Refusal r) {
    switch (r) {
        case Refusal::too_large:
            return {413, "body over server.max_body_bytes"};
        case Refusal::not_found:
            return {404, "no such endpoint"};
        case Refusal::method_not_allowed:
            return {405, "method not allowed"};
    }
    return {0, "refused"};
}

// At most `max` bytes of `s`, "..." when cut; what a terminal or a log parser could take for
// something else (control bytes, non-ASCII, '"' and '\') as \xNN.
std::string printable(std::string_view s, std::size_t max) {
    std::string out;
    auto it = std::back_inserter(out);
    for (std::size_t i = 0; i < s.size() && i < max; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
            fmt::format_to(it, "\\x{:02x}", c);
        } else {
            out += static_cast<char>(c);
        }
    }
    if (s.size() > max) {
        out += "...";
    }
    return out;
}

}  // namespace

std::string loggable_path(std::string_view target, std::size_t max) {
    const auto query = target.find('?');
    auto out = printable(target.substr(0, query), max);
    if (query != std::string_view::npos) {
        out += "?...";
    }
    return out;
}

RefusalLog::RefusalLog(const Clock& clock, std::shared_ptr<spdlog::logger> log,
                       std::chrono::steady_clock::duration interval)
    : clock_(clock), log_(std::move(log)), interval_(interval) {}

void RefusalLog::note(Refusal kind, std::string_view method, std::string_view target,
                      std::string_view peer) {
    auto& state = states_.at(static_cast<std::size_t>(kind));
    const auto now = clock_.steady_now();
    if (state.last_line && now - *state.last_line < interval_) {
        ++state.left_out;
        return;
    }
    const auto [status, reason] = describe(kind);
    std::string line = fmt::format("answered {} ({}) to {} \"{}\" from {}", status, reason,
                                   printable(method, kMaxMethod), loggable_path(target),
                                   peer.empty() ? "-" : peer);
    if (state.left_out > 0) {
        fmt::format_to(std::back_inserter(line),
                       " ({} more {} answers since the previous such line; at most one line per "
                       "{}s)",
                       state.left_out, status,
                       std::chrono::duration_cast<std::chrono::seconds>(interval_).count());
    }
    log_->warn("{}", line);
    state.last_line = now;
    state.left_out = 0;
}

}  // namespace linkpilot::ingress
