#include "tests/kv/in_process_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace daxkv::kv {

namespace {

// Tests run two I/O threads unless they ask otherwise, so that the
// cross-thread paths (blocking pops, pub/sub, WATCH) run on any machine.
ServerConfig WithTestThreads(ServerConfig config) {
  if (config.threads == 0) config.threads = 2;
  return config;
}

}  // namespace

InProcessServer::InProcessServer(engine::DB* db, const ServerConfig& config)
    : state_(std::make_unique<ServerState>(db, WithTestThreads(config))) {}

InProcessServer::~InProcessServer() { Stop(); }

Status InProcessServer::Start() {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return IOError(std::strerror(errno));
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(listen_fd_, 128) != 0 ||
      getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return IOError(std::strerror(errno));
  }
  port_ = ntohs(addr.sin_port);
  std::string note;
  DAXKV_ASSIGN_OR_RETURN(state_->io_engine,
                         ResolveIoEngine(state_->config().io_engine, &note));
  DAXKV_RETURN_IF_ERROR(CreateIoThreads(*state_, {listen_fd_}, &group_, &io_));
  for (auto& io : io_) io->Start();
  return OkStatus();
}

void InProcessServer::Stop() {
  state_->BeginShutdown();
  for (auto& io : io_) io->Stop();
  for (auto& io : io_) io->Join();
  io_.clear();
  group_.threads.clear();
  if (listen_fd_ >= 0) close(listen_fd_);
  listen_fd_ = -1;
  state_->DetachFromEngine();  // callers close the DB next
}

std::string Reply::Describe() const {
  switch (type) {
    case ':':
      return std::to_string(integer);
    case '*': {
      if (null) return "(nil array)";
      std::string s = "[";
      for (const Reply& e : elems) s += e.Describe() + " ";
      return s + "]";
    }
    case 0:
      return "(connection lost)";
    default:
      return null ? "(nil)" : std::string(1, type) + str.substr(0, 60);
  }
}

TestClient::~TestClient() {
  if (fd_ >= 0) close(fd_);
}

bool TestClient::Connect(int port) {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (fd_ < 0 ||
      connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return false;
  }
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return true;
}

bool TestClient::Send(const std::vector<std::string>& argv) {
  return SendAll({argv});
}

bool TestClient::SendAll(
    const std::vector<std::vector<std::string>>& requests) {
  std::string out;
  for (const auto& argv : requests) {
    out += "*" + std::to_string(argv.size()) + "\r\n";
    for (const auto& a : argv) {
      out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
    }
  }
  size_t sent = 0;
  while (sent < out.size()) {
    ssize_t n = write(fd_, out.data() + sent, out.size() - sent);
    if (n <= 0 && errno != EINTR) return false;
    if (n > 0) sent += static_cast<size_t>(n);
  }
  return true;
}

bool TestClient::Fill() {
  if (pos_ > 0) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  char chunk[16384];
  ssize_t n;
  do {
    n = read(fd_, chunk, sizeof(chunk));
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return false;
  buf_.append(chunk, static_cast<size_t>(n));
  return true;
}

bool TestClient::Line(std::string* line) {
  while (true) {
    size_t end = buf_.find("\r\n", pos_);
    if (end != std::string::npos) {
      line->assign(buf_, pos_, end - pos_);
      pos_ = end + 2;
      return true;
    }
    if (!Fill()) return false;
  }
}

Reply TestClient::Read() {
  Reply r;
  std::string line;
  if (!Line(&line) || line.empty()) return r;
  char type = line[0];
  std::string rest = line.substr(1);
  if (type == '+' || type == '-') {
    r.str = rest;
  } else if (type == ':') {
    r.integer = std::stoll(rest);
  } else if (type == '$') {
    int64_t n = std::stoll(rest);
    if (n < 0) {
      r.null = true;
    } else {
      while (buf_.size() - pos_ < static_cast<size_t>(n) + 2) {
        if (!Fill()) return Reply{};
      }
      r.str.assign(buf_, pos_, static_cast<size_t>(n));
      pos_ += static_cast<size_t>(n) + 2;
    }
  } else if (type == '*') {
    int64_t n = std::stoll(rest);
    r.null = n < 0;
    for (int64_t i = 0; i < n; ++i) {
      r.elems.push_back(Read());
      if (r.elems.back().type == 0) return Reply{};
    }
  } else {
    return r;
  }
  r.type = type;
  return r;
}

}  // namespace daxkv::kv
