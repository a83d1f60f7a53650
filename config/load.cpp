#include "config/load.hpp"

#include <date/tz.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <boost/asio/ip/address.hpp>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>

#include "rules/engine.hpp"

namespace linkpilot::config {

namespace {

using KeyList = std::initializer_list<std::string_view>;

// `${VAR}` is not valid in a YAML flow sequence (`{` opens a flow map), yet the SPEC's own
// example writes `secrets: [${GITHUB_WEBHOOK_SECRET}]`. Before parsing, each `${` becomes
// kVarOpen and its `}` kVarClose: the same number of bytes, so every mark stays exact, and
// characters a plain scalar may hold in flow context. expand() reads the protected form.
constexpr std::string_view kVarOpen = "\xC2\xA7";  // U+00A7, two bytes like "${"
constexpr char kVarClose = ')';

std::string protect_variables(std::string_view text) {
    std::string out(text);
    for (std::size_t i = 0; i + 1 < out.size(); ++i) {
        if (out[i] == '$' && out[i + 1] == '$') {
            ++i;  // `$$` escapes a dollar
            continue;
        }
        if (out[i] != '$' || out[i + 1] != '{') {
            continue;
        }
        auto close = out.find_first_of("}\n", i + 2);
        if (close == std::string::npos || out[close] != '}') {
            continue;  // left as is; expand() reports nothing, the text stays literal
        }
        out.replace(i, 2, kVarOpen);
        out[close] = kVarClose;
        i = close;
    }
    return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> prev(b.size() + 1);
    std::vector<std::size_t> cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) {
        prev[j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
        }
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

std::string did_you_mean(std::string_view key, KeyList known) {
    std::string_view best;
    std::size_t best_d = 3;  // suggest only near misses
    for (auto k : known) {
        auto d = edit_distance(key, k);
        if (d < best_d) {
            best_d = d;
            best = k;
        }
    }
    return best.empty() ? std::string{} : " (did you mean \"" + std::string(best) + "\"?)";
}

std::string lower_ascii(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

// For `on:`: the forges' own words first (`pr`, `merge_request`, `pipeline`, ...), where an
// edit distance would pick the wrong event (`pr` is as close to `ci` as to nothing else).
std::string suggest_event(std::string_view given) {
    const std::string s = lower_ascii(given);
    struct Alias {
        std::string_view word;
        std::string_view event;
    };
    static constexpr std::array<Alias, 16> kAliases{{
        {"pr", "pull_request"},
        {"prs", "pull_request"},
        {"pull", "pull_request"},
        {"pull_requests", "pull_request"},
        {"mr", "pull_request"},
        {"merge_request", "pull_request"},
        {"merge request hook", "pull_request"},
        {"pipeline", "ci"},
        {"pipeline hook", "ci"},
        {"workflow", "ci"},
        {"workflow_run", "ci"},
        {"check_suite", "ci"},
        {"release", "tag"},
        {"tags", "tag"},
        {"tag push hook", "tag"},
        {"push hook", "push"},
    }};
    for (const auto& a : kAliases) {
        if (a.word == s) {
            return " (did you mean \"" + std::string(a.event) + "\"?)";
        }
    }
    return did_you_mean(s, {"push", "tag", "pull_request", "ci"});
}

std::string join(KeyList keys) {
    std::string out;
    for (auto k : keys) {
        out += (out.empty() ? "" : ", ") + std::string(k);
    }
    return out;
}

std::string node_kind(const YAML::Node& n) {
    if (n.IsMap()) {
        return "a map";
    }
    if (n.IsSequence()) {
        return "a list";
    }
    if (n.IsNull()) {
        return "nothing";
    }
    return "\"" + n.Scalar() + "\"";
}

// Walks the YAML tree, converting as it goes and collecting every problem with its mark.
class Parser {
  public:
    Parser(std::string file, const EnvLookup& env, Needs needs)
        : file_(std::move(file)), env_(env), needs_(needs) {}

    std::vector<Error>& errors() { return errors_; }

    void error(const YAML::Mark& m, std::string message) {
        errors_.push_back(at(m, std::move(message)));
    }

    void warning(const YAML::Mark& m, const std::string& message, Config& cfg) const {
        cfg.warnings.push_back(at(m, "warning: " + message).to_string());
    }

    // Reports unknown and duplicate keys; returns false when `node` is not a map.
    bool check_map(const YAML::Node& node, std::string_view where, KeyList known) {
        if (!node.IsMap()) {
            error(node.Mark(), std::string(where) + ": expected a map, got " + node_kind(node));
            return false;
        }
        std::set<std::string> seen;
        for (auto it = node.begin(); it != node.end(); ++it) {
            const YAML::Node key = it->first;
            if (!key.IsScalar()) {
                error(key.Mark(), std::string(where) + ": keys must be plain strings");
                continue;
            }
            const auto& k = key.Scalar();
            if (!seen.insert(k).second) {
                error(key.Mark(), std::string(where) + ": duplicate key \"" + k + "\"");
            }
            if (std::find(known.begin(), known.end(), k) == known.end()) {
                error(key.Mark(), std::string(where) + ": unknown key \"" + k + "\"" +
                                      did_you_mean(k, known) + "; known keys: " + join(known));
            }
        }
        return true;
    }

    // ${VAR} and ${VAR:-default} from the environment; `$$` is a literal `$`. The text was
    // pre-processed by protect_variables(), so a reference reads kVarOpen NAME kVarClose here.
    std::optional<std::string> expand(const YAML::Node& node, std::string_view where) {
        const std::string& in = node.Scalar();
        std::string out;
        for (std::size_t i = 0; i < in.size(); ++i) {
            if (in[i] == '$' && i + 1 < in.size() && in[i + 1] == '$') {
                out += '$';
                ++i;
                continue;
            }
            if (std::string_view(in).substr(i, kVarOpen.size()) != kVarOpen) {
                out += in[i];
                continue;
            }
            auto close = in.find(kVarClose, i + kVarOpen.size());
            if (close == std::string::npos) {
                error(node.Mark(), std::string(where) + ": unterminated \"${\"");
                return std::nullopt;
            }
            std::string_view inner(in.data() + i + kVarOpen.size(), close - i - kVarOpen.size());
            std::optional<std::string> fallback;
            if (auto sep = inner.find(":-"); sep != std::string_view::npos) {
                fallback = std::string(inner.substr(sep + 2));
                inner = inner.substr(0, sep);
            }
            bool valid_name = !inner.empty() && std::all_of(inner.begin(), inner.end(), [](char c) {
                return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
            });
            if (!valid_name) {
                error(node.Mark(),
                      std::string(where) + ": bad variable name \"" + std::string(inner) + "\"");
                return std::nullopt;
            }
            auto value = env_(inner);
            if (value && !value->empty()) {
                out += *value;
            } else if (fallback) {
                out += *fallback;
            } else {
                error(node.Mark(), std::string(where) + ": environment variable " +
                                       std::string(inner) + " is not set");
                return std::nullopt;
            }
            i = close;
        }
        return out;
    }

    std::optional<std::string> string(const YAML::Node& node, std::string_view where) {
        if (!node.IsScalar()) {
            error(node.Mark(), std::string(where) + ": expected a string, got " + node_kind(node));
            return std::nullopt;
        }
        return expand(node, where);
    }

    std::optional<bool> boolean(const YAML::Node& node, std::string_view where) {
        if (node.IsScalar()) {
            const auto& s = node.Scalar();
            if (s == "true") {
                return true;
            }
            if (s == "false") {
                return false;
            }
        }
        error(node.Mark(), std::string(where) + ": expected true or false, got " + node_kind(node));
        return std::nullopt;
    }

    std::optional<std::uint64_t> unsigned_int(const YAML::Node& node, std::string_view where,
                                              std::uint64_t min = 0) {
        if (node.IsScalar()) {
            auto s = expand(node, where);
            if (!s) {
                return std::nullopt;
            }
            const std::string& text = *s;
            const char* end = text.data() + text.size();
            std::uint64_t v = 0;
            auto [p, ec] = std::from_chars(text.data(), end, v);
            if (ec == std::errc{} && p == end && !text.empty()) {
                if (v < min) {
                    error(node.Mark(),
                          std::string(where) + ": must be at least " + std::to_string(min));
                    return std::nullopt;
                }
                return v;
            }
        }
        error(node.Mark(),
              std::string(where) + ": expected a whole number, got " + node_kind(node));
        return std::nullopt;
    }

    std::optional<Duration> duration(const YAML::Node& node, std::string_view where,
                                     bool allow_zero = false) {
        auto s = string(node, where);
        if (!s) {
            return std::nullopt;
        }
        auto d = parse_duration(*s);
        if (!d) {
            error(node.Mark(), std::string(where) + ": bad duration \"" + *s +
                                   "\" (use e.g. 250ms, 30s, 15m, 1h30m, 7d)");
            return std::nullopt;
        }
        if (!allow_zero && d->count() == 0) {
            error(node.Mark(), std::string(where) + ": must be more than zero");
            return std::nullopt;
        }
        return d;
    }

    // A string or a list of strings.
    std::optional<std::vector<std::pair<std::string, YAML::Mark>>> string_list(
        const YAML::Node& node, std::string_view where) {
        std::vector<std::pair<std::string, YAML::Mark>> out;
        if (node.IsScalar()) {
            if (auto s = string(node, where)) {
                out.emplace_back(std::move(*s), node.Mark());
                return out;
            }
            return std::nullopt;
        }
        if (!node.IsSequence()) {
            error(node.Mark(), std::string(where) +
                                   ": expected a string or a list of strings, got " +
                                   node_kind(node));
            return std::nullopt;
        }
        bool ok = true;
        for (const auto& item : node) {
            if (auto s = string(item, where)) {
                out.emplace_back(std::move(*s), item.Mark());
            } else {
                ok = false;
            }
        }
        if (!ok) {
            return std::nullopt;
        }
        return out;
    }

    std::optional<rules::PatternList> patterns(
        const YAML::Node& node, std::string_view where, rules::PatternSyntax syntax,
        rules::PatternCase case_ = rules::PatternCase::sensitive) {
        auto items = string_list(node, where);
        if (!items) {
            return std::nullopt;
        }
        std::vector<rules::Pattern> compiled;
        bool ok = true;
        for (auto& [text, mark] : *items) {
            auto p = rules::Pattern::compile(text, syntax, case_);
            if (!p) {
                error(mark, std::string(where) + ": " + p.error());
                ok = false;
                continue;
            }
            compiled.push_back(std::move(*p));
        }
        if (!ok) {
            return std::nullopt;
        }
        return rules::PatternList(std::move(compiled), case_);
    }

    std::optional<std::vector<rules::Pattern>> pattern_vector(const YAML::Node& node,
                                                              std::string_view where) {
        auto list = patterns(node, where, rules::PatternSyntax::text);
        if (!list) {
            return std::nullopt;
        }
        std::vector<rules::Pattern> out = list->includes();
        out.insert(out.end(), list->excludes().begin(), list->excludes().end());
        return out;
    }

    std::optional<Secret> secret_from_file(const YAML::Node& node, std::string_view where) {
        auto path = string(node, where);
        if (!path) {
            return std::nullopt;
        }
        // Under systemd's LoadCredential=, a relative path names a credential: it resolves
        // against $CREDENTIALS_DIRECTORY (outside systemd, against the working directory).
        if (!path->empty() && std::filesystem::path(*path).is_relative()) {
            if (auto dir = env_("CREDENTIALS_DIRECTORY"); dir && !dir->empty()) {
                *path = (std::filesystem::path(*dir) / *path).string();
            }
        }
        std::ifstream in(*path, std::ios::binary);
        if (!in) {
            error(node.Mark(), std::string(where) + ": cannot read \"" + *path + "\"");
            return std::nullopt;
        }
        std::ostringstream ss;
        ss << in.rdbuf();
        std::string value = ss.str();
        while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) {
            value.pop_back();
        }
        if (value.empty()) {
            error(node.Mark(), std::string(where) + ": \"" + *path + "\" is empty");
            return std::nullopt;
        }
        return Secret(std::move(value));
    }

    // A list of secrets, or of files holding them (a single one may stand without brackets).
    // Returns how many the file gives; their values go to `out` only when `resolve` (else they
    // are neither expanded nor read: the command does not use them).
    std::size_t secrets(const YAML::Node& node, std::string_view where, bool from_files,
                        bool resolve, std::vector<Secret>& out) {
        if (!node.IsSequence() && !node.IsScalar()) {
            error(node.Mark(), std::string(where) + ": expected a list, got " + node_kind(node));
            return 0;
        }
        std::size_t declared = 0;
        auto one = [&](const YAML::Node& item) {
            if (!item.IsScalar()) {
                error(item.Mark(),
                      std::string(where) + ": expected a string, got " + node_kind(item));
                return;
            }
            ++declared;
            if (!resolve) {
                return;
            }
            if (from_files) {
                if (auto s = secret_from_file(item, where)) {
                    out.push_back(std::move(*s));
                }
                return;
            }
            if (auto s = string(item, where)) {
                if (s->empty()) {
                    error(item.Mark(), std::string(where) + ": empty secret");
                } else {
                    out.emplace_back(std::move(*s));
                }
            }
        };
        if (node.IsScalar()) {
            one(node);
        } else {
            for (const auto& item : node) {
                one(item);
            }
        }
        return declared;
    }

    Config parse(const YAML::Node& root) {
        Config cfg;
        if (!root.IsMap()) {
            error(root.Mark(), "the config must be a map with at least \"version: 1\"");
            return cfg;
        }
        check_map(root, "config",
                  {"version", "server", "state", "scalingo", "jobs", "log", "providers", "repos",
                   "freeze", "rules", "prune"});
        if (const auto v = root["version"]; !v) {
            error(root.Mark(), "version: missing (add \"version: 1\")");
        } else if (!v.IsScalar() || v.Scalar() != "1") {
            error(v.Mark(), "version: unsupported version " + node_kind(v) + " (expected 1)");
        }
        if (const auto n = root["server"]) {
            parse_server(n, cfg.server);
        }
        if (const auto n = root["state"]) {
            parse_state(n, cfg.state);
        }
        if (!cfg.state.path && !cfg.state.url) {
            cfg.state.path = "/var/lib/linkpilot/state.db";
        }
        if (const auto n = root["scalingo"]) {
            parse_scalingo(n, cfg.scalingo);
        } else {
            error(root.Mark(), "scalingo: missing (api_url, auth_url and a token are needed)");
        }
        if (const auto n = root["jobs"]; n && check_map(n, "jobs", {"max_concurrency"})) {
            if (const auto c = n["max_concurrency"]) {
                if (auto v = unsigned_int(c, "jobs.max_concurrency", 1)) {
                    cfg.jobs.max_concurrency = static_cast<std::uint32_t>(*v);
                }
            }
        }
        if (const auto n = root["log"]; n && check_map(n, "log", {"format"})) {
            if (const auto f = n["format"]) {
                if (auto s = string(f, "log.format")) {
                    if (*s == "text") {
                        cfg.log.format = LogFormat::text;
                    } else if (*s == "json") {
                        cfg.log.format = LogFormat::json;
                    } else {
                        error(f.Mark(), "log.format: expected text or json, got \"" + *s + "\"");
                    }
                }
            }
        }
        if (const auto n = root["providers"]) {
            parse_providers(n, cfg);
        }
        if (const auto n = root["repos"]) {
            // GitHub and GitLab repository paths ignore case: Codertocat/Hello-World is
            // codertocat/hello-world.
            cfg.rules.repos =
                patterns(n, "repos", rules::PatternSyntax::text, rules::PatternCase::ignore);
        }
        if (const auto n = root["freeze"]) {
            parse_freeze(n, cfg.freeze);
        }
        if (const auto n = root["rules"]) {
            parse_rules(n, cfg.rules.rules);
        }
        if (const auto n = root["prune"]) {
            cfg.prune = parse_prune(n);
        }
        if (needs_.webhook_secrets) {
            check_deliverable(root, cfg);
        }
        return cfg;
    }

  private:
    [[nodiscard]] Error at(const YAML::Mark& m, std::string message) const {
        // yaml-cpp marks are 0-based; an invalid node's mark is -1.
        return {file_, m.line >= 0 ? m.line + 1 : 1, m.column >= 0 ? m.column + 1 : 1,
                std::move(message)};
    }

    void parse_server(const YAML::Node& n, Server& out) {
        if (!check_map(n, "server", {"listen", "max_body_bytes", "request_timeout", "tls"})) {
            return;
        }
        if (const auto l = n["listen"]) {
            if (auto s = string(l, "server.listen")) {
                if (auto addr = parse_listen(*s)) {
                    out.listen = *addr;
                } else {
                    error(l.Mark(), "server.listen: bad listen address \"" + *s +
                                        "\" (use IP:PORT, e.g. 127.0.0.1:8787 or [::]:8787)");
                }
            }
        }
        if (const auto m = n["max_body_bytes"]) {
            if (auto v = unsigned_int(m, "server.max_body_bytes", 1)) {
                out.max_body_bytes = *v;
            }
        }
        if (const auto t = n["request_timeout"]) {
            if (auto d = duration(t, "server.request_timeout")) {
                out.request_timeout = *d;
            }
        }
        if (const auto t = n["tls"]; t && check_map(t, "server.tls", {"cert_file", "key_file"})) {
            TlsFiles tls;
            bool ok = true;
            for (auto [key, field] :
                 {std::pair{"cert_file", &tls.cert_file}, std::pair{"key_file", &tls.key_file}}) {
                std::string where = std::string("server.tls.") + key;
                if (const auto f = t[key]) {
                    if (auto s = string(f, where)) {
                        *field = *s;
                        continue;
                    }
                } else {
                    error(t.Mark(), where + ": missing");
                }
                ok = false;
            }
            if (ok) {
                out.tls = tls;
            }
        }
    }

    void parse_state(const YAML::Node& n, State& out) {
        if (!check_map(n, "state", {"path", "url", "lease", "keep_payloads"})) {
            return;
        }
        if (const auto p = n["path"]) {
            if (auto s = string(p, "state.path")) {
                out.path = *s;
            }
        }
        if (const auto u = n["url"]) {
            if (auto s = string(u, "state.url")) {
                if (s->starts_with("postgresql://") || s->starts_with("postgres://")) {
                    out.url = Secret(*s);
                } else {
                    error(u.Mark(), "state.url: expected a postgresql:// URL");
                }
            }
            if (n["path"]) {
                error(u.Mark(), "state: give either path (SQLite) or url (PostgreSQL), not both");
            }
        }
        if (const auto l = n["lease"]) {
            if (!n["url"]) {
                error(l.Mark(), "state.lease: only used with state.url (PostgreSQL replicas)");
            } else if (auto d = duration(l, "state.lease", false)) {
                if (*d < std::chrono::seconds(3)) {
                    error(l.Mark(), "state.lease: at least 3s (a replica renews it every second)");
                } else {
                    out.lease = *d;
                }
            }
        }
        if (const auto k = n["keep_payloads"]) {
            if (auto d = duration(k, "state.keep_payloads", true)) {
                out.keep_payloads = *d;
            }
        }
    }

    void parse_scalingo(const YAML::Node& n, Scalingo& out) {
        if (!check_map(n, "scalingo",
                       {"api_url", "auth_url", "token", "token_file", "dry_run", "rate_limit",
                        "retry", "timeout", "ca_file"})) {
            return;
        }
        for (auto [key, field] :
             {std::pair{"api_url", &out.api_url}, std::pair{"auth_url", &out.auth_url}}) {
            if (const auto u = n[key]) {
                std::string where = std::string("scalingo.") + key;
                if (auto s = string(u, where)) {
                    if (s->starts_with("https://") || s->starts_with("http://")) {
                        while (s->ends_with('/')) {
                            s->pop_back();
                        }
                        *field = *s;
                    } else {
                        error(u.Mark(), where + ": expected an https:// URL, got \"" + *s + "\"");
                    }
                }
            }
        }
        if (const auto d = n["dry_run"]) {
            if (auto b = boolean(d, "scalingo.dry_run")) {
                out.dry_run = *b;
            }
        }
        const auto token = n["token"];
        const auto token_file = n["token_file"];
        if (token && token_file) {
            error(token_file.Mark(), "scalingo: give either token or token_file, not both");
        } else if (token && !token.IsScalar()) {
            error(token.Mark(), "scalingo.token: expected a string, got " + node_kind(token));
        } else if (token_file && !token_file.IsScalar()) {
            error(token_file.Mark(),
                  "scalingo.token_file: expected a string, got " + node_kind(token_file));
        } else if (!needs_.scalingo_token && (token || token_file)) {
            // Given, but this command never calls Scalingo: not expanded, not read.
        } else if (token) {
            if (auto s = string(token, "scalingo.token")) {
                out.token = Secret(*s);
            }
        } else if (token_file) {
            if (auto s = secret_from_file(token_file, "scalingo.token_file")) {
                out.token = *s;
            }
        } else if (!out.dry_run) {
            error(n.Mark(), "scalingo: token or token_file is required (unless dry_run: true)");
        }
        if (const auto r = n["rate_limit"]) {
            if (auto s = string(r, "scalingo.rate_limit")) {
                if (auto rl = parse_rate(*s)) {
                    out.rate_limit = *rl;
                } else {
                    error(r.Mark(),
                          "scalingo.rate_limit: expected N/s, N/min or N/h, got \"" + *s + "\"");
                }
            }
        }
        if (const auto r = n["retry"];
            r &&
            check_map(r, "scalingo.retry", {"max_attempts", "initial_backoff", "max_backoff"})) {
            if (const auto m = r["max_attempts"]) {
                if (auto v = unsigned_int(m, "scalingo.retry.max_attempts", 1)) {
                    out.retry.max_attempts = static_cast<std::uint32_t>(*v);
                }
            }
            if (const auto i = r["initial_backoff"]) {
                if (auto d = duration(i, "scalingo.retry.initial_backoff")) {
                    out.retry.initial_backoff = *d;
                }
            }
            if (const auto m = r["max_backoff"]) {
                if (auto d = duration(m, "scalingo.retry.max_backoff")) {
                    out.retry.max_backoff = *d;
                    if (*d < out.retry.initial_backoff) {
                        error(m.Mark(),
                              "scalingo.retry.max_backoff: must not be below initial_backoff");
                    }
                }
            }
        }
        if (const auto t = n["timeout"];
            t && check_map(t, "scalingo.timeout", {"connect", "read", "total"})) {
            for (auto [key, field] :
                 {std::pair{"connect", &out.timeout.connect}, std::pair{"read", &out.timeout.read},
                  std::pair{"total", &out.timeout.total}}) {
                if (const auto v = t[key]) {
                    if (auto d = duration(v, std::string("scalingo.timeout.") + key)) {
                        *field = *d;
                    }
                }
            }
            if (out.timeout.total < out.timeout.read) {
                error(t.Mark(), "scalingo.timeout.total: must not be below read");
            }
        }
        if (const auto c = n["ca_file"]) {
            if (auto s = string(c, "scalingo.ca_file")) {
                if (!std::filesystem::exists(*s)) {
                    error(c.Mark(), "scalingo.ca_file: \"" + *s + "\" does not exist");
                } else {
                    out.ca_file = *s;
                }
            }
        }
    }

    void parse_providers(const YAML::Node& n, Config& cfg) {
        if (!check_map(n, "providers", {"github", "gitlab"})) {
            return;
        }
        if (const auto g = n["github"]) {
            parse_provider(g, "github", {"secrets", "secret_files"}, cfg, cfg.providers.github);
        }
        if (const auto g = n["gitlab"]) {
            parse_provider(g, "gitlab", {"tokens", "token_files"}, cfg, cfg.providers.gitlab);
        }
    }

    // `keys` are the forge's names for its secrets: the values, then the files holding them.
    void parse_provider(const YAML::Node& n, std::string_view forge,
                        std::array<std::string_view, 2> keys, Config& cfg, Provider& out) {
        const std::string where = "providers." + std::string(forge);
        if (!check_map(n, where, {keys[0], keys[1], "allow_unsigned"})) {
            return;
        }
        for (const bool from_files : {false, true}) {
            const auto key = std::string(keys[from_files ? 1 : 0]);
            if (const auto s = n[key]) {
                out.declared +=
                    secrets(s, where + "." + key, from_files, needs_.webhook_secrets, out.secrets);
            }
        }
        if (const auto u = n["allow_unsigned"]) {
            out.allow_unsigned = boolean(u, where + ".allow_unsigned").value_or(false);
            if (out.allow_unsigned) {
                warning(u.Mark(),
                        where + ".allow_unsigned is true: " + std::string(forge) +
                            " deliveries without a " + (forge == "github" ? "signature" : "token") +
                            " are accepted unverified; only safe behind a proxy that verifies them",
                        cfg);
            }
        }
    }

    // Fail closed (SPEC 3): a forge without a secret has no endpoint, so a rule only it could
    // deliver to would never run. Rules nobody can deliver to are an error, not a silent no-op.
    void check_deliverable(const YAML::Node& root, const Config& cfg) {
        const auto& rules = cfg.rules.rules;
        if (rules.empty()) {
            return;
        }
        const bool github = cfg.providers.github.configured();
        const bool gitlab = cfg.providers.gitlab.configured();
        if (!github && !gitlab) {
            error(root["rules"].Mark(),
                  "rules: no provider can deliver events to them: give providers.github.secrets "
                  "or providers.gitlab.tokens (or allow_unsigned: true behind a proxy that "
                  "verifies deliveries)");
            return;
        }
        for (std::size_t i = 0; i < rules.size(); ++i) {
            const rules::PatternList* allowed = nullptr;
            for (const auto& c : rules[i].conditions) {
                if (c.key == rules::ConditionKey::provider) {
                    allowed = std::get_if<rules::PatternList>(&c.test);
                }
            }
            auto accepts = [&](std::string_view forge) {
                return allowed == nullptr || allowed->matches(forge);
            };
            if ((github && accepts("github")) || (gitlab && accepts("gitlab"))) {
                continue;
            }
            const std::string_view missing = accepts("gitlab") ? "gitlab" : "github";
            error(rule_marks_[i],
                  "rule \"" + rules[i].name +
                      "\": no configured provider can deliver to it: give providers." +
                      std::string(missing) + (missing == "github" ? ".secrets" : ".tokens"));
        }
    }

    std::optional<std::chrono::minutes> clock_time(const YAML::Node& node, std::string_view where) {
        auto s = string(node, where);
        if (!s) {
            return std::nullopt;
        }
        int h = -1;
        int m = -1;
        if (s->size() == 5 && (*s)[2] == ':' && std::isdigit(static_cast<unsigned char>((*s)[0])) &&
            std::isdigit(static_cast<unsigned char>((*s)[1])) &&
            std::isdigit(static_cast<unsigned char>((*s)[3])) &&
            std::isdigit(static_cast<unsigned char>((*s)[4]))) {
            h = ((*s)[0] - '0') * 10 + ((*s)[1] - '0');
            m = ((*s)[3] - '0') * 10 + ((*s)[4] - '0');
        }
        if (h < 0 || m > 59 || h > 24 || (h == 24 && m != 0)) {
            error(node.Mark(),
                  std::string(where) + ": expected HH:MM (00:00 to 24:00), got \"" + *s + "\"");
            return std::nullopt;
        }
        return std::chrono::minutes(h * 60 + m);
    }

    void parse_freeze(const YAML::Node& n, std::vector<FreezeWindow>& out) {
        if (!n.IsSequence()) {
            error(n.Mark(), "freeze: expected a list of windows, got " + node_kind(n));
            return;
        }
        std::size_t index = 0;
        for (const auto& w : n) {
            std::string where = "freeze[" + std::to_string(index++) + "]";
            if (!check_map(w, where, {"days", "from", "to", "tz", "mode", "actions"})) {
                continue;
            }
            FreezeWindow fw;
            bool ok = true;
            if (const auto d = w["days"]) {
                ok = parse_days(d, where + ".days", fw.days) && ok;
            }
            std::optional<std::chrono::minutes> from;
            std::optional<std::chrono::minutes> to;
            for (auto [key, slot] : {std::pair{"from", &from}, std::pair{"to", &to}}) {
                if (const auto t = w[key]) {
                    *slot = clock_time(t, where + "." + key);
                } else {
                    error(w.Mark(), where + "." + key + ": missing (HH:MM)");
                }
                ok = ok && slot->has_value();
            }
            if (from && to) {
                fw.from = *from;
                fw.to = *to;
                if (*from >= *to) {
                    error(w["to"].Mark(), where +
                                              ".to: must be after from (split a window that "
                                              "crosses midnight into two)");
                    ok = false;
                }
            }
            if (const auto tz = w["tz"]) {
                if (auto s = string(tz, where + ".tz")) {
                    try {
                        static_cast<void>(date::locate_zone(*s));
                        fw.tz = *s;
                    } catch (const std::exception&) {
                        error(tz.Mark(), where + ".tz: unknown time zone \"" + *s +
                                             "\" (use an IANA name such as Europe/Paris)");
                        ok = false;
                    }
                }
            } else {
                error(w.Mark(), where + ".tz: missing (an IANA time zone such as Europe/Paris)");
                ok = false;
            }
            if (const auto m = w["mode"]) {
                if (auto s = string(m, where + ".mode")) {
                    if (*s == "defer") {
                        fw.mode = FreezeMode::defer;
                    } else if (*s == "skip") {
                        fw.mode = FreezeMode::skip;
                    } else {
                        error(m.Mark(),
                              where + ".mode: expected defer or skip, got \"" + *s + "\"");
                        ok = false;
                    }
                }
            }
            if (const auto a = w["actions"]) {
                if (auto names = string_list(a, where + ".actions")) {
                    fw.actions.clear();
                    for (auto& [name, mark] : *names) {
                        if (auto kind = action_kind(name)) {
                            fw.actions.push_back(*kind);
                        } else {
                            error(mark, where + ".actions: unknown action \"" + name +
                                            "\" (deploy, review_app, delete_review_app)");
                            ok = false;
                        }
                    }
                }
            }
            if (ok) {
                out.push_back(std::move(fw));
            }
        }
    }

    // `days: [mon, fri]`: a list of three-letter names. A bare name, a full one ("friday") or
    // an empty list (which would mean every day, the opposite of a slip) is an error.
    bool parse_days(const YAML::Node& d, const std::string& where, std::vector<int>& out) {
        static constexpr std::array<std::string_view, 7> kDays{"sun", "mon", "tue", "wed",
                                                               "thu", "fri", "sat"};
        static constexpr std::string_view kValid = "mon, tue, wed, thu, fri, sat, sun";
        if (!d.IsSequence()) {
            error(d.Mark(), where + ": expected a list of days such as [mon, fri] (" +
                                std::string(kValid) + "), got " + node_kind(d));
            return false;
        }
        if (d.size() == 0) {
            error(d.Mark(), where + ": empty list; omit days for every day, or list some of " +
                                std::string(kValid));
            return false;
        }
        auto days = string_list(d, where);
        if (!days) {
            return false;
        }
        bool ok = true;
        for (auto& [day, mark] : *days) {
            auto it = std::find(kDays.begin(), kDays.end(), lower_ascii(day));
            if (it == kDays.end()) {
                error(mark,
                      where + ": unknown day \"" + day + "\" (use " + std::string(kValid) + ")");
                ok = false;
            } else {
                out.push_back(static_cast<int>(it - kDays.begin()));
            }
        }
        return ok;
    }

    static std::optional<rules::ActionKind> action_kind(std::string_view s) {
        for (auto k : {rules::ActionKind::deploy, rules::ActionKind::review_app,
                       rules::ActionKind::delete_review_app}) {
            if (rules::to_string(k) == s) {
                return k;
            }
        }
        return std::nullopt;
    }

    std::optional<rules::Condition> parse_condition(rules::ConditionKey key, const YAML::Node& v,
                                                    const std::string& where) {
        using rules::ConditionKey;
        rules::Condition c;
        c.key = key;
        switch (key) {
            case ConditionKey::draft:
            case ConditionKey::fork: {
                auto b = boolean(v, where);
                if (!b) {
                    return std::nullopt;
                }
                c.test = *b;
                return c;
            }
            case ConditionKey::labels: {
                rules::LabelsCondition labels;
                if (v.IsMap()) {
                    if (!check_map(v, where, {"all", "any", "none"})) {
                        return std::nullopt;
                    }
                    bool ok = true;
                    for (auto [k, slot] :
                         {std::pair{"all", &labels.all_of}, std::pair{"any", &labels.any_of},
                          std::pair{"none", &labels.none_of}}) {
                        if (const auto list = v[k]) {
                            auto p = pattern_vector(list, where + "." + k);
                            ok = ok && p.has_value();
                            if (p) {
                                *slot = std::move(*p);
                            }
                        }
                    }
                    if (!ok) {
                        return std::nullopt;
                    }
                } else {
                    auto p = pattern_vector(v, where);
                    if (!p) {
                        return std::nullopt;
                    }
                    labels.all_of = std::move(*p);
                }
                c.test = std::move(labels);
                return c;
            }
            case ConditionKey::payload: {
                if (!v.IsMap()) {
                    error(v.Mark(), where + ": expected a map of JSON pointer to pattern, got " +
                                        node_kind(v));
                    return std::nullopt;
                }
                std::vector<rules::PayloadCondition> list;
                bool ok = true;
                for (auto it = v.begin(); it != v.end(); ++it) {
                    const std::string ptr = it->first.Scalar();
                    if (!ptr.empty() && ptr.front() != '/') {
                        error(it->first.Mark(), where + ": \"" + ptr +
                                                    "\" is not a JSON pointer (it starts with "
                                                    "/, e.g. /pull_request/user/type)");
                        ok = false;
                        continue;
                    }
                    auto p = patterns(it->second, where + "." + ptr, rules::PatternSyntax::text);
                    if (!p) {
                        ok = false;
                        continue;
                    }
                    list.push_back({ptr, std::move(*p)});
                }
                if (!ok) {
                    return std::nullopt;
                }
                c.test = std::move(list);
                return c;
            }
            default: {
                auto syntax = key == ConditionKey::paths ? rules::PatternSyntax::path
                                                         : rules::PatternSyntax::text;
                auto case_ = key == ConditionKey::repo ? rules::PatternCase::ignore
                                                       : rules::PatternCase::sensitive;
                auto p = patterns(v, where, syntax, case_);
                if (!p) {
                    return std::nullopt;
                }
                c.test = std::move(*p);
                return c;
            }
        }
    }

    static std::string kinds_for(rules::ConditionKey key) {
        std::string out;
        for (auto k : {events::Kind::push, events::Kind::tag, events::Kind::pull_request,
                       events::Kind::ci}) {
            if (rules::condition_applies(key, k)) {
                out += (out.empty() ? "" : ", ") + std::string(events::to_string(k));
            }
        }
        return out;
    }

    std::optional<rules::Template> parse_template(const YAML::Node& node, const std::string& where,
                                                  std::optional<events::Kind> on) {
        auto s = string(node, where);
        if (!s) {
            return std::nullopt;
        }
        auto t = rules::Template::compile(*s);
        if (!t) {
            error(node.Mark(), where + ": " + t.error());
            return std::nullopt;
        }
        if (on) {
            for (auto var : t->variables()) {
                if (!rules::var_available(var, *on)) {
                    error(node.Mark(), where + ": {{ " + std::string(rules::to_string(var)) +
                                           " }} is not available for on: " +
                                           std::string(events::to_string(*on)) + " events");
                    return std::nullopt;
                }
            }
        }
        return std::move(*t);
    }

    void parse_rules(const YAML::Node& n, std::vector<rules::Rule>& out) {
        if (!n.IsSequence()) {
            error(n.Mark(), "rules: expected a list of rules, got " + node_kind(n));
            return;
        }
        std::set<std::string> names;
        std::size_t index = 0;
        for (const auto& r : n) {
            std::string where = "rules[" + std::to_string(index++) + "]";
            if (!check_map(r, where,
                           {"name", "on", "if", "deploy", "review_app", "delete_review_app",
                            "debounce", "stop"})) {
                continue;
            }
            rules::Rule rule;
            bool ok = true;
            if (const auto name = r["name"]) {
                if (auto s = string(name, where + ".name")) {
                    rule.name = *s;
                    where = "rule \"" + *s + "\"";
                    if (s->empty()) {
                        error(name.Mark(), where + ": name must not be empty");
                        ok = false;
                    } else if (!names.insert(*s).second) {
                        error(name.Mark(), where + ": duplicate rule name \"" + *s + "\"");
                        ok = false;
                    }
                } else {
                    ok = false;
                }
            } else {
                error(r.Mark(), where + ": name: missing");
                ok = false;
            }
            std::optional<events::Kind> on;
            if (const auto o = r["on"]) {
                if (auto s = string(o, where + ".on")) {
                    on = events::rule_kind_from_string(*s);
                    if (!on) {
                        error(o.Mark(), where + ".on: unknown event \"" + *s +
                                            "\" (push, tag, pull_request, ci)" + suggest_event(*s));
                    }
                }
            } else {
                error(r.Mark(), where + ".on: missing (push, tag, pull_request or ci)");
            }
            ok = ok && on.has_value();
            if (on) {
                rule.on = *on;
            }
            if (const auto cond = r["if"]) {
                ok = parse_conditions(cond, where + ".if", on, rule.conditions) && ok;
            }
            ok = parse_action(r, where, on, rule.action) && ok;
            if (const auto d = r["debounce"]) {
                rule.debounce = duration(d, where + ".debounce");
                ok = ok && rule.debounce.has_value();
            }
            if (const auto s = r["stop"]) {
                auto b = boolean(s, where + ".stop");
                ok = ok && b.has_value();
                rule.stop = b.value_or(false);
            }
            if (ok) {
                out.push_back(std::move(rule));
                rule_marks_.push_back(r.Mark());
            }
        }
    }

    bool parse_conditions(const YAML::Node& n, const std::string& where,
                          std::optional<events::Kind> on, std::vector<rules::Condition>& out) {
        if (!n.IsMap()) {
            error(n.Mark(), where + ": expected a map of conditions, got " + node_kind(n));
            return false;
        }
        check_map(n, where,
                  {"provider", "repo", "branch", "base", "tag", "action", "labels", "author",
                   "draft", "fork", "paths", "message", "workflow", "status", "payload"});
        bool ok = true;
        for (auto it = n.begin(); it != n.end(); ++it) {
            const std::string name = it->first.Scalar();
            auto key = rules::condition_key_from_string(name);
            if (!key) {
                ok = false;  // reported by check_map
                continue;
            }
            if (on && !rules::condition_applies(*key, *on)) {
                error(it->first.Mark(), where + "." + name + ": does not apply to on: " +
                                            std::string(events::to_string(*on)) +
                                            " (it applies to " + kinds_for(*key) + ")");
                ok = false;
                continue;
            }
            auto c = parse_condition(*key, it->second, where + "." + name);
            if (!c) {
                ok = false;
                continue;
            }
            out.push_back(std::move(*c));
        }
        return ok;
    }

    bool parse_action(const YAML::Node& r, const std::string& where, std::optional<events::Kind> on,
                      rules::ActionSpec& out) {
        std::vector<std::pair<rules::ActionKind, YAML::Node>> found;
        for (auto kind : {rules::ActionKind::deploy, rules::ActionKind::review_app,
                          rules::ActionKind::delete_review_app}) {
            if (const auto a = r[std::string(rules::to_string(kind))]) {
                found.emplace_back(kind, a);
            }
        }
        if (found.empty()) {
            error(r.Mark(),
                  where + ": no action (give one of deploy, review_app, delete_review_app)");
            return false;
        }
        if (found.size() > 1) {
            error(found[1].second.Mark(),
                  where + ": one action per rule, found " +
                      std::string(rules::to_string(found[0].first)) + " and " +
                      std::string(rules::to_string(found[1].first)) + " (split it in two rules)");
            return false;
        }
        auto [kind, a] = found.front();
        std::string aw = where + "." + std::string(rules::to_string(kind));
        out.kind = kind;
        bool is_deploy = kind == rules::ActionKind::deploy;
        if (!check_map(a, aw, is_deploy ? KeyList{"app", "branch"} : KeyList{"app"})) {
            return false;
        }
        if (!is_deploy && on && *on != events::Kind::pull_request) {
            error(a.Mark(), aw + ": only for on: pull_request rules (it needs the PR number)");
            return false;
        }
        bool ok = true;
        if (const auto app = a["app"]) {
            auto t = parse_template(app, aw + ".app", on);
            ok = t.has_value();
            if (t && t->is_literal()) {
                // A fixed name Scalingo would refuse is a config error, not a job that never
                // appears; a templated one is checked once rendered (rules::evaluate).
                if (auto why = rules::check_app_name(t->source())) {
                    error(app.Mark(), aw + ".app: \"" + t->source() +
                                          "\" is not a valid Scalingo app name: " + *why);
                    ok = false;
                }
            }
            if (t) {
                out.app = std::move(*t);
            }
        } else {
            error(a.Mark(), aw + ".app: missing");
            ok = false;
        }
        if (is_deploy) {
            if (const auto b = a["branch"]) {
                out.branch = parse_template(b, aw + ".branch", on);
                ok = ok && out.branch.has_value();
            }
        }
        return ok;
    }

    std::optional<Prune> parse_prune(const YAML::Node& n) {
        if (!check_map(n, "prune",
                       {"every", "apps", "stale_after", "closed_after", "keep_at_most", "protect",
                        "max_deletions_per_sweep"})) {
            return std::nullopt;
        }
        Prune p;
        if (const auto e = n["every"]) {
            if (auto d = duration(e, "prune.every")) {
                p.every = *d;
            }
        }
        if (const auto a = n["apps"]) {
            if (auto apps = string_list(a, "prune.apps")) {
                for (auto& [name, mark] : *apps) {
                    p.apps.push_back(name);
                }
            }
        } else {
            error(n.Mark(), "prune.apps: missing (the parent apps whose review apps to prune)");
        }
        if (const auto s = n["stale_after"]) {
            p.stale_after = duration(s, "prune.stale_after");
        }
        if (const auto c = n["closed_after"]) {
            p.closed_after = duration(c, "prune.closed_after", true);
        }
        if (const auto k = n["keep_at_most"]) {
            if (auto v = unsigned_int(k, "prune.keep_at_most")) {
                p.keep_at_most = static_cast<std::uint32_t>(*v);
            }
        }
        if (const auto pr = n["protect"]) {
            if (auto list = patterns(pr, "prune.protect", rules::PatternSyntax::text)) {
                p.protect = std::move(*list);
            }
        }
        if (const auto m = n["max_deletions_per_sweep"]) {
            if (auto v = unsigned_int(m, "prune.max_deletions_per_sweep", 1)) {
                p.max_deletions_per_sweep = static_cast<std::uint32_t>(*v);
            }
        }
        return p;
    }

    static std::optional<ListenAddress> parse_listen(std::string_view s) {
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
        if (perr != std::errc{} || p != port.data() + port.size() || port.empty() ||
            value > 65535) {
            return std::nullopt;
        }
        return ListenAddress{std::string(host), static_cast<std::uint16_t>(value)};
    }

    static std::optional<RateLimit> parse_rate(std::string_view s) {
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

    std::string file_;
    const EnvLookup& env_;
    Needs needs_;
    std::vector<Error> errors_;
    std::vector<YAML::Mark> rule_marks_;  // of each rule in Config::rules, for later checks
};

}  // namespace

std::string ListenAddress::to_string() const {
    if (host.find(':') != std::string::npos) {
        return "[" + host + "]:" + std::to_string(port);
    }
    return host + ":" + std::to_string(port);
}

std::string Error::to_string() const {
    if (line == 0) {
        return file + ": " + message;
    }
    return file + ":" + std::to_string(line) + ":" + std::to_string(col) + ": " + message;
}

EnvLookup process_env() {
    return [](std::string_view name) -> std::optional<std::string> {
        const char* v = std::getenv(std::string(name).c_str());  // NOLINT(concurrency-mt-unsafe)
        if (v == nullptr) {
            return std::nullopt;
        }
        return std::string(v);
    };
}

Expected<Config, std::vector<Error>> load_string(std::string_view yaml, std::string_view file_name,
                                                 const EnvLookup& env, Needs needs) {
    Parser parser{std::string(file_name), env, needs};
    YAML::Node root;
    try {
        root = YAML::Load(protect_variables(yaml));
    } catch (const YAML::Exception& e) {
        parser.error(e.mark, "YAML syntax error: " + e.msg);
        return Unexpected{std::move(parser.errors())};
    }
    Config cfg = parser.parse(root);
    if (!parser.errors().empty()) {
        auto errors = std::move(parser.errors());
        std::stable_sort(errors.begin(), errors.end(), [](const Error& a, const Error& b) {
            return std::tie(a.line, a.col) < std::tie(b.line, b.col);
        });
        return Unexpected{std::move(errors)};
    }
    cfg.source = std::string(file_name);
    return cfg;
}

Expected<Config, std::vector<Error>> load_file(const std::filesystem::path& file,
                                               const EnvLookup& env, Needs needs) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        return Unexpected{std::vector<Error>{{file.string(), 0, 0, "cannot read the config file"}}};
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    return load_string(ss.str(), file.string(), env, needs);
}

std::vector<std::filesystem::path> default_config_paths() {
    return {"linkpilot.yaml", "/etc/linkpilot/linkpilot.yaml"};
}

std::optional<std::filesystem::path> default_config_path() {
    for (auto& p : default_config_paths()) {
        std::error_code ec;
        if (std::filesystem::exists(p, ec)) {
            return p;
        }
    }
    return std::nullopt;
}

namespace {

// "2 GitHub secrets", "GitLab unsigned (allow_unsigned)", "no GitLab endpoint".
std::string provider_summary(const Provider& p, std::string_view forge, std::string_view what) {
    const std::string f(forge);
    if (p.declared > 0) {
        return std::to_string(p.declared) + " " + f + " " + std::string(what) +
               (p.declared == 1 ? "" : "s") + (p.allow_unsigned ? " (and unsigned allowed)" : "");
    }
    if (p.allow_unsigned) {
        return f + " unsigned (allow_unsigned)";
    }
    return "no " + f + " endpoint";
}

}  // namespace

std::string summary(const Config& c) {
    std::size_t repo_patterns =
        c.rules.repos ? c.rules.repos->includes().size() + c.rules.repos->excludes().size() : 0;
    std::string out = std::to_string(c.rules.rules.size()) + " rules, " +
                      std::to_string(repo_patterns) + " repos patterns, " +
                      std::to_string(c.freeze.size()) + " freeze windows, " +
                      provider_summary(c.providers.github, "GitHub", "secret") + ", " +
                      provider_summary(c.providers.gitlab, "GitLab", "token") + ", ";
    out += c.prune ? "pruning " + std::to_string(c.prune->apps.size()) + " apps"
                   : std::string("no pruning");
    out += ", listen " + c.server.listen.to_string();
    if (c.scalingo.dry_run) {
        out += ", Scalingo dry run";
    }
    return out;
}

}  // namespace linkpilot::config
