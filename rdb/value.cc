#include "rdb/value.h"

#include <algorithm>

namespace daxkv::rdb {

std::string_view KindName(ValueKind kind) {
  switch (kind) {
    case ValueKind::kString:
      return "string";
    case ValueKind::kList:
      return "list";
    case ValueKind::kSet:
      return "set";
    case ValueKind::kHash:
      return "hash";
    case ValueKind::kZset:
      return "zset";
    case ValueKind::kStream:
      return "stream";
  }
  return "unknown";
}

size_t ElementCount(const Value& v) {
  struct Counter {
    size_t operator()(const std::string&) const { return 1; }
    size_t operator()(const List& l) const { return l.elements.size(); }
    size_t operator()(const Set& s) const { return s.members.size(); }
    size_t operator()(const Hash& h) const { return h.fields.size(); }
    size_t operator()(const Zset& z) const { return z.entries.size(); }
    size_t operator()(const Stream& s) const { return s.entries.size(); }
  };
  return std::visit(Counter{}, v);
}

void Canonicalize(Value* v) {
  if (auto* s = std::get_if<Set>(v)) {
    std::sort(s->members.begin(), s->members.end());
  } else if (auto* h = std::get_if<Hash>(v)) {
    std::sort(h->fields.begin(), h->fields.end());
  } else if (auto* z = std::get_if<Zset>(v)) {
    std::sort(z->entries.begin(), z->entries.end(),
              [](const ZsetEntry& a, const ZsetEntry& b) {
                return a.member < b.member;
              });
  }
}

}  // namespace daxkv::rdb
