#pragma once

// Action templates of SPEC 2.3 (`{{ branch }}`, `{{ repo.name }}`, ...), compiled when the
// config loads so an unknown or unavailable variable is a `check` error, not an empty string.

#include <string>
#include <string_view>
#include <vector>

#include "common/expected.hpp"
#include "events/event.hpp"

namespace linkpilot::rules {

enum class Var { branch, tag, sha, repo, repo_owner, repo_name, pr_number, author };

std::string_view to_string(Var v);
// Can an event of this kind provide the variable? (SPEC 2.3's availability list.)
bool var_available(Var v, events::Kind kind);

class Template {
  public:
    struct Segment {
        bool is_var = false;
        std::string literal;
        Var var = Var::repo;
    };

    static Expected<Template, std::string> compile(std::string_view source);

    [[nodiscard]] std::string render(const events::Event& event) const;
    [[nodiscard]] const std::string& source() const { return source_; }
    [[nodiscard]] std::vector<Var> variables() const;
    [[nodiscard]] bool is_literal() const;

  private:
    std::string source_;
    std::vector<Segment> segments_;
};

}  // namespace linkpilot::rules
