// TlsByteStream: a TLS session (asio::ssl over a TCP socket) as a ByteStream, plus the
// OpenSSL contexts of our TLS server (certificate from files, ALPN like a normal site)
// and client (a ClientHello made as close to Chromium's as OpenSSL 3.0 allows; see
// docs/PROTOCOL.md "tls"). The client does not verify the certificate against CAs: trust
// comes from the Noise server key inside the TLS session.
#pragma once

#include <asio/ip/tcp.hpp>
#include <asio/ssl.hpp>
#include <filesystem>
#include <memory>
#include <string>

#include "transport/stream/byte_stream.hpp"
#include "util/bytes.hpp"
#include "util/result.hpp"

namespace samizdat::transport::https {

// Server context: TLS 1.2-1.3, the given PEM chain and key (Errc::invalid_argument naming
// the file and OpenSSL's reason if they do not load or do not match), ALPN preferring
// http/1.1 (h2 is never selected, as a site without HTTP/2 would).
Result<std::shared_ptr<asio::ssl::context>> make_server_context(const std::filesystem::path& certificate,
                                                                const std::filesystem::path& private_key);
// Client context with Chromium's cipher, group and signature-algorithm order, ALPN h2 +
// http/1.1, session tickets; no certificate verification.
Result<std::shared_ptr<asio::ssl::context>> make_client_context();

class TlsByteStream final : public ByteStream {
 public:
  using SslStream = asio::ssl::stream<asio::ip::tcp::socket>;
  TlsByteStream(asio::ip::tcp::socket socket, std::shared_ptr<asio::ssl::context> context);
  ~TlsByteStream() override;

  // Client: sets SNI (omitted for IP literals, as browsers do) and the per-connection
  // extensions, then runs the TLS handshake. Server: runs the handshake.
  asio::awaitable<Status> client_handshake(const std::string& server_name);
  asio::awaitable<Status> server_handshake();

  asio::awaitable<Result<std::size_t>> read_some(std::span<std::uint8_t> buffer) override;
  asio::awaitable<Status> write(ByteView data) override;
  void close() override;
  bool is_open() const override { return open_; }
  std::string peer_description() const override { return peer_; }
  asio::any_io_executor get_executor() override { return stream_.get_executor(); }

  // RFC 8446 exporter (TLS 1.3 / RFC 5705): binds application data to this TLS session.
  Result<Bytes> export_keying_material(std::string_view label, std::size_t length);
  // The negotiated protocol version ("TLSv1.3") and ALPN ("" if none).
  std::string protocol_version();
  std::string alpn();
  SslStream& ssl() { return stream_; }

 private:
  std::shared_ptr<asio::ssl::context> context_;  // outlives stream_
  SslStream stream_;
  std::string peer_;
  bool open_ = true;
};

// Writes a fresh self-signed certificate (EC P-256, SHA-256, valid for ten years, CN and
// subjectAltName = common_name) and its key as PEM files; the key file is mode 0600.
Status write_self_signed_certificate(const std::filesystem::path& certificate,
                                     const std::filesystem::path& private_key,
                                     const std::string& common_name);

}  // namespace samizdat::transport::https
