// Plain non-blocking TCP client pieces shared by the peers' clients: connect to
// 127.0.0.1:port (blocking connect, then non-blocking, TCP_NODELAY), and a write buffer.
#pragma once

#include <cstdint>
#include <string>

#include "util/bytes.hpp"
#include "util/result.hpp"

namespace samizdat::peers {

Result<int> connect_loopback(std::uint16_t port);

class WriteBuffer {
 public:
  void append(ByteView bytes) { data_.insert(data_.end(), bytes.begin(), bytes.end()); }
  bool empty() const { return pos_ == data_.size(); }
  // Writes what the socket takes; false if the connection failed.
  bool flush(int fd);

 private:
  Bytes data_;
  std::size_t pos_ = 0;
};

}  // namespace samizdat::peers
