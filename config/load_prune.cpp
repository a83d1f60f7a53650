// The `prune:` section: which review apps the pruner deletes.

#include <string>

#include "config/detail/sections.hpp"

namespace linkpilot::config::detail {
namespace {

constexpr Fields<Prune, 7> kPruneFields{{
    {"every",
     [](Reader& r, const Entry& e, Prune& out) {
         if (auto d = r.duration(e.value, e.where)) {
             out.every = *d;
         }
     }},
    {"apps",
     [](Reader& r, const Entry& e, Prune& out) {
         if (auto apps = r.string_list(e.value, e.where)) {
             for (auto& [name, mark] : *apps) {
                 out.apps.push_back(name);
             }
         }
     },
     [](Reader& r, const Entry& e, Prune&) {
         r.missing(e, " (the parent apps whose review apps to prune)");
     }},
    {"stale_after",
     [](Reader& r, const Entry& e, Prune& out) { out.stale_after = r.duration(e.value, e.where); }},
    {"closed_after", [](Reader& r, const Entry& e,
                        Prune& out) { out.closed_after = r.duration(e.value, e.where, true); }},
    {"keep_at_most",
     [](Reader& r, const Entry& e, Prune& out) {
         if (auto v = r.unsigned_int(e.value, e.where)) {
             out.keep_at_most = static_cast<std::uint32_t>(*v);
         }
     }},
    {"protect",
     [](Reader& r, const Entry& e, Prune& out) {
         if (auto list = r.patterns(e.value, e.where, rules::PatternSyntax::text)) {
             out.protect = std::move(*list);
         }
     }},
    {"max_deletions_per_sweep",
     [](Reader& r, const Entry& e, Prune& out) {
         if (auto v = r.unsigned_int(e.value, e.where, 1)) {
             out.max_deletions_per_sweep = static_cast<std::uint32_t>(*v);
         }
     }},
}};

}  // namespace

std::optional<Prune> read_prune(Reader& r, const Entry& e) {
    Prune p;
    if (!r.read_map(e.value, e.where, kPruneFields, p)) {
        return std::nullopt;
    }
    return p;
}

}  // namespace linkpilot::config::detail
