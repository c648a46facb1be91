// ReplyWriter: appends RESP2 or RESP3 replies to an output buffer. Every
// command handler writes exactly one top-level reply through it; aggregate
// headers announce how many nested replies follow.
//
// Thread-safety: none; one writer per connection (or per test).
#ifndef DAXKV_KV_RESP_WRITER_H_
#define DAXKV_KV_RESP_WRITER_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace daxkv::kv {

class ReplyWriter {
 public:
  // `out` must outlive the writer; replies are appended to it.
  explicit ReplyWriter(std::string* out, int resp = 2)
      : out_(out), resp_(resp) {}

  int resp() const { return resp_; }
  void set_resp(int resp) { resp_ = resp; }
  std::string* buffer() { return out_; }

  void Ok() { out_->append("+OK\r\n", 5); }
  void Simple(std::string_view s);
  // `text` is the whole error line without '-', e.g. "ERR syntax error".
  // CR/LF inside it are replaced by spaces, as Redis does.
  void Error(std::string_view text);
  void Integer(int64_t v);
  void Bulk(std::string_view s);
  void Null();       // $-1 in RESP2, _ in RESP3
  void NullArray();  // *-1 in RESP2, _ in RESP3
  void ArrayHeader(size_t n);
  void MapHeader(size_t n);  // RESP2: an array of 2n
  void SetHeader(size_t n);  // RESP2: an array of n
  // RESP3 push ('>'): pub/sub messages and confirmations; RESP2: an array.
  void PushHeader(size_t n);
  void Double(double v);  // RESP3 ',', RESP2 bulk string
  // A double already written as text (GEOPOS's %.17Lf): as Double().
  void DoubleText(std::string_view text);
  void Bool(bool v);      // RESP3 '#', RESP2 integer 0/1
  // RESP3 verbatim string ("=len\r\ntxt:...") or a RESP2 bulk string.
  void Verbatim(std::string_view s);

 private:
  void Header(char type, uint64_t n);

  std::string* out_;
  int resp_;
};

}  // namespace daxkv::kv

#endif  // DAXKV_KV_RESP_WRITER_H_
