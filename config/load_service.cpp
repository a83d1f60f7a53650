// The daemon's own settings: server, state, jobs, log.

#include <boost/asio/ip/address.hpp>
#include <charconv>
#include <chrono>
#include <string>
#include <string_view>

#include "config/detail/sections.hpp"

namespace linkpilot::config {

std::string ListenAddress::to_string() const {
    if (host.find(':') != std::string::npos) {
        return "[" + host + "]:" + std::to_string(port);
    }
    return host + ":" + std::to_string(port);
}

namespace detail {
namespace {

std::optional<ListenAddress> parse_listen(std::string_view s) {
    std::string_view host;
    std::string_view port;
    if (s.starts_with('[')) {
        auto close = s.find("]:");
        if (close == std::string_view::npos) {
            return std::nullopt;
        }
        host = s.substr(1, close - 1);
        port = s.substr(close + 2);
    } else {
        auto colon = s.rfind(':');
        if (colon == std::string_view::npos) {
            return std::nullopt;
        }
        host = s.substr(0, colon);
        port = s.substr(colon + 1);
        if (host.find(':') != std::string_view::npos) {
            return std::nullopt;  // IPv6 needs brackets
        }
    }
    if (host == "localhost") {
        host = "127.0.0.1";
    }
    boost::system::error_code ec;
    boost::asio::ip::make_address(std::string(host), ec);
    if (ec) {
        return std::nullopt;
    }
    unsigned value = 0;
    auto [p, perr] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (perr != std::errc{} || p != port.data() + port.size() || port.empty() || value > 65535) {
        return std::nullopt;
    }
    return ListenAddress{std::string(host), static_cast<std::uint16_t>(value)};
}

// server.tls: set only when both files are given.
struct TlsDraft {
    std::optional<std::string> cert_file;
    std::optional<std::string> key_file;
};

constexpr Fields<TlsDraft, 2> kTlsFields{{
    {"cert_file",
     [](Reader& r, const Entry& e, TlsDraft& out) { out.cert_file = r.string(e.value, e.where); },
     [](Reader& r, const Entry& e, TlsDraft&) { r.missing(e, ""); }},
    {"key_file",
     [](Reader& r, const Entry& e, TlsDraft& out) { out.key_file = r.string(e.value, e.where); },
     [](Reader& r, const Entry& e, TlsDraft&) { r.missing(e, ""); }},
}};

constexpr Fields<Server, 4> kServerFields{{
    {"listen",
     [](Reader& r, const Entry& e, Server& out) {
         if (auto s = r.string(e.value, e.where)) {
             if (auto addr = parse_listen(*s)) {
                 out.listen = *addr;
             } else {
                 r.error(e.value.Mark(), e.where + ": bad listen address \"" + *s +
                                             "\" (use IP:PORT, e.g. 127.0.0.1:8787 or [::]:8787)");
             }
         }
     }},
    {"max_body_bytes",
     [](Reader& r, const Entry& e, Server& out) {
         if (auto v = r.unsigned_int(e.value, e.where, 1)) {
             out.max_body_bytes = *v;
         }
     }},
    {"request_timeout",
     [](Reader& r, const Entry& e, Server& out) {
         if (auto d = r.duration(e.value, e.where)) {
             out.request_timeout = *d;
         }
     }},
    {"tls",
     [](Reader& r, const Entry& e, Server& out) {
         TlsDraft tls;
         if (r.read_map(e.value, e.where, kTlsFields, tls) && tls.cert_file && tls.key_file) {
             out.tls = TlsFiles{*tls.cert_file, *tls.key_file};
         }
     }},
}};

// Which of path and url the file gives, for the checks across them.
struct StateDraft {
    State& out;
    bool path_given = false;
    bool url_given = false;
};

constexpr Fields<StateDraft, 4> kStateFields{{
    {"path",
     [](Reader& r, const Entry& e, StateDraft& d) {
         d.path_given = true;
         if (auto s = r.string(e.value, e.where)) {
             d.out.path = *s;
         }
     }},
    {"url",
     [](Reader& r, const Entry& e, StateDraft& d) {
         d.url_given = true;
         if (auto s = r.string(e.value, e.where)) {
             if (s->starts_with("postgresql://") || s->starts_with("postgres://")) {
                 d.out.url = Secret(*s);
             } else {
                 r.error(e.value.Mark(), e.where + ": expected a postgresql:// URL");
             }
         }
         if (d.path_given) {
             r.error(e.value.Mark(),
                     "state: give either path (SQLite) or url (PostgreSQL), not both");
         }
     }},
    {"lease",
     [](Reader& r, const Entry& e, StateDraft& d) {
         if (!d.url_given) {
             r.error(e.value.Mark(), e.where + ": only used with state.url (PostgreSQL replicas)");
         } else if (auto lease = r.duration(e.value, e.where, false)) {
             if (*lease < std::chrono::seconds(3)) {
                 r.error(e.value.Mark(),
                         e.where + ": at least 3s (a replica renews it every second)");
             } else {
                 d.out.lease = *lease;
             }
         }
     }},
    {"keep_payloads",
     [](Reader& r, const Entry& e, StateDraft& d) {
         if (auto k = r.duration(e.value, e.where, true)) {
             d.out.keep_payloads = *k;
         }
     }},
}};

constexpr Fields<Jobs, 1> kJobsFields{{
    {"max_concurrency",
     [](Reader& r, const Entry& e, Jobs& out) {
         if (auto v = r.unsigned_int(e.value, e.where, 1)) {
             out.max_concurrency = static_cast<std::uint32_t>(*v);
         }
     }},
}};

constexpr Fields<Log, 1> kLogFields{{
    {"format",
     [](Reader& r, const Entry& e, Log& out) {
         if (auto s = r.string(e.value, e.where)) {
             if (*s == "text") {
                 out.format = LogFormat::text;
             } else if (*s == "json") {
                 out.format = LogFormat::json;
             } else {
                 r.error(e.value.Mark(), e.where + ": expected text or json, got \"" + *s + "\"");
             }
         }
     }},
}};

}  // namespace

void read_server(Reader& r, const Entry& e, Server& out) {
    r.read_map(e.value, e.where, kServerFields, out);
}

void read_state(Reader& r, const Entry& e, State& out) {
    StateDraft d{out};
    r.read_map(e.value, e.where, kStateFields, d);
}

void read_jobs(Reader& r, const Entry& e, Jobs& out) {
    r.read_map(e.value, e.where, kJobsFields, out);
}

void read_log(Reader& r, const Entry& e, Log& out) {
    r.read_map(e.value, e.where, kLogFields, out);
}

}  // namespace detail
}  // namespace linkpilot::config
