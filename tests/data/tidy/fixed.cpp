// planted.cpp with its finding fixed: tests/scripts/tidy_test.sh expects scripts/tidy to pass.
namespace linkpilot::tidy_test {

int* planted() { return nullptr; }

}  // namespace linkpilot::tidy_test
