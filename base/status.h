// Status: the result of an operation that can fail, with a message that names
// the object (path, key, offset) and the cause. No exceptions cross module
// boundaries in daxkv; every fallible call returns Status or StatusOr<T>.
//
// Thread-safety: a Status is a value; distinct objects may be used from
// distinct threads without synchronisation.
#ifndef DAXKV_BASE_STATUS_H_
#define DAXKV_BASE_STATUS_H_

#include <memory>
#include <string>
#include <string_view>

namespace daxkv {

enum class StatusCode : int {
  kOk = 0,
  kNotFound,
  kCorruption,
  kInvalidArgument,
  kIOError,
  kNoSpace,        // the pool or device is full; nothing acknowledged is lost
  kNotSupported,   // the kernel, backing or build lacks a feature
  kAlreadyExists,  // e.g. conditional put "if absent" found the key
  kFailedPrecondition,
  kBusy,  // e.g. the pool is held by another process
  kAborted,
  kInternal,
};

// Returns a stable, human-readable name ("Corruption", "NoSpace", ...).
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  // An OK status; cheap (no allocation).
  Status() noexcept = default;
  Status(StatusCode code, std::string_view message);

  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  static Status OK() { return Status(); }

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  // The message without the code name; empty for OK.
  std::string_view message() const;
  // "Corruption: superblock checksum mismatch in /dev/dax0.0".
  std::string ToString() const;

  // Returns a copy with `context + ": "` prefixed to the message.
  Status WithContext(std::string_view context) const;

  // Marks a deliberately ignored result.
  void IgnoreError() const {}

  bool operator==(const Status& other) const {
    return code() == other.code() && message() == other.message();
  }

 private:
  struct Rep {
    StatusCode code;
    std::string message;
  };
  std::unique_ptr<Rep> rep_;
};

inline Status OkStatus() { return Status(); }
inline Status NotFoundError(std::string_view m) {
  return Status(StatusCode::kNotFound, m);
}
inline Status CorruptionError(std::string_view m) {
  return Status(StatusCode::kCorruption, m);
}
inline Status InvalidArgumentError(std::string_view m) {
  return Status(StatusCode::kInvalidArgument, m);
}
inline Status IOError(std::string_view m) {
  return Status(StatusCode::kIOError, m);
}
inline Status NoSpaceError(std::string_view m) {
  return Status(StatusCode::kNoSpace, m);
}
inline Status NotSupportedError(std::string_view m) {
  return Status(StatusCode::kNotSupported, m);
}
inline Status AlreadyExistsError(std::string_view m) {
  return Status(StatusCode::kAlreadyExists, m);
}
inline Status FailedPreconditionError(std::string_view m) {
  return Status(StatusCode::kFailedPrecondition, m);
}
inline Status BusyError(std::string_view m) {
  return Status(StatusCode::kBusy, m);
}
inline Status AbortedError(std::string_view m) {
  return Status(StatusCode::kAborted, m);
}
inline Status InternalError(std::string_view m) {
  return Status(StatusCode::kInternal, m);
}

}  // namespace daxkv

// Evaluates `expr` (a Status) and returns it from the enclosing function if
// it is not OK.
#define DAXKV_RETURN_IF_ERROR(expr)              \
  do {                                           \
    ::daxkv::Status daxkv_status_ = (expr);      \
    if (!daxkv_status_.ok()) return daxkv_status_; \
  } while (0)

#endif  // DAXKV_BASE_STATUS_H_
