#include "transport/https/tls_stream.hpp"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <cstdio>

#include "crypto/secret.hpp"
#include "util/coro.hpp"

namespace samizdat::transport::https {
namespace {

// Chromium's TLS 1.3 suites, then its TLS 1.2 list, in its order (Chrome 120-131).
constexpr const char* kClientSuites13 =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
constexpr const char* kClientCiphers12 =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA:AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA:AES256-SHA";
// Chromium also offers X25519MLKEM768 first; OpenSSL 3.0 has no post-quantum group.
constexpr const char* kClientGroups = "X25519:P-256:P-384";
constexpr const char* kClientSigalgs =
    "ecdsa_secp256r1_sha256:rsa_pss_rsae_sha256:rsa_pkcs1_sha256:ecdsa_secp384r1_sha384:"
    "rsa_pss_rsae_sha384:rsa_pkcs1_sha384:rsa_pss_rsae_sha512:rsa_pkcs1_sha512";
constexpr unsigned char kClientAlpn[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
constexpr unsigned char kServerAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

std::string openssl_reason() {
  unsigned long code = ERR_get_error();
  if (code == 0) return "unknown OpenSSL error";
  char buffer[256];
  ERR_error_string_n(code, buffer, sizeof buffer);
  ERR_clear_error();
  return buffer;
}

// A site without HTTP/2 support: http/1.1 if the client offers it, otherwise no ALPN.
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void*) {
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, kServerAlpn, sizeof kServerAlpn, in, inlen) ==
      OPENSSL_NPN_NEGOTIATED) {
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

// Extensions Chromium sends that OpenSSL 3.0 does not implement, added with the content
// Chromium puts in them. Our server ignores them (unknown types), as servers without
// those features do: application_settings (ALPS) for h2, compress_certificate (brotli),
// and an encrypted_client_hello GREASE (random config id, key and payload, as Chromium
// sends when it has no ECH config).
constexpr unsigned int kExtAlps = 17613;
constexpr unsigned int kExtCompressCertificate = 27;
constexpr unsigned int kExtEchGrease = 65037;

int add_chromium_extension(SSL*, unsigned int type, unsigned int, const unsigned char** out,
                           std::size_t* outlen, X509*, std::size_t, int*, void*) {
  static constexpr unsigned char kAlps[] = {0x00, 0x03, 0x02, 'h', '2'};
  static constexpr unsigned char kBrotli[] = {0x02, 0x00, 0x02};
  if (type == kExtAlps) {
    *out = kAlps;
    *outlen = sizeof kAlps;
    return 1;
  }
  if (type == kExtCompressCertificate) {
    *out = kBrotli;
    *outlen = sizeof kBrotli;
    return 1;
  }
  if (type == kExtEchGrease) {
    // outer (0), HKDF-SHA256 (1), AES-128-GCM (1), config id, enc (32), payload.
    std::size_t payload = 144 + 32 * crypto::random_uniform(4);
    auto* body = static_cast<unsigned char*>(OPENSSL_malloc(1 + 2 + 2 + 1 + 2 + 32 + 2 + payload));
    if (body == nullptr) return -1;
    std::size_t p = 0;
    body[p++] = 0;
    body[p++] = 0, body[p++] = 1;
    body[p++] = 0, body[p++] = 1;
    crypto::fill_random(std::span<std::uint8_t>(body + p, 1)), p += 1;
    body[p++] = 0, body[p++] = 32;
    crypto::fill_random(std::span<std::uint8_t>(body + p, 32)), p += 32;
    body[p++] = static_cast<unsigned char>(payload >> 8), body[p++] = static_cast<unsigned char>(payload);
    crypto::fill_random(std::span<std::uint8_t>(body + p, payload)), p += payload;
    *out = body;
    *outlen = p;
    return 1;
  }
  return 0;
}

void free_chromium_extension(SSL*, unsigned int type, unsigned int, const unsigned char* out, void*) {
  if (type == kExtEchGrease) OPENSSL_free(const_cast<unsigned char*>(out));
}

Error network_error(std::string_view what, const std::error_code& ec) {
  if (ec == asio::error::eof || ec == asio::error::connection_reset ||
      ec == asio::ssl::error::stream_truncated) {
    return make_error(Errc::network, std::string(what) + ": connection closed by peer");
  }
  return make_error(Errc::network, std::string(what) + ": " + ec.message());
}

bool is_ip_literal(const std::string& name) {
  std::error_code ec;
  (void)asio::ip::make_address(name, ec);
  return !ec;
}

}  // namespace

Result<std::shared_ptr<asio::ssl::context>> make_server_context(const std::filesystem::path& certificate,
                                                                const std::filesystem::path& private_key) {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  SSL_CTX* ctx = context->native_handle();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_use_certificate_chain_file(ctx, certificate.c_str()) != 1) {
    return make_error(Errc::invalid_argument, "cannot load the TLS certificate '" + certificate.string() +
                                                  "': " + openssl_reason() +
                                                  " (expected a PEM certificate chain)");
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, private_key.c_str(), SSL_FILETYPE_PEM) != 1) {
    return make_error(Errc::invalid_argument, "cannot load the TLS private key '" + private_key.string() +
                                                  "': " + openssl_reason() + " (expected a PEM private key)");
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return make_error(Errc::invalid_argument, "the TLS private key '" + private_key.string() +
                                                  "' does not match the certificate '" +
                                                  certificate.string() + "'");
  }
  SSL_CTX_set_alpn_select_cb(ctx, select_alpn, nullptr);
  return context;
}

