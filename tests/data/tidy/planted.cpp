// A planted clang-tidy finding (modernize-use-nullptr): tests/scripts/tidy_test.sh expects
// scripts/tidy to fail on it. No build compiles it and scripts/tidy's folder lists skip
// tests/data.
namespace linkpilot::tidy_test {

int* planted() { return 0; }

}  // namespace linkpilot::tidy_test
