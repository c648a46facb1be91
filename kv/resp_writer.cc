#include "kv/resp_writer.h"

#include <charconv>

#include "kv/numbers.h"

namespace daxkv::kv {

void ReplyWriter::Header(char type, uint64_t n) {
  char buf[24];
  buf[0] = type;
  auto res = std::to_chars(buf + 1, buf + sizeof(buf) - 2, n);
  *res.ptr++ = '\r';
  *res.ptr++ = '\n';
  out_->append(buf, static_cast<size_t>(res.ptr - buf));
}

void ReplyWriter::Simple(std::string_view s) {
  out_->push_back('+');
  out_->append(s);
  out_->append("\r\n", 2);
}

void ReplyWriter::Error(std::string_view text) {
  out_->push_back('-');
  size_t start = out_->size();
  out_->append(text);
  for (size_t i = start; i < out_->size(); ++i) {
    char& c = (*out_)[i];
    if (c == '\r' || c == '\n') c = ' ';
  }
  out_->append("\r\n", 2);
}

void ReplyWriter::Integer(int64_t v) {
  char buf[24];
  buf[0] = ':';
  auto res = std::to_chars(buf + 1, buf + sizeof(buf) - 2, v);
  *res.ptr++ = '\r';
  *res.ptr++ = '\n';
  out_->append(buf, static_cast<size_t>(res.ptr - buf));
}

void ReplyWriter::Bulk(std::string_view s) {
  Header('$', s.size());
  out_->append(s);
  out_->append("\r\n", 2);
}

void ReplyWriter::Null() {
  if (resp_ >= 3) {
    out_->append("_\r\n", 3);
  } else {
    out_->append("$-1\r\n", 5);
  }
}

void ReplyWriter::NullArray() {
  if (resp_ >= 3) {
    out_->append("_\r\n", 3);
  } else {
    out_->append("*-1\r\n", 5);
  }
}

void ReplyWriter::ArrayHeader(size_t n) { Header('*', n); }

void ReplyWriter::MapHeader(size_t n) {
  if (resp_ >= 3) {
    Header('%', n);
  } else {
    Header('*', 2 * n);
  }
}

void ReplyWriter::SetHeader(size_t n) { Header(resp_ >= 3 ? '~' : '*', n); }

void ReplyWriter::PushHeader(size_t n) { Header(resp_ >= 3 ? '>' : '*', n); }

void ReplyWriter::Double(double v) {
  char buf[kG17Max];
  DoubleText(std::string_view(buf, FormatG17(v, buf)));  // "inf", "-inf"
}

void ReplyWriter::DoubleText(std::string_view text) {
  if (resp_ >= 3) {
    out_->push_back(',');
    out_->append(text);
    out_->append("\r\n", 2);
  } else {
    Bulk(text);
  }
}

void ReplyWriter::Bool(bool v) {
  if (resp_ >= 3) {
    out_->append(v ? "#t\r\n" : "#f\r\n", 4);
  } else {
    Integer(v ? 1 : 0);
  }
}

void ReplyWriter::Verbatim(std::string_view s) {
  if (resp_ < 3) {
    Bulk(s);
    return;
  }
  Header('=', s.size() + 4);
  out_->append("txt:", 4);
  out_->append(s);
  out_->append("\r\n", 2);
}

}  // namespace daxkv::kv
