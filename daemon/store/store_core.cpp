// The Store's algorithms, written once over detail::Backend (backend.hpp): what a delivery,
// a claim, a settle or a migration does is decided here, and the SQLite and PostgreSQL
// backends only say it in their dialect.

#include <algorithm>
#include <charconv>
#include <string>
#include <utility>
#include <vector>

#include "common/sha256.hpp"
#include "daemon/store/backend.hpp"

namespace linkpilot::store::detail {

std::int64_t Rows::int64(std::size_t row, std::size_t col) const {
    const auto& c = cell(row, col);
    if (const auto* i = std::get_if<std::int64_t>(&c)) {
        return *i;
    }
    std::int64_t v = 0;
    if (const auto* s = std::get_if<std::string>(&c)) {
        std::from_chars(s->data(), s->data() + s->size(), v);
    }
    return v;
}

std::string Rows::text(std::size_t row, std::size_t col) const {
    const auto& c = cell(row, col);
    if (const auto* s = std::get_if<std::string>(&c)) {
        return *s;
    }
    if (const auto* i = std::get_if<std::int64_t>(&c)) {
        return std::to_string(*i);
    }
    return {};
}

namespace {

Unexpected<StoreError> error(StoreError::Kind kind, std::string message) {
    return Unexpected{StoreError{kind, std::move(message)}};
}

// The columns of Stmt::get_job and the other statements answering jobs, in order.
Job read_job(const Rows& q, std::size_t row) {
    Job j;
    j.id = q.int64(row, 0);
    j.delivery_id = q.text(row, 1);
    j.provider = q.text(row, 2);
    j.rule = q.text(row, 3);
    j.action = q.text(row, 4);
    j.app = q.text(row, 5);
    j.args_json = q.text(row, 6);
    j.state = q.text(row, 7);
    j.attempts = static_cast<std::int32_t>(q.int64(row, 8));
    j.next_attempt_at = q.time(row, 9);
    j.last_error = q.opt_text(row, 10);
    j.note = q.opt_text(row, 11);
    j.debounce_key = q.opt_text(row, 12);
    j.created_at = q.time(row, 13);
    j.updated_at = q.time(row, 14);
    j.freeze_deferred = q.boolean(row, 15);
    j.ignore_freeze = q.boolean(row, 16);
    return j;
}

std::vector<Job> read_jobs(const Rows& q) {
    std::vector<Job> jobs;
    jobs.reserve(q.size());
    for (std::size_t i = 0; i < q.size(); ++i) {
        jobs.push_back(read_job(q, i));
    }
    return jobs;
}

void sort_by_id(std::vector<Job>& jobs) {
    std::sort(jobs.begin(), jobs.end(), [](const Job& a, const Job& b) { return a.id < b.id; });
}

std::int64_t flag(bool b) { return b ? 1 : 0; }

// A transition's own failure (settle records it and goes on) rather than the store's.
bool job_error(const StoreError& e) {
    return e.kind == StoreError::Kind::not_found || e.kind == StoreError::Kind::invalid_state;
}

// accept_batch's marker for an item the server refused without savepoints (see accept_all).
constexpr std::string_view kBadItem = "batch item refused: ";

class CoreStore final : public Store {
  public:
    explicit CoreStore(std::unique_ptr<Backend> backend) : b_(std::move(backend)) {}

    Result<AcceptResult> accept(const NewDelivery& delivery,
                                const std::vector<NewJob>& jobs) override {
        std::vector<AcceptItem> items;
        items.emplace_back(delivery, jobs);
        auto out = accept_batch(items);
        return std::move(out.front());
    }

    std::vector<Result<AcceptResult>> accept_batch(const std::vector<AcceptItem>& items) override {
        if (items.empty()) {
            return {};
        }
        // Where a savepoint is a round trip, the usual batch goes without one per item. When
        // the server finds an item itself wrong (a text with a NUL, invalid args JSON, ...),
        // the whole transaction is void: it is then redone with a savepoint per item, so only
        // that item fails.
        const bool savepoints = b_->cheap_savepoints();
        auto out = accept_all(items, savepoints);
        if (!savepoints && !out.front() && out.front().error().kind == StoreError::Kind::invalid &&
            out.front().error().message.starts_with(kBadItem)) {
            out = accept_all(items, /*savepoints=*/true);
        }
        return out;
    }

