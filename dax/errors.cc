#include "dax/errors.h"

#include <libpmem2.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace daxkv::dax {
namespace {

// libpmem2's own codes; negated errno values are handled by the caller.
StatusCode Pmem2Code(int ret) {
  switch (ret) {
    case PMEM2_E_NOSUPP:
    case PMEM2_E_GRANULARITY_NOT_SUPPORTED:
    case PMEM2_E_SRC_DEVDAX_PRIVATE:
    case PMEM2_E_SOURCE_TYPE_NOT_SUPPORTED:
    case PMEM2_E_INVALID_FILE_TYPE:
      return StatusCode::kNotSupported;
    case PMEM2_E_NO_ACCESS:
      return StatusCode::kFailedPrecondition;
    case PMEM2_E_MAPPING_EXISTS:
    case PMEM2_E_MAP_EXISTS:
      return StatusCode::kAlreadyExists;
    case PMEM2_E_MAPPING_NOT_FOUND:
    case PMEM2_E_DAX_REGION_NOT_FOUND:
    case PMEM2_E_NO_BAD_BLOCK_FOUND:
      return StatusCode::kNotFound;
    case PMEM2_E_VM_RESERVATION_NOT_EMPTY:
      return StatusCode::kBusy;
    case PMEM2_E_IO_FAIL:
    case PMEM2_E_CANNOT_READ_BOUNDS:
    case PMEM2_E_UNKNOWN:
      return StatusCode::kIOError;
    default:
      // Range, alignment, format and "not set" errors: a bad request.
      return StatusCode::kInvalidArgument;
  }
}

}  // namespace

std::string ErrnoName(int err) {
  const char* name = strerrordesc_np(err) ? strerrorname_np(err) : nullptr;
  if (name == nullptr) return "errno " + std::to_string(err);
  return name;
}

StatusCode ErrnoCode(int err) {
  switch (err) {
    case ENOENT:
    case ENXIO:
    case ENODEV:
      return StatusCode::kNotFound;
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
      return StatusCode::kNoSpace;
    case EWOULDBLOCK:
    case EBUSY:
    case ETXTBSY:
      return StatusCode::kBusy;
    case EINVAL:
    case EISDIR:
    case ENOTDIR:
    case ENAMETOOLONG:
    case ELOOP:
    case EBADF:
      return StatusCode::kInvalidArgument;
    case EACCES:
    case EPERM:
    case EROFS:
      return StatusCode::kFailedPrecondition;
    case EEXIST:
      return StatusCode::kAlreadyExists;
    case ENOTSUP:
    case ENOSYS:
      return StatusCode::kNotSupported;
    default:
      return StatusCode::kIOError;
  }
}

Status ErrnoStatus(int err, std::string_view what) {
  std::string message(what);
  message += ": ";
  message += strerrordesc_np(err) ? strerrordesc_np(err) : "unknown error";
  message += " (" + ErrnoName(err) + ")";
  return Status(ErrnoCode(err), message);
}

Status LastErrnoStatus(std::string_view what) {
  return ErrnoStatus(errno, what);
}

Status Pmem2Status(int pmem2_ret, std::string_view what) {
  const char* detail = pmem2_errormsg();
  std::string message(what);
  message += ": libpmem2: ";
  message += (detail != nullptr && detail[0] != '\0') ? detail : "error";
  // libpmem2 reports system errors as negated errno values.
  if (pmem2_ret < 0 && pmem2_ret > PMEM2_E_UNKNOWN) {
    message += " (" + ErrnoName(-pmem2_ret) + ")";
    return Status(ErrnoCode(-pmem2_ret), message);
  }
  message += " (pmem2 error " + std::to_string(pmem2_ret) + ")";
  return Status(Pmem2Code(pmem2_ret), message);
}

}  // namespace daxkv::dax
