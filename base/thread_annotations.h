// Clang thread-safety annotations (-Wthread-safety), as LevelDB's
// port/thread_annotations.h. Under other compilers they expand to nothing;
// `make test` builds the annotated modules once with clang so a lock held in
// the wrong order, or data touched without its mutex, fails the build.
//
// Usage:
//   Mutex mu_;
//   int count_ GUARDED_BY(mu_);
//   void Bump() REQUIRES(mu_);
//   Mutex a_ ACQUIRED_BEFORE(b_);
#ifndef DAXKV_BASE_THREAD_ANNOTATIONS_H_
#define DAXKV_BASE_THREAD_ANNOTATIONS_H_

#if defined(__clang__)
#define DAXKV_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define DAXKV_THREAD_ANNOTATION(x)
#endif

#define CAPABILITY(x) DAXKV_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY DAXKV_THREAD_ANNOTATION(scoped_lockable)
#define GUARDED_BY(x) DAXKV_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) DAXKV_THREAD_ANNOTATION(pt_guarded_by(x))
#define ACQUIRED_BEFORE(...) \
  DAXKV_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))
#define ACQUIRED_AFTER(...) DAXKV_THREAD_ANNOTATION(acquired_after(__VA_ARGS__))
#define REQUIRES(...) DAXKV_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...) \
  DAXKV_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))
#define ACQUIRE(...) DAXKV_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define ACQUIRE_SHARED(...) \
  DAXKV_THREAD_ANNOTATION(acquire_shared_capability(__VA_ARGS__))
#define RELEASE(...) DAXKV_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define RELEASE_SHARED(...) \
  DAXKV_THREAD_ANNOTATION(release_shared_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) \
  DAXKV_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
#define EXCLUDES(...) DAXKV_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define ASSERT_CAPABILITY(x) DAXKV_THREAD_ANNOTATION(assert_capability(x))
#define ASSERT_SHARED_CAPABILITY(x) \
  DAXKV_THREAD_ANNOTATION(assert_shared_capability(x))
#define RETURN_CAPABILITY(x) DAXKV_THREAD_ANNOTATION(lock_returned(x))
#define NO_THREAD_SAFETY_ANALYSIS \
  DAXKV_THREAD_ANNOTATION(no_thread_safety_analysis)

#endif  // DAXKV_BASE_THREAD_ANNOTATIONS_H_
