// FunctionRef<R(Args...)>: a non-owning reference to a callable, for a
// parameter that is only called before the function taking it returns.
// Unlike std::function it never allocates: a lambda capturing more than
// two references costs std::function a heap block per construction, which
// a server command's body paid on every request.
//
// A FunctionRef may be null (built from nullptr) for an optional callback.
//
// Lifetime: the callable must outlive the FunctionRef. Bound to a
// temporary lambda in a call's argument list, it lives for that call; do
// not store one beyond it.
// Thread-safety: as the callable it refers to.
#ifndef DAXKV_BASE_FUNCTION_REF_H_
#define DAXKV_BASE_FUNCTION_REF_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

namespace daxkv {

template <typename Signature>
class FunctionRef;

template <typename R, typename... Args>
class FunctionRef<R(Args...)> {
 public:
  template <typename F,
            typename = std::enable_if_t<
                !std::is_same_v<std::remove_cvref_t<F>, FunctionRef> &&
                std::is_invocable_r_v<R, F&, Args...>>>
  FunctionRef(F&& f) noexcept  // NOLINT: converts like std::function
      : call_(&Call<std::remove_reference_t<F>>) {
    if constexpr (std::is_function_v<std::remove_reference_t<F>>) {
      fn_ = reinterpret_cast<void (*)()>(&f);
    } else {
      obj_ = const_cast<void*>(static_cast<const void*>(std::addressof(f)));
    }
  }

  // A null reference, for an optional callback: test it with operator
  // bool. REQUIRES: a null FunctionRef is never called.
  FunctionRef(std::nullptr_t) noexcept
      : obj_(nullptr), call_(nullptr) {}  // NOLINT

  explicit operator bool() const { return call_ != nullptr; }

  R operator()(Args... args) const {
    return call_(*this, std::forward<Args>(args)...);
  }

 private:
  template <typename F>
  static R Call(const FunctionRef& self, Args... args) {
    if constexpr (std::is_function_v<F>) {
      return std::invoke(reinterpret_cast<F*>(self.fn_),
                         std::forward<Args>(args)...);
    } else {
      return std::invoke(*static_cast<F*>(self.obj_),
                         std::forward<Args>(args)...);
    }
  }

  union {
    void* obj_;
    void (*fn_)();
  };
  R (*call_)(const FunctionRef&, Args...);
};

}  // namespace daxkv

#endif  // DAXKV_BASE_FUNCTION_REF_H_