    Result<std::vector<Job>> list_jobs(const JobFilter& filter) override {
        auto q =
            b_->run(Stmt::list_jobs, {filter.state, filter.app, flag(filter.freeze_deferred_only)});
        if (!q) {
            return Unexpected{q.error()};
        }
        return read_jobs(*q);
    }

    Result<std::optional<Job>> get_job(std::int64_t id) override {
        return one_job(Stmt::get_job, {id});
    }

    Result<std::vector<Job>> claim_runnable(TimePoint now, std::size_t limit) override {
        if (limit == 0) {
            return std::vector<Job>{};
        }
        auto tx = Transaction::begin(*b_);
        if (!tx) {
            return Unexpected{tx.error()};
        }
        // The claim lock before any row lock (renew), as in settle().
        if (auto l = b_->run(Stmt::claim_lock); !l) {
            return Unexpected{l.error()};
        }
        if (auto r = renew(now); !r) {
            return Unexpected{r.error()};
        }
        auto claimed = claim_due(now, limit);
        if (!claimed) {
            return claimed;
        }
        if (auto c = tx->commit(); !c) {
            return Unexpected{c.error()};
        }
        return claimed;
    }

    Result<SettleResult> settle(const std::vector<Transition>& transitions,
                                const std::vector<std::string>& named, TimePoint now,
                                std::size_t claim_limit, ClaimScope scope) override {
        if (transitions.empty() && claim_limit == 0) {
            return SettleResult{};
        }
        // Job outcomes and claims need not wait for the disk: a lost commit only puts the job
        // back to running, then pending, and it runs again (at-least-once). Deliveries keep
        // their full durability: the 202 promises they are stored.
        auto tx = Transaction::begin(*b_, Durability::relaxed);
        if (!tx) {
            return Unexpected{tx.error()};
        }
        // The claim lock first, before any row lock, so claimers always lock in one order.
        const bool hands_over = std::any_of(transitions.begin(), transitions.end(),
                                            [](const Transition& t) { return t.handover != 0; });
        if (claim_limit > 0 || hands_over) {
            if (auto l = b_->run(Stmt::claim_lock); !l) {
                return Unexpected{l.error()};
            }
        }
        if (auto r = renew(now); !r) {
            return Unexpected{r.error()};
        }
        SettleResult out;
        out.transitions.reserve(transitions.size());
        out.handovers.reserve(transitions.size());
        for (const auto& t : transitions) {
            auto applied = apply(t, now);
            if (!applied && !job_error(applied.error())) {
                return Unexpected{applied.error()};
            }
            out.transitions.push_back(std::move(applied));
            auto handed = hand_over(t, now, out);
            if (!handed && handed.error().kind != StoreError::Kind::invalid_state) {
                return Unexpected{handed.error()};
            }
            out.handovers.push_back(std::move(handed));
        }
        if (claim_limit > 0 && scope == ClaimScope::all) {
            auto claimed = claim_due(now, claim_limit);
            if (!claimed) {
                return Unexpected{claimed.error()};
            }
            out.claimed = std::move(*claimed);
            for (const auto& j : out.claimed) {
                if (auto n = add_next(j.app, j.id, now, out); !n) {
                    return Unexpected{n.error()};
                }
            }
            auto next = next_wakeup();
            if (!next) {
                return Unexpected{next.error()};
            }
            out.next_wakeup = *next;
        } else if (claim_limit > 0) {
            if (auto e = b_->run(Stmt::expire_leases, {now}); !e) {
                return Unexpected{e.error()};
            }
            for (const auto app : apps_to_claim(transitions, named)) {
                if (out.claimed.size() >= claim_limit) {
                    break;
                }
                if (auto c = claim_app_head(app, now, out); !c) {
                    return Unexpected{c.error()};
                }
            }
            sort_by_id(out.claimed);
        }
        if (auto c = tx->commit(); !c) {
            return Unexpected{c.error()};
        }
        return out;
    }

