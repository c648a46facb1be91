// Shebang lines and SHA-1 names (kv/script_text.h).
#include "kv/script_text.h"

#include <cctype>

namespace daxkv::kv {

std::string_view LowerSha(std::string_view sha, char (&buf)[kShaHexLen]) {
  if (sha.size() != kShaHexLen) return sha;
  for (size_t i = 0; i < kShaHexLen; ++i) {
    const char c = sha[i];
    buf[i] = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return {buf, kShaHexLen};
}

std::vector<std::string_view> SplitWords(std::string_view line) {
  std::vector<std::string_view> parts;
  size_t pos = 0;
  auto space = [&](size_t i) {
    return std::isspace(static_cast<unsigned char>(line[i])) != 0;
  };
  while (pos < line.size()) {
    while (pos < line.size() && space(pos)) ++pos;
    size_t start = pos;
    while (pos < line.size() && !space(pos)) ++pos;
    if (pos > start) parts.push_back(line.substr(start, pos - start));
  }
  return parts;
}

bool ParseShebang(std::string_view body, ScriptFlags* flags, size_t* skip,
                  std::string* error) {
  *flags = ScriptFlags{};
  *skip = 0;
  if (body.substr(0, 2) != "#!") return true;
  size_t end = body.find('\n');
  if (end == std::string_view::npos) {
    *error = "ERR Invalid script shebang";
    return false;
  }
  std::string_view line = body.substr(0, end);
  std::vector<std::string_view> parts = SplitWords(line);
  if (parts.empty() || parts[0] != "#!lua") {
    *error = "ERR Unexpected engine in script shebang: " +
             std::string(parts.empty() ? line : parts[0]);
    return false;
  }
  flags->has_shebang = true;
  for (size_t i = 1; i < parts.size(); ++i) {
    if (parts[i].substr(0, 6) != "flags=") {
      *error = "ERR Unknown lua shebang option: " + std::string(parts[i]);
      return false;
    }
    std::string_view list = parts[i].substr(6);
    while (!list.empty()) {
      size_t comma = list.find(',');
      std::string_view flag = list.substr(0, comma);
      list = comma == std::string_view::npos ? "" : list.substr(comma + 1);
      if (flag == "no-writes") {
        flags->no_writes = true;
      } else if (flag == "allow-stale") {
        flags->allow_stale = true;
      } else if (flag != "allow-oom" && flag != "no-cluster" &&
                 flag != "allow-cross-slot-keys") {
        *error = "ERR Unexpected flag in script shebang: " + std::string(flag);
        return false;
      }
    }
  }
  *skip = end;
  return true;
}

}  // namespace daxkv::kv
