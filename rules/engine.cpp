#include "rules/engine.hpp"

#include <array>
#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>

namespace linkpilot::rules {

namespace {

using events::Kind;

// Long values (commit messages) are cut in reasons: explain output stays one line per rule.
constexpr std::size_t kMaxQuoted = 80;

// Where a failing condition writes why. Null in Detail::actions_only: nothing is formatted or
// allocated, so evaluating many non-matching rules stays cheap.
class Why {
  public:
    explicit Why(std::string* out) : out_(out) {}

    [[nodiscard]] bool wanted() const { return out_ != nullptr; }

    Why& operator<<(std::string_view s) {
        if (out_) {
            out_->append(s);
        }
        return *this;
    }
    Why& operator<<(char c) {
        if (out_) {
            out_->push_back(c);
        }
        return *this;
    }
    // `"value"` with quotes, backslashes and control characters escaped.
    Why& quoted(std::string_view value) {
        if (!out_) {
            return *this;
        }
        std::string& out = *out_;
        out += '"';
        std::size_t n = 0;
        for (char c : value) {
            if (n++ == kMaxQuoted) {
                out += "...";
                break;
            }
            switch (c) {
                case '"':
                    out += "\\\"";
                    break;
                case '\\':
                    out += "\\\\";
                    break;
                case '\n':
                    out += "\\n";
                    break;
                case '\r':
                    out += "\\r";
                    break;
                case '\t':
                    out += "\\t";
                    break;
                default:
                    out += c;
            }
        }
        out += '"';
        return *this;
    }
    Why& strings(const std::vector<std::string>& values, std::size_t max_items) {
        if (!out_) {
            return *this;
        }
        *this << '[';
        for (std::size_t i = 0; i < values.size(); ++i) {
            if (i == max_items) {
                *this << ", +" << std::to_string(values.size() - max_items) << " more";
                break;
            }
            if (i > 0) {
                *this << ", ";
            }
            quoted(values[i]);
        }
        return *this << ']';
    }
    Why& patterns(const std::vector<Pattern>& ps) {
        if (!out_) {
            return *this;
        }
        *this << '[';
        for (std::size_t i = 0; i < ps.size(); ++i) {
            if (i > 0) {
                *this << ", ";
            }
            quoted(ps[i].source());
        }
        return *this << ']';
    }
    // Same text as PatternList::describe(), written in place.
    Why& list(const PatternList& l, bool always_brackets = false) {
        if (!out_) {
            return *this;
        }
        const std::size_t n = l.includes().size() + l.excludes().size();
        if (n == 1 && !always_brackets) {
            return quoted(l.includes().empty() ? l.excludes().front().source()
                                               : l.includes().front().source());
        }
        *this << '[';
        bool first = true;
        for (const auto* part : {&l.includes(), &l.excludes()}) {
            for (const auto& p : *part) {
                if (!first) {
                    *this << ", ";
                }
                first = false;
                quoted(p.source());
            }
        }
        return *this << ']';
    }

