#pragma once

// Builders for test data: a UTC time from text, and a delivery carrying one job, as the
// ingress would store them.

#include <date/date.h>
#include <gtest/gtest.h>

#include <chrono>
#include <sstream>
#include <string>

#include "daemon/store/store.hpp"

namespace linkpilot::testing {

// "2026-01-07T10:00:00Z" -> time point; a malformed text fails the test.
inline std::chrono::system_clock::time_point utc(const std::string& text) {
    std::istringstream in(text);
    date::sys_seconds t;
    in >> date::parse("%FT%TZ", t);
    EXPECT_FALSE(in.fail()) << text;
    return t;
}

// A GitHub push delivery `id` received at `at`, with an empty payload and no verdicts.
inline store::NewDelivery push_delivery(const std::string& id,
                                        std::chrono::system_clock::time_point at) {
    store::NewDelivery d;
    d.id = id;
    d.provider = "github";
    d.event = "push";
    d.repo = "acme/shop";
    d.received_at = at;
    d.status = "queued";
    d.payload = "{}";
    d.event_json = "{}";
    d.verdicts_json = "[]";
    d.config_fingerprint = "test";
    return d;
}

inline store::NewJob new_job(const std::string& rule, const std::string& action,
                             const std::string& app, const std::string& args_json) {
    store::NewJob j;
    j.rule = rule;
    j.action = action;
    j.app = app;
    j.args_json = args_json;
    return j;
}

}  // namespace linkpilot::testing
