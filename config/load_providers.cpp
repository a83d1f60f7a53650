// The `providers:` section (webhook secrets per forge) and the fail-closed check that every rule
// has a provider able to deliver to it.

#include <string>
#include <string_view>
#include <variant>

#include "config/detail/sections.hpp"

namespace linkpilot::config::detail {
namespace {

// One forge being read: GitHub signs with secrets, GitLab sends tokens.
struct ForgeDraft {
    Provider& out;
    std::string_view forge;       // "github"
    std::string_view credential;  // what an unsigned delivery lacks: "signature"
};

template <bool from_files>
void read_secrets(Reader& r, const Entry& e, ForgeDraft& d) {
    d.out.declared +=
        r.secrets(e.value, e.where, from_files, r.needs().webhook_secrets, d.out.secrets);
}

void read_allow_unsigned(Reader& r, const Entry& e, ForgeDraft& d) {
    d.out.allow_unsigned = r.boolean(e.value, e.where).value_or(false);
    if (d.out.allow_unsigned) {
        r.warning(e.value.Mark(),
                  e.where + " is true: " + std::string(d.forge) + " deliveries without a " +
                      std::string(d.credential) +
                      " are accepted unverified; only safe behind a proxy that verifies them");
    }
}

// The forge's names for its secrets: the values, then the files holding them.
constexpr Fields<ForgeDraft, 3> kGithubFields{{
    {"secrets", read_secrets<false>},
    {"secret_files", read_secrets<true>},
    {"allow_unsigned", read_allow_unsigned},
}};
constexpr Fields<ForgeDraft, 3> kGitlabFields{{
    {"tokens", read_secrets<false>},
    {"token_files", read_secrets<true>},
    {"allow_unsigned", read_allow_unsigned},
}};

constexpr Fields<Providers, 2> kProvidersFields{{
    {"github",
     [](Reader& r, const Entry& e, Providers& out) {
         ForgeDraft d{out.github, "github", "signature"};
         r.read_map(e.value, e.where, kGithubFields, d);
     }},
    {"gitlab",
     [](Reader& r, const Entry& e, Providers& out) {
         ForgeDraft d{out.gitlab, "gitlab", "token"};
         r.read_map(e.value, e.where, kGitlabFields, d);
     }},
}};

}  // namespace

void read_providers(Reader& r, const Entry& e, Providers& out) {
    r.read_map(e.value, e.where, kProvidersFields, out);
}

// A forge without a secret has no endpoint, so a rule only it could deliver to would never run.
// Rules nobody can deliver to are an error, not a silent no-op.
void check_deliverable(Reader& r, const Config& cfg, const YAML::Mark& rules_mark,
                       const std::vector<YAML::Mark>& rule_marks) {
    const auto& rules = cfg.rules.rules;
    if (rules.empty()) {
        return;
    }
    const bool github = cfg.providers.github.configured();
    const bool gitlab = cfg.providers.gitlab.configured();
    if (!github && !gitlab) {
        r.error(rules_mark,
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
        r.error(rule_marks[i], "rule \"" + rules[i].name +
                                   "\": no configured provider can deliver to it: give providers." +
                                   std::string(missing) +
                                   (missing == "github" ? ".secrets" : ".tokens"));
    }
}

}  // namespace linkpilot::config::detail
