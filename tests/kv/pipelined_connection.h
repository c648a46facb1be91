// Runs a pipeline through a real Connection without an I/O thread: the
// bytes as the connection reads them (socket pair), the round's Sync, then
// the replies the client receives. Shared by the GetBatch and WriteRun
// tests, whose point is that a pipeline replies as its commands one by one.
#ifndef DAXKV_TESTS_KV_PIPELINED_CONNECTION_H_
#define DAXKV_TESTS_KV_PIPELINED_CONNECTION_H_

#include <string>
#include <vector>

#include "kv/server_state.h"

namespace daxkv::kv {

using Cmd = std::vector<std::string>;

// `argv` as a RESP multibulk request.
std::string Encode(const Cmd& argv);

// `bytes` as the input of one connection to `state`, run round by round
// until it has all been read; then SyncRound and the replies.
std::string RunPipelined(ServerState& state, const std::string& bytes);

}  // namespace daxkv::kv

#endif  // DAXKV_TESTS_KV_PIPELINED_CONNECTION_H_
