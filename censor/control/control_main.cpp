// samizdat-censor-control: the plain-TCP control service with no circumvention at
// all, the bystander "random service", and the client side of both. Scenarios drive
// it the same way they drive samizdatd/samizdat, so every mechanism can be shown on
// traffic it must catch before Samizdat is tried.
//
// Protocol (one command per line): "PUT <mailbox> <text>" -> "OK"; "GET <mailbox>" ->
// "MSG <text>"... "END"; "BULK <n>" -> n bytes then close. With --key, both directions
// are ChaCha20 streams behind a 12-byte random nonce: a naive "fully encrypted"
// protocol like early Shadowsocks (no replay protection, no cover), the kind the GFW
// learned to catch in 2021-2023. With --sni, the client first sends a TLS-shaped
// ClientHello record carrying that server name (the control does not speak TLS; the
// record is there for SNI-based DPI to see, as a real client's would be).
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstring>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "censor/dpi/tls_client_hello.hpp"

namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kMaxLine = 4096;
constexpr size_t kMaxBulk = 64u << 20;

struct Key {
  bool enabled = false;
  unsigned char bytes[crypto_stream_chacha20_ietf_KEYBYTES]{};
};

// Keystream state of one direction.
struct Cipher {
  const Key* key = nullptr;
  unsigned char nonce[crypto_stream_chacha20_ietf_NONCEBYTES]{};
  uint64_t offset = 0;

  void apply(unsigned char* data, size_t n) {
    if (key == nullptr || !key->enabled || n == 0) return;
    // xor_ic works on 64-byte blocks: handle a partial first block by hand.
    std::vector<unsigned char> stream(n + 64, 0);
    const uint32_t block = static_cast<uint32_t>(offset / 64);
    const size_t skip = offset % 64;
    crypto_stream_chacha20_ietf_xor_ic(stream.data(), stream.data(), n + skip, nonce, block, key->bytes);
    for (size_t i = 0; i < n; ++i) data[i] ^= stream[skip + i];
    offset += n;
  }
};

