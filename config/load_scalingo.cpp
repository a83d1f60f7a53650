// The `scalingo:` section: endpoints, token, pacing, retries, timeouts.

#include <charconv>
#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>

#include "config/detail/sections.hpp"

namespace linkpilot::config::detail {
namespace {

std::optional<RateLimit> parse_rate(std::string_view s) {
    auto slash = s.find('/');
    if (slash == std::string_view::npos) {
        return std::nullopt;
    }
    std::uint32_t n = 0;
    auto num = s.substr(0, slash);
    auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), n);
    if (ec != std::errc{} || p != num.data() + num.size() || n == 0) {
        return std::nullopt;
    }
    auto unit = s.substr(slash + 1);
    if (unit == "s" || unit == "sec" || unit == "second") {
        return RateLimit{n, std::chrono::seconds(1)};
    }
    if (unit == "min" || unit == "m" || unit == "minute") {
        return RateLimit{n, std::chrono::minutes(1)};
    }
    if (unit == "h" || unit == "hour") {
        return RateLimit{n, std::chrono::hours(1)};
    }
    return std::nullopt;
}

// api_url, auth_url: http(s), without trailing slashes.
void read_url(Reader& r, const Entry& e, std::string& out) {
    if (auto s = r.string(e.value, e.where)) {
        if (s->starts_with("https://") || s->starts_with("http://")) {
            while (s->ends_with('/')) {
                s->pop_back();
            }
            out = *s;
        } else {
            r.error(e.value.Mark(), e.where + ": expected an https:// URL, got \"" + *s + "\"");
        }
    }
}

// Reads a duration into the member `field` of Out.
template <class Out, Duration Out::*field>
void read_duration(Reader& r, const Entry& e, Out& out) {
    if (auto d = r.duration(e.value, e.where)) {
        out.*field = *d;
    }
}

constexpr Fields<Retry, 3> kRetryFields{{
    {"max_attempts",
     [](Reader& r, const Entry& e, Retry& out) {
         if (auto v = r.unsigned_int(e.value, e.where, 1)) {
             out.max_attempts = static_cast<std::uint32_t>(*v);
         }
     }},
    {"initial_backoff", read_duration<Retry, &Retry::initial_backoff>},
    {"max_backoff",
     [](Reader& r, const Entry& e, Retry& out) {
         if (auto d = r.duration(e.value, e.where)) {
             out.max_backoff = *d;
             if (*d < out.initial_backoff) {
                 r.error(e.value.Mark(), e.where + ": must not be below initial_backoff");
             }
         }
     }},
}};

constexpr Fields<CallTimeouts, 3> kTimeoutFields{{
    {"connect", read_duration<CallTimeouts, &CallTimeouts::connect>},
    {"read", read_duration<CallTimeouts, &CallTimeouts::read>},
    {"total", read_duration<CallTimeouts, &CallTimeouts::total>},
}};

// token and token_file are read together, once the table is through (one excludes the other,
// and neither is needed with dry_run).
struct ScalingoDraft {
    Scalingo& out;
    std::optional<YAML::Node> token;  // not a bare YAML::Node: a default one is a defined null
    std::optional<YAML::Node> token_file;
};

constexpr Fields<ScalingoDraft, 9> kScalingoFields{{
    {"api_url", [](Reader& r, const Entry& e, ScalingoDraft& d) { read_url(r, e, d.out.api_url); }},
    {"auth_url",
     [](Reader& r, const Entry& e, ScalingoDraft& d) { read_url(r, e, d.out.auth_url); }},
    {"token", [](Reader&, const Entry& e, ScalingoDraft& d) { d.token = e.value; }},
    {"token_file", [](Reader&, const Entry& e, ScalingoDraft& d) { d.token_file = e.value; }},
    {"dry_run",
     [](Reader& r, const Entry& e, ScalingoDraft& d) {
         if (auto b = r.boolean(e.value, e.where)) {
             d.out.dry_run = *b;
         }
     }},
    {"rate_limit",
     [](Reader& r, const Entry& e, ScalingoDraft& d) {
         if (auto s = r.string(e.value, e.where)) {
             if (auto rl = parse_rate(*s)) {
                 d.out.rate_limit = *rl;
             } else {
                 r.error(e.value.Mark(),
                         e.where + ": expected N/s, N/min or N/h, got \"" + *s + "\"");
             }
         }
     }},
    {"retry", [](Reader& r, const Entry& e,
                 ScalingoDraft& d) { r.read_map(e.value, e.where, kRetryFields, d.out.retry); }},
    {"timeout",
     [](Reader& r, const Entry& e, ScalingoDraft& d) {
         if (r.read_map(e.value, e.where, kTimeoutFields, d.out.timeout) &&
             d.out.timeout.total < d.out.timeout.read) {
             r.error(e.value.Mark(), e.where + ".total: must not be below read");
         }
     }},
    {"ca_file",
     [](Reader& r, const Entry& e, ScalingoDraft& d) {
         if (auto s = r.string(e.value, e.where)) {
             if (!std::filesystem::exists(*s)) {
                 r.error(e.value.Mark(), e.where + ": \"" + *s + "\" does not exist");
             } else {
                 d.out.ca_file = *s;
             }
         }
     }},
}};

void read_token(Reader& r, const Entry& e, const ScalingoDraft& d) {
    const auto& token = d.token;
    const auto& token_file = d.token_file;
    if (token && token_file) {
        r.error(token_file->Mark(), "scalingo: give either token or token_file, not both");
    } else if (token && !token->IsScalar()) {
        r.error(token->Mark(), "scalingo.token: expected a string, got " + node_kind(*token));
    } else if (token_file && !token_file->IsScalar()) {
        r.error(token_file->Mark(),
                "scalingo.token_file: expected a string, got " + node_kind(*token_file));
    } else if (!r.needs().scalingo_token && (token || token_file)) {
        // Given, but this command never calls Scalingo: not expanded, not read.
    } else if (token) {
        if (auto s = r.string(*token, "scalingo.token")) {
            d.out.token = Secret(*s);
        }
    } else if (token_file) {
        if (auto s = r.secret_from_file(*token_file, "scalingo.token_file")) {
            d.out.token = *s;
        }
    } else if (!d.out.dry_run) {
        r.error(e.value.Mark(), "scalingo: token or token_file is required (unless dry_run: true)");
    }
}

}  // namespace

void read_scalingo(Reader& r, const Entry& e, Scalingo& out) {
    ScalingoDraft d{out, {}, {}};
    if (r.read_map(e.value, e.where, kScalingoFields, d)) {
        read_token(r, e, d);
    }
}

}  // namespace linkpilot::config::detail
