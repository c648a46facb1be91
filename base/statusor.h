// StatusOr<T>: either a value of type T or a non-OK Status explaining why
// there is none.
//
// REQUIRES: a StatusOr built from a Status is built from a non-OK one.
// Accessing value() on an error is a programming bug and aborts.
#ifndef DAXKV_BASE_STATUSOR_H_
#define DAXKV_BASE_STATUSOR_H_

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <utility>

#include "base/status.h"

namespace daxkv {

template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(Status status) : status_(std::move(status)) {  // NOLINT
    if (status_.ok()) {
      status_ = InternalError("StatusOr constructed from an OK Status");
    }
  }
  StatusOr(T value) : value_(std::move(value)) {}  // NOLINT

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & {
    CheckOk();
    return *value_;
  }
  const T& value() const& {
    CheckOk();
    return *value_;
  }
  T&& value() && {
    CheckOk();
    return std::move(*value_);
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  void CheckOk() const {
    if (!value_) {
      std::fprintf(stderr, "StatusOr::value() on error: %s\n",
                   status_.ToString().c_str());
      std::abort();
    }
  }

  Status status_;
  std::optional<T> value_;
};

}  // namespace daxkv

#define DAXKV_CONCAT_INNER_(a, b) a##b
#define DAXKV_CONCAT_(a, b) DAXKV_CONCAT_INNER_(a, b)

// DAXKV_ASSIGN_OR_RETURN(auto x, Foo()); returns Foo()'s Status on error.
#define DAXKV_ASSIGN_OR_RETURN(lhs, expr) \
  DAXKV_ASSIGN_OR_RETURN_IMPL_(DAXKV_CONCAT_(daxkv_sor_, __LINE__), lhs, expr)
#define DAXKV_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()

#endif  // DAXKV_BASE_STATUSOR_H_