class Connection {
 public:
  Connection(int fd, const Key& key) : fd_(fd), key_(key) {
    send_.key = &key_;
    recv_.key = &key_;
  }
  ~Connection() {
    if (fd_ >= 0) ::close(fd_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Client: our nonce goes out with the first data so it is one packet, like a real proxy's.
  void start_client() {
    if (!key_.enabled) return;
    randombytes_buf(send_.nonce, sizeof send_.nonce);
    pending_nonce_ = true;
  }

  bool write_all(std::string data, Clock::time_point deadline) {
    send_.apply(reinterpret_cast<unsigned char*>(data.data()), data.size());
    if (pending_nonce_) {
      data.insert(0, reinterpret_cast<const char*>(send_.nonce), sizeof send_.nonce);
      pending_nonce_ = false;
    }
    if (pending_prefix_) {
      data.insert(0, *pending_prefix_);
      pending_prefix_.reset();
    }
    return raw_write(data, deadline);
  }

  void prefix_next_write(std::string prefix) { pending_prefix_ = std::move(prefix); }

  bool raw_write(const std::string& data, Clock::time_point deadline) {
    size_t done = 0;
    while (done < data.size()) {
      if (!wait(POLLOUT, deadline)) return false;
      ssize_t n = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }

  // Reads exactly n bytes (decrypted), or fails at EOF/deadline.
  bool read_exact(size_t n, std::string& out, Clock::time_point deadline) {
    while (buffer_.size() < n) {
      if (!fill(deadline)) return false;
    }
    out = buffer_.substr(0, n);
    buffer_.erase(0, n);
    return true;
  }

  std::optional<std::string> read_line(Clock::time_point deadline) {
    while (true) {
      size_t at = buffer_.find('\n');
      if (at != std::string::npos) {
        std::string line = buffer_.substr(0, at);
        buffer_.erase(0, at + 1);
        return line;
      }
      if (buffer_.size() > kMaxLine) return std::nullopt;
      if (!fill(deadline)) return std::nullopt;
    }
  }

  // Server: a TLS-shaped first record (the --sni client) is skipped before the protocol.
  bool skip_tls_record_if_present(Clock::time_point deadline) {
    while (raw_.size() < 5) {
      if (!raw_fill(deadline)) return raw_.size() > 0;
    }
    if (static_cast<unsigned char>(raw_[0]) != 0x16 || raw_[1] != 0x03) return true;
    size_t len = (static_cast<unsigned char>(raw_[3]) << 8) | static_cast<unsigned char>(raw_[4]);
    while (raw_.size() < 5 + len) {
      if (!raw_fill(deadline)) return false;
    }
    raw_.erase(0, 5 + len);
    return true;
  }

  int fd() const { return fd_; }

 private:
  bool wait(short events, Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd_, events, 0};
    return ::poll(&p, 1, static_cast<int>(left)) == 1 && !(p.revents & POLLNVAL);
  }
  bool raw_fill(Clock::time_point deadline) {
    if (!wait(POLLIN, deadline)) return false;
    char chunk[16384];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    raw_.append(chunk, static_cast<size_t>(n));
    return true;
  }
  // Moves raw bytes into the decrypted buffer, consuming the peer's nonce first.
  bool fill(Clock::time_point deadline) {
    if (raw_.empty() && !raw_fill(deadline)) return false;
    if (key_.enabled && !have_peer_nonce_) {
      while (raw_.size() < sizeof recv_.nonce) {
        if (!raw_fill(deadline)) return false;
      }
      std::memcpy(recv_.nonce, raw_.data(), sizeof recv_.nonce);
      raw_.erase(0, sizeof recv_.nonce);
      have_peer_nonce_ = true;
      if (raw_.empty()) return true;
    }
    recv_.apply(reinterpret_cast<unsigned char*>(raw_.data()), raw_.size());
    buffer_ += raw_;
    raw_.clear();
    return true;
  }

  int fd_;
  const Key& key_;
  Cipher send_, recv_;
  bool pending_nonce_ = false;
  bool have_peer_nonce_ = false;
  std::optional<std::string> pending_prefix_;
  std::string raw_, buffer_;
};

bool parse_key(const std::string& hex, Key& key) {
  if (hex.empty()) return true;
  size_t len = 0;
  if (sodium_hex2bin(key.bytes, sizeof key.bytes, hex.c_str(), hex.size(), nullptr, &len, nullptr) != 0 ||
      len != sizeof key.bytes) {
    std::cerr << "--key must be 64 hex digits\n";
    return false;
  }
  key.enabled = true;
  return true;
}

bool split_host_port(const std::string& text, std::string& host, std::string& port) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return false;
  host = text.substr(0, colon);
  port = text.substr(colon + 1);
  return true;
}

int connect_to(const std::string& server, Clock::time_point deadline, std::string& error) {
  std::string host, port;
  if (!split_host_port(server, host, port)) {
    error = "--server must be HOST:PORT";
    return -1;
  }
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0) {
    error = "cannot resolve " + host + ": " + gai_strerror(rc);
    return -1;
  }
  sockaddr_in address{};
  std::memcpy(&address, found->ai_addr, sizeof address);
  ::freeaddrinfo(found);
  char text[INET_ADDRSTRLEN];
  ::inet_ntop(AF_INET, &address.sin_addr, text, sizeof text);
  if (address.sin_addr.s_addr == 0) {
    error = host + " resolved to 0.0.0.0 (a poisoned DNS answer)";
    return -1;
  }
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::string("socket: ") + std::strerror(errno);
    return -1;
  }
  rc = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  if (rc != 0 && errno != EINPROGRESS) {
    error = std::string("connect to ") + text + ": " + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  pollfd p{fd, POLLOUT, 0};
  if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) != 1) {
    error = std::string("connect to ") + text + ":" + port + " timed out (silently dropped?)";
    ::close(fd);
    return -1;
  }
  int so_error = 0;
  socklen_t len = sizeof so_error;
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
  if (so_error != 0) {
    error = std::string("connect to ") + text + ":" + port + ": " + std::strerror(so_error);
    ::close(fd);
    return -1;
  }
  return fd;
}

// ---- server ----

struct Mailboxes {
  std::mutex mutex;
  std::map<std::string, std::vector<std::string>> boxes;
};

void serve_connection(int fd, const Key& key, Mailboxes& mailboxes) {
  Connection conn(fd, key);
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  if (!conn.skip_tls_record_if_present(deadline)) return;
  bool sent_nonce = false;
  auto reply = [&](const std::string& text) {
    if (key.enabled && !sent_nonce) {
      conn.start_client();  // same framing: our own nonce ahead of our first bytes
      sent_nonce = true;
    }
    return conn.write_all(text, deadline);
  };
  while (auto line = conn.read_line(deadline)) {
    if (line->rfind("PUT ", 0) == 0) {
      size_t space = line->find(' ', 4);
      if (space == std::string::npos) {
        reply("ERR usage: PUT <mailbox> <text>\n");
        return;
      }
      {
        std::lock_guard lock(mailboxes.mutex);
        mailboxes.boxes[line->substr(4, space - 4)].push_back(line->substr(space + 1));
      }
      if (!reply("OK\n")) return;
    } else if (line->rfind("GET ", 0) == 0) {
      std::string out;
      {
        std::lock_guard lock(mailboxes.mutex);
        for (const auto& message : mailboxes.boxes[line->substr(4)]) out += "MSG " + message + "\n";
      }
      if (!reply(out + "END\n")) return;
    } else if (line->rfind("BULK ", 0) == 0) {
      size_t n = std::min<size_t>(std::strtoull(line->c_str() + 5, nullptr, 10), kMaxBulk);
      std::string chunk(16384, 'x');
      // Slow (throttled) transfers get two minutes, not the command deadline.
      const auto bulk_deadline = Clock::now() + std::chrono::seconds(120);
      while (n > 0) {
        size_t k = std::min(n, chunk.size());
        if (key.enabled && !sent_nonce) {
          conn.start_client();
          sent_nonce = true;
        }
        if (!conn.write_all(chunk.substr(0, k), bulk_deadline)) return;
        n -= k;
      }
      return;
    } else {
      reply("ERR unknown command\n");
      return;
    }
  }
}

