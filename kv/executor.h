// ExecuteCommand: runs one parsed request for a client the way Redis's
// processCommand does: lookup (unknown command), arity, authentication,
// MULTI queueing, then the handler against the engine.
//
// The caller owns durability: when client.touched_db is set afterwards, it
// must DB::Sync() before the reply leaves (the server batches that per
// event-loop round; tests call SyncRound()).
#ifndef DAXKV_KV_EXECUTOR_H_
#define DAXKV_KV_EXECUTOR_H_

#include <span>
#include <string>
#include <string_view>

#include "kv/client.h"
#include "kv/command.h"
#include "kv/resp_writer.h"
#include "kv/server_state.h"

namespace daxkv::kv {

void ExecuteCommand(ServerState& server, Client& client,
                    std::span<const std::string_view> argv, ReplyWriter& out);

// Runs a looked-up command's handler (used by EXEC for queued commands).
void RunCommand(const CommandSpec& spec, CommandContext& ctx);

// Durability: makes every write of the round durable (one DB::Sync());
// call before the round's replies leave. Returns false (and the replies
// must not be sent) on failure.
bool SyncRound(ServerState& server);

}  // namespace daxkv::kv

#endif  // DAXKV_KV_EXECUTOR_H_