    Result<void> complete(std::int64_t id, std::string_view note, TimePoint now) override {
        return counted(id, kStateDone, note, now, [&] {
            return transition(id, kStateRunning, Stmt::complete, {id, note, now, owner()});
        });
    }

    Result<void> fail(std::int64_t id, std::string_view err, TimePoint now) override {
        return counted(id, kStateFailed, err, now, [&] {
            return transition(id, kStateRunning, Stmt::fail, {id, err, now, owner()});
        });
    }

    Result<void> reschedule(std::int64_t id, std::string_view err, TimePoint next_attempt_at,
                            TimePoint now) override {
        return counted(id, kOutcomeRescheduled, err, now, [&] {
            return transition(id, kStateRunning, Stmt::reschedule,
                              {id, err, now, owner(), next_attempt_at});
        });
    }

    Result<void> defer(std::int64_t id, TimePoint until, std::string_view note,
                       TimePoint now) override {
        return transition(id, kStateRunning, Stmt::defer, {id, until, note, now, owner()});
    }

    Result<void> skip(std::int64_t id, std::string_view note, TimePoint now) override {
        return transition(id, kStateRunning, Stmt::skip, {id, note, now, owner()});
    }

    Result<void> retry(std::int64_t id, TimePoint now) override {
        return transition(id, kStateFailed, Stmt::retry, {id, now});
    }

    Result<void> cancel(std::int64_t id, std::string_view note, TimePoint now) override {
        auto r = transition(id, kStatePending, Stmt::cancel, {id, note, now});
        if (r || r.error().kind != StoreError::Kind::invalid_state) {
            return r;
        }
        // Still pending: the guard of Stmt::cancel refused it.
        auto job = get_job(id);
        if (!job) {
            return Unexpected{job.error()};
        }
        if (!*job || (*job)->state != kStatePending) {
            return r;
        }
        auto running = b_->run(Stmt::app_running, {(*job)->app});
        if (!running) {
            return Unexpected{running.error()};
        }
        return Unexpected{cancel_refused(**job, running->empty() ? 0 : running->int64(0, 0))};
    }

    Result<void> run_now(std::int64_t id, bool ignore_freeze, std::string_view note,
                         TimePoint now) override {
        return transition(id, kStatePending, Stmt::run_now, {id, flag(ignore_freeze), note, now});
    }

    Result<void> redefer(std::int64_t id, TimePoint until, std::string_view note,
                         TimePoint now) override {
        return transition(id, kFreezeDeferred, Stmt::redefer, {id, until, note, now});
    }

    Result<std::vector<Attempt>> list_attempts(const JobFilter& filter) override {
        auto q = b_->run(Stmt::list_attempts,
                         {filter.state, filter.app, flag(filter.freeze_deferred_only)});
        if (!q) {
            return Unexpected{q.error()};
        }
        std::vector<Attempt> out;
        out.reserve(q->size());
        for (std::size_t i = 0; i < q->size(); ++i) {
            out.push_back(Attempt{q->int64(i, 0), static_cast<std::int32_t>(q->int64(i, 1)),
                                  q->time(i, 2), q->text(i, 3), q->opt_text(i, 4)});
        }
        return out;
    }

    Result<std::int64_t> recover_running(TimePoint now) override {
        auto q = b_->run(Stmt::recover, {now});
        if (!q) {
            return Unexpected{q.error()};
        }
        return q->affected();
    }

    Result<std::optional<TimePoint>> next_wakeup() override {
        auto q = b_->run(Stmt::next_wakeup);
        if (!q) {
            return Unexpected{q.error()};
        }
        if (q->empty() || q->is_null(0, 0)) {
            return std::optional<TimePoint>{};
        }
        return std::optional<TimePoint>{q->time(0, 0)};
    }

