// Every payload listed in ../shared/fixtures/index.json and ../shared/corpus/index.json is
// parsed and checked against a hand-written table of expected values (filled by reading each
// payload). An index entry without a row, or a row without an index entry, fails the test, so
// a new fixture cannot slip in unchecked.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "daemon/ingress/github/parse.hpp"
#include "daemon/ingress/gitlab/parse.hpp"
#include "events/event.hpp"
#include "tests/support/fixtures.hpp"

namespace linkpilot::ingress {
namespace {

using events::Kind;
namespace json = boost::json;

constexpr const char* kZeros = "0000000000000000000000000000000000000000";

struct Row {
    const char* file;  // "<set>/<file in index>", set is "fixtures" or "corpus"
    Kind kind;
    const char* repo;
    const char* ref;  // push/pull_request/ci: branch; tag: tag name; others: ""
    // pull_request: number; ci: pr_number (nullopt when the run has no pull request)
    std::optional<std::int64_t> number;
    const char* action;  // normalised action; "" for ping and ignored
    const char* sha;
    const char* author;
    bool fork;   // pull_request only
    bool draft;  // pull_request only
};

// clang-format off
const Row kRows[] = {
    // ---- fixtures, GitHub
    {"fixtures/github/ping/ping.json", Kind::ping, "Octocoders/Hello-World", "", std::nullopt, "", "", "Codertocat", false, false},
    {"fixtures/github/push/branch-created.json", Kind::push, "Codertocat/Hello-World", "master", std::nullopt, "pushed", "6113728f27ae82c7b1a177c8d03f9e96e0adf246", "Codertocat", false, false},
    {"fixtures/github/push/branch-updated.json", Kind::push, "woodpecker-ci/woodpecker", "main", std::nullopt, "pushed", "366701fde727cb7a9e7f21eb88264f59f6f9b89c", "6543", false, false},
    {"fixtures/github/push/branch-forced.json", Kind::push, "6543/oxiduct", "main", std::nullopt, "pushed", "f7220f1f753260bf6f1c533357c70213e9fd4abe", "6543", false, false},
    {"fixtures/github/push/branch-deleted.json", Kind::push, "bradrydzewski/drone-test-go", "feature-branch", std::nullopt, "deleted", kZeros, "bradrydzewski", false, false},
    {"fixtures/github/push/tag-created.json", Kind::tag, "Codertocat/Hello-World", "simple-tag", std::nullopt, "created", "6113728f27ae82c7b1a177c8d03f9e96e0adf246", "Codertocat", false, false},
    {"fixtures/github/push/tag-deleted.json", Kind::tag, "Codertocat/Hello-World", "simple-tag", std::nullopt, "deleted", kZeros, "Codertocat", false, false},
    {"fixtures/github/pull_request/opened.json", Kind::pull_request, "Codertocat/Hello-World", "changes", 2, "opened", "ec26c3e57ca3a959ca5aad62de7213c562f8c821", "Codertocat", false, false},
    {"fixtures/github/pull_request/synchronize.json", Kind::pull_request, "Codertocat/Hello-World", "changes", 2, "synchronize", "ec26c3e57ca3a959ca5aad62de7213c562f8c821", "Codertocat", false, false},
    {"fixtures/github/pull_request/labeled.json", Kind::pull_request, "Codertocat/Hello-World", "changes", 2, "labeled", "ec26c3e57ca3a959ca5aad62de7213c562f8c821", "Codertocat", false, false},
    {"fixtures/github/pull_request/unlabeled.json", Kind::pull_request, "Codertocat/Hello-World", "changes", 2, "unlabeled", "ec26c3e57ca3a959ca5aad62de7213c562f8c821", "Codertocat", false, false},
    {"fixtures/github/pull_request/edited.json", Kind::pull_request, "anbraten/test-ready-release-go", "anbraten-patch-3", 62, "edited", "c88b9ee719285134957cbc698c9b7ef9b78007bf", "anbraten", false, false},
    {"fixtures/github/pull_request/closed-not-merged.json", Kind::pull_request, "Codertocat/Hello-World", "changes", 2, "closed", "ec26c3e57ca3a959ca5aad62de7213c562f8c821", "Codertocat", false, false},
    {"fixtures/github/pull_request/closed-merged.json", Kind::pull_request, "anbraten/test-ready-release-go", "anbraten-patch-3", 62, "merged", "c88b9ee719285134957cbc698c9b7ef9b78007bf", "anbraten", false, false},
    {"fixtures/github/pull_request/reopened.json", Kind::pull_request, "Codertocat/Hello-World", "changes", 2, "reopened", "ec26c3e57ca3a959ca5aad62de7213c562f8c821", "Codertocat", false, false},
    {"fixtures/github/pull_request/ready_for_review.json", Kind::pull_request, "Codertocat/Hello-World", "changes", 2, "ready_for_review", "ec26c3e57ca3a959ca5aad62de7213c562f8c821", "Codertocat", false, false},
    {"fixtures/github/pull_request/converted_to_draft.json", Kind::pull_request, "Codertocat/Hello-World", "changes", 2, "converted_to_draft", "ec26c3e57ca3a959ca5aad62de7213c562f8c821", "Codertocat", false, true},
    {"fixtures/github/pull_request/assigned.json", Kind::pull_request, "Codertocat/Hello-World", "changes", 2, "assigned", "ec26c3e57ca3a959ca5aad62de7213c562f8c821", "Codertocat", false, false},
    {"fixtures/github/workflow_run/completed.json", Kind::ci, "octo-org/octo-repo", "master", std::nullopt, "completed", "3484a3fb816e0859fd6e1cea078d76385ff50625", "Codertocat", false, false},
    {"fixtures/github/workflow_run/requested.json", Kind::ci, "octo-org/octo-repo", "master", std::nullopt, "requested", "3484a3fb816e0859fd6e1cea078d76385ff50625", "Codertocat", false, false},
    {"fixtures/github/check_suite/completed.json", Kind::ci, "Codertocat/Hello-World", "changes", 2, "completed", "ec26c3e57ca3a959ca5aad62de7213c562f8c821", "Codertocat", false, false},
    {"fixtures/github/check_suite/requested.json", Kind::ci, "Codertocat/Hello-World", "master", std::nullopt, "requested", "f95f852bd8fca8fcc58a9a2d6c842781e32a215e", "Codertocat", false, false},
    {"fixtures/github/release/published.json", Kind::tag, "Codertocat/Hello-World", "0.0.1", std::nullopt, "published", "", "Codertocat", false, false},
    {"fixtures/github/release/created.json", Kind::ignored, "Codertocat/Hello-World", "", std::nullopt, "", "", "Codertocat", false, false},
    // ---- fixtures, GitLab
    {"fixtures/gitlab/push/push.json", Kind::push, "mike/diaspora", "master", std::nullopt, "pushed", "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", "jsmith", false, false},
    {"fixtures/gitlab/tag_push/tag-created.json", Kind::tag, "jsmith/example", "v1.0.0", std::nullopt, "created", "82b3d5ae55f7080f1e6022629cdb57bfae7cccc7", "jsmith", false, false},
    {"fixtures/gitlab/merge_request/open.json", Kind::pull_request, "gitlabhq/gitlab-test", "ms-viewport", 1, "opened", "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", "user1", false, false},
    {"fixtures/gitlab/merge_request/open-2.json", Kind::pull_request, "demoaccount2-commits-group/test_ci_tmp", "real6543-main-patch-42541", 3, "opened", "2f7670508b771e7e77839402be8b34b13787aba8", "real6543", false, false},
    {"fixtures/gitlab/merge_request/update-new-commits.json", Kind::pull_request, "anbraten/woodpecker", "anbraten-main-patch-05373", 3, "synchronize", "c136499ec574e1034b24c5d306de9acda3005367", "anbraten", false, false},
    {"fixtures/gitlab/merge_request/update-labels.json", Kind::pull_request, "demoaccount2-commits-group/test_ci_tmp", "real6543-main-patch-42541", 3, "labeled", "2f7670508b771e7e77839402be8b34b13787aba8", "real6543", false, false},
    {"fixtures/gitlab/merge_request/close.json", Kind::pull_request, "anbraten/woodpecker-test", "patch-1", 4, "closed", "3e4db3586b65dd401de8c77b3ac343fd24cbf89b", "anbraten", false, false},
    {"fixtures/gitlab/merge_request/merge.json", Kind::pull_request, "anbraten/woodpecker-test", "patch-1", 4, "merged", "3e4db3586b65dd401de8c77b3ac343fd24cbf89b", "anbraten", false, false},
    {"fixtures/gitlab/merge_request/reopen.json", Kind::pull_request, "demoaccount2-commits-group/test_ci_tmp", "6543-patch-1", 1, "reopened", "36b5813240a9d2daa29b05046d56a53e18f39a3e", "real6543", false, false},
    {"fixtures/gitlab/pipeline/success.json", Kind::ci, "gitlab-org/gitlab-test", "master", 1, "completed", "bcbb5ec396a2c0f828686f14fac9b80b780504f2", "user1", false, false},
    {"fixtures/gitlab/note/issue-comment.json", Kind::ignored, "gitlab-org/gitlab-test", "", std::nullopt, "", "", "user1", false, false},
    {"fixtures/gitlab/note/merge-request-comment.json", Kind::ignored, "gitlab-org/gitlab-test", "", std::nullopt, "", "", "root", false, false},
    {"fixtures/gitlab/issue/open.json", Kind::ignored, "gitlabhq/gitlab-test", "", std::nullopt, "", "", "root", false, false},
    // ---- corpus, GitHub
    {"corpus/github/push/branch-master.json", Kind::push, "binkkatal/sample_app", "master", std::nullopt, "pushed", "fd489864e7642b48eaad6e3f155c10e46810ec72", "binkkatal", false, false},
    {"corpus/github/push/branch-created.json", Kind::push, "bradrydzewski/drone-test-go", "feature-branch", std::nullopt, "pushed", "d2b75aa7797ec26b088fa2dd527e9d2c052fcedd", "bradrydzewski", false, false},
    {"corpus/github/push/tag-created.json", Kind::tag, "bradrydzewski/drone-test-go", "v0.0.1", std::nullopt, "created", "d2b75aa7797ec26b088fa2dd527e9d2c052fcedd", "bradrydzewski", false, false},
    {"corpus/github/push/tag-deleted.json", Kind::tag, "bradrydzewski/drone-test-go", "v0.0.1", std::nullopt, "deleted", kZeros, "bradrydzewski", false, false},
    {"corpus/github/pull_request/opened.json", Kind::pull_request, "bradrydzewski/drone-test-go", "master", 1, "opened", "d2b75aa7797ec26b088fa2dd527e9d2c052fcedd", "bradrydzewski", false, false},
    {"corpus/github/pull_request/opened-2.json", Kind::pull_request, "baxterthehacker/public-repo", "changes", 1, "opened", "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", "baxterthehacker", false, false},
    {"corpus/github/pull_request/synchronize.json", Kind::pull_request, "bradrydzewski/drone-test-go", "master", 1, "synchronize", "8102e371cd01cf668893cb2d04a04d52331b1dc9", "bradrydzewski", false, false},
    {"corpus/github/pull_request/labeled.json", Kind::pull_request, "bradrydzewski/drone-test-go", "master", 1, "labeled", "d2b75aa7797ec26b088fa2dd527e9d2c052fcedd", "bradrydzewski", false, false},
    {"corpus/github/pull_request/closed.json", Kind::pull_request, "bradrydzewski/drone-test-go", "master", 1, "closed", "d2b75aa7797ec26b088fa2dd527e9d2c052fcedd", "bradrydzewski", false, false},
    {"corpus/github/pull_request/closed-2.json", Kind::pull_request, "runatlantis/atlantis-tests", "atlantisyaml", 2, "closed", "5e2d140b2d74bf61675677f01dc947ae8512e18e", "runatlantis", false, false},
    {"corpus/github/pull_request/reopened.json", Kind::pull_request, "bradrydzewski/drone-test-go", "master", 1, "reopened", "d2b75aa7797ec26b088fa2dd527e9d2c052fcedd", "bradrydzewski", false, false},
    {"corpus/github/pull_request/ready_for_review.json", Kind::pull_request, "wings-software/meet-git-sync-test", "rathodmeetsatish-patch-25", 38, "ready_for_review", "212015fb011c49a2913c4a1a860ce07c0821c362", "rathodmeetsatish", false, false},
    {"corpus/github/release/published.json", Kind::tag, "vcalasansh/harness-ngtriggers-test", "v1.0.0", std::nullopt, "published", "", "vcalasansh", false, false},
    {"corpus/github/check_suite/completed.json", Kind::ci, "Codertocat/Hello-World", "changes", 2, "completed", "14977a7b5485400124827221a04bfb474bcd72d1", "Codertocat", false, false},
    {"corpus/github/workflow_run/completed.json", Kind::ci, "octo-org/octo-repo", "master", 2, "completed", "3484a3fb816e0859fd6e1cea078d76385ff50625", "Codertocat", false, false},
    // ---- corpus, GitLab
    {"corpus/gitlab/push/branch-master.json", Kind::push, "gitlab-org/hello-world", "master", std::nullopt, "pushed", "2adc9465c4edfc33834e173fe89436a7cb899a1d", "sytses", false, false},
    {"corpus/gitlab/push/branch-deleted.json", Kind::push, "gitlab-org/hello-world", "feature", std::nullopt, "deleted", kZeros, "sytses", false, false},
    {"corpus/gitlab/tag_push/tag-created.json", Kind::tag, "gitlab-org/hello-world", "v1.0.0", std::nullopt, "created", "2adc9465c4edfc33834e173fe89436a7cb899a1d", "sytses", false, false},
    {"corpus/gitlab/merge_request/open.json", Kind::pull_request, "gitlab-org/hello-world", "feature", 1, "opened", "c4c79227ed610f1151f05bbc5be33b4f340d39c8", "sytses", false, false},
    {"corpus/gitlab/merge_request/open-2.json", Kind::pull_request, "lkysow/atlantis-example", "patch-1", 12, "opened", "d2eae324ca26242abca45d7b49d582cddb2a4f15", "lkysow", false, false},
    {"corpus/gitlab/merge_request/update-new-commit.json", Kind::pull_request, "quan.hoang/atlantis-example", "get-event-payload", 3, "synchronize", "5ff66a1f7404deee915b50998c340e96d995f048", "quan.hoang", false, false},
    {"corpus/gitlab/merge_request/close.json", Kind::pull_request, "gitlab-org/hello-world", "feature", 1, "closed", "c4c79227ed610f1151f05bbc5be33b4f340d39c8", "sytses", false, false},
    {"corpus/gitlab/merge_request/merge.json", Kind::pull_request, "gitlab-org/hello-world", "feature", 1, "merged", "c4c79227ed610f1151f05bbc5be33b4f340d39c8", "sytses", false, false},
    {"corpus/gitlab/merge_request/reopen.json", Kind::pull_request, "gitlab-org/hello-world", "feature", 1, "reopened", "c4c79227ed610f1151f05bbc5be33b4f340d39c8", "sytses", false, false},
    {"corpus/gitlab/pipeline/success.json", Kind::ci, "gitlab-org/gitlab-test", "master", 15, "completed", "bcbb5ec396a2c0f828686f14fac9b80b780504f2", "root", false, false},
};
// clang-format on

Expected<events::Event, std::string> parse_entry(const testing::FixtureEntry& e,
                                                 const json::object& payload) {
    if (e.provider == "github") {
        return github::parse(e.event_header, payload);
    }
    return gitlab::parse(e.event_header, payload);
}

// The table's view of an event: ref, number and action depend on the body's kind.
struct Observed {
    std::string ref;
    std::optional<std::int64_t> number;
    std::string action;
    bool fork = false;
    bool draft = false;
};

Observed observe(const events::Event& e) {
    Observed o;
    if (const auto* p = std::get_if<events::Push>(&e.body)) {
        o.ref = p->branch;
        o.action = p->action;
    } else if (const auto* t = std::get_if<events::Tag>(&e.body)) {
        o.ref = t->tag;
        o.action = t->action;
    } else if (const auto* pr = std::get_if<events::PullRequest>(&e.body)) {
        o.ref = pr->branch;
        o.number = pr->number;
        o.action = pr->action;
        o.fork = pr->fork;
        o.draft = pr->draft;
    } else if (const auto* ci = std::get_if<events::Ci>(&e.body)) {
        o.ref = ci->branch;
        o.number = ci->pr_number;
        o.action = ci->action;
    }
    return o;
}

void check_set(const std::filesystem::path& dir, const std::string& set,
               std::set<std::string>& seen) {
    std::map<std::string, const Row*> rows;
    for (const Row& r : kRows) {
        rows.emplace(r.file, &r);
    }
    auto entries = testing::read_index(dir);
    ASSERT_FALSE(entries.empty()) << dir;
    for (const auto& entry : entries) {
        const std::string key = set + "/" + entry.file;
        SCOPED_TRACE(key);
        seen.insert(key);
        auto it = rows.find(key);
        ASSERT_NE(it, rows.end()) << "index entry without a row in kRows: " << key;
        const Row& row = *it->second;

        boost::system::error_code ec;
        json::value v = json::parse(testing::read_file(entry.path), ec);
        ASSERT_FALSE(ec) << ec.message();
        ASSERT_TRUE(v.is_object());
        auto event = parse_entry(entry, v.get_object());
        ASSERT_TRUE(event.has_value()) << event.error();

        EXPECT_EQ(event->provider,
                  entry.provider == "github" ? events::Provider::github : events::Provider::gitlab);
        EXPECT_EQ(event->event_name, entry.event_header);
        EXPECT_EQ(event->kind(), row.kind) << events::to_string(event->kind());
        EXPECT_EQ(event->repo, row.repo);
        EXPECT_EQ(event->sha, row.sha);
        EXPECT_EQ(event->author, row.author);
        Observed o = observe(*event);
        EXPECT_EQ(o.ref, row.ref);
        EXPECT_EQ(o.number, row.number);
        EXPECT_EQ(o.action, row.action);
        EXPECT_EQ(o.fork, row.fork);
        EXPECT_EQ(o.draft, row.draft);
    }
}

TEST(Ingress_Corpus, EveryFixtureParsesToItsTableRow) {
    LINKPILOT_FIXTURES_OR_SKIP(dir);
    std::set<std::string> seen;
    check_set(dir, "fixtures", seen);
    for (const Row& r : kRows) {
        if (std::string_view(r.file).substr(0, 9) == "fixtures/") {
            EXPECT_TRUE(seen.count(r.file)) << "row without an index entry: " << r.file;
        }
    }
}

TEST(Ingress_Corpus, EveryCorpusPayloadParsesToItsTableRow) {
    LINKPILOT_CORPUS_OR_SKIP(dir);
    std::set<std::string> seen;
    check_set(dir, "corpus", seen);
    for (const Row& r : kRows) {
        if (std::string_view(r.file).substr(0, 7) == "corpus/") {
            EXPECT_TRUE(seen.count(r.file)) << "row without an index entry: " << r.file;
        }
    }
}

// Robustness: remove, null out or retype every member down to depth 3 of every real payload;
// the parser must answer (an event or a reason) and never throw or crash.
std::size_t mutate_all(const testing::FixtureEntry& entry, const json::object& original) {
    const json::value replacements[] = {nullptr,        42, "x", json::array{1},
                                        json::object{}, -1, 1.5, true};
    json::object root = original;
    std::size_t parses = 0;
    auto try_parse = [&] {
        EXPECT_NO_THROW((void)parse_entry(entry, root));
        ++parses;
    };
    std::function<void(json::object&, int)> walk = [&](json::object& o, int depth) {
        std::vector<std::string> keys;
        for (const auto& kv : o) {
            keys.emplace_back(kv.key());
        }
        for (const auto& k : keys) {
            json::value saved = o.at(k);
            o.erase(k);
            try_parse();
            for (const auto& r : replacements) {
                o[k] = r;
                try_parse();
            }
            o[k] = saved;
            if (depth >= 3) {
                continue;
            }
            if (json::object* child = o[k].if_object()) {
                walk(*child, depth + 1);
            } else if (json::array* arr = o[k].if_array(); arr != nullptr && !arr->empty()) {
                if (json::object* first = (*arr)[0].if_object()) {
                    walk(*first, depth + 1);
                }
            }
        }
    };
    walk(root, 1);
    return parses;
}

void mutate_set(const std::filesystem::path& dir) {
    std::size_t parses = 0;
    for (const auto& entry : testing::read_index(dir)) {
        SCOPED_TRACE(entry.file);
        json::value v = json::parse(testing::read_file(entry.path));
        ASSERT_TRUE(v.is_object());
        parses += mutate_all(entry, v.get_object());
    }
    EXPECT_GT(parses, 1000U);
}

TEST(Ingress_Corpus, MutatedFixturesNeverThrow) {
    LINKPILOT_FIXTURES_OR_SKIP(dir);
    mutate_set(dir);
}

TEST(Ingress_Corpus, MutatedCorpusPayloadsNeverThrow) {
    LINKPILOT_CORPUS_OR_SKIP(dir);
    mutate_set(dir);
}

}  // namespace
}  // namespace linkpilot::ingress
