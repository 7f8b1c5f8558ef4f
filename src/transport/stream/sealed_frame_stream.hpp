// The FrameStream every transport ends with: wire::FrameEncoder/FrameDecoder frames, keyed
// from the Noise split, over a ByteStream. Writes are queued and go out in order from one
// writer; the queue is bounded (max_queued_bytes). Idle cost is kept small: write buffers
// are released once drained, and over a plain TCP socket (TcpByteStream) no read buffer is
// held while waiting (it waits for readability, then reads what is there); other streams
// hold a few KiB while a read is pending.
#pragma once

#include <memory>
#include <optional>

#include "crypto/keys.hpp"
#include "crypto/noise/handshake.hpp"
#include "transport/frame_stream.hpp"
#include "transport/stream/byte_stream.hpp"
#include "wire/padding_policy.hpp"

namespace samizdat::transport {

std::unique_ptr<FrameStream> make_sealed_frame_stream(std::unique_ptr<ByteStream> stream,
                                                      crypto::noise::TransportKeys keys,
                                                      std::optional<crypto::X25519Public> peer_static,
                                                      wire::PaddingPolicy padding,
                                                      std::size_t max_queued_bytes);

}  // namespace samizdat::transport