    Result<std::optional<Delivery>> get_delivery(std::string_view id) override {
        auto q = b_->run(Stmt::get_delivery, {id});
        if (!q) {
            return Unexpected{q.error()};
        }
        if (q->empty()) {
            return std::optional<Delivery>{};
        }
        Delivery d;
        d.id = q->text(0, 0);
        d.provider = q->text(0, 1);
        d.event = q->text(0, 2);
        d.repo = q->text(0, 3);
        d.received_at = q->time(0, 4);
        d.status = q->text(0, 5);
        d.payload = q->opt_text(0, 6);
        d.payload_sha256 = q->text(0, 7);
        d.event_json = q->text(0, 8);
        d.verdicts_json = q->text(0, 9);
        d.config_fingerprint = q->text(0, 10);
        return std::optional<Delivery>{std::move(d)};
    }

    Result<std::int64_t> prune_payloads(TimePoint older_than) override {
        auto q = b_->run(Stmt::prune_payloads, {older_than});
        if (!q) {
            return Unexpected{q.error()};
        }
        return q->affected();
    }

    Result<Stats> stats() override {
        Stats s;
        auto counts = b_->run(Stmt::count_jobs);
        if (!counts) {
            return Unexpected{counts.error()};
        }
        for (std::size_t i = 0; i < counts->size(); ++i) {
            s.jobs.push_back(JobCount{counts->text(i, 0), counts->text(i, 1), counts->int64(i, 2)});
        }
        auto oldest = b_->run(Stmt::oldest_pending);
        if (!oldest) {
            return Unexpected{oldest.error()};
        }
        if (!oldest->empty() && !oldest->is_null(0, 0)) {
            s.oldest_pending_created_at = oldest->time(0, 0);
        }
        return s;
    }

    Result<SweepLock> try_lock_sweep(const SweepHolder& self) override {
        return b_->try_lock_sweep(self);
    }
    Result<void> unlock_sweep() override { return b_->unlock_sweep(); }

    Result<MigrateResult> migrate() override { return detail::migrate(*b_); }
    Result<int> schema_version() override { return detail::schema_version(*b_); }

  private:
    [[nodiscard]] std::string_view owner() const { return b_->lease_owner(); }

    Result<void> renew(TimePoint now) {
        if (auto q = b_->run(Stmt::renew_leases, {owner(), now + b_->lease()}); !q) {
            return Unexpected{q.error()};
        }
        return {};
    }

    std::vector<Result<AcceptResult>> accept_all(const std::vector<AcceptItem>& items,
                                                 bool savepoints) {
        std::vector<Result<AcceptResult>> out;
        out.reserve(items.size());
        auto r = [&]() -> Result<void> {
            auto tx = Transaction::begin(*b_);
            if (!tx) {
                return Unexpected{tx.error()};
            }
            if (auto locked = lock_debounce_keys(items); !locked) {
                return locked;
            }
            for (const auto& [delivery, jobs] : items) {
                if (auto wrong = check_accept(delivery, jobs)) {
                    out.emplace_back(Unexpected{std::move(*wrong)});
                    continue;
                }
                if (savepoints) {
                    if (auto sp = b_->exec("SAVEPOINT item"); !sp) {
                        return sp;
                    }
                }
                auto result = accept_one(delivery, jobs);
                if (!result && result.error().kind == StoreError::Kind::invalid && !savepoints) {
                    return error(StoreError::Kind::invalid,
                                 std::string{kBadItem} + result.error().message);
                }
                if (!result && result.error().kind != StoreError::Kind::invalid) {
                    return Unexpected{result.error()};
                }
                if (savepoints) {
                    if (!result) {
                        if (auto back = b_->exec("ROLLBACK TO item"); !back) {
                            return back;
                        }
                    }
                    if (auto end = b_->exec("RELEASE item"); !end) {
                        return end;
                    }
                }
                out.push_back(std::move(result));
            }
            return tx->commit();
        }();
        if (!r) {
            return std::vector<Result<AcceptResult>>(items.size(), Unexpected{r.error()});
        }
        return out;
    }

