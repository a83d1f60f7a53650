#pragma once

// What the disk fault tests check in the SQLite state file once the daemon recovered.

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "daemon/store/sqlite_store.hpp"

namespace linkpilot::testing {

// Every job in the state file (a failure to read it is a test failure, and gives none).
inline std::vector<store::Job> read_sqlite_jobs(const std::filesystem::path& state) {
    auto store = store::open_sqlite({.path = state});
    EXPECT_TRUE(store) << store.error().message;
    if (!store) {
        return {};
    }
    auto jobs = (*store)->list_jobs({});
    EXPECT_TRUE(jobs) << jobs.error().message;
    return jobs ? std::move(*jobs) : std::vector<store::Job>{};
}

inline bool all_done(const std::vector<store::Job>& jobs) {
    for (const auto& j : jobs) {
        if (j.state != "done") {
            return false;
        }
    }
    return true;
}

// Nothing acknowledged lost, nothing doubled: each acked delivery has exactly one job (the
// tests' configs have one rule), and no other delivery has any.
inline void expect_one_job_per_delivery(const std::vector<store::Job>& jobs,
                                        const std::vector<std::string>& acked) {
    std::map<std::string, int> per_delivery;
    for (const auto& j : jobs) {
        ++per_delivery[j.delivery_id];
    }
    for (const auto& id : acked) {
        EXPECT_EQ(per_delivery[id], 1) << "delivery " << id;
    }
    EXPECT_EQ(jobs.size(), acked.size());
}

}  // namespace linkpilot::testing
