// MonitorFeed (kv/monitor.h).
#include "kv/monitor.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <mutex>

namespace daxkv::kv {
namespace {

// Redis's sdscatrepr: a quoted string, printable ASCII as is.
void AppendRepr(std::string* out, std::string_view s) {
  out->push_back('"');
  for (const char ch : s) {
    switch (ch) {
      case '\\':
      case '"':
        out->push_back('\\');
        out->push_back(ch);
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\a':
        out->append("\\a");
        break;
      case '\b':
        out->append("\\b");
        break;
      default:
        if (ch >= 0x20 && ch < 0x7f) {
          out->push_back(ch);
        } else {
          char hex[5];
          std::snprintf(hex, sizeof(hex), "\\x%02x",
                        static_cast<unsigned char>(ch));
          out->append(hex);
        }
    }
  }
  out->push_back('"');
}

}  // namespace

std::string MonitorLine(int64_t unix_us, std::string_view who,
                        std::span<const std::string_view> args) {
  char stamp[48];
  std::snprintf(stamp, sizeof(stamp), "+%lld.%06lld [0 ",
                static_cast<long long>(unix_us / 1000000),
                static_cast<long long>(unix_us % 1000000));
  std::string line = stamp;
  line.append(who);
  line.append("] ");
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0) line.push_back(' ');
    AppendRepr(&line, args[i]);
  }
  line.append("\r\n");
  return line;
}

bool MonitorFeed::Add(Client* c) {
  std::unique_lock<std::shared_mutex> l(mu_);
  if (std::find(monitors_.begin(), monitors_.end(), c) != monitors_.end()) {
    return false;
  }
  monitors_.push_back(c);
  count_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void MonitorFeed::Remove(Client* c) {
  std::unique_lock<std::shared_mutex> l(mu_);
  auto it = std::find(monitors_.begin(), monitors_.end(), c);
  if (it == monitors_.end()) return;
  monitors_.erase(it);
  count_.fetch_sub(1, std::memory_order_relaxed);
}

void MonitorFeed::Feed(const Client& from,
                       std::span<const std::string_view> args) {
  const int64_t now_us =
      std::chrono::duration_cast<std::chrono::microseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count();
  const std::string line =
      MonitorLine(now_us, from.script_client ? "lua" : from.addr, args);
  std::shared_lock<std::shared_mutex> l(mu_);
  for (Client* m : monitors_) {
    m->pubsub.mailbox.Post(
        line, m->output_buffer_bytes.load(std::memory_order_relaxed),
        kMonitorOutputLimit);
  }
}

}  // namespace daxkv::kv