    // Two replicas accepting for one debounce key must not both keep a pending job: each
    // batch locks its keys (in sorted order: no deadlock between batches) before inserting,
    // so the later one sees, and supersedes, the earlier one's job.
    Result<void> lock_debounce_keys(const std::vector<AcceptItem>& items) {
        if (!b_->has(Stmt::lock_debounce_keys)) {
            return {};
        }
        std::vector<std::string> keys;
        for (const auto& item : items) {
            for (const auto& j : item.second) {
                if (j.debounce_key) {
                    keys.push_back(*j.debounce_key);
                }
            }
        }
        if (keys.empty()) {
            return {};
        }
        std::sort(keys.begin(), keys.end());
        keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
        if (auto q = b_->run(Stmt::lock_debounce_keys, {Param::text_array(keys)}); !q) {
            return Unexpected{q.error()};
        }
        return {};
    }

    // Inside an open transaction (and savepoint, if any); `d` and `jobs` passed check_accept.
    Result<AcceptResult> accept_one(const NewDelivery& d, const std::vector<NewJob>& jobs) {
        // Never an empty hash in its place: the row would claim a payload it does not describe.
        const auto hash = sha256_hex(d.payload);
        if (!hash) {
            return error(StoreError::Kind::other,
                         "hashing the payload of delivery " + d.id + ": OpenSSL failed");
        }
        std::vector<Param> params{d.provider,
                                  d.id,
                                  d.event,
                                  d.repo,
                                  d.received_at,
                                  d.status,
                                  Param::blob(d.payload),
                                  *hash,
                                  d.event_json,
                                  d.verdicts_json,
                                  d.config_fingerprint};
        const bool with_first_job = !jobs.empty() && b_->has(Stmt::insert_delivery_and_job);
        if (!with_first_job) {
            auto q = b_->run(Stmt::insert_delivery, params);
            if (!q) {
                return Unexpected{q.error()};
            }
            if (q->affected() == 0) {
                return AcceptResult{true, {}};
            }
        }
        AcceptResult result;
        for (std::size_t i = 0; i < jobs.size(); ++i) {
            const auto& j = jobs[i];
            const TimePoint next = first_attempt_at(d, j);
            const std::string_view args =
                j.args_json.empty() ? std::string_view{"{}"} : std::string_view{j.args_json};
            const std::vector<Param> job_params{j.rule, j.action,       j.app,        args,
                                                next,   j.debounce_key, d.received_at};
            Result<Rows> q = Rows{};
            if (i == 0 && with_first_job) {
                // The delivery and its first job in one statement: no job row comes back when
                // the delivery was already stored.
                params.insert(params.end(), job_params.begin(), job_params.end());
                q = b_->run(Stmt::insert_delivery_and_job, params);
                if (q && q->empty()) {
                    return AcceptResult{true, {}};
                }
            } else {
                std::vector<Param> p{d.provider, d.id};
                p.insert(p.end(), job_params.begin(), job_params.end());
                q = b_->run(Stmt::insert_job, p);
            }
            if (!q) {
                return Unexpected{q.error()};
            }
            if (q->empty()) {
                return error(StoreError::Kind::other, "inserting a job returned no id");
            }
            const std::int64_t id = q->int64(0, 0);
            if (j.debounce_key) {
                if (auto s = b_->run(Stmt::supersede, {id, d.received_at, *j.debounce_key}); !s) {
                    return Unexpected{s.error()};
                }
            }
            result.job_ids.push_back(id);
        }
        return result;
    }

    // The due queue heads of apps with nothing running, up to `limit`, marked running by this
    // instance, oldest first; jobs whose lease expired go back to the queue first.
    Result<std::vector<Job>> claim_due(TimePoint now, std::size_t limit) {
        if (auto e = b_->run(Stmt::expire_leases, {now}); !e) {
            return Unexpected{e.error()};
        }
        auto q = b_->run(Stmt::claim_runnable,
                         {now, static_cast<std::int64_t>(limit), owner(), now + b_->lease()});
        if (!q) {
            return Unexpected{q.error()};
        }
        auto jobs = read_jobs(*q);
        sort_by_id(jobs);
        return jobs;
    }

