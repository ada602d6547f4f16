// Expected<T>: a value or a positive errno, for results that cross the ioctl boundary
// (C++20 has no std::expected; this is the small subset the project uses).
#pragma once

#include <cassert>
#include <utility>
#include <variant>

namespace kvmemu {

// A positive errno value (EINVAL, EPERM, ...).
struct Errno {
    int value;
};

template <class T>
class [[nodiscard]] Expected {
public:
    Expected(T v) : v_(std::move(v)) {}  // NOLINT(google-explicit-constructor)
    Expected(Errno e) : v_(e) { assert(e.value > 0); }  // NOLINT(google-explicit-constructor)

    [[nodiscard]] bool has_value() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }
    [[nodiscard]] int error() const noexcept { return std::get<1>(v_).value; }

    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

private:
    std::variant<T, Errno> v_;
};

}  // namespace kvmemu
