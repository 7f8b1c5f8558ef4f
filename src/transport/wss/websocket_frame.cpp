#include "transport/wss/websocket_frame.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "crypto/secret.hpp"

namespace samizdat::transport::ws {
namespace {

// Emptied buffers larger than this are freed rather than kept for the next message.
constexpr std::size_t kKeepCapacity = 4096;

// XORs `data` with the 4-byte key repeated (section 5.3), eight bytes at a time.
void apply_mask(std::uint8_t* data, std::size_t size, const std::uint8_t* key) {
  std::uint8_t key8[8];
  for (int i = 0; i < 8; ++i) key8[i] = key[i % 4];
  std::uint64_t word_key;
  std::memcpy(&word_key, key8, 8);
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, data + i, 8);
    word ^= word_key;
    std::memcpy(data + i, &word, 8);
  }
  for (; i < size; ++i) data[i] ^= key[i % 4];
}

bool is_known_opcode(std::uint8_t op) {
  return op == 0x0 || op == 0x1 || op == 0x2 || op == 0x8 || op == 0x9 || op == 0xA;
}

// Codes a peer may put in a close frame (section 7.4; 1004-1006 and 1015 are reserved
// for reporting and never sent).
bool is_sendable_close_code(std::uint16_t code) {
  if (code >= 3000 && code <= 4999) return true;
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014);
}

}  // namespace

void append_frame(Bytes& out, Opcode opcode, bool fin, ByteView payload, const std::uint8_t* mask_key) {
  const std::size_t size = payload.size();
  std::uint8_t header[kMaxFrameHeader];
  std::size_t n = 0;
  header[n++] = static_cast<std::uint8_t>((fin ? 0x80 : 0x00) | static_cast<std::uint8_t>(opcode));
  const std::uint8_t mask_bit = mask_key ? 0x80 : 0x00;
  if (size < 126) {
    header[n++] = static_cast<std::uint8_t>(mask_bit | size);
  } else if (size <= 0xFFFF) {
    header[n++] = mask_bit | 126;
    put_u16_be(header + n, static_cast<std::uint16_t>(size));
    n += 2;
  } else {
    header[n++] = mask_bit | 127;
    put_u64_be(header + n, size);
    n += 8;
  }
  if (mask_key) {
    std::memcpy(header + n, mask_key, 4);
    n += 4;
  }
  out.insert(out.end(), header, header + n);
  const std::size_t start = out.size();
  out.insert(out.end(), payload.begin(), payload.end());
  if (mask_key) apply_mask(out.data() + start, size, mask_key);
}

void append_frame(Bytes& out, Opcode opcode, bool fin, ByteView payload, bool masked) {
  if (!masked) {
    append_frame(out, opcode, fin, payload, static_cast<const std::uint8_t*>(nullptr));
    return;
  }
  std::array<std::uint8_t, 4> key{};
  crypto::fill_random(key);
  append_frame(out, opcode, fin, payload, key.data());
}

Bytes close_payload(std::uint16_t code, std::string_view reason) {
  Bytes out(2);
  put_u16_be(out.data(), code);
  append(out, as_bytes(reason.substr(0, kMaxControlPayload - 2)));
  return out;
}

Result<CloseReason> parse_close_payload(ByteView payload) {
  if (payload.empty()) return CloseReason{};
  if (payload.size() == 1) return make_error(Errc::malformed, "close frame with a 1-byte payload");
  CloseReason close;
  close.code = get_u16_be(payload.data());
  if (!is_sendable_close_code(close.code)) {
    return make_error(Errc::malformed, "close frame with invalid code " + std::to_string(close.code));
  }
  close.reason = std::string(as_chars(payload.subspan(2)));
  return close;
}

MessageDecoder::MessageDecoder(bool expect_masked, std::size_t max_message)
    : expect_masked_(expect_masked), max_message_(max_message) {}

void MessageDecoder::feed(ByteView bytes) {
  if (failed_) return;
  auto span = prepare(bytes.size());
  std::copy(bytes.begin(), bytes.end(), span.begin());
  commit(bytes.size());
}

MutableByteView MessageDecoder::prepare(std::size_t max) {
  buffer_.resize(buffer_.size() - prepared_);
  prepared_ = 0;
  compact();
  const std::size_t start = buffer_.size();
  buffer_.resize(start + max);
  prepared_ = max;
  return {buffer_.data() + start, max};
}

void MessageDecoder::commit(std::size_t written) {
  written = std::min(written, prepared_);
  buffer_.resize(buffer_.size() - prepared_ + written);
  prepared_ = 0;
}