    // Claims `app`'s oldest pending job into `out` if it is due and the app has nothing
    // running; otherwise notes when it will be due.
    Result<void> claim_app_head(std::string_view app, TimePoint now, SettleResult& out) {
        {
            auto busy = b_->run(Stmt::app_running, {app});
            if (!busy) {
                return Unexpected{busy.error()};
            }
            if (!busy->empty()) {
                return {};
            }
        }
        auto found = one_job(Stmt::app_head, {app});
        if (!found) {
            return Unexpected{found.error()};
        }
        if (!*found) {
            return {};
        }
        Job head = std::move(**found);
        if (head.next_attempt_at > now) {
            if (!out.next_wakeup || head.next_attempt_at < *out.next_wakeup) {
                out.next_wakeup = head.next_attempt_at;
            }
            return {};
        }
        auto marked = mark_running(head.id, now);
        if (!marked) {
            return Unexpected{marked.error()};
        }
        if (!*marked) {
            return {};  // no longer pending: superseded by an accept that committed meanwhile
        }
        // As stored now (Stmt::mark_running).
        head.state = kStateRunning;
        head.freeze_deferred = false;
        head.updated_at = now;
        const auto id = head.id;
        out.claimed.push_back(std::move(head));
        return add_next(app, id, now, out);
    }

    // Marks `t.handover`, which the executor already started, running (see Transition).
    Result<void> hand_over(const Transition& t, TimePoint now, SettleResult& out) {
        if (t.handover == 0) {
            return {};
        }
        auto marked = mark_running(t.handover, now);
        if (!marked) {
            return Unexpected{marked.error()};
        }
        if (!*marked) {
            return Unexpected{handover_not_pending(t.handover)};
        }
        return add_next(t.app, t.handover, now, out);
    }

    // Marks pending job `id` running under this instance's lease; false when it was not
    // pending.
    Result<bool> mark_running(std::int64_t id, TimePoint now) {
        auto q = b_->run(Stmt::mark_running, {id, owner(), now + b_->lease(), now});
        if (!q) {
            return Unexpected{q.error()};
        }
        return q->affected() > 0;
    }

    Result<std::optional<Job>> one_job(Stmt stmt, std::initializer_list<Param> params) {
        auto q = b_->run(stmt, params);
        if (!q) {
            return Unexpected{q.error()};
        }
        if (q->empty()) {
            return std::optional<Job>{};
        }
        return std::optional<Job>{read_job(*q, 0)};
    }

    // Adds `app`'s oldest pending job to out.next when it may follow job `after` unclaimed.
    Result<void> add_next(std::string_view app, std::int64_t after, TimePoint now,
                          SettleResult& out) {
        auto next = one_job(Stmt::app_head, {app});
        if (!next) {
            return Unexpected{next.error()};
        }
        if (*next && may_follow(**next, now)) {
            out.next.push_back(NextJob{after, std::move(**next)});
        }
        return {};
    }

    Result<void> apply(const Transition& t, TimePoint now) {
        switch (t.kind) {
            case Transition::Kind::complete:
                return complete(t.id, t.text, now);
            case Transition::Kind::fail:
                return fail(t.id, t.text, now);
            case Transition::Kind::reschedule:
                return reschedule(t.id, t.text, t.at, now);
            case Transition::Kind::defer:
                return defer(t.id, t.at, t.text, now);
            case Transition::Kind::skip:
                return skip(t.id, t.text, now);
        }
        return error(StoreError::Kind::invalid, "unknown transition");
    }

    // A transition that counts an attempt (`step`), and its entry in the job's history with
    // `outcome` and `text`: together, in a transaction of their own unless one is open
    // (settle's). Where the dialect's transition statement records the attempt itself
    // (Stmt::insert_attempt is null), that one statement is all.
    template <class Step>
    Result<void> counted(std::int64_t id, std::string_view outcome, std::string_view text,
                         TimePoint now, const Step& step) {
        if (!b_->has(Stmt::insert_attempt)) {
            return step();
        }
        std::optional<Transaction> own;
        if (!b_->in_transaction()) {
            auto tx = Transaction::begin(*b_);
            if (!tx) {
                return Unexpected{tx.error()};
            }
            own.emplace(std::move(*tx));
        }
        if (auto r = step(); !r) {
            return r;
        }
        if (auto q = b_->run(Stmt::insert_attempt, {id, now, outcome, text}); !q) {
            return Unexpected{q.error()};
        }
        if (own) {
            return own->commit();
        }
        return {};
    }

