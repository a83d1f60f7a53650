#include "config/load.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <tuple>

#include "config/detail/sections.hpp"
#include "config/detail/yaml_reader.hpp"

namespace linkpilot::config {

namespace {

using detail::Entry;
using detail::Reader;

// The top-level keys, each handed to its section's reader (config/load_*.cpp).
struct Loaded {
    Config cfg;
    YAML::Mark rules_mark;               // of the `rules` list
    std::vector<YAML::Mark> rule_marks;  // of each rule in cfg.rules.rules
};

constexpr detail::Fields<Loaded, 11> kRootFields{{
    {"version",
     [](Reader& r, const Entry& e, Loaded&) {
         if (!e.value.IsScalar() || e.value.Scalar() != "1") {
             r.error(e.value.Mark(), e.where + ": unsupported version " +
                                         detail::node_kind(e.value) + " (expected 1)");
         }
     },
     [](Reader& r, const Entry& e, Loaded&) { r.missing(e, " (add \"version: 1\")"); }},
    {"server",
     [](Reader& r, const Entry& e, Loaded& d) { detail::read_server(r, e, d.cfg.server); }},
    {"state", [](Reader& r, const Entry& e, Loaded& d) { detail::read_state(r, e, d.cfg.state); }},
    {"scalingo",
     [](Reader& r, const Entry& e, Loaded& d) { detail::read_scalingo(r, e, d.cfg.scalingo); },
     [](Reader& r, const Entry& e, Loaded&) {
         r.missing(e, " (api_url, auth_url and a token are needed)");
     }},
    {"jobs", [](Reader& r, const Entry& e, Loaded& d) { detail::read_jobs(r, e, d.cfg.jobs); }},
    {"log", [](Reader& r, const Entry& e, Loaded& d) { detail::read_log(r, e, d.cfg.log); }},
    {"providers",
     [](Reader& r, const Entry& e, Loaded& d) { detail::read_providers(r, e, d.cfg.providers); }},
    {"repos",
     [](Reader& r, const Entry& e, Loaded& d) {
         // GitHub and GitLab repository paths ignore case: Codertocat/Hello-World is
         // codertocat/hello-world.
         d.cfg.rules.repos =
             r.patterns(e.value, e.where, rules::PatternSyntax::text, rules::PatternCase::ignore);
     }},
    {"freeze",
     [](Reader& r, const Entry& e, Loaded& d) { detail::read_freeze(r, e, d.cfg.freeze); }},
    {"rules",
     [](Reader& r, const Entry& e, Loaded& d) {
         d.rules_mark = e.value.Mark();
         detail::read_rules(r, e, d.cfg.rules.rules, d.rule_marks);
     }},
    {"prune", [](Reader& r, const Entry& e, Loaded& d) { d.cfg.prune = detail::read_prune(r, e); }},
}};

Config read_config(Reader& r, const YAML::Node& root) {
    Loaded d;
    if (!root.IsMap()) {
        r.error(root.Mark(), "the config must be a map with at least \"version: 1\"");
        return d.cfg;
    }
    r.check_map(root, "config", detail::names_of(kRootFields));
    r.read_fields(root, "", kRootFields, d);
    if (!d.cfg.state.path && !d.cfg.state.url) {
        d.cfg.state.path = "/var/lib/linkpilot/state.db";
    }
    if (r.needs().webhook_secrets) {
        detail::check_deliverable(r, d.cfg, d.rules_mark, d.rule_marks);
    }
    d.cfg.warnings = std::move(r.warnings());
    return std::move(d.cfg);
}

}  // namespace

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
    detail::Reader reader{std::string(file_name), env, needs};
    YAML::Node root;
    try {
        root = YAML::Load(detail::protect_variables(yaml));
    } catch (const YAML::Exception& e) {
        reader.error(e.mark, "YAML syntax error: " + e.msg);
        return Unexpected{std::move(reader.errors())};
    }
    Config cfg = read_config(reader, root);
    if (!reader.errors().empty()) {
        auto errors = std::move(reader.errors());
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
