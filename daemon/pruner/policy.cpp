#include "daemon/pruner/policy.hpp"

#include <algorithm>
#include <set>
#include <tuple>

namespace linkpilot::pruner {

namespace {

// The PR number from the listing, or from the `{parent}-pr{N}` name Scalingo gives.
std::optional<std::uint64_t> pr_number_of(const scalingo::ReviewApp& ra, std::string_view parent) {
    if (ra.pull_request && ra.pull_request->number > 0) {
        return ra.pull_request->number;
    }
    return scalingo::review_app_number(parent, ra.app_name);
}

bool older_than(const std::optional<TimePoint>& t, TimePoint now, config::Duration limit) {
    return t && now - *t >= limit;
}

// Oldest activity first; unknown activity counts as newest (the safe side); then by name.
bool older_activity(const Decision* a, const Decision* b) {
    const auto key = [](const Decision* d) {
        return std::make_tuple(!d->activity_at.has_value(), d->activity_at.value_or(TimePoint{}),
                               std::cref(d->app_name));
    };
    return key(a) < key(b);
}

bool earlier_closure(const Decision* a, const Decision* b) {
    return std::tie(*a->closed_at, a->app_name) < std::tie(*b->closed_at, b->app_name);
}

}  // namespace

std::string_view to_string(Reason r) {
    switch (r) {
        case Reason::closed:
            return "closed";
        case Reason::stale:
            return "stale";
        case Reason::over_cap:
            return "over_cap";
        case Reason::active:
            return "active";
        case Reason::protected_app:
            return "protected";
        case Reason::wrong_parent:
            return "wrong_parent";
        case Reason::unnamed:
            return "unnamed";
        case Reason::duplicate:
            return "duplicate";
        case Reason::queued:
            return "queued";
        case Reason::limit_reached:
            return "limit_reached";
    }
    return "unknown";
}

std::size_t Plan::deletions() const {
    return static_cast<std::size_t>(
        std::count_if(decisions.begin(), decisions.end(), [](const auto& d) { return d.remove; }));
}

std::optional<TimePoint> activity_of(const scalingo::ReviewApp& ra) {
    std::optional<TimePoint> newest = ra.created_at;
    if (ra.last_deployment && ra.last_deployment->created_at) {
        const auto t = *ra.last_deployment->created_at;
        if (!newest || t > *newest) {
            newest = t;
        }
    }
    return newest;
}

Plan select(const config::Prune& cfg, std::string_view parent,
            const std::vector<scalingo::ReviewApp>& listing, TimePoint now, std::size_t budget,
            const std::vector<std::string>& already_queued) {
    Plan plan;
    plan.parent = std::string(parent);
    plan.decisions.reserve(listing.size());
    const std::set<std::string, std::less<>> queued(already_queued.begin(), already_queued.end());
    std::set<std::string, std::less<>> seen;
    // An empty protect list protects nothing (PatternList::matches is true for it).
    const auto is_protected = [&](const std::string& name) {
        return !cfg.protect.empty() && cfg.protect.matches(name);
    };

    for (const auto& ra : listing) {
        Decision d;
        d.app_name = ra.app_name;
        d.parent_app_name = ra.parent_app_name;
        d.pr_number = pr_number_of(ra, parent);
        d.activity_at = activity_of(ra);
        if (ra.pull_request) {
            d.closed_at = ra.pull_request->closed_at;
        }
        if (ra.parent_app_name != parent) {
            d.reason = Reason::wrong_parent;
        } else if (ra.app_name.empty()) {
            d.reason = Reason::unnamed;
        } else if (!seen.insert(ra.app_name).second) {
            d.reason = Reason::duplicate;
        } else if (cfg.closed_after && older_than(d.closed_at, now, *cfg.closed_after)) {
            d.candidate_for = Reason::closed;
        } else if (cfg.stale_after && older_than(d.activity_at, now, *cfg.stale_after)) {
            d.candidate_for = Reason::stale;
        }
        plan.decisions.push_back(std::move(d));
    }

    // Over the cap: what would remain of this parent's apps after the closed and stale ones go.
    if (cfg.keep_at_most) {
        std::vector<Decision*> remaining;
        for (auto& d : plan.decisions) {
            const bool ours = d.reason == Reason::active;  // not wrong_parent/unnamed/duplicate
            const bool going = queued.contains(d.app_name) ||
                               (d.candidate_for.has_value() && !is_protected(d.app_name));
            if (ours && !going) {
                remaining.push_back(&d);
            }
        }
        std::sort(remaining.begin(), remaining.end(), older_activity);
        std::size_t excess =
            remaining.size() > *cfg.keep_at_most ? remaining.size() - *cfg.keep_at_most : 0;
        for (auto* d : remaining) {
            if (excess == 0) {
                break;
            }
            if (is_protected(d->app_name)) {
                continue;  // stays, and still counts towards the cap
            }
            d->candidate_for = Reason::over_cap;
            --excess;
        }
    }

    // Safety rules and the per-sweep budget, candidates in priority order.
    std::vector<Decision*> closed;
    std::vector<Decision*> stale;
    std::vector<Decision*> over_cap;
    for (auto& d : plan.decisions) {
        if (d.reason != Reason::active) {
            continue;
        }
        if (is_protected(d.app_name)) {
            d.reason = Reason::protected_app;
            continue;
        }
        if (queued.contains(d.app_name)) {
            d.reason = Reason::queued;
            continue;
        }
        if (!d.candidate_for) {
            continue;
        }
        switch (*d.candidate_for) {
            case Reason::closed:
                closed.push_back(&d);
                break;
            case Reason::stale:
                stale.push_back(&d);
                break;
            default:
                over_cap.push_back(&d);
                break;
        }
    }
    std::sort(closed.begin(), closed.end(), earlier_closure);
    std::sort(stale.begin(), stale.end(), older_activity);
    std::sort(over_cap.begin(), over_cap.end(), older_activity);
    for (auto* group : {&closed, &stale, &over_cap}) {
        for (auto* d : *group) {
            if (budget == 0) {
                d->reason = Reason::limit_reached;
                continue;
            }
            --budget;
            d->remove = true;
            d->reason = *d->candidate_for;
            d->candidate_for.reset();
        }
    }

    std::stable_sort(plan.decisions.begin(), plan.decisions.end(),
                     [](const Decision& a, const Decision& b) { return a.app_name < b.app_name; });
    return plan;
}

}  // namespace linkpilot::pruner