    // Runs the transition `stmt` (its first parameter the job id) and, when it changed
    // nothing, says why: no such job, or not `from`.
    Result<void> transition(std::int64_t id, std::string_view from, Stmt stmt,
                            std::initializer_list<Param> params) {
        {
            auto q = b_->run(stmt, params);
            if (!q) {
                return Unexpected{q.error()};
            }
            if (q->affected() > 0) {
                return {};
            }
        }
        auto q = b_->run(Stmt::job_state, {id});
        if (!q) {
            return Unexpected{q.error()};
        }
        if (q->empty()) {
            return error(StoreError::Kind::not_found, "no job " + std::to_string(id));
        }
        const auto state = q->text(0, 0);
        if (state == from && from == kStateRunning) {
            // Only with leases: another instance took the job over.
            return error(StoreError::Kind::invalid_state,
                         "job " + std::to_string(id) + " is running under another lease (" +
                             q->opt_text(0, 1).value_or("none") + "): this one expired");
        }
        return error(StoreError::Kind::invalid_state,
                     "job " + std::to_string(id) + " is " + state + ", not " + std::string{from});
    }

    std::unique_ptr<Backend> b_;
};

// One step of the migration ladder: from version `v` to v + 1, in a transaction of its own.
Result<void> migrate_step(Backend& b, int v) {
    auto tx = Transaction::begin(b);
    if (!tx) {
        return Unexpected{tx.error()};
    }
    // Re-read under the write lock: another process may have migrated meanwhile.
    auto current = schema_version(b);
    if (!current) {
        return Unexpected{current.error()};
    }
    if (*current > v) {
        return {};
    }
    if (auto r = b.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
        !r) {
        return r;
    }
    if (auto r = b.exec(b.migrations()[static_cast<std::size_t>(v)]); !r) {
        return r;
    }
    const std::string set = "DELETE FROM schema_version; INSERT INTO schema_version VALUES (" +
                            std::to_string(v + 1) + ")";
    if (auto r = b.exec(set.c_str()); !r) {
        return r;
    }
    return tx->commit();
}

Result<MigrateResult> migrate_locked(Backend& b) {
    const int latest = static_cast<int>(b.migrations().size());
    auto current = schema_version(b);
    if (!current) {
        return Unexpected{current.error()};
    }
    const int from = *current;
    if (from > latest) {
        return error(StoreError::Kind::other, "database schema version " + std::to_string(from) +
                                                  " is newer than this linkpilot knows (" +
                                                  std::to_string(latest) + ")");
    }
    if (from == latest) {
        // Nothing to write: also the path a read-only connection takes.
        return MigrateResult{from, from};
    }
    if (b.read_only()) {
        return error(StoreError::Kind::readonly,
                     "database schema needs migrating but it is opened read-only");
    }
    for (int v = from; v < latest; ++v) {
        if (auto r = migrate_step(b, v); !r) {
            return error(r.error().kind, "migration to version " + std::to_string(v + 1) + ": " +
                                             r.error().message);
        }
    }
    return MigrateResult{from, latest};
}

}  // namespace

std::unique_ptr<Store> make_store(std::unique_ptr<Backend> backend) {
    return std::make_unique<CoreStore>(std::move(backend));
}

Result<MigrateResult> migrate(Backend& backend) {
    // Replicas starting together: the first migrates, the others wait, then see it done.
    if (auto l = backend.run(Stmt::lock_migrations); !l) {
        return Unexpected{l.error()};
    }
    auto result = migrate_locked(backend);
    (void)backend.run(Stmt::unlock_migrations);
    return result;
}

Result<int> schema_version(Backend& backend) {
    auto has = backend.run(Stmt::has_version_table);
    if (!has) {
        return Unexpected{has.error()};
    }
    if (has->empty() || !has->boolean(0, 0)) {
        return 0;
    }
    auto v = backend.run_uncached(Stmt::get_version);
    if (!v) {
        return Unexpected{v.error()};
    }
    if (v->empty() || v->is_null(0, 0)) {
        return 0;
    }
    return static_cast<int>(v->int64(0, 0));
}

}  // namespace linkpilot::store::detail
