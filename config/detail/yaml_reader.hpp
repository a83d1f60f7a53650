#pragma once

// Internal to the config library: the YAML primitives every section of the file is read with
// (scalars, lists, durations, patterns, secrets, `${VAR}` expansion), each problem collected
// with its FILE:LINE:COL, and the key tables that drive a section.
//
// A section lists its keys once, in a `Fields` table: one `Field` per key, with the function
// that reads its value and, for a required key, the one that reports it missing. `read_map`
// rejects keys not in the table (with a did-you-mean), then reads the table's keys in table
// order. Checks across keys run after the table, on what the fields recorded.

#include <yaml-cpp/yaml.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "config/load.hpp"
#include "rules/pattern.hpp"

namespace linkpilot::config::detail {

using KeyNames = std::span<const std::string_view>;

// `${VAR}` is not valid in a YAML flow sequence (`{` opens a flow map), yet the SPEC's own
// example writes `secrets: [${GITHUB_WEBHOOK_SECRET}]`. Before parsing, each `${` becomes
// kVarOpen and its `}` kVarClose: the same number of bytes, so every mark stays exact, and
// characters a plain scalar may hold in flow context. Reader::expand() reads the protected form.
inline constexpr std::string_view kVarOpen = "\xC2\xA7";  // U+00A7, two bytes like "${"
inline constexpr char kVarClose = ')';
std::string protect_variables(std::string_view text);

// " (did you mean \"KEY\"?)" for the first of `known` within two edits of `key`, else "".
std::string did_you_mean(std::string_view key, KeyNames known);
// "a map", "a list", "nothing" or the quoted scalar: what was found where something else was due.
std::string node_kind(const YAML::Node& n);
std::string lower_ascii(std::string_view s);

// One key of a map being read: the map, the key's value and "SECTION.KEY" for messages. When
// the key is absent (Field::absent), `value` is an invalid node.
struct Entry {
    const YAML::Node map;
    const YAML::Node value;
    std::string where;
};

class Reader;

template <class Out>
struct Field {
    std::string_view key;
    void (*read)(Reader&, const Entry&, Out&) = nullptr;
    void (*absent)(Reader&, const Entry&, Out&) = nullptr;  // null: the key is optional
};

template <class Out, std::size_t N>
using Fields = std::array<Field<Out>, N>;

template <class Out, std::size_t N>
constexpr std::array<std::string_view, N> names_of(const Fields<Out, N>& fields) {
    std::array<std::string_view, N> out{};
    for (std::size_t i = 0; i < N; ++i) {
        out[i] = fields[i].key;
    }
    return out;
}

// Walks YAML nodes, converting as it goes and collecting every problem with its mark.
class Reader {
  public:
    Reader(std::string file, const EnvLookup& env, Needs needs)
        : file_(std::move(file)), env_(env), needs_(needs) {}

    [[nodiscard]] Needs needs() const { return needs_; }
    [[nodiscard]] std::vector<Error>& errors() { return errors_; }
    [[nodiscard]] std::vector<std::string>& warnings() { return warnings_; }

    void error(const YAML::Mark& m, std::string message);
    // "FILE:LINE:COL: warning: message", for Config::warnings.
    void warning(const YAML::Mark& m, const std::string& message);
    // "WHERE: missing" + hint, at the map (a missing key has no mark of its own).
    void missing(const Entry& e, std::string_view hint);

    // Reports unknown and duplicate keys; returns false when `node` is not a map.
    bool check_map(const YAML::Node& node, std::string_view where, KeyNames known);

    // Reads each key of `fields` present in `map`, in table order ("PREFIX.KEY", or "KEY"
    // under an empty prefix), and calls `absent` for a missing one that has it.
    template <class Out, std::size_t N>
    void read_fields(const YAML::Node& map, std::string_view prefix, const Fields<Out, N>& fields,
                     Out& out) {
        for (const auto& f : fields) {
            std::string where = prefix.empty() ? std::string(f.key)
                                               : std::string(prefix) + "." + std::string(f.key);
            const YAML::Node value = map[std::string(f.key)];
            if (value) {
                f.read(*this, Entry{map, value, std::move(where)}, out);
            } else if (f.absent != nullptr) {
                f.absent(*this, Entry{map, value, std::move(where)}, out);
            }
        }
    }

    // check_map with the table's keys, then read_fields; false when `node` is not a map.
    template <class Out, std::size_t N>
    bool read_map(const YAML::Node& node, std::string_view where, const Fields<Out, N>& fields,
                  Out& out) {
        const auto names = names_of(fields);
        if (!check_map(node, where, names)) {
            return false;
        }
        read_fields(node, where, fields, out);
        return true;
    }

    // ${VAR} and ${VAR:-default} from the environment; `$$` is a literal `$`.
    std::optional<std::string> expand(const YAML::Node& node, std::string_view where);
    std::optional<std::string> string(const YAML::Node& node, std::string_view where);
    std::optional<bool> boolean(const YAML::Node& node, std::string_view where);
    std::optional<std::uint64_t> unsigned_int(const YAML::Node& node, std::string_view where,
                                              std::uint64_t min = 0);
    std::optional<Duration> duration(const YAML::Node& node, std::string_view where,
                                     bool allow_zero = false);
    // A string or a list of strings, each with its mark.
    std::optional<std::vector<std::pair<std::string, YAML::Mark>>> string_list(
        const YAML::Node& node, std::string_view where);
    std::optional<rules::PatternList> patterns(
        const YAML::Node& node, std::string_view where, rules::PatternSyntax syntax,
        rules::PatternCase case_ = rules::PatternCase::sensitive);
    // Text patterns, includes then excludes.
    std::optional<std::vector<rules::Pattern>> pattern_vector(const YAML::Node& node,
                                                              std::string_view where);
    // The secret in the file the node names; a relative path resolves against
    // $CREDENTIALS_DIRECTORY when set (systemd's LoadCredential=).
    std::optional<Secret> secret_from_file(const YAML::Node& node, std::string_view where);
    // A list of secrets, or of files holding them (a single one may stand without brackets).
    // Returns how many the file gives; their values go to `out` only when `resolve` (else they
    // are neither expanded nor read: the command does not use them).
    std::size_t secrets(const YAML::Node& node, std::string_view where, bool from_files,
                        bool resolve, std::vector<Secret>& out);

  private:
    [[nodiscard]] Error at(const YAML::Mark& m, std::string message) const;

    std::string file_;
    const EnvLookup& env_;
    Needs needs_;
    std::vector<Error> errors_;
    std::vector<std::string> warnings_;
};

}  // namespace linkpilot::config::detail
