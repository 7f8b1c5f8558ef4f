// nginx (Debian nginx-light) as a child of the test: an HTTPS static mirror on 127.0.0.1
// with a self-signed certificate. Two virtual hosts make fronting visible: the default one
// (any SNI/Host) answers 404; only Host `served_host` serves files from www().
#pragma once

#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "support/child_process.hpp"
#include "support/loopback.hpp"
#include "transport/https/tls_stream.hpp"

namespace samizdat::reach::testing {

class Nginx {
 public:
  // `address`: where it listens (a test may put the mirror on another loopback address).
  explicit Nginx(const std::string& served_host, const std::string& address = "127.0.0.1") {
    namespace fs = std::filesystem;
    dir_ = fs::temp_directory_path() /
           ("samizdat-nginx-" + std::to_string(getpid()) + "-" + std::to_string(counter_++));
    fs::create_directories(dir_ / "www");
    fs::create_directories(dir_ / "tmp");
    auto written =
        transport::https::write_self_signed_certificate(dir_ / "cert.pem", dir_ / "key.pem", "cdn.example");
    ok_ = written.ok();
    port_ = samizdat::testing::free_port();
    auto d = dir_.string();
    std::ofstream(dir_ / "nginx.conf")
        << "daemon off; master_process off; pid " << d << "/nginx.pid; error_log " << d << "/error.log;\n"
        << "events { worker_connections 64; }\n"
        << "http {\n  access_log " << d << "/access.log;\n"
        << "  client_body_temp_path " << d << "/tmp; proxy_temp_path " << d << "/tmp; fastcgi_temp_path " << d
        << "/tmp; uwsgi_temp_path " << d << "/tmp; scgi_temp_path " << d << "/tmp;\n"
        << "  ssl_certificate " << d << "/cert.pem; ssl_certificate_key " << d << "/key.pem;\n"
        << "  server { listen " << address << ":" << port_
        << " ssl default_server; server_name _; return 404; }\n"
        << "  server { listen " << address << ":" << port_ << " ssl; server_name " << served_host << "; root "
        << d << "/www; }\n}\n";
    process_ = samizdat::testing::start_helper_server(
        {"/usr/sbin/nginx", "-p", d, "-c", d + "/nginx.conf", "-e", d + "/error.log"});
    // Wait (bounded) until it accepts connections.
    for (int i = 0; i < 100; ++i) {
      asio::io_context io;
      asio::ip::tcp::socket socket(io);
      asio::error_code ec;
      socket.connect(asio::ip::tcp::endpoint(asio::ip::make_address(address), port_), ec);
      if (!ec) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~Nginx() {
    process_.stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  bool certificate_written() const { return ok_; }
  std::filesystem::path www() const { return dir_ / "www"; }
  std::uint16_t port() const { return port_; }
  std::string error_log() const {
    std::ifstream in(dir_ / "error.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  static inline int counter_ = 0;
  std::filesystem::path dir_;
  std::uint16_t port_ = 0;
  bool ok_ = false;
  samizdat::testing::ChildProcess process_;
};

}  // namespace samizdat::reach::testing