  private:
    std::string* out_;
};

// The value a string condition tests, or nullopt when this event kind has none (a config
// error that `check` reports; at run time the condition simply fails and says why).
std::optional<std::string_view> string_field(ConditionKey key, const events::Event& event) {
    const auto* push = std::get_if<events::Push>(&event.body);
    const auto* tag = std::get_if<events::Tag>(&event.body);
    const auto* pr = std::get_if<events::PullRequest>(&event.body);
    const auto* ci = std::get_if<events::Ci>(&event.body);
    switch (key) {
        case ConditionKey::provider:
            return events::to_string(event.provider);
        case ConditionKey::repo:
            return std::string_view(event.repo);
        case ConditionKey::author:
            return std::string_view(event.author);
        case ConditionKey::branch:
            if (push) {
                return std::string_view(push->branch);
            }
            if (pr) {
                return std::string_view(pr->branch);
            }
            if (ci) {
                return std::string_view(ci->branch);
            }
            return std::nullopt;
        case ConditionKey::base:
            if (pr) {
                return std::string_view(pr->base);
            }
            return std::nullopt;
        case ConditionKey::tag:
            if (tag) {
                return std::string_view(tag->tag);
            }
            return std::nullopt;
        case ConditionKey::action:
            if (push) {
                return std::string_view(push->action);
            }
            if (pr) {
                return std::string_view(pr->action);
            }
            if (ci) {
                return std::string_view(ci->action);
            }
            if (tag) {
                return std::string_view(tag->action);
            }
            return std::nullopt;
        case ConditionKey::message:
            if (push) {
                return std::string_view(push->message);
            }
            if (tag) {
                return std::string_view(tag->message);
            }
            return std::nullopt;
        case ConditionKey::workflow:
            if (ci) {
                return std::string_view(ci->workflow);
            }
            return std::nullopt;
        case ConditionKey::status:
            if (ci) {
                return std::string_view(ci->status);
            }
            return std::nullopt;
        case ConditionKey::labels:
        case ConditionKey::draft:
        case ConditionKey::fork:
        case ConditionKey::paths:
        case ConditionKey::payload:
            break;
    }
    return std::nullopt;
}

bool not_available(Why& why, ConditionKey key, const events::Event& event) {
    if (!why.wanted()) {
        return false;
    }
    why << to_string(key) << ": not available on " << events::to_string(event.kind()) << " events";
    return false;
}

// A label pattern holds when some label matches it; a negated one when no label does.
bool label_pattern_holds(const Pattern& p, const std::vector<std::string>& labels) {
    bool any = false;
    for (const auto& l : labels) {
        if (p.matches_body(l)) {
            any = true;
            break;
        }
    }
    return p.negated() ? !any : any;
}

bool check_labels(const LabelsCondition& cond, const events::Event& event, Why& why) {
    const auto* pr = std::get_if<events::PullRequest>(&event.body);
    if (!pr) {
        return not_available(why, ConditionKey::labels, event);
    }
    const auto& labels = pr->labels;
    constexpr std::size_t kShown = 10;
    for (const auto& p : cond.all_of) {
        if (!label_pattern_holds(p, labels)) {
            if (!why.wanted()) {
                return false;
            }
            why << "labels: ";
            why.strings(labels, kShown) << (p.negated() ? " has a label excluded by " : " lacks ");
            why.quoted(p.source());
            return false;
        }
    }
    if (!cond.any_of.empty()) {
        bool any = false;
        for (const auto& p : cond.any_of) {
            if (label_pattern_holds(p, labels)) {
                any = true;
                break;
            }
        }
        if (!any) {
            if (!why.wanted()) {
                return false;
            }
            why << "labels: ";
            why.strings(labels, kShown) << " has none of any: ";
            why.patterns(cond.any_of);
            return false;
        }
    }
    for (const auto& p : cond.none_of) {
        if (label_pattern_holds(p, labels)) {
            if (!why.wanted()) {
                return false;
            }
            why << "labels: ";
            why.strings(labels, kShown) << " has ";
            why.quoted(p.source()) << ", excluded by none: ";
            why.patterns(cond.none_of);
            return false;
        }
    }
    return true;
}

bool check_bool(ConditionKey key, bool wanted, const events::Event& event, Why& why) {
    const auto* pr = std::get_if<events::PullRequest>(&event.body);
    if (!pr) {
        return not_available(why, key, event);
    }
    bool actual = key == ConditionKey::draft ? pr->draft : pr->fork;
    if (actual == wanted) {
        return true;
    }
    if (!why.wanted()) {
        return false;
    }
    why << to_string(key) << (actual ? ": true, wanted false" : ": false, wanted true");
    return false;
}

bool check_paths(const PatternList& list, const events::Event& event, Why& why) {
    const auto* push = std::get_if<events::Push>(&event.body);
    if (!push) {
        return not_available(why, ConditionKey::paths, event);
    }
    // A deleted branch changed no file: its push carries no commits, but that is not a
    // truncated list, so it does not fail open (a deploy of a deleted branch can only fail).
    if (push->action == "deleted") {
        why << "paths: the branch was deleted, no file changed";
        return false;
    }
    // Fail open on a truncated or missing file list: skipping a deploy that was needed is
    // silent and worse than an extra deploy. The report shows a note (docs/rules.md).
    if (!push->files_complete) {
        return true;
    }
    for (const auto& f : push->changed_files) {
        if (list.matches(f)) {
            return true;
        }
    }
    if (!why.wanted()) {
        return false;
    }
    why << "paths: ";
    if (push->changed_files.empty()) {
        why << "no changed files";
    } else {
        why << "no changed file ";
        why.strings(push->changed_files, 5) << " matches";
    }
    why << ' ';
    why.list(list);
    return false;
}

// JSON pointers resolved once per evaluation: many rules test the same few pointers, and each
// `find_pointer` parses the pointer and hashes every key on the way. Fixed size, no allocation;
// pointers beyond the first kSlots are looked up every time.
class PointerCache {
  public:
    explicit PointerCache(const boost::json::value* payload) : payload_(payload) {}