Result<std::shared_ptr<asio::ssl::context>> make_client_context() {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  SSL_CTX* ctx = context->native_handle();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
  // Chromium sends neither encrypt_then_mac nor the padding extension (its post-quantum
  // key share makes the hello large enough without it).
  SSL_CTX_set_options(ctx, SSL_OP_NO_ENCRYPT_THEN_MAC | SSL_OP_NO_COMPRESSION);
  if (SSL_CTX_set_ciphersuites(ctx, kClientSuites13) != 1 ||
      SSL_CTX_set_cipher_list(ctx, kClientCiphers12) != 1 ||
      SSL_CTX_set1_groups_list(ctx, kClientGroups) != 1 ||
      SSL_CTX_set1_sigalgs_list(ctx, kClientSigalgs) != 1 ||
      SSL_CTX_set_alpn_protos(ctx, kClientAlpn, sizeof kClientAlpn) != 0) {
    return make_error(Errc::internal, "cannot configure the TLS client: " + openssl_reason());
  }
  for (unsigned int type : {kExtAlps, kExtCompressCertificate, kExtEchGrease}) {
    if (SSL_CTX_add_custom_ext(ctx, type, SSL_EXT_CLIENT_HELLO | SSL_EXT_TLS1_3_ONLY, add_chromium_extension,
                               free_chromium_extension, nullptr, nullptr, nullptr) != 1) {
      return make_error(Errc::internal,
                        "cannot add TLS extension " + std::to_string(type) + ": " + openssl_reason());
    }
  }
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  return context;
}

// ---------------------------------------------------------------------------------
TlsByteStream::TlsByteStream(asio::ip::tcp::socket socket, std::shared_ptr<asio::ssl::context> context)
    : context_(std::move(context)), stream_(std::move(socket), *context_) {
  std::error_code ec;
  auto peer = stream_.lowest_layer().remote_endpoint(ec);
  peer_ = ec ? std::string("(unconnected)") : describe_tcp_endpoint(peer);
  stream_.lowest_layer().set_option(asio::ip::tcp::no_delay(true), ec);
}

TlsByteStream::~TlsByteStream() { close(); }

asio::awaitable<Status> TlsByteStream::client_handshake(const std::string& server_name) {
  SSL* ssl = stream_.native_handle();
  if (!server_name.empty() && !is_ip_literal(server_name)) SSL_set_tlsext_host_name(ssl, server_name.c_str());
  // status_request and signed_certificate_timestamp, as Chromium sends them.
  SSL_set_tlsext_status_type(ssl, TLSEXT_STATUSTYPE_ocsp);
  SSL_enable_ct(ssl, SSL_CT_VALIDATION_PERMISSIVE);
  auto [ec] = co_await stream_.async_handshake(asio::ssl::stream_base::client, use_tuple);
  if (ec) co_return network_error("TLS handshake", ec);
  co_return Status{};
}

asio::awaitable<Status> TlsByteStream::server_handshake() {
  auto [ec] = co_await stream_.async_handshake(asio::ssl::stream_base::server, use_tuple);
  if (ec) co_return network_error("TLS handshake", ec);
  co_return Status{};
}

