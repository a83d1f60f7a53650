#pragma once

// A small Expected<T, E> (GCC 12 has std::expected only in C++23 mode). Errors at the edges
// are values; exceptions are for bugs.

#include <optional>
#include <utility>
#include <variant>

namespace linkpilot {

template <class E>
struct Unexpected {
    E error;
};

template <class E>
Unexpected(E) -> Unexpected<E>;

template <class T, class E>
class [[nodiscard]] Expected {
  public:
    Expected(T value)
        : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(google-explicit-constructor)
    Expected(Unexpected<E> u) : v_(std::in_place_index<1>, std::move(u.error)) {}  // NOLINT

    [[nodiscard]] bool has_value() const { return v_.index() == 0; }
    explicit operator bool() const { return has_value(); }

    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    E& error() & { return std::get<1>(v_); }
    const E& error() const& { return std::get<1>(v_); }

  private:
    std::variant<T, E> v_;
};

// Success carries no value: `return {};` succeeds, `return Unexpected{e};` fails.
template <class E>
class [[nodiscard]] Expected<void, E> {
  public:
    Expected() = default;
    Expected(Unexpected<E> u)
        : error_(std::move(u.error)) {}  // NOLINT(google-explicit-constructor)

    [[nodiscard]] bool has_value() const { return !error_.has_value(); }
    explicit operator bool() const { return has_value(); }

    E& error() & { return *error_; }
    const E& error() const& { return *error_; }

  private:
    std::optional<E> error_;
};

}  // namespace linkpilot