    [[nodiscard]] bool has_payload() const { return payload_ != nullptr; }

    const boost::json::value* find(std::string_view pointer) {
        if (!payload_) {
            return nullptr;
        }
        for (std::size_t i = 0; i < used_; ++i) {
            if (slots_[i].pointer == pointer) {
                return slots_[i].value;
            }
        }
        boost::system::error_code ec;
        const boost::json::value* v = payload_->find_pointer(pointer, ec);
        if (used_ < slots_.size()) {
            slots_[used_++] = {pointer, v};
        }
        return v;
    }

  private:
    static constexpr std::size_t kSlots = 16;
    struct Slot {
        std::string_view pointer;
        const boost::json::value* value = nullptr;
    };
    const boost::json::value* payload_;
    std::array<Slot, kSlots> slots_{};
    std::size_t used_ = 0;
};

// JSON text of a scalar (`true`, `42`, `1.5`, `null`) or the string itself, without allocating.
bool scalar_text(const boost::json::value& v, std::string_view& out, std::array<char, 32>& buf) {
    auto number = [&](auto n) {
        auto r = std::to_chars(buf.data(), buf.data() + buf.size(), n);
        out = std::string_view(buf.data(), static_cast<std::size_t>(r.ptr - buf.data()));
        return true;
    };
    switch (v.kind()) {
        case boost::json::kind::string:
            out = v.get_string();
            return true;
        case boost::json::kind::bool_:
            out = v.get_bool() ? "true" : "false";
            return true;
        case boost::json::kind::null:
            out = "null";
            return true;
        case boost::json::kind::int64:
            return number(v.get_int64());
        case boost::json::kind::uint64:
            return number(v.get_uint64());
        case boost::json::kind::double_:
            // Shortest round-trip form, as JSON serialisers print it.
            return number(v.get_double());
        case boost::json::kind::array:
        case boost::json::kind::object:
            return false;
    }
    return false;
}

bool check_payload(const std::vector<PayloadCondition>& conds, PointerCache& pointers, Why& why) {
    for (const auto& c : conds) {
        const boost::json::value* v = pointers.find(c.pointer);
        if (!v) {
            why << "payload " << c.pointer
                << (pointers.has_payload() ? ": missing" : ": missing (no raw payload)");
            return false;
        }
        std::array<char, 32> buf{};
        std::string_view text;
        if (!scalar_text(*v, text, buf)) {
            why << "payload " << c.pointer << (v->is_object() ? ": is an object" : ": is an array")
                << ", only strings, numbers, booleans and null can match";
            return false;
        }
        if (!c.patterns.matches(text)) {
            if (!why.wanted()) {
                return false;
            }
            why << "payload " << c.pointer << ": ";
            if (v->is_string()) {
                why.quoted(text);
            } else {
                why << text;
            }
            why << " does not match ";
            why.list(c.patterns);
            return false;
        }
    }
    return true;
}

// What every condition of one evaluation reads: the event, its string fields looked up once
// (instead of once per condition), and the payload's resolved pointers.
struct Context {
    static constexpr std::size_t kKeys = static_cast<std::size_t>(ConditionKey::payload) + 1;

    Context(const events::Event& e, const boost::json::value* payload)
        : event(e), pointers(payload) {
        for (std::size_t k = 0; k < kKeys; ++k) {
            fields[k] = string_field(static_cast<ConditionKey>(k), e);
        }
    }