asio::awaitable<Result<std::size_t>> TlsByteStream::read_some(std::span<std::uint8_t> buffer) {
  if (!open_) co_return make_error(Errc::unavailable, "the connection is closed");
  if (buffer.empty()) co_return make_error(Errc::invalid_argument, "read_some needs a non-empty buffer");
  auto [ec, n] = co_await stream_.async_read_some(asio::buffer(buffer.data(), buffer.size()), use_tuple);
  if (!ec) co_return n;
  if (ec == asio::error::operation_aborted) {
    if (!open_) co_return make_error(Errc::unavailable, "the connection was closed");
    co_return make_error(Errc::timeout, "read cancelled");
  }
  if (!open_) co_return make_error(Errc::unavailable, "the connection was closed");
  co_return network_error("read", ec);
}

asio::awaitable<Status> TlsByteStream::write(ByteView data) {
  if (!open_) co_return make_error(Errc::unavailable, "the connection is closed");
  auto [ec, n] = co_await asio::async_write(stream_, asio::buffer(data.data(), data.size()), use_tuple);
  (void)n;
  if (!ec) co_return Status{};
  if (!open_) co_return make_error(Errc::unavailable, "the connection was closed");
  co_return network_error("write", ec);
}

void TlsByteStream::close() {
  if (!open_) return;
  open_ = false;
  std::error_code ignored;
  stream_.lowest_layer().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  stream_.lowest_layer().close(ignored);
}

Result<Bytes> TlsByteStream::export_keying_material(std::string_view label, std::size_t length) {
  Bytes out(length);
  std::string label_string(label);
  if (SSL_export_keying_material(stream_.native_handle(), out.data(), out.size(), label_string.data(),
                                 label_string.size(), nullptr, 0, 0) != 1) {
    return make_error(Errc::protocol, "cannot export TLS keying material: " + openssl_reason());
  }
  return out;
}

std::string TlsByteStream::protocol_version() { return SSL_get_version(stream_.native_handle()); }

std::string TlsByteStream::alpn() {
  const unsigned char* data = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(stream_.native_handle(), &data, &length);
  return data == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(data), length);
}

// ---------------------------------------------------------------------------------
Status write_self_signed_certificate(const std::filesystem::path& certificate,
                                     const std::filesystem::path& private_key,
                                     const std::string& common_name) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  if (!key || !cert) return make_error(Errc::internal, "cannot create a TLS key: " + openssl_reason());
  X509_set_version(cert.get(), 2);
  std::array<std::uint8_t, 16> serial{};
  crypto::fill_random(serial);
  serial[0] &= 0x7f;  // positive
  std::unique_ptr<BIGNUM, decltype(&BN_free)> serial_bn(BN_bin2bn(serial.data(), serial.size(), nullptr),
                                                        BN_free);
  BN_to_ASN1_INTEGER(serial_bn.get(), X509_get_serialNumber(cert.get()));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -24 * 3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 10L * 365 * 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, cert.get(), cert.get(), nullptr, nullptr, 0);
  std::string san = (is_ip_literal(common_name) ? "IP:" : "DNS:") + common_name;
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &v3, NID_subject_alt_name, san.c_str());
  if (extension == nullptr)
    return make_error(Errc::invalid_argument, "bad certificate name '" + common_name + "'");
  X509_add_ext(cert.get(), extension, -1);
  X509_EXTENSION_free(extension);
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    return make_error(Errc::internal, "cannot sign the TLS certificate: " + openssl_reason());
  }

  int fd = ::open(private_key.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return make_error(Errc::storage, "cannot write '" + private_key.string() + "'");
  FILE* key_file = ::fdopen(fd, "w");
  bool key_ok = key_file != nullptr &&
                PEM_write_PrivateKey(key_file, key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1;
  if (key_file != nullptr)
    key_ok = (std::fclose(key_file) == 0) && key_ok;
  else
    ::close(fd);
  if (!key_ok) return make_error(Errc::storage, "cannot write the TLS key '" + private_key.string() + "'");

  FILE* cert_file = std::fopen(certificate.c_str(), "w");
  if (cert_file == nullptr) return make_error(Errc::storage, "cannot write '" + certificate.string() + "'");
  bool cert_ok = PEM_write_X509(cert_file, cert.get()) == 1;
  cert_ok = (std::fclose(cert_file) == 0) && cert_ok;
  if (!cert_ok)
    return make_error(Errc::storage, "cannot write the TLS certificate '" + certificate.string() + "'");
  return {};
}

}  // namespace samizdat::transport::https