void MessageDecoder::compact() {
  if (consumed_ > 0) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(consumed_));
    consumed_ = 0;
  }
  if (buffer_.empty() && buffer_.capacity() > kKeepCapacity) Bytes().swap(buffer_);
}

std::size_t MessageDecoder::bytes_needed() const { return failed_ ? 0 : needed_; }

Error MessageDecoder::fail(std::uint16_t close_code, Errc errc, std::string message) {
  close_code_ = close_code;
  failed_ = make_error(errc, "websocket: " + std::move(message));
  return *failed_;
}

Result<std::optional<Message>> MessageDecoder::next() {
  if (failed_) return *failed_;
  if (release_fragments_) {
    fragments_.clear();
    if (fragments_.capacity() > kKeepCapacity) Bytes().swap(fragments_);
    release_fragments_ = false;
  }
  // Earlier views are dead now: drop consumed bytes unless a read is in progress.
  if (prepared_ == 0) compact();
  for (;;) {
    const std::size_t available = buffered();
    std::uint8_t* p = buffer_.data() + consumed_;
    auto need = [&](std::size_t total) -> std::optional<Message> {
      needed_ = total - available;
      if (prepared_ == 0) compact();
      return std::nullopt;
    };
    if (available < 2) return need(2);
    const bool fin = (p[0] & 0x80) != 0;
    const std::uint8_t op = p[0] & 0x0F;
    const bool masked = (p[1] & 0x80) != 0;
    const std::uint8_t length7 = p[1] & 0x7F;
    if ((p[0] & 0x70) != 0) return fail(kCloseProtocolError, Errc::protocol, "reserved bits set in a frame");
    if (!is_known_opcode(op)) {
      return fail(kCloseProtocolError, Errc::protocol, "reserved opcode " + std::to_string(op));
    }
    const bool control = (op & 0x8) != 0;
    if (control && !fin) return fail(kCloseProtocolError, Errc::protocol, "fragmented control frame");
    if (control && length7 > kMaxControlPayload) {
      return fail(kCloseProtocolError, Errc::protocol, "control frame longer than 125 bytes");
    }
    if (masked != expect_masked_) {
      return fail(kCloseProtocolError, Errc::protocol,
                  expect_masked_ ? "unmasked frame from a client" : "masked frame from a server");
    }
    const std::size_t length_bytes = length7 == 126 ? 2 : length7 == 127 ? 8 : 0;
    const std::size_t header = 2 + length_bytes + (masked ? 4 : 0);
    if (available < header) return need(header);
    std::uint64_t length = length7;
    if (length7 == 126) length = get_u16_be(p + 2);
    if (length7 == 127) {
      length = get_u64_be(p + 2);
      if (length >> 63) return fail(kCloseProtocolError, Errc::protocol, "frame length with the top bit set");
    }
    if (!control) {
      const std::uint64_t so_far = in_message_ ? fragments_.size() : 0;
      if (length > max_message_ || so_far + length > max_message_) {
        return fail(kCloseTooBig, Errc::limit_exceeded,
                    "message of more than " + std::to_string(max_message_) + " bytes (frame of " +
                        std::to_string(length) + " bytes" +
                        (so_far ? " after " + std::to_string(so_far) + " in earlier fragments" : "") + ")");
      }
    }
    const std::size_t total = header + static_cast<std::size_t>(length);
    if (available < total) return need(total);
    std::uint8_t* payload = p + header;
    if (masked) apply_mask(payload, static_cast<std::size_t>(length), p + header - 4);
    ByteView view(payload, static_cast<std::size_t>(length));
    consumed_ += total;
    needed_ = 2;

    if (control) return std::optional<Message>(Message{static_cast<Opcode>(op), view});
    if (op == static_cast<std::uint8_t>(Opcode::continuation)) {
      if (!in_message_)
        return fail(kCloseProtocolError, Errc::protocol, "continuation frame outside a message");
      append(fragments_, view);
      if (!fin) continue;
      in_message_ = false;
      release_fragments_ = true;
      return std::optional<Message>(Message{message_opcode_, fragments_});
    }
    if (in_message_) {
      return fail(kCloseProtocolError, Errc::protocol, "new message started before the previous one ended");
    }
    if (fin) return std::optional<Message>(Message{static_cast<Opcode>(op), view});
    in_message_ = true;
    message_opcode_ = static_cast<Opcode>(op);
    fragments_.assign(view.begin(), view.end());
  }
}

}  // namespace samizdat::transport::ws