    const events::Event& event;
    std::array<std::optional<std::string_view>, kKeys> fields{};
    PointerCache pointers;
};

// True when the condition holds; otherwise `why` says why, with the actual value.
bool check(const Condition& cond, Context& ctx, Why& why) {
    const events::Event& event = ctx.event;
    switch (cond.key) {
        case ConditionKey::labels:
            if (const auto* l = std::get_if<LabelsCondition>(&cond.test)) {
                return check_labels(*l, event, why);
            }
            break;
        case ConditionKey::draft:
        case ConditionKey::fork:
            if (const auto* b = std::get_if<bool>(&cond.test)) {
                return check_bool(cond.key, *b, event, why);
            }
            break;
        case ConditionKey::paths:
            if (const auto* p = std::get_if<PatternList>(&cond.test)) {
                return check_paths(*p, event, why);
            }
            break;
        case ConditionKey::payload:
            if (const auto* p = std::get_if<std::vector<PayloadCondition>>(&cond.test)) {
                return check_payload(*p, ctx.pointers, why);
            }
            break;
        default:
            if (const auto* list = std::get_if<PatternList>(&cond.test)) {
                const auto& value = ctx.fields[static_cast<std::size_t>(cond.key)];
                if (!value) {
                    return not_available(why, cond.key, event);
                }
                if (list->matches(*value)) {
                    return true;
                }
                if (!why.wanted()) {
                    return false;
                }
                why << to_string(cond.key) << ": ";
                why.quoted(*value) << " does not match ";
                why.list(*list);
                return false;
            }
            break;
    }
    // The config library pairs every key with its test type; a mismatch is broken wiring.
    why << to_string(cond.key) << ": internal error: condition has the wrong test type";
    return false;
}

std::string_view event_branch_or_tag(const events::Event& event) {
    if (const auto* p = std::get_if<events::Push>(&event.body)) {
        return p->branch;
    }
    if (const auto* pr = std::get_if<events::PullRequest>(&event.body)) {
        return pr->branch;
    }
    if (const auto* ci = std::get_if<events::Ci>(&event.body)) {
        return ci->branch;
    }
    if (const auto* t = std::get_if<events::Tag>(&event.body)) {
        return t->tag;
    }
    return {};
}

std::optional<std::int64_t> event_pr_number(const events::Event& event) {
    if (const auto* pr = std::get_if<events::PullRequest>(&event.body)) {
        return pr->number;
    }
    // A CI run attached to a pull request carries its number (GitHub workflow_run).
    if (const auto* ci = std::get_if<events::Ci>(&event.body)) {
        return ci->pr_number;
    }
    return std::nullopt;
}

// Renders the rule's action; on failure writes why and returns nullopt.
std::optional<Action> render_action(const Rule& rule, const events::Event& event, Why& why) {
    Action a;
    a.kind = rule.action.kind;
    a.rule = rule.name;
    a.debounce = rule.debounce;
    a.app = rule.action.app.render(event);
    if (auto problem = check_app_name(a.app)) {
        why << "app ";
        why.quoted(a.app) << " (from ";
        why.quoted(rule.action.app.source()) << ") is not a valid Scalingo app name: " << *problem;
        return std::nullopt;
    }
    switch (a.kind) {
        case ActionKind::deploy:
            if (rule.action.branch) {
                a.branch = rule.action.branch->render(event);
            } else {
                a.branch = std::string(event_branch_or_tag(event));
            }
            if (a.branch.empty()) {
                why << "deploy: the branch is empty";
                if (rule.action.branch) {
                    why << " (from ";
                    why.quoted(rule.action.branch->source()) << ')';
                }
                return std::nullopt;
            }
            break;
        case ActionKind::review_app:
        case ActionKind::delete_review_app: {
            auto n = event_pr_number(event);
            if (!n || *n <= 0) {
                why << to_string(a.kind) << ": the " << events::to_string(event.kind())
                    << " event has no pull request number";
                return std::nullopt;
            }
            a.pr_number = *n;
            break;
        }
    }
    return a;
}

bool same_job(const Action& a, const Action& b) {
    return a.kind == b.kind && a.app == b.app && a.branch == b.branch && a.pr_number == b.pr_number;
}

// Room for a typical reason (`branch: "feature/x" does not match ["main", "release/*"]`), so
// building it costs one allocation instead of several regrowths.
constexpr std::size_t kReasonReserve = 96;

}  // namespace

Evaluation evaluate(const RuleSet& rules, const events::Event& event,
                    const boost::json::value* payload, Detail detail) {
    Evaluation ev;
    const bool explain = detail == Detail::reasons;
    if (explain) {
        ev.verdicts.resize(rules.rules.size());
        for (std::size_t i = 0; i < rules.rules.size(); ++i) {
            ev.verdicts[i].rule = rules.rules[i].name;
        }
    }

    if (rules.repos && !rules.repos->matches(event.repo)) {
        ev.repo_allowed = false;
        Why why(&ev.repo_reason);
        why << "repo ";
        why.quoted(event.repo) << " is not allowed by repos: ";
        why.list(*rules.repos, /*always_brackets=*/true);
        for (auto& v : ev.verdicts) {
            v.reason = ev.repo_reason;
        }
        return ev;
    }

    const Kind kind = event.kind();
    if (kind == Kind::ping || kind == Kind::ignored) {
        std::string reason = "the event is ";
        reason += events::to_string(kind);
        if (const auto* ig = std::get_if<events::Ignored>(&event.body); ig && !ig->reason.empty()) {
            reason += " (" + ig->reason + ")";
        }
        reason += "; no rule matches it";
        for (auto& v : ev.verdicts) {
            v.reason = reason;
        }
        return ev;
    }
    const auto* tag = std::get_if<events::Tag>(&event.body);
    const bool tag_deleted = tag && tag->action == "deleted";

    Context ctx(event, payload);
    const Rule* stopped_by = nullptr;
    for (std::size_t i = 0; i < rules.rules.size(); ++i) {
        const Rule& rule = rules.rules[i];
        std::string* reason = nullptr;
        if (explain) {
            reason = &ev.verdicts[i].reason;
            reason->reserve(kReasonReserve);
        }
        Why why(reason);
        if (stopped_by) {
            if (!explain) {
                break;
            }
            why << "not evaluated: rule ";
            why.quoted(stopped_by->name) << " matched with stop: true";
            continue;
        }
        if (rule.on != kind) {
            if (why.wanted()) {
                why << "on: " << events::to_string(rule.on) << ", but the event is "
                    << events::to_string(kind);
            }
            continue;
        }
        if (tag_deleted) {
            why << "tag deletions are recorded, never matched";
            continue;
        }
        bool ok = true;
        for (const auto& cond : rule.conditions) {
            if (!check(cond, ctx, why)) {
                ok = false;
                break;
            }
        }
        if (!ok) {
            continue;
        }
        auto action = render_action(rule, event, why);
        if (!action) {
            continue;
        }
        if (explain) {
            ev.verdicts[i].matched = true;
            ev.verdicts[i].reason.clear();
            ev.verdicts[i].reason.shrink_to_fit();
        }
        bool duplicate = false;
        for (const auto& existing : ev.actions) {
            if (same_job(existing, *action)) {
                duplicate = true;
                break;
            }
        }
        if (!duplicate) {
            ev.actions.push_back(std::move(*action));
        }
        if (rule.stop) {
            stopped_by = &rule;
        }
    }
    return ev;
}

// Scalingo's rule for app names, from the API reference (Scalingo/developers-documentation,
// _scalingo_api/apps.md, "Create an Application"): `app.name` "should have between 6 and 48
// lower case alphanumerical characters and hyphens, it can't have an hyphen at the beginning
// or at the end, nor two hyphens in a row". (Older versions of that page said 6 to 32.)
std::optional<std::string> check_app_name(std::string_view name) {
    constexpr std::size_t kMin = 6;
    constexpr std::size_t kMax = 48;
    if (name.empty()) {
        return std::string("empty name");
    }
    for (char c : name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
        if (!ok) {
            std::string msg = "invalid character ";
            if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
                msg += "(byte " + std::to_string(static_cast<unsigned char>(c)) + ")";
            } else {
                msg += '\'';
                msg += c;
                msg += '\'';
            }
            return msg + "; only lowercase letters, digits and hyphens are allowed";
        }
    }
    if (name.size() < kMin || name.size() > kMax) {
        return "length " + std::to_string(name.size()) + ", must be between 6 and 48 characters";
    }
    if (name.front() == '-' || name.back() == '-') {
        return std::string("must not start or end with a hyphen");
    }
    if (name.find("--") != std::string_view::npos) {
        return std::string("must not contain two hyphens in a row");
    }
    return std::nullopt;
}

}  // namespace linkpilot::rules
