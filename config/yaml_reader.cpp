#include "config/detail/yaml_reader.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "config/duration.hpp"

namespace linkpilot::config::detail {

namespace {

std::string join(KeyNames keys) {
    std::string out;
    for (auto k : keys) {
        out += (out.empty() ? "" : ", ") + std::string(k);
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

}  // namespace

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

std::string did_you_mean(std::string_view key, KeyNames known) {
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

void Reader::error(const YAML::Mark& m, std::string message) {
    errors_.push_back(at(m, std::move(message)));
}

void Reader::warning(const YAML::Mark& m, const std::string& message) {
    warnings_.push_back(at(m, "warning: " + message).to_string());
}

void Reader::missing(const Entry& e, std::string_view hint) {
    error(e.map.Mark(), e.where + ": missing" + std::string(hint));
}

Error Reader::at(const YAML::Mark& m, std::string message) const {
    // yaml-cpp marks are 0-based; an invalid node's mark is -1.
    return {file_, m.line >= 0 ? m.line + 1 : 1, m.column >= 0 ? m.column + 1 : 1,
            std::move(message)};
}

bool Reader::check_map(const YAML::Node& node, std::string_view where, KeyNames known) {
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

std::optional<std::string> Reader::expand(const YAML::Node& node, std::string_view where) {
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
            error(node.Mark(), std::string(where) + ": environment variable " + std::string(inner) +
                                   " is not set");
            return std::nullopt;
        }
        i = close;
    }
    return out;
}

std::optional<std::string> Reader::string(const YAML::Node& node, std::string_view where) {
    if (!node.IsScalar()) {
        error(node.Mark(), std::string(where) + ": expected a string, got " + node_kind(node));
        return std::nullopt;
    }
    return expand(node, where);
}

std::optional<bool> Reader::boolean(const YAML::Node& node, std::string_view where) {
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

std::optional<std::uint64_t> Reader::unsigned_int(const YAML::Node& node, std::string_view where,
                                                  std::uint64_t min) {
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
    error(node.Mark(), std::string(where) + ": expected a whole number, got " + node_kind(node));
    return std::nullopt;
}

std::optional<Duration> Reader::duration(const YAML::Node& node, std::string_view where,
                                         bool allow_zero) {
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
std::optional<std::vector<std::pair<std::string, YAML::Mark>>> Reader::string_list(
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
        error(node.Mark(), std::string(where) + ": expected a string or a list of strings, got " +
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

std::optional<rules::PatternList> Reader::patterns(const YAML::Node& node, std::string_view where,
                                                   rules::PatternSyntax syntax,
                                                   rules::PatternCase case_) {
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

std::optional<std::vector<rules::Pattern>> Reader::pattern_vector(const YAML::Node& node,
                                                                  std::string_view where) {
    auto list = patterns(node, where, rules::PatternSyntax::text);
    if (!list) {
        return std::nullopt;
    }
    std::vector<rules::Pattern> out = list->includes();
    out.insert(out.end(), list->excludes().begin(), list->excludes().end());
    return out;
}

std::optional<Secret> Reader::secret_from_file(const YAML::Node& node, std::string_view where) {
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
std::size_t Reader::secrets(const YAML::Node& node, std::string_view where, bool from_files,
                            bool resolve, std::vector<Secret>& out) {
    if (!node.IsSequence() && !node.IsScalar()) {
        error(node.Mark(), std::string(where) + ": expected a list, got " + node_kind(node));
        return 0;
    }
    std::size_t declared = 0;
    auto one = [&](const YAML::Node& item) {
        if (!item.IsScalar()) {
            error(item.Mark(), std::string(where) + ": expected a string, got " + node_kind(item));
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

}  // namespace linkpilot::config::detail