int serve(const std::string& listen, const Key& key, const std::string& banner) {
  std::string host, port;
  if (!split_host_port(listen, host, port)) {
    std::cerr << "--listen must be ADDR:PORT\n";
    return 2;
  }
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(std::stoi(port)));
  if (::inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1 ||
      ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(fd, 128) != 0) {
    std::cerr << "cannot listen on " << listen << ": " << std::strerror(errno) << "\n";
    return 1;
  }
  std::cerr << "listening on " << listen << (key.enabled ? " (naive stream encryption)" : " (plain)") << "\n";
  Mailboxes mailboxes;
  while (true) {
    int client = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    if (!banner.empty()) {
      // The "random service" bystander: greets, echoes each line, closes after 30 s idle.
      std::thread([client, banner] {
        Key none;
        Connection conn(client, none);
        const auto deadline = Clock::now() + std::chrono::seconds(30);
        if (!conn.raw_write(banner + "\n", deadline)) return;
        while (auto line = conn.read_line(deadline)) {
          if (!conn.raw_write(*line + "\n", deadline)) return;
        }
      }).detach();
      continue;
    }
    std::thread(serve_connection, client, std::cref(key), std::ref(mailboxes)).detach();
  }
}

// ---- clients ----

struct ClientOptions {
  std::string server;
  Key key;
  std::string sni;
  double timeout_s = 5;
};

// The socket to options.server, or -1 after saying why on stderr.
int connect_or_explain(const ClientOptions& options, Clock::time_point deadline) {
  std::string error;
  int fd = connect_to(options.server, deadline, error);
  if (fd < 0) std::cerr << error << "\n";
  return fd;
}

std::unique_ptr<Connection> open_client(const ClientOptions& options, Clock::time_point deadline) {
  int fd = connect_or_explain(options, deadline);
  if (fd < 0) return nullptr;
  auto conn = std::make_unique<Connection>(fd, options.key);
  conn->start_client();
  if (!options.sni.empty()) {
    auto hello = samizdat::censor::build_client_hello(options.sni);
    conn->prefix_next_write(std::string(hello.begin(), hello.end()));
  }
  return conn;
}

// A plain connection (no key, no handshake) for bystander traffic; null (said on stderr)
// when it cannot connect.
std::unique_ptr<Connection> open_raw(const ClientOptions& options, Clock::time_point deadline) {
  int fd = connect_or_explain(options, deadline);
  if (fd < 0) return nullptr;
  // Connection keeps a reference to its key: one that outlives every connection.
  static const Key kNoKey{};
  return std::make_unique<Connection>(fd, kNoKey);
}

Clock::time_point deadline_after(double seconds) {
  return Clock::now() + std::chrono::milliseconds(static_cast<long>(seconds * 1000));
}

int send_message(const ClientOptions& options, const std::string& mailbox, const std::string& text) {
  if (mailbox.find_first_of(" \n") != std::string::npos || text.find('\n') != std::string::npos) {
    std::cerr << "mailbox has no spaces and messages are one line\n";
    return 2;
  }
  const auto deadline = deadline_after(options.timeout_s);
  auto conn = open_client(options, deadline);
  if (!conn) return 1;
  if (!conn->write_all("PUT " + mailbox + " " + text + "\n", deadline)) {
    std::cerr << "send failed (connection reset or stalled)\n";
    return 1;
  }
  auto reply = conn->read_line(deadline);
  if (!reply || *reply != "OK") {
    std::cerr << "no acknowledgement from the server (" << (reply ? *reply : "reset, closed or timed out")
              << ")\n";
    return 1;
  }
  std::cout << "delivered\n";
  return 0;
}

int receive_messages(const ClientOptions& options, const std::string& mailbox) {
  const auto deadline = deadline_after(options.timeout_s);
  auto conn = open_client(options, deadline);
  if (!conn) return 1;
  if (!conn->write_all("GET " + mailbox + "\n", deadline)) return 1;
  while (auto line = conn->read_line(deadline)) {
    if (*line == "END") return 0;
    if (line->rfind("MSG ", 0) == 0) std::cout << line->substr(4) << "\n";
  }
  std::cerr << "mailbox listing cut off (reset, closed or timed out)\n";
  return 1;
}

