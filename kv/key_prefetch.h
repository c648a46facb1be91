// PrefetchPipelineKeys: a pipeline of writes that run one by one (SET,
// INCR, DEL, EXPIRE, ...: not WriteRun's collection writes, not GetBatch's
// GETs) waits, in each write, for two DRAM misses in a row: the key's index
// slot, then the entry that slot points at, whose key the write compares
// and whose death it counts (engine::DBImpl::Publish). Each command's own
// prefetch (PrefetchKeys in the executor) starts the first just before the
// command runs and cannot start the second, which needs the first.
//
// Before the first write of a window of up to kMaxPrefetchedKeys keys, this
// parses the complete requests after it, starts every slot's load, then
// every entry's (the first slot has arrived by then, the others with it),
// so that the window's misses overlap instead of following one another.
// Prefetches are hints: nothing here changes what a command reads or
// writes, and a request this cannot parse or look up ends the window.
//
// Thread-safety: the connection's I/O thread (its parser and LastCommand).
#ifndef DAXKV_KV_KEY_PREFETCH_H_
#define DAXKV_KV_KEY_PREFETCH_H_

#include <cstddef>
#include <span>
#include <string_view>

#include "kv/command.h"
#include "kv/resp_parser.h"
#include "kv/server_state.h"

namespace daxkv::kv {

// Whether a request of `spec` starts a prefetch window: a write naming
// keys, which runs alone (not in a WriteRun or a GetBatch).
bool StartsKeyPrefetch(const CommandSpec* spec);

// Prefetches the keys of `argv` (command `spec`) and of the complete
// write requests at the front of `rest`, up to kMaxPrefetchedKeys keys in
// all. Returns how many bytes of `rest` the window covered: the requests
// there need no window of their own.
// REQUIRES: StartsKeyPrefetch(&spec); the client is authenticated; `rest`
// is the connection's input after the request of `argv`; `scratch` is free
// for reuse.
size_t PrefetchPipelineKeys(ServerState& server, const CommandSpec& spec,
                            std::span<const std::string_view> argv,
                            std::string_view rest, RequestParser& scratch,
                            LastCommand& lookup);

}  // namespace daxkv::kv

#endif  // DAXKV_KV_KEY_PREFETCH_H_
