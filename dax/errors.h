// The one place that turns errno values and libpmem2 return codes into
// Status. Every message names the object (`what`, usually a path plus the
// operation) and the cause, e.g.
//   "open /pool/db: No such file or directory (ENOENT)".
//
// Code mapping (shared by the whole dax/ module so callers can rely on it):
//   ENOENT, ENXIO, ENODEV(no device)  -> NotFound
//   ENOSPC, EDQUOT, EFBIG             -> NoSpace
//   EWOULDBLOCK/EAGAIN, EBUSY, ETXTBSY -> Busy
//   EINVAL, EISDIR, ENOTDIR, ENAMETOOLONG, ELOOP, EBADF -> InvalidArgument
//   EACCES, EPERM, EROFS              -> FailedPrecondition
//   EEXIST                            -> AlreadyExists
//   ENOTSUP/EOPNOTSUPP, ENOSYS        -> NotSupported
//   everything else (EIO, ENOMEM...)  -> IOError
//
// Thread-safety: all functions are thread-safe. Pmem2Status() reads
// libpmem2's thread-local last-error message, so call it on the thread that
// got the error, before any other libpmem2 call.
#ifndef DAXKV_DAX_ERRORS_H_
#define DAXKV_DAX_ERRORS_H_

#include <string>
#include <string_view>

#include "base/status.h"

namespace daxkv::dax {

// Status for a failed system call. `err` is a positive errno value.
// REQUIRES: err != 0.
Status ErrnoStatus(int err, std::string_view what);

// Same, reading the calling thread's errno (call right after the failure).
Status LastErrnoStatus(std::string_view what);

// Status for a failed libpmem2 call; `pmem2_ret` is its negative return
// (a PMEM2_E_* code or a negated errno). The message carries libpmem2's own
// explanation (pmem2_errormsg) when it has one.
// REQUIRES: pmem2_ret < 0.
Status Pmem2Status(int pmem2_ret, std::string_view what);

// "ENOENT" for ENOENT; "errno 1234" for unknown values.
std::string ErrnoName(int err);

// The StatusCode the table above assigns to `err`.
StatusCode ErrnoCode(int err);

}  // namespace daxkv::dax

#endif  // DAXKV_DAX_ERRORS_H_