int fetch(const ClientOptions& options, size_t bytes) {
  const auto start = Clock::now();
  const auto deadline = deadline_after(options.timeout_s);
  auto conn = open_client(options, deadline);
  if (!conn) return 1;
  if (!conn->write_all("BULK " + std::to_string(bytes) + "\n", deadline)) return 1;
  std::string data;
  bool complete = conn->read_exact(bytes, data, deadline);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::cout << "{\"bytes\": " << (complete ? bytes : 0) << ", \"seconds\": " << seconds
            << ", \"bits_per_second\": " << (complete ? bytes * 8 / seconds : 0) << "}\n";
  if (!complete) std::cerr << "transfer incomplete (reset, stalled or too slow)\n";
  return complete ? 0 : 1;
}

int send_random(const ClientOptions& options, size_t bytes) {
  const auto deadline = deadline_after(options.timeout_s);
  auto conn = open_raw(options, deadline);
  if (!conn) return 1;
  std::string data(bytes, '\0');
  randombytes_buf(data.data(), data.size());
  bool ok = conn->raw_write(data, deadline);
  std::cout << (ok ? "sent\n" : "send failed\n");
  return ok ? 0 : 1;
}

int check(const ClientOptions& options, bool http) {
  const auto deadline = deadline_after(options.timeout_s);
  auto conn = open_raw(options, deadline);
  if (!conn) return 1;
  if (http) {
    std::string host = options.server.substr(0, options.server.rfind(':'));
    if (!conn->raw_write("GET / HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n", deadline))
      return 1;
  } else if (!conn->raw_write("ping\n", deadline)) {
    return 1;
  }
  auto line = conn->read_line(deadline);
  if (!line) {
    std::cerr << "no answer (reset or timed out)\n";
    return 1;
  }
  std::cout << *line << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (sodium_init() < 0) return 1;
  signal(SIGPIPE, SIG_IGN);
  CLI::App app{"samizdat-censor-control: plain-TCP control service and bystanders (no circumvention)"};
  app.require_subcommand(1);
  std::string listen, key_hex, banner, mailbox = "bob", message;
  size_t bytes = 65536;
  bool http = false;
  ClientOptions client;

  auto* serve_cmd = app.add_subcommand("serve", "run the message service");
  serve_cmd->add_option("--listen", listen, "ADDR:PORT")->required();
  serve_cmd->add_option("--key", key_hex, "64 hex digits: naive stream encryption");
  auto* bystander_cmd = app.add_subcommand("bystander", "run a 'random service': banner + line echo");
  bystander_cmd->add_option("--listen", listen, "ADDR:PORT")->required();
  bystander_cmd->add_option("--banner", banner, "greeting line")->default_val("HELLO bystander");

  auto add_client = [&](CLI::App* cmd) {
    cmd->add_option("--server", client.server, "HOST:PORT")->required();
    cmd->add_option("--timeout", client.timeout_s, "seconds")->default_val(5);
    cmd->add_option("--key", key_hex, "64 hex digits: naive stream encryption");
    cmd->add_option("--sni", client.sni, "send a TLS-shaped ClientHello with this name first");
  };
  auto* send_cmd = app.add_subcommand("send", "store one message in a mailbox");
  add_client(send_cmd);
  send_cmd->add_option("--to", mailbox, "mailbox");
  send_cmd->add_option("--message", message, "one line")->required();
  auto* receive_cmd = app.add_subcommand("receive", "print the messages in a mailbox");
  add_client(receive_cmd);
  receive_cmd->add_option("--mailbox", mailbox, "mailbox");
  auto* fetch_cmd = app.add_subcommand("fetch", "download N bytes and print the rate as JSON");
  add_client(fetch_cmd);
  fetch_cmd->add_option("--bytes", bytes, "bytes");
  auto* random_cmd = app.add_subcommand("send-random", "connect and send N random bytes");
  add_client(random_cmd);
  random_cmd->add_option("--bytes", bytes, "bytes")->default_val(1000);
  auto* check_cmd = app.add_subcommand("check", "is a bystander reachable? (exit 0 = yes)");
  add_client(check_cmd);
  check_cmd->add_flag("--http", http, "send an HTTP GET instead of a line");
  CLI11_PARSE(app, argc, argv);

  Key key;
  if (!parse_key(key_hex, key)) return 2;
  client.key = key;
  if (*serve_cmd) return serve(listen, key, "");
  if (*bystander_cmd) return serve(listen, key, banner);
  if (*send_cmd) return send_message(client, mailbox, message);
  if (*receive_cmd) return receive_messages(client, mailbox);
  if (*fetch_cmd) return fetch(client, bytes);
  if (*random_cmd) return send_random(client, bytes);
  if (*check_cmd) return check(client, http);
  return 2;
}
